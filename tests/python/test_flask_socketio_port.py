"""Flask-SocketIO's own test suite (test_socketio.py, 5.x) ported to `chat`.

The application below is Flask-SocketIO's test application with only its import line changed; each
test asserts what the original asserts, through `socketio.test_client(app, ...)`. Four places
differ from the original file: three because the original reads python-socketio internals that a
C++ server does not have, one because chat has no message queue yet:

- test_managed_session / test_unmanaged_session read the managed session through an event that
  returns `dict(session)` as its ack, instead of `socketio.server.environ[eio_sid]['saved_session']`;
  the values asserted are the original's.
- test_delayed_init checks the merged options through `socketio.server_options` (the attribute
  Flask-SocketIO keeps them in) instead of `socketio.server.eio.allow_upgrades/cookie`.
- test_background_task waits (bounded) for the background task's emit instead of sleeping 0.1 s.
- test_message_queue_options: chat has no message queue yet, so it checks that each of the
  original's set-ups is refused with an error naming message_queue.

Flask-SocketIO 5.4/5.5 added the catch-all event and namespace ('*') and the disconnect reason; the
tests for them (test_emit_catch_all_event, test_send_catch_all_namespace, and the reason checks of
test_disconnect*) follow the research checklist (research/flask-socketio.md, section 3).

To check the port itself against the real Flask-SocketIO (Debian's 5.3.2, which predates those
5.4/5.5 features, so their tests are skipped there):
    CHAT_PORT_BACKEND=flask_socketio .venv/bin/python -m pytest tests/python/test_flask_socketio_port.py
"""
import json
import os
import time

import pytest
from flask import Flask, session, request, json as flask_json

LEGACY = os.environ.get("CHAT_PORT_BACKEND") == "flask_socketio"
if LEGACY:  # the reference implementation, to validate this port
    from flask_socketio import SocketIO, send, emit, join_room, leave_room, Namespace, \
        close_room, rooms, disconnect, ConnectionRefusedError  # noqa: F401
else:
    from chat import SocketIO, send, emit, join_room, leave_room, Namespace, \
        close_room, rooms, disconnect, ConnectionRefusedError  # noqa: F401

needs_5_5 = pytest.mark.skipif(
    LEGACY, reason="Flask-SocketIO 5.4/5.5 feature; Debian's flask_socketio is 5.3.2")

app = Flask(__name__)
app.config['SECRET_KEY'] = 'secret'
socketio = SocketIO(app)

# What the handlers record (the original uses module globals).
state = {
    'disconnected': None,
    'disconnect_reason': None,
    'request_event_data': None,
    'error_testing': False,
    'error_testing_namespace': False,
    'error_testing_default': False,
}


@socketio.on('connect')
def on_connect(auth):
    if auth != {'foo': 'bar'}:  # pragma: no cover
        return False
    if request.args.get('fail'):
        raise ConnectionRefusedError('failed!')
    send('connected')
    send(json.dumps(request.args.to_dict(flat=False)))
    send(json.dumps({h: request.headers[h] for h in request.headers.keys()
                     if h not in ['Host', 'Content-Type', 'Content-Length']}))
    emit('dummy', to='nobody')


@socketio.on('disconnect')
def on_disconnect(reason=None):
    state['disconnected'] = '/'
    state['disconnect_reason'] = reason


@socketio.event(namespace='/test')
def connect():
    send('connected-test')
    send(json.dumps(request.args.to_dict(flat=False)))
    send(json.dumps({h: request.headers[h] for h in request.headers.keys()
                     if h not in ['Host', 'Content-Type', 'Content-Length']}))


@socketio.on('disconnect', namespace='/test')
def on_disconnect_test():
    state['disconnected'] = '/test'


@socketio.on('connect', namespace='/bgtest')
def on_bgtest_connect():
    def background_task():
        socketio.emit('bgtest', namespace='/bgtest')

    socketio.start_background_task(background_task)


