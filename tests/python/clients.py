"""Clients the Python package's real-socket tests drive the servers with: python-socketio's
`Client`, wrapped to record what arrives, and socket.io-client under Node (`run_node`)."""
import json
import os
import queue
import shutil
import subprocess

import pytest
import socketio

from app_servers import APPS_DIR, IO_TIMEOUT, REPO_ROOT
from received import Received  # tests/support/received.py, on sys.path through tests/conftest.py

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": None,  # python-socketio's default: polling, then upgrade to WebSocket
}


# ---------------------------------------------------------------- python-socketio client helper

class Client:
    """A python-socketio Client recording every event it receives (tests/support/received.py)."""

    def __init__(self, namespaces=("/",), handlers=None, serializer="default"):
        self.sio = socketio.Client(reconnection=False, serializer=serializer)
        self.namespaces = list(namespaces)
        self.received = Received()
        self.connect_errors = queue.Queue()
        self.disconnects = queue.Queue()
        handlers = handlers or {}
        for ns in self.namespaces:
            self.sio.on("*", self._catch_all(ns), namespace=ns)
            self.sio.on("connect_error", self._on_connect_error(ns), namespace=ns)
            self.sio.on("disconnect", self._on_disconnect(ns), namespace=ns)
        for (ns, event), handler in handlers.items():
            self.sio.on(event, handler, namespace=ns)

    def _catch_all(self, ns):
        def handler(event, *args):
            self.received.put(ns, event, args)
        return handler

    def _on_connect_error(self, ns):
        return lambda *args: self.connect_errors.put((ns, args))

    def _on_disconnect(self, ns):
        return lambda *args: self.disconnects.put(ns)

    def connect(self, server, transport="websocket", auth=None, query="", headers=None,
                wait=True):
        """Connects every namespace; with wait=False, returns once Engine.IO is connected (for
        connections the server refuses: python-socketio's client would otherwise wait out
        wait_timeout after the CONNECT_ERROR)."""
        url = server.url + (("?" + query) if query else "")
        self.sio.connect(url, transports=TRANSPORTS[transport], namespaces=self.namespaces,
                         auth=auth, headers=headers or {}, wait=wait, wait_timeout=IO_TIMEOUT)
        return self

    def next_connect_error(self, timeout=IO_TIMEOUT):
        try:
            return self.connect_errors.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no connect_error within %.0f s" % timeout)

    def next(self, event, ns="/", timeout=IO_TIMEOUT):
        """The argument tuple of the next `event` on `ns` not yet consumed."""
        return self.received.next(ns, event, timeout)

    def pending(self, event, ns="/"):
        return self.received.pending(ns, event)

    def call(self, event, data=None, ns="/", timeout=IO_TIMEOUT):
        return self.sio.call(event, data, namespace=ns, timeout=timeout)

    def emit(self, event, data=None, ns="/"):
        self.sio.emit(event, data, namespace=ns)

    def sync(self, ns="/"):
        """Round trips after which every packet the server sent before them has been handed to
        its handler thread and recorded (the client runs each message in a new thread)."""
        for i in range(3):
            assert self.call("sync", "sync-%d" % i, ns=ns) == "sync-%d" % i

    def close(self):
        # A client reconnecting (a test that turned reconnection on and failed before it got
        # back) keeps trying on a thread that is not a daemon, so the test run could not end:
        # its loop is stopped first. python-socketio 5.7 has no public call for it (later ones
        # have shutdown()); the abort event is what its own SIGINT handler sets.
        self.sio.reconnection = False
        abort = getattr(self.sio, "_reconnect_abort", None)
        if abort is not None:
            abort.set()
        try:
            if self.sio.connected or self.sio.eio.state != "disconnected":
                self.sio.disconnect()
        except Exception:
            pass


# ---------------------------------------------------------------- socket.io-client under Node

NODE = shutil.which("node")


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"$bytes"}:
            return bytes.fromhex(value["$bytes"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def run_node(scenario, server, transport, *args, script="node_client.mjs"):
    """Runs a socket.io-client scenario of apps/`script` against `server` (a URL, or anything
    with a `url`); returns what it printed, bytes decoded."""
    url = getattr(server, "url", server)
    if NODE is None:
        pytest.fail("node is not installed (scripts/setup installs it)")
    if not os.path.isdir(os.path.join(REPO_ROOT, "node_modules", "socket.io-client")):
        pytest.fail("node_modules/socket.io-client is missing (scripts/setup runs npm ci)")
    try:
        p = subprocess.run([NODE, os.path.join(APPS_DIR, script), scenario, url,
                            transport, *args], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired as e:
        raise AssertionError("node scenario %s hung; stdout %r stderr %r"
                             % (scenario, e.stdout, e.stderr))
    lines = p.stdout.strip().splitlines()
    assert lines, "node scenario %s printed nothing (status %d); stderr:\n%s" \
        % (scenario, p.returncode, p.stderr)
    result = json.loads(lines[-1])
    assert p.returncode == 0 and "error" not in result, \
        "node scenario %s failed: %s\nstderr:\n%s" % (scenario, result.get("error"), p.stderr)
    return _decode(result)
