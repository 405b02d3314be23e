"""A Flask-SocketIO style app on `chat`, run in a subprocess by tests/python/test_real_sockets.py.

    python realtime_app.py PORT

Serves on 127.0.0.1:PORT until SIGINT; exits 0 when `socketio.run` returns (and prints
`RUN RETURNED` first, so the tests can tell a clean return from a killed process).
"""
import sys
import threading
import time

from flask import Flask, jsonify, request

# The only line that differs from the same app on Flask-SocketIO (`from flask_socketio import`):
from chat import (SocketIO, ConnectionRefusedError, Namespace, call, close_room, disconnect,
                  emit, join_room, leave_room, rooms, send)

app = Flask(__name__)
app.config['SECRET_KEY'] = 'secret'
socketio = SocketIO(app, ping_interval=0.5, ping_timeout=0.5, cors_allowed_origins='*')

# Server-side record of what happened, readable by clients through the 'server log' event.
log = []
log_lock = threading.Lock()


def record(*entry):
    with log_lock:
        log.append(list(entry))


# ---- HTTP routes, served on the Socket.IO port ----

@app.route('/hello')
def hello():
    return 'Hello, World!'


@app.route('/data.json')
def data_json():
    return jsonify({'numbers': [1, 2, 3], 'name': 'chat', 'nested': {'ok': True}})


@app.route('/echo', methods=['POST'])
def echo_post():
    body = request.get_json()
    return jsonify({'got': body, 'query': request.args.get('q'), 'method': request.method})


@app.route('/notify/<sid>')
def notify(sid):
    # the common Flask-SocketIO pattern: an HTTP view emits to a Socket.IO client
    socketio.emit('notified', {'from': 'http', 'sid': sid}, to=sid)
    return 'sent'


# ---- default namespace ----

@socketio.on('connect')
def on_connect(auth=None):
    if isinstance(auth, dict) and auth.get('token') == 'bad':
        raise ConnectionRefusedError('Not authorized', {'code': 401, 'hint': 'use a good token'})
    if isinstance(auth, dict) and auth.get('token') == 'false':
        return False
    # emits inside connect are delivered
    emit('welcome', {'sid': request.sid, 'auth': auth, 'q': request.args.get('q'),
                     'namespace': request.namespace})


@socketio.on('disconnect')
def on_disconnect(reason=None):
    record('disconnect', request.sid, reason)


@socketio.on('echo')
def on_echo(*args):
    # N arguments in, the same N arguments back (a tuple is N arguments), and as the ack
    emit('echo', args)
    return args


@socketio.on('message')
def on_message(data):
    send(data)
    return 'got ' + str(data)


@socketio.on('no ack value')
def on_no_ack_value(data):
    return None


@socketio.on('binary')
def on_binary(data):
    emit('binary', data)
    return data


@socketio.on('sleep')
def on_sleep(seconds):
    time.sleep(seconds)
    record('slept', request.sid, seconds)
    emit('slept', seconds)
    return 'slept %s' % seconds


@socketio.on('sync')
def on_sync(value):
    return value


@socketio.on('sync', namespace='/other')
def on_other_sync(value):
    return value


@socketio.on('mark')
def on_mark(value):
    record('mark', request.sid, value)
    return value


@socketio.on('join')
def on_join(room):
    join_room(room)
    return sorted(rooms())


@socketio.on('leave')
def on_leave(room):
    leave_room(room)
    return sorted(rooms())


@socketio.on('close room')
def on_close_room(room):
    close_room(room)


@socketio.on('to room')
def on_to_room(data):
    # data: {'room': ..., 'msg': ..., 'include_self': bool}
    emit('room message', data['msg'], to=data['room'],
         include_self=data.get('include_self', True))


@socketio.on('to room skip')
def on_to_room_skip(data):
    emit('room message', data['msg'], to=data['room'], skip_sid=data['skip'])


@socketio.on('broadcast')
def on_broadcast(data):
    emit('broadcast', data, broadcast=True)


@socketio.on('broadcast others')
def on_broadcast_others(data):
    emit('broadcast', data, broadcast=True, include_self=False)


@socketio.on('to sid')
def on_to_sid(data):
    emit('direct', {'from': request.sid, 'msg': data['msg']}, to=data['sid'])


@socketio.on('to many')
def on_to_many(data):
    # `to` as a list of sids and rooms
    emit('direct', {'from': request.sid, 'msg': data['msg']}, to=data['targets'])


@socketio.on('ask client')
def on_ask_client(data):
    # server -> client ack through emit(callback=): the callback runs in the sender's context
    def answered(*answer):
        emit('client answered', {'answer': list(answer), 'sid': request.sid})

    emit('question', data, callback=answered)


@socketio.on('call client')
def on_call_client(data):
    # server -> client ack through call(): blocks this handler until the client answers
    answer = call('question', data, timeout=10)
    emit('call answered', {'answer': answer})
    return answer


@socketio.on('call client timeout')
def on_call_client_timeout(data):
    try:
        call('ignored question', data, timeout=0.5)
    except TimeoutError:
        return 'timed out'
    return 'answered'


@socketio.on('start task')
def on_start_task(count):
    sid = request.sid

    def task():
        for i in range(count):
            socketio.emit('tick', i, to=sid)
            socketio.sleep(0.01)
        socketio.emit('task done', count, to=sid)

    socketio.start_background_task(task)
    return 'started'


@socketio.on('start broadcast task')
def on_start_broadcast_task(value):
    def task():
        # server-level emit with no `to`: every client of the namespace
        socketio.emit('bg broadcast', value, namespace='/bg')

    thread = socketio.start_background_task(task)
    thread.join()
    return 'joined'


@socketio.on('boom')
def on_boom(data):
    raise ValueError('kaboom ' + str(data))


@socketio.on('kick me')
def on_kick_me():
    disconnect()


@socketio.on('request info')
def on_request_info():
    return {'sid': request.sid, 'namespace': request.namespace,
            'event': {'message': request.event['message'], 'args': list(request.event['args'])},
            'q': request.args.get('q'), 'x_custom': request.headers.get('X-Custom')}


@socketio.on('server log')
def on_server_log():
    with log_lock:
        return [list(e) for e in log]


@socketio.on_error_default
def on_error_default(error):
    return {'error': type(error).__name__, 'message': str(error),
            'event': request.event['message']}


# ---- other namespaces ----

@socketio.on('connect', namespace='/bg')
def on_bg_connect():
    pass


@socketio.on('echo', namespace='/other')
def on_other_echo(data):
    emit('echo', {'namespace': request.namespace, 'data': data})
    return request.namespace


@socketio.on('join', namespace='/other')
def on_other_join(room):
    join_room(room)


@socketio.on('to room', namespace='/other')
def on_other_to_room(data):
    emit('room message', data['msg'], to=data['room'])


class ClassNamespace(Namespace):
    def on_connect(self, auth=None):
        emit('welcome', {'namespace': request.namespace, 'auth': auth})

    def on_echo(self, data):
        emit('echo', {'class': True, 'data': data})
        return data

    def on_sync(self, value):
        return value


socketio.on_namespace(ClassNamespace('/class'))


if __name__ == '__main__':
    port = int(sys.argv[1])
    socketio.run(app, host='127.0.0.1', port=port)
    print('RUN RETURNED', flush=True)
