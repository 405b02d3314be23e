"""Fixtures of the chat app suite (docs/protocol.md), run against both chat servers.

- `server`: a chat server on 127.0.0.1 (port 0) with a fresh SQLite file, once per server kind:
  "python" is examples/python_chat/app.py on the venv's Python, "cpp" the binary named by
  $CHAT_SERVER_BIN (default build/examples/chat_server), skipped only when it does not exist.
  It runs with the default rate limits; a test marked `@pytest.mark.server_flags(...)` gets
  those flags added (a test that floods on purpose turns the limit it exceeds off).
- `launch`: launch(kind, db, flags=()) starts another server (for restarts and shared files);
  launch.require(kind) skips a test that needs a server kind that cannot run;
  launch.command(kind, db, flags=()) is the command line that starts one.
- `cluster`: cluster(kinds, flags=()) -> one server per kind ("python", "cpp"), all started with
  `--redis` on one redis-server (the `redis` fixture: Debian's, on a free port) and one SQLite file,
  returned once every one of them is in the cluster.
- `connect`: connect(server) -> a connected Peer. A test's peers alternate between the
  WebSocket and the polling transport, so every test with two peers covers both.
  python-engineio's polling client can drop its last packets when it disconnects (its write
  loop stops as soon as the state changes), so a test that needs the server to see a client
  leave closes a WebSocket peer.

Every server is stopped at teardown with SIGINT and must exit 0; its output is appended to the
report of a failing test. Waits are bounded only as hang guards (IO_TIMEOUT), never timed.
"""
import os
import re
import signal
import threading
import time

import engineio
import pytest
import socketio

import servers  # tests/support/servers.py, on sys.path through tests/conftest.py

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
VENV_PYTHON = os.path.join(REPO_ROOT, ".venv", "bin", "python")
PYTHON_APP = os.path.join(REPO_ROOT, "examples", "python_chat", "app.py")
CPP_SERVER = os.environ.get("CHAT_SERVER_BIN") or os.path.join(REPO_ROOT, "build", "examples", "chat_server")

STARTUP_TIMEOUT = 30.0   # hang guard: Flask's import, or a C++ server opening its file
SHUTDOWN_TIMEOUT = 10.0  # hang guard on SIGINT / SIGTERM
IO_TIMEOUT = 10.0        # hang guard on every ack and event

KINDS = ("python", "cpp")
BANNER = re.compile(r"https?://127\.0\.0\.1:(\d+)")  # the first address it prints (TLS: the https one)


def server_command(kind, db, flags=()):
    flags = ["--host", "127.0.0.1", "--port", "0", "--db", str(db)] + list(flags)
    if kind == "python":
        return [VENV_PYTHON, PYTHON_APP] + flags
    return [CPP_SERVER] + flags


def require(kind):
    """Skips (cpp: binary not built) or fails (python: no venv) when `kind` cannot run."""
    if kind == "cpp" and not os.path.exists(CPP_SERVER):
        pytest.skip("C++ chat server not built: %s does not exist (scripts/build chat_server, "
                    "or set CHAT_SERVER_BIN)" % CPP_SERVER)
    if kind == "python" and not os.access(VENV_PYTHON, os.X_OK):
        pytest.fail("%s is missing: run scripts/setup" % VENV_PYTHON, pytrace=False)


# ---- the client ----

class _OrderedEngineIO(engineio.Client):
    """python-engineio's client hands each message to a new thread, which can reorder them;
    this one delivers them on the read loop, in the order the server sent them."""

    def _trigger_event(self, event, *args, **kwargs):
        kwargs.pop("run_async", None)
        return super()._trigger_event(event, *args, **kwargs)


class _OrderedClient(socketio.Client):
    def _engineio_client_class(self):
        return _OrderedEngineIO