@socketio.event
def message(message):
    send(message)
    if message == 'test session':
        if not socketio.manage_session and 'a' in session:
            raise RuntimeError('session is being stored')
        if 'a' not in session:
            session['a'] = 'b'
        else:
            session['a'] = 'c'
    if message not in "test noackargs":
        return message


@socketio.on('session snapshot')
def on_session_snapshot():
    # Added by the port: the session as the next event sees it, in place of the original's
    # socketio.server.environ[eio_sid]['saved_session'].
    return dict(session)


@socketio.on('json')
def on_json(data):
    send(data, json=True, broadcast=True)
    if not data.get('noackargs'):
        return data


@socketio.on('message', namespace='/test')
def on_message_test(message):
    send(message)


@socketio.on('json', namespace='/test')
def on_json_test(data):
    send(data, json=True, namespace='/test')


@socketio.on('my custom event')
def on_custom_event(data):
    emit('my custom response', data)
    if not data.get('noackargs'):
        return data


@socketio.on('other custom event')
@socketio.on('and another custom event')
def get_request_event(data):
    state['request_event_data'] = request.event
    emit('my custom response', data)


def get_request_event2(data):
    state['request_event_data'] = request.event
    emit('my custom response', data)


socketio.on_event('yet another custom event', get_request_event2)


@socketio.on('my custom namespace event', namespace='/test')
def on_custom_event_test(data):
    emit('my custom namespace response', data, namespace='/test')


def on_custom_event_test2(data):
    emit('my custom namespace response', data, namespace='/test')


socketio.on_event('yet another custom namespace event', on_custom_event_test2,
                  namespace='/test')


@socketio.on('my custom broadcast event')
def on_custom_event_broadcast(data):
    emit('my custom response', data, broadcast=True)


@socketio.on('my custom broadcast namespace event', namespace='/test')
def on_custom_event_broadcast_test(data):
    emit('my custom namespace response', data, namespace='/test',
         broadcast=True)


@socketio.on('join room')
def on_join_room(data):
    join_room(data['room'])


@socketio.on('leave room')
def on_leave_room(data):
    leave_room(data['room'])


@socketio.on('join room', namespace='/test')
def on_join_room_namespace(data):
    join_room(data['room'])


@socketio.on('leave room', namespace='/test')
def on_leave_room_namespace(data):
    leave_room(data['room'])


@socketio.on('my room event')
def on_room_event(data):
    room = data.pop('room')
    emit('my room response', data, room=room)


@socketio.on('my room namespace event', namespace='/test')
def on_room_namespace_event(data):
    room = data.pop('room')
    send('room message', room=room)


@socketio.on('bad response')
def on_bad_response():
    emit('my custom response', {'foo': socketio})


@socketio.on('bad callback')
def on_bad_callback():
    return {'foo': socketio}


@socketio.on('changing response')
def on_changing_response():
    data = {'foo': 'bar'}
    emit('my custom response', data)
    data['foo'] = 'baz'
    return data


@socketio.on('*')
def catch_all(event, data):
    # Flask-SocketIO 5.4+: a catch-all handler gets the event name first.
    emit('my custom response', {'event': event, 'data': data})
    return event, data


@socketio.on('message', namespace='*')
def catch_all_namespace_message(data):
    # Flask-SocketIO 5.4+: a catch-all namespace handler runs in the client's real namespace.
    send('catch-all ' + request.namespace + ' ' + data)
    return request.namespace


@socketio.on_error()
def error_handler(value):
    if isinstance(value, AssertionError):
        state['error_testing'] = True
    else:
        raise value
    return 'error'


@socketio.on('error testing')
def raise_error(data):
    raise AssertionError()


@socketio.on_error('/test')
def error_handler_namespace(value):
    if isinstance(value, AssertionError):
        state['error_testing_namespace'] = True
    else:
        raise value
    return 'error/test'


@socketio.on("error testing", namespace='/test')
def raise_error_namespace(data):
    raise AssertionError()


@socketio.on_error_default
def error_handler_default(value):
    if isinstance(value, AssertionError):
        state['error_testing_default'] = True
    else:
        raise value
    return 'error/default'


