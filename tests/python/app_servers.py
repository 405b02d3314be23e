"""The chat apps of tests/python/apps/ as servers in subprocesses (tests/support/servers.py), and
the settings the tests of tests/python share. Test modules import from here, not from conftest:
pytest registers whichever suite's conftest it loaded last as `conftest`.
"""
import contextlib
import json
import os
import signal
import sys
import threading
import time

import requests

import servers  # tests/support/servers.py, on sys.path through tests/conftest.py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
APPS_DIR = os.path.join(HERE, "apps")
# The apps run on the interpreter that runs the tests: .venv (Flask 2.2) or .venv-flask3.
APP_PYTHON = sys.executable

STARTUP_TIMEOUT = 30.0   # hang guard: a Flask import plus the server start
SHUTDOWN_TIMEOUT = 5.0   # hang guard on SIGINT, not a timing assertion
IO_TIMEOUT = 10.0        # hang guard on every wait for a packet


class AppProcess(servers.ServerProcess):
    """A chat app of apps/ running as `python APP PORT [ARGS]` on 127.0.0.1:port; stop() and
    interrupt() send SIGINT."""

    def __init__(self, app, port, log_path, args=()):
        super().__init__([APP_PYTHON, os.path.join(APPS_DIR, app), str(port), *args], log_path,
                         name=app, port=port, cwd=APPS_DIR, extra_env={"PYTHONUNBUFFERED": "1"},
                         stop_signal=signal.SIGINT, shutdown_timeout=SHUTDOWN_TIMEOUT)

    def wait_serving(self):
        """Waits (bounded) until the app's Flask route /hello answers; returns self."""
        return self.wait_ready(servers.AnswersGet("/hello"), STARTUP_TIMEOUT)

    def interrupt(self):
        """SIGINT, then wait; returns the exit status, or None if it had to be killed."""
        return self.stop()


@contextlib.contextmanager
def module_server(tmp_path_factory, app="realtime_app.py", args=()):
    """A ready AppProcess of `app` for a module-scoped fixture; stopped (and checked) at exit."""
    logdir = tmp_path_factory.mktemp("module-server")
    server = AppProcess(app, servers.pick_free_port(), logdir / "server.log", args).wait_serving()
    yield server
    servers.stop_and_check([server])


class Running:
    """A SocketIO served on a thread of this process, on a free port (https with TLS arguments
    of run(), such as certfile=)."""

    def __init__(self, socketio, app, **run_kwargs):
        self.socketio = socketio
        self.thread = threading.Thread(target=socketio.run, args=(app,), kwargs={"port": 0, **run_kwargs}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + IO_TIMEOUT
        while getattr(socketio, "port", None) is None:
            assert time.monotonic() < deadline, "the server did not start"
            assert self.thread.is_alive(), "socketio.run() returned before serving"
            time.sleep(0.01)
        self.port = socketio.port
        tls = any(run_kwargs.get(name) is not None for name in ("certfile", "ssl_context"))
        self.url = "%s://127.0.0.1:%d" % ("https" if tls else "http", self.port)

    def handshake(self, headers=None, transport="polling"):
        return requests.get(self.url + "/socket.io/?EIO=4&transport=" + transport, headers=headers or {},
                            timeout=IO_TIMEOUT)

    def open_packet(self, headers=None):
        r = self.handshake(headers)
        assert r.status_code == 200 and r.text.startswith("0{"), (r.status_code, r.text)
        return json.loads(r.text[1:])

    def ws_url(self, query=""):
        return "ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket%s" % (self.port, query)

    def stop(self):
        self.socketio.stop()
        self.thread.join(IO_TIMEOUT)
        assert not self.thread.is_alive(), "socketio.run() did not return after stop()"
