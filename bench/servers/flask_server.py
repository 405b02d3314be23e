"""Flask-SocketIO peer: Flask-SocketIO 5.3 (python-socketio 5.7, python-engineio 4.3) on gevent
with gevent-websocket, all from Debian; run with Debian's /usr/bin/python3.

On 'message' it broadcasts 'message' with the same arguments to everyone (the sender included); on
'echo' it acknowledges with the same arguments. WebSocket only, no compression, ping 25 s / 20 s,
no logging. For the worker comparison (bench/run --workers): 'join' puts the sender in the room
'bench' and acknowledges with its worker's pid, 'shout' emits 'shout' with its arguments to that
room and acknowledges.

    /usr/bin/python3 flask_server.py [--host 127.0.0.1] [--port 0] [--handler-cpu-us U]
        [--polling] [--gunicorn-workers N]

--handler-cpu-us U makes the echo handler spin U µs of Python first (an application's own work per
event). --polling allows polling and the upgrade besides WebSocket. --gunicorn-workers N serves
from gunicorn (Debian's python3-gunicorn) with N workers of gevent-websocket's worker class, what
`gunicorn -k geventwebsocket.gunicorn.workers.GeventWebSocketWorker -w N module:app` runs, with no
message queue and no sticky balancer in front: each worker has its own sessions and rooms.

Prints "READY <port>" once listening; SIGINT/SIGTERM stop it.
"""
import argparse
import signal
import sys

import bench_handlers  # bench/servers/bench_handlers.py


def parse_options():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--handler-cpu-us", type=int, default=0,
                        help="µs of Python CPU each echo handler spends before acknowledging")
    parser.add_argument("--polling", action="store_true", help="allow polling (and the upgrade), not only WebSocket")
    parser.add_argument("--gunicorn-workers", type=int, default=None,
                        help="serve from gunicorn with this many gevent-websocket workers")
    options = parser.parse_args()
    if options.handler_cpu_us < 0:
        parser.error("--handler-cpu-us must be 0 or more")
    if options.gunicorn_workers is not None and options.gunicorn_workers < 1:
        parser.error("--gunicorn-workers must be 1 or more")
    return options


def make_app(options):
    """The Flask app and its Socket.IO handlers; called after gevent patched the process."""
    from flask import Flask
    from flask_socketio import SocketIO, join_room

    app = Flask(__name__)
    socketio = SocketIO(
        app,
        async_mode="gevent",
        transports=["polling", "websocket"] if options.polling else ["websocket"],
        ping_interval=25,
        ping_timeout=20,
        http_compression=False,
        logger=False,
        engineio_logger=False,
    )

    def same_args(args):
        # python-socketio sends a tuple as several arguments, anything else as one
        return args[0] if len(args) == 1 else tuple(args)

    bench_handlers.install(socketio, join_room, options.handler_cpu_us, same_args)
    return app


def serve_gunicorn(options):
    """gunicorn's master in this process (not patched by gevent: its workers patch themselves
    after the fork, and each imports the app then, as `gunicorn module:app` does)."""
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):
        def load_config(self):
            settings = {
                "bind": "%s:%d" % (options.host, options.port),
                "workers": options.gunicorn_workers,
                "worker_class": "geventwebsocket.gunicorn.workers.GeventWebSocketWorker",
                "backlog": 1024,
                "graceful_timeout": 2,
                "accesslog": None,
                "loglevel": "warning",
                "when_ready": lambda server: print(
                    "READY %d" % server.LISTENERS[0].sock.getsockname()[1], flush=True),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self):
            return make_app(options)

    Application().run()


def main():
    options = parse_options()
    if options.gunicorn_workers is not None:
        serve_gunicorn(options)
        return

    from gevent import monkey

    monkey.patch_all()
    import gevent
    from gevent import pywsgi
    from geventwebsocket.handler import WebSocketHandler

    app = make_app(options)
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