@socketio.on("error testing", namespace='/unused_namespace')
def raise_error_default(data):
    raise AssertionError()


class MyNamespace(Namespace):
    def on_connect(self):
        send('connected-ns')
        send(json.dumps(request.args.to_dict(flat=False)))
        send(json.dumps(
            {h: request.headers[h] for h in request.headers.keys()
             if h not in ['Host', 'Content-Type', 'Content-Length']}))

    def on_disconnect(self):
        state['disconnected'] = '/ns'

    def on_message(self, message):
        send(message)
        if message == 'test session':
            session['a'] = 'b'
        if message not in "test noackargs":
            return message

    def on_json(self, data):
        send(data, json=True, broadcast=True)
        if not data.get('noackargs'):
            return data

    def on_exit(self, data):
        disconnect()

    def on_my_custom_event(self, data):
        emit('my custom response', data)
        if not data.get('noackargs'):
            return data

    def on_other_custom_event(self, data):
        state['request_event_data'] = request.event
        emit('my custom response', data)


socketio.on_namespace(MyNamespace('/ns'))


@app.route('/session')
def session_route():
    session['foo'] = 'bar'
    return ''


def test_connect():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    assert client.is_connected()
    assert client2.is_connected()
    assert client.eio_sid != client2.eio_sid
    received = client.get_received()
    assert len(received) == 3
    assert received[0]['args'] == 'connected'
    assert received[1]['args'] == '{}'
    assert received[2]['args'] == '{}'
    client.disconnect()
    assert not client.is_connected()
    assert client2.is_connected()
    client2.disconnect()
    assert not client2.is_connected()


def test_connect_query_string_and_headers():
    client = socketio.test_client(
        app, query_string='?foo=bar&foo=baz',
        headers={'Authorization': 'Bearer foobar'},
        auth={'foo': 'bar'})
    received = client.get_received()
    assert len(received) == 3
    assert received[0]['args'] == 'connected'
    assert received[1]['args'] == '{"foo": ["bar", "baz"]}'
    assert received[2]['args'] == '{"Authorization": "Bearer foobar"}'
    client.disconnect()


def test_connect_namespace():
    client = socketio.test_client(app, namespace='/test')
    assert client.is_connected('/test')
    received = client.get_received('/test')
    assert len(received) == 3
    assert received[0]['args'] == 'connected-test'
    assert received[1]['args'] == '{}'
    assert received[2]['args'] == '{}'
    client.disconnect(namespace='/test')
    assert not client.is_connected('/test')


def test_connect_namespace_query_string_and_headers():
    client = socketio.test_client(
        app, namespace='/test', query_string='foo=bar',
        headers={'My-Custom-Header': 'Value'})
    received = client.get_received('/test')
    assert len(received) == 3
    assert received[0]['args'] == 'connected-test'
    assert received[1]['args'] == '{"foo": ["bar"]}'
    assert received[2]['args'] == '{"My-Custom-Header": "Value"}'
    client.disconnect(namespace='/test')


def test_connect_rejected():
    client = socketio.test_client(app, query_string='fail=1',
                                  auth={'foo': 'bar'})
    assert not client.is_connected()


def test_disconnect():
    state['disconnected'] = None
    state['disconnect_reason'] = None
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.disconnect()
    assert state['disconnected'] == '/'
    if not LEGACY:  # 5.5+: a handler that takes an argument gets the reason
        assert state['disconnect_reason'] == 'client disconnect'


def test_disconnect_namespace():
    state['disconnected'] = None
    client = socketio.test_client(app, namespace='/test')
    client.disconnect('/test')
    assert state['disconnected'] == '/test'


