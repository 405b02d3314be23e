"""Shared fixtures of the `chat` Python package tests.

- `free_port`: a TCP port on 127.0.0.1 that was free a moment ago (bound, then closed).
- `start_app`: starts a chat app file (tests/python/apps/) in a subprocess with the Python that runs
  the tests (the venv's, or the Flask 3 venv's on the second run),
  as `python APP PORT [ARGS]`, and waits (bounded) until its Flask route /hello answers. The process's
  stdout and stderr go to a log file, appended to the report of any failing test that used it
  (tests/support/servers.py).
  At teardown every server still running gets SIGINT and must exit 0 within SHUTDOWN_TIMEOUT;
  one that does not is killed and the teardown fails.
- `chat_server`: one realtime_app.py server shared by a test module.
- `serve`: serve(socketio, app=None, **run_kwargs) runs a SocketIO on a thread of this process
  (app_servers.Running), stopped at teardown.
- `clients`: a factory of python-socketio clients (clients.Client), disconnected at teardown;
  `transport` and `node_transport`: the transports the tests run over (parameters).
"""
import sys

import pytest

import servers  # tests/support/servers.py, on sys.path through tests/conftest.py
from app_servers import AppProcess, Running, module_server


@pytest.fixture
def free_port():
    return servers.pick_free_port()


@pytest.fixture
def start_app(tmp_path_factory, request):
    """Factory: start_app(app='realtime_app.py', port=None, args=()) -> a ready AppProcess
    (`args` follow the port on the app's command line)."""
    started = servers.started_servers(request.node)
    logdir = tmp_path_factory.mktemp("chat-server-logs")

    def start(app="realtime_app.py", port=None, args=()):
        server = AppProcess(app, port or servers.pick_free_port(),
                            logdir / ("server-%d.log" % len(started)), args)
        started.append(server)
        return server.wait_serving()

    yield start
    servers.stop_and_check(started)


@pytest.fixture
def serve():
    """serve(socketio, app=None, **run_kwargs) -> Running; stopped at teardown."""
    from flask import Flask

    running = []

    def start(socketio, app=None, **run_kwargs):
        server = Running(socketio, app or Flask(__name__), **run_kwargs)
        running.append(server)
        return server

    yield start
    for server in running:
        server.stop()


@pytest.fixture(scope="module")
def chat_server(tmp_path_factory):
    """realtime_app.py, one per test module."""
    with module_server(tmp_path_factory) as server:
        yield server


@pytest.fixture
def clients():
    """Factory of clients.Client, all disconnected at teardown."""
    from clients import Client

    made = []

    def make(*args, **kwargs):
        c = Client(*args, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture(params=["polling", "upgrade", "websocket"])
def transport(request):
    """python-socketio's transports: polling only, polling upgraded to WebSocket, WebSocket only."""
    return request.param


@pytest.fixture(params=["polling", "websocket", "default"])
def node_transport(request):
    """socket.io-client's: polling only, WebSocket only, and its default (polling, then upgrade)."""
    return request.param


def pytest_report_header(config):
    """Which Flask these tests run on (scripts/test runs them on Flask 2.2 and on Flask 3)."""
    import importlib.metadata as metadata

    return "chat on Flask %s, Werkzeug %s, python-socketio %s (client), %s" % (
        metadata.version("flask"), metadata.version("werkzeug"), metadata.version("python-socketio"),
        sys.executable)
