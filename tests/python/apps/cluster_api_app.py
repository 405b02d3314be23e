"""An app in a Redis cluster using the cluster API (fetch_sockets, sockets_join/leave,
disconnect_sockets, set_data, server_side_emit, emit_with_ack), run in subprocesses by
tests/python/test_cluster_api.py: two of them share one Redis, and the test's clients call
these handlers, which call the API and answer with what it gave.

    python cluster_api_app.py PORT REDIS_URL
"""
import sys
import threading

from flask import Flask

from chat import SocketIO, rooms

PORT = sys.argv[1]
WAIT = 10.0  # hang guard on a callback that does not come

app = Flask(__name__)
socketio = SocketIO(app, message_queue=sys.argv[2])
server_side_seen = []  # what this server's server-side emit handler got


@app.route('/hello')
def hello():
    return 'Hello, World!'


@socketio.on('set name')
def on_set_name(name):
    socketio.set_data({'name': name, 'port': PORT})
    return socketio.get_data()


@socketio.on('fetch')
def on_fetch(to=None):
    return [{'sid': s.sid, 'id': s.id, 'rooms': sorted(s.rooms), 'data': s.data, 'namespace': s.namespace,
             'address': s.handshake['address'], 'query': dict(s.handshake['query']),
             'who_header': s.handshake['headers'].get('X-Who'), 'issued': s.handshake['issued'],
             'auth': s.handshake['auth']}
            for s in socketio.fetch_sockets(to=to)]


@socketio.on('join all')
def on_join_all(request):
    socketio.sockets_join(request['rooms'], to=request.get('to'))
    return 'ok'


@socketio.on('leave all')
def on_leave_all(request):
    socketio.sockets_leave(request['rooms'], to=request.get('to'))
    return 'ok'


@socketio.on('disconnect all')
def on_disconnect_all(request):
    socketio.disconnect_sockets(to=request.get('to'), close=request.get('close', False))
    return 'ok'


@socketio.on('my rooms')
def on_my_rooms():
    return sorted(rooms())


@socketio.on('say to')
def on_say_to(request):
    socketio.emit('said', request['text'], to=request['to'])
    return 'ok'


@socketio.on('server side')
def on_server_side(request):
    """server_side_emit with a callback: answers with what the callback got."""
    got = {}
    done = threading.Event()

    def callback(error, replies):
        got['error'] = None if error is None else type(error).__name__
        got['replies'] = replies
        done.set()

    socketio.server_side_emit(request['event'], *request['args'], callback=callback,
                              timeout=request.get('timeout', 5))
    if not done.wait(WAIT):
        return {'error': 'no callback'}
    return got


@socketio.on('server side no reply')
def on_server_side_no_reply(request):
    socketio.server_side_emit(request['event'], *request['args'])
    return 'ok'


@socketio.on_server_side_emit
def on_other_server(event, *args):
    server_side_seen.append([event, *args])
    if event == 'silent':
        raise RuntimeError('this server does not answer "silent"')
    return {'port': PORT, 'event': event, 'args': list(args)}


@socketio.on('seen')
def on_seen():
    return server_side_seen


@socketio.on('gather')
def on_gather(request):
    try:
        return {'responses': socketio.emit_with_ack('question', request['text'], to=request.get('to'),
                                                    timeout=request['timeout'])}
    except TimeoutError as error:
        return {'timeout': True, 'responses': error.responses}


if __name__ == '__main__':
    socketio.run(app, host='127.0.0.1', port=int(PORT))
