"""Fixtures for the protocol tests: start `test_server` (tests/support/TEST_SERVER.md) as a subprocess.

The binary comes from the environment variable CHAT_TEST_SERVER (and CHAT_TEST_SHARDS=N, when set,
runs each one with --shards N). Every server started by a test is stopped at teardown with SIGTERM
and must exit with status 0 within a few seconds; its output is appended to the report of a
failing test (tests/support/servers.py).
"""
import os
import signal

import pytest

import protocol_wire as wire
import servers  # tests/support/servers.py, on sys.path through tests/conftest.py

from protocol_wire import SHUTDOWN_TIMEOUT, STARTUP_TIMEOUT, SUITE_FLAGS


class TestServerProcess(servers.ServerProcess):
    """A test_server process, its flags in describe(); stop() sends SIGTERM."""

    def stderr_tail(self, limit=4000):
        """The end of the server's output: its stderr, and the `LISTENING <port>` line that is
        all test_server prints on stdout."""
        return self.output(limit)


def _server_binary():
    path = os.environ.get("CHAT_TEST_SERVER")
    if not path:
        pytest.fail("CHAT_TEST_SERVER is not set: export it as the path of the built test_server "
                    "binary (e.g. CHAT_TEST_SERVER=build/tests/test_server)", pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("CHAT_TEST_SERVER=%r is not an executable file" % path, pytrace=False)
    return path


@pytest.fixture
def start_server(tmp_path_factory, request):
    """Factory: start_server(*flags, prefix=()) -> TestServerProcess, listening on 127.0.0.1
    (port 0 = any); `prefix` runs it through a command such as prlimit."""
    started = servers.started_servers(request.node)
    logdir = tmp_path_factory.mktemp("server-logs")

    def start(*flags, prefix=()):
        binary = _server_binary()
        flags = ("--port", "0") + tuple(str(f) for f in flags)
        # CHAT_TEST_SHARDS=N runs every server as a ShardedServer of N io threads.
        if os.environ.get("CHAT_TEST_SHARDS") and "--shards" not in flags:
            flags += ("--shards", os.environ["CHAT_TEST_SHARDS"])
        server = TestServerProcess([*prefix, binary, *flags], logdir / ("server-%d.log" % len(started)),
                                   name="test_server " + " ".join(flags), stop_signal=signal.SIGTERM,
                                   shutdown_timeout=SHUTDOWN_TIMEOUT)
        started.append(server)
        server.wait_ready(servers.PrintsPort(r"^LISTENING (\d+)$"), STARTUP_TIMEOUT)
        assert 0 < server.port < 65536
        return server

    yield start
    servers.stop_and_check(started)


@pytest.fixture
def suite_server(start_server):
    """A server with the official test suites' settings (ping 300/200 ms, connect timeout 1 s, cors *)."""
    return start_server(*SUITE_FLAGS)


@pytest.fixture
def port(suite_server):
    return suite_server.port


@pytest.fixture
def sio_clients(start_server):
    """Factory for python-socketio clients, all disconnected at teardown (before the server stops).

    make(port, transports=None, namespaces=None, auth=None, events=()) -> wire.RecordingClient
    """
    clients = []

    def make(port, transports=None, namespaces=None, auth=None, events=(), connect=True):
        c = wire.RecordingClient(events=events, namespaces=namespaces or ["/"])
        clients.append(c)
        if connect:
            c.connect(port, transports=transports, namespaces=namespaces, auth=auth)
        return c

    yield make

    for c in clients:
        try:
            if c.sio.connected or c.sio.eio.state != "disconnected":
                c.sio.disconnect()
        except Exception:
            pass