def test_message_queue_options():
    if not LEGACY:
        # The original's four set-ups, which connect on first use as Flask-SocketIO's do (no
        # Redis answers here: that first use is a ConnectionError naming the queue); without an
        # app, write-only. The cluster itself is tests/python/test_message_queue.py.
        app = Flask(__name__)
        socketio = SocketIO(app, message_queue='redis://')
        assert not socketio.write_only
        app = Flask(__name__)
        socketio = SocketIO(app)
        socketio.init_app(app, message_queue='redis://')
        assert not socketio.write_only
        socketio = SocketIO(message_queue='redis://')
        assert socketio.write_only
        socketio = SocketIO()
        socketio.init_app(None, message_queue='redis://')
        assert socketio.write_only
        with pytest.raises(ConnectionError, match="message_queue='redis://'"):
            socketio.emit('anything')
        return
    pytest.importorskip('redis')  # Flask-SocketIO builds a RedisManager
    app = Flask(__name__)
    socketio = SocketIO(app, message_queue='redis://')
    assert not socketio.server_options['client_manager'].write_only

    app = Flask(__name__)
    socketio = SocketIO(app)
    socketio.init_app(app, message_queue='redis://')
    assert not socketio.server_options['client_manager'].write_only

    app = Flask(__name__)
    socketio = SocketIO(message_queue='redis://')
    assert socketio.server_options['client_manager'].write_only

    app = Flask(__name__)
    socketio = SocketIO()
    socketio.init_app(None, message_queue='redis://')
    assert socketio.server_options['client_manager'].write_only


def test_send():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    client.send('echo this message back')
    received = client.get_received()
    assert len(received) == 1
    assert received[0]['args'] == 'echo this message back'


def test_send_json():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    client1.get_received()
    client2.get_received()
    client1.send({'a': 'b'}, json=True)
    received = client1.get_received()
    assert len(received) == 1
    assert received[0]['args']['a'] == 'b'
    received = client2.get_received()
    assert len(received) == 1
    assert received[0]['args']['a'] == 'b'


def test_send_namespace():
    client = socketio.test_client(app, namespace='/test')
    client.get_received('/test')
    client.send('echo this message back', namespace='/test')
    received = client.get_received('/test')
    assert len(received) == 1
    assert received[0]['args'] == 'echo this message back'


def test_send_json_namespace():
    client = socketio.test_client(app, namespace='/test')
    client.get_received('/test')
    client.send({'a': 'b'}, json=True, namespace='/test')
    received = client.get_received('/test')
    assert len(received) == 1
    assert received[0]['args']['a'] == 'b'


def test_emit():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    client.emit('my custom event', {'a': 'b'})
    received = client.get_received()
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom response'
    assert received[0]['args'][0]['a'] == 'b'


def test_emit_binary():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    client.emit('my custom event', {u'a': b'\x01\x02\x03'})
    received = client.get_received()
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom response'
    assert received[0]['args'][0]['a'] == b'\x01\x02\x03'


@needs_5_5
def test_emit_catch_all_event():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    ack = client.emit('random event', {'a': 'b'}, callback=True)
    assert ack == ['random event', {'a': 'b'}]
    received = client.get_received()
    assert received == [{'name': 'my custom response',
                         'args': [{'event': 'random event', 'data': {'a': 'b'}}],
                         'namespace': '/'}]
    # an event with its own handler does not reach the catch-all
    client.emit('my custom event', {'a': 'c'})
    received = client.get_received()
    assert received == [{'name': 'my custom response', 'args': [{'a': 'c'}],
                         'namespace': '/'}]


@needs_5_5
def test_send_catch_all_namespace():
    client = socketio.test_client(app, namespace='/unused_namespace')
    assert client.is_connected('/unused_namespace')
    client.get_received('/unused_namespace')
    ack = client.send('echo this message back', namespace='/unused_namespace',
                      callback=True)
    assert ack == '/unused_namespace'
    received = client.get_received('/unused_namespace')
    assert len(received) == 1
    assert received[0]['name'] == 'message'
    assert received[0]['args'] == 'catch-all /unused_namespace echo this message back'
    # a namespace with its own 'message' handler does not reach the catch-all
    client2 = socketio.test_client(app, namespace='/test')
    client2.get_received('/test')
    client2.send('echo this message back', namespace='/test')
    received = client2.get_received('/test')
    assert len(received) == 1
    assert received[0]['args'] == 'echo this message back'