class Peer:
    """One Socket.IO connection that records every event the server sends it, in order."""

    def __init__(self, url, transport):
        self.transport = transport
        self.events = []    # (event, payload) as received; payload is the single argument
        self._taken = set()  # indexes of events returned by next()
        self._cond = threading.Condition()
        self.disconnected = threading.Event()
        self.sio = _OrderedClient(reconnection=False)
        self.sio.on("*", self._record)
        self.sio.on("disconnect", self.disconnected.set)
        self.sio.connect(url, transports=[transport], wait_timeout=IO_TIMEOUT)

    def _record(self, event, *args):
        with self._cond:
            self.events.append((event, args[0] if len(args) == 1 else list(args)))
            self._cond.notify_all()

    def call(self, event, *args):
        """Emits `event` with exactly `args` (usually one object) and returns its ack."""
        return self.sio.call(event, tuple(args), timeout=IO_TIMEOUT)  # a tuple: one per argument

    def emit(self, event, data):
        """Emits `event` without asking for an ack."""
        self.sio.emit(event, data)

    def next(self, event, match=None):
        """The payload of the first `event` (satisfying `match`) not returned before; waits."""
        def find():
            for index, (name, payload) in enumerate(self.events):
                if index not in self._taken and name == event and (match is None or match(payload)):
                    return index
            return None

        with self._cond:
            found = self._cond.wait_for(lambda: find() is not None, timeout=IO_TIMEOUT)
            if not found:
                raise AssertionError("%s peer: no %r event%s within %.0f s; received: %r"
                                     % (self.transport, event, " matching" if match else "",
                                        IO_TIMEOUT, self.events))
            index = find()
            self._taken.add(index)
            return self.events[index][1]

    def received(self, event, match=None):
        """Every `event` (satisfying `match`) received so far, returned by next() or not."""
        with self._cond:
            return [payload for name, payload in self.events
                    if name == event and (match is None or match(payload))]

    def wait_disconnected(self):
        """Waits until the server has closed this connection."""
        assert self.disconnected.wait(IO_TIMEOUT), "%s peer: still connected after %.0f s" % (
            self.transport, IO_TIMEOUT)

    def close(self):
        if self.sio.connected:
            self.sio.disconnect()


# ---- fixtures ----

def pytest_configure(config):
    config.addinivalue_line("markers", "server_flags(*flags): command-line flags of the `server` fixture's server")


@pytest.fixture
def launch(tmp_path, tmp_path_factory, request):
    """launch(kind, db, flags=()) -> a ready ServerProcess (tests/support/servers.py); every one is stopped
    (SIGINT, exit 0) at teardown."""
    started = servers.started_servers(request.node)
    logdir = tmp_path_factory.mktemp("chat-server-logs")

    def start(kind, db, flags=()):
        require(kind)
        server = servers.ServerProcess(server_command(kind, db, flags), logdir / ("server-%d.log" % len(started)),
                                       name="%s server with db %s" % (kind, db), cwd=tmp_path,
                                       extra_env={"PYTHONUNBUFFERED": "1"}, stop_signal=signal.SIGINT,
                                       shutdown_timeout=SHUTDOWN_TIMEOUT)
        started.append(server)
        return server.wait_ready(servers.PrintsPort(BANNER), STARTUP_TIMEOUT)

    start.require = require
    start.command = server_command
    yield start
    servers.stop_and_check(started)


@pytest.fixture(params=KINDS)
def kind(request):
    require(request.param)
    return request.param


@pytest.fixture
def db(tmp_path):
    return tmp_path / "chat.sqlite3"


@pytest.fixture
def server(launch, kind, db, request):
    marker = request.node.get_closest_marker("server_flags")
    return launch(kind, db, marker.args if marker else ())


@pytest.fixture
def cluster(redis, launch, db):  # redis first: it stops after the servers
    def start(kinds, flags=()):
        started = [launch(kind, db, ("--redis", redis.url) + tuple(flags)) for kind in kinds]
        # Each server subscribes to its namespace's request channel once it is in the cluster.
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while redis.subscribers("socket.io-request#/#") < len(started):
            assert time.monotonic() < deadline, "the servers did not all join the cluster"
            time.sleep(0.02)
        return started

    return start


@pytest.fixture
def connect(launch):
    """connect(server, transport=None) -> a Peer; unless told, a test's transports alternate
    websocket, polling, websocket, ... Its peers disconnect before its servers stop."""
    peers = []

    def make(server, transport=None):
        peer = Peer(server.url, transport or ("websocket", "polling")[len(peers) % 2])
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()
