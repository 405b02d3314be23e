"""The reference server of the official socket.io-protocol test suite, written with chat's
Python API (Flask-SocketIO style, no Flask app), to run that suite (test-suite/test-suite.js of
github.com/socketio/socket.io-protocol) against a server built on the Python bindings:

    python protocol_suite_app.py [PORT]      # PORT defaults to 3000, which the suite hardcodes

It mirrors the suite's expected JavaScript server: ping interval 300 ms, ping timeout 200 ms,
max payload 1000000 bytes, connect timeout 1 s, CORS open to any origin; on connect to "/" or
"/custom" it emits "auth" with the CONNECT packet's auth object ({} when none); "message" is
answered with "message-back" and the same arguments; "message-with-ack" is acknowledged with
the same arguments. Any other namespace is refused with CONNECT_ERROR "Invalid namespace" (the
server's handling of namespaces nobody registered). Serves on 127.0.0.1:PORT until SIGINT.
"""
import sys

from chat import SocketIO, emit

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 3000

socketio = SocketIO(cors_allowed_origins='*', ping_interval=0.3, ping_timeout=0.2,
                    max_http_buffer_size=1000000, connect_timeout=1.0,
                    namespaces=['/', '/custom'])


def on_connect(auth=None):
    # python-socketio (and so chat) hands an empty or absent auth over as None
    emit('auth', auth if auth is not None else {})


def on_message(*args):
    emit('message-back', *args)


def on_message_with_ack(*args):
    return args  # a tuple: acknowledged with each element as one argument


for namespace in ('/', '/custom'):
    socketio.on_event('connect', on_connect, namespace=namespace)
    socketio.on_event('message', on_message, namespace=namespace)
    socketio.on_event('message-with-ack', on_message_with_ack, namespace=namespace)

if __name__ == '__main__':
    socketio.run(port=PORT)