def test_request_event_data():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    state['request_event_data'] = None
    client.emit('other custom event', 'foo')
    expected_data = {'message': 'other custom event', 'args': ('foo',)}
    assert state['request_event_data'] == expected_data
    client.emit('and another custom event', 'bar')
    expected_data = {'message': 'and another custom event',
                     'args': ('bar',)}
    assert state['request_event_data'] == expected_data


def test_emit_namespace():
    client = socketio.test_client(app, namespace='/test')
    client.get_received('/test')
    client.emit('my custom namespace event', {'a': 'b'}, namespace='/test')
    received = client.get_received('/test')
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom namespace response'
    assert received[0]['args'][0]['a'] == 'b'


def test_broadcast():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    client3 = socketio.test_client(app, namespace='/test')
    client2.get_received()
    client3.get_received('/test')
    client1.emit('my custom broadcast event', {'a': 'b'}, broadcast=True)
    received = client2.get_received()
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom response'
    assert received[0]['args'][0]['a'] == 'b'
    assert len(client3.get_received('/test')) == 0


def test_broadcast_namespace():
    client1 = socketio.test_client(app, namespace='/test')
    client2 = socketio.test_client(app, namespace='/test')
    client3 = socketio.test_client(app, auth={'foo': 'bar'})
    client2.get_received('/test')
    client3.get_received()
    client1.emit('my custom broadcast namespace event', {'a': 'b'},
                 namespace='/test')
    received = client2.get_received('/test')
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom namespace response'
    assert received[0]['args'][0]['a'] == 'b'
    assert len(client3.get_received()) == 0


def test_managed_session():
    flask_client = app.test_client()
    flask_client.get('/session')
    client = socketio.test_client(app, flask_test_client=flask_client,
                                  auth={'foo': 'bar'})
    client.get_received()
    client.send('echo this message back')
    assert client.emit('session snapshot', callback=True) == {'foo': 'bar'}
    client.send('test session')
    assert client.emit('session snapshot', callback=True) == {'a': 'b', 'foo': 'bar'}
    client.send('test session')
    assert client.emit('session snapshot', callback=True) == {'a': 'c', 'foo': 'bar'}


def test_unmanaged_session():
    socketio.manage_session = False
    try:
        flask_client = app.test_client()
        flask_client.get('/session')
        client = socketio.test_client(app, flask_test_client=flask_client,
                                      auth={'foo': 'bar'})
        client.get_received()
        client.send('test session')
        client.send('test session')
        # Flask's own cookie session is frozen at connection time: the writes are not kept.
        assert client.emit('session snapshot', callback=True) == {'foo': 'bar'}
    finally:
        socketio.manage_session = True


def test_room():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    client3 = socketio.test_client(app, namespace='/test')
    client1.get_received()
    client2.get_received()
    client3.get_received('/test')
    client1.emit('join room', {'room': 'one'})
    client2.emit('join room', {'room': 'one'})
    client3.emit('join room', {'room': 'one'}, namespace='/test')
    client1.emit('my room event', {'a': 'b', 'room': 'one'})
    received = client1.get_received()
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my room response'
    assert received[0]['args'][0]['a'] == 'b'
    assert received == client2.get_received()
    received = client3.get_received('/test')
    assert len(received) == 0
    client1.emit('leave room', {'room': 'one'})
    client1.emit('my room event', {'a': 'b', 'room': 'one'})
    received = client1.get_received()
    assert len(received) == 0
    received = client2.get_received()
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my room response'
    assert received[0]['args'][0]['a'] == 'b'
    client2.disconnect()
    socketio.emit('my room event', {'a': 'b'}, room='one')
    received = client1.get_received()
    assert len(received) == 0
    received = client3.get_received('/test')
    assert len(received) == 0
    client3.emit('my room namespace event', {'room': 'one'},
                 namespace='/test')
    received = client3.get_received('/test')
    assert len(received) == 1
    assert received[0]['name'] == 'message'
    assert received[0]['args'] == 'room message'
    socketio.close_room('one', namespace='/test')
    client3.emit('my room namespace event', {'room': 'one'},
                 namespace='/test')
    received = client3.get_received('/test')
    assert len(received) == 0


