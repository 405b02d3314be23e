"""Flask-SocketIO peer: Flask-SocketIO 5.3 (python-socketio 5.7, python-engineio 4.3) on gevent
with gevent-websocket, all from Debian; run with Debian's /usr/bin/python3.

On 'message' it broadcasts 'message' with the same arguments to everyone (the sender included); on
'echo' it acknowledges with the same arguments. WebSocket only, no compression, ping 25 s / 20 s,
no logging.

    /usr/bin/python3 flask_server.py [--host 127.0.0.1] [--port 0]

Prints "READY <port>" once listening; SIGINT/SIGTERM stop it.
"""
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402
from flask import Flask  # noqa: E402
from flask_socketio import SocketIO  # noqa: E402
from gevent import pywsgi  # noqa: E402
from geventwebsocket.handler import WebSocketHandler  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    options = parser.parse_args()

    app = Flask(__name__)
    socketio = SocketIO(
        app,
        async_mode="gevent",
        transports=["websocket"],
        ping_interval=25,
        ping_timeout=20,
        http_compression=False,
        logger=False,
        engineio_logger=False,
    )

    def same_args(args):
        # python-socketio sends a tuple as several arguments, anything else as one
        return args[0] if len(args) == 1 else tuple(args)

    @socketio.on("message")
    def on_message(*args):
        socketio.emit("message", same_args(args))

    @socketio.on("echo")
    def on_echo(*args):
        return tuple(args)

    # What SocketIO.run() does for gevent + gevent-websocket, kept here to learn the bound port.
    server = pywsgi.WSGIServer(
        (options.host, options.port), app, handler_class=WebSocketHandler, log=None, backlog=1024
    )
    server.start()
    print("READY %d" % server.server_port, flush=True)

    def stop():
        server.stop(timeout=1)
        sys.exit(0)

    gevent.signal_handler(signal.SIGTERM, stop)
    gevent.signal_handler(signal.SIGINT, stop)
    server.serve_forever()


if __name__ == "__main__":
    main()