def test_error_handling():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    state['error_testing'] = False
    client.emit("error testing", "")
    assert state['error_testing']


def test_error_handling_namespace():
    client = socketio.test_client(app, namespace='/test')
    client.get_received('/test')
    state['error_testing_namespace'] = False
    client.emit("error testing", "", namespace='/test')
    assert state['error_testing_namespace']


def test_error_handling_default():
    client = socketio.test_client(app, namespace='/unused_namespace')
    client.get_received('/unused_namespace')
    state['error_testing_default'] = False
    client.emit("error testing", "", namespace='/unused_namespace')
    assert state['error_testing_default']


def test_ack():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    client3 = socketio.test_client(app, auth={'foo': 'bar'})
    ack = client1.send('echo this message back', callback=True)
    assert ack == 'echo this message back'
    ack = client1.send('test noackargs', callback=True)
    # The original also accepts None (python-socketio before 1.5); a 5.x server acks with no
    # arguments, which the test client returns as [].
    assert ack == []
    ack2 = client2.send({'a': 'b'}, json=True, callback=True)
    assert ack2 == {'a': 'b'}
    ack3 = client3.emit('my custom event', {'a': 'b'}, callback=True)
    assert ack3 == {'a': 'b'}


def test_noack():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, auth={'foo': 'bar'})
    client3 = socketio.test_client(app, auth={'foo': 'bar'})
    no_ack_dict = {'noackargs': True}
    noack = client1.send("test noackargs", callback=False)
    assert noack is None
    noack2 = client2.send(no_ack_dict, json=True, callback=False)
    assert noack2 is None
    noack3 = client3.emit('my custom event', no_ack_dict)
    assert noack3 is None


def test_error_handling_ack():
    client1 = socketio.test_client(app, auth={'foo': 'bar'})
    client2 = socketio.test_client(app, namespace='/test')
    client3 = socketio.test_client(app, namespace='/unused_namespace')
    errorack = client1.emit("error testing", "", callback=True)
    assert errorack == 'error'
    errorack_namespace = client2.emit("error testing", "",
                                      namespace='/test', callback=True)
    assert errorack_namespace == 'error/test'
    errorack_default = client3.emit("error testing", "",
                                    namespace='/unused_namespace',
                                    callback=True)
    assert errorack_default == 'error/default'


def test_on_event():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    state['request_event_data'] = None
    client.emit('yet another custom event', 'foo')
    expected_data = {'message': 'yet another custom event',
                     'args': ('foo',)}
    assert state['request_event_data'] == expected_data

    client = socketio.test_client(app, namespace='/test')
    client.get_received('/test')
    client.emit('yet another custom namespace event', {'a': 'b'},
                namespace='/test')
    received = client.get_received('/test')
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom namespace response'
    assert received[0]['args'][0]['a'] == 'b'


def test_connect_class_based():
    client = socketio.test_client(app, namespace='/ns')
    received = client.get_received('/ns')
    assert len(received) == 3
    assert received[0]['args'] == 'connected-ns'
    assert received[1]['args'] == '{}'
    assert received[2]['args'] == '{}'
    client.disconnect('/ns')


def test_connect_class_based_query_string_and_headers():
    client = socketio.test_client(
        app, namespace='/ns', query_string='foo=bar',
        headers={'Authorization': 'Basic foobar'})
    received = client.get_received('/ns')
    assert len(received) == 3
    assert received[0]['args'] == 'connected-ns'
    assert received[1]['args'] == '{"foo": ["bar"]}'
    assert received[2]['args'] == '{"Authorization": "Basic foobar"}'
    client.disconnect('/ns')


def test_disconnect_class_based():
    state['disconnected'] = None
    client = socketio.test_client(app, namespace='/ns')
    client.disconnect('/ns')
    assert state['disconnected'] == '/ns'


def test_send_class_based():
    client = socketio.test_client(app, namespace='/ns')
    client.get_received('/ns')
    client.send('echo this message back', namespace='/ns')
    received = client.get_received('/ns')
    assert len(received) == 1
    assert received[0]['args'] == 'echo this message back'


def test_send_json_class_based():
    client = socketio.test_client(app, namespace='/ns')
    client.get_received('/ns')
    client.send({'a': 'b'}, json=True, namespace='/ns')
    received = client.get_received('/ns')
    assert len(received) == 1
    assert received[0]['args']['a'] == 'b'


def test_server_disconnected():
    client = socketio.test_client(app, namespace='/ns')
    client2 = socketio.test_client(app, namespace='/ns')
    client.get_received('/ns')
    client2.get_received('/ns')
    client.emit('exit', {}, namespace='/ns')
    assert not client.is_connected('/ns')
    assert client2.is_connected('/ns')
    with pytest.raises(RuntimeError):
        client.emit('hello', {}, namespace='/ns')
    client2.emit('exit', {}, namespace='/ns')
    assert not client2.is_connected('/ns')
    with pytest.raises(RuntimeError):
        client2.emit('hello', {}, namespace='/ns')


def test_emit_class_based():
    client = socketio.test_client(app, namespace='/ns')
    client.get_received('/ns')
    client.emit('my_custom_event', {'a': 'b'}, namespace='/ns')
    received = client.get_received('/ns')
    assert len(received) == 1
    assert len(received[0]['args']) == 1
    assert received[0]['name'] == 'my custom response'
    assert received[0]['args'][0]['a'] == 'b'


def test_request_event_data_class_based():
    client = socketio.test_client(app, namespace='/ns')
    client.get_received('/ns')
    state['request_event_data'] = None
    client.emit('other_custom_event', 'foo', namespace='/ns')
    expected_data = {'message': 'other_custom_event', 'args': ('foo',)}
    assert state['request_event_data'] == expected_data


def test_delayed_init():
    app = Flask(__name__)
    socketio = SocketIO(allow_upgrades=False, json=flask_json)

    @socketio.on('connect')
    def on_connect():
        send({'connected': 'foo'}, json=True)

    socketio.init_app(app, cookie='foo')
    # The original reads socketio.server.eio.allow_upgrades / .cookie (python-engineio's
    # server); the merged options are what it checks.
    assert socketio.server_options['allow_upgrades'] is False
    assert socketio.server_options['cookie'] == 'foo'

    client = socketio.test_client(app, auth={'foo': 'bar'})
    received = client.get_received()
    assert len(received) == 1
    assert received[0]['args'] == {'connected': 'foo'}


def test_encode_decode():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    client.get_received()
    data = {'foo': 'bar', 'invalid': socketio}
    with pytest.raises(TypeError):
        client.emit('my custom event', data, callback=True)
    data = {'foo': 'bar'}
    ack = client.emit('my custom event', data, callback=True)
    data['foo'] = 'baz'
    received = client.get_received()
    assert ack == {'foo': 'bar'}
    assert len(received) == 1
    assert received[0]['args'][0] == {'foo': 'bar'}


def test_encode_decode_2():
    client = socketio.test_client(app, auth={'foo': 'bar'})
    with pytest.raises(TypeError):
        client.emit('bad response')
    with pytest.raises(TypeError):
        client.emit('bad callback', callback=True)
    client.get_received()
    ack = client.emit('changing response', callback=True)
    received = client.get_received()
    assert len(received) == 1
    assert received[0]['args'][0] == {'foo': 'bar'}
    assert ack == {'foo': 'baz'}


def test_background_task():
    client = socketio.test_client(app, namespace='/bgtest')
    assert client.is_connected(namespace='/bgtest')
    # The original sleeps 0.1 s; here: wait (at most 5 s) for the task's emit to arrive.
    received = []
    deadline = time.monotonic() + 5
    while not received and time.monotonic() < deadline:
        socketio.sleep(0.01)  # socketio.sleep, so that a gevent-mode server runs its task
        received = client.get_received('/bgtest')
    assert len(received) == 1
    assert received[0]['name'] == 'bgtest'
