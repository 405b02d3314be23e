"""Fixtures for the protocol tests: start `test_server` (tests/support/TEST_SERVER.md) as a subprocess.

The binary comes from the environment variable CHAT_TEST_SERVER (and CHAT_TEST_SHARDS=N, when set,
runs each one with --shards N). Every server started by a test is stopped at teardown with SIGTERM
and must exit with status 0 within a few seconds.
"""
import os
import queue
import re
import signal
import subprocess
import threading

import pytest

import protocol_wire as wire

from protocol_wire import SHUTDOWN_TIMEOUT, STARTUP_TIMEOUT, SUITE_FLAGS


class ServerProcess:
    def __init__(self, proc, port, flags, stderr_path, stdout_lines):
        self.proc = proc
        self.port = port
        self.flags = flags
        self.stderr_path = stderr_path
        self.stdout_lines = stdout_lines
        self.stopped = False

    @property
    def http_url(self):
        return "http://127.0.0.1:%d" % self.port

    def stderr_tail(self, limit=4000):
        try:
            with open(self.stderr_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def stop(self, timeout=SHUTDOWN_TIMEOUT):
        """SIGTERM; returns the exit status, or None if the server had not exited within
        `timeout` (it is then killed). Teardown leaves a stopped server alone."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return None

    def describe(self):
        return "test_server %s (pid %d, port %s)" % (" ".join(self.flags), self.proc.pid, self.port)


def _server_binary():
    path = os.environ.get("CHAT_TEST_SERVER")
    if not path:
        pytest.fail("CHAT_TEST_SERVER is not set: export it as the path of the built test_server "
                    "binary (e.g. CHAT_TEST_SERVER=build/tests/test_server)", pytrace=False)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("CHAT_TEST_SERVER=%r is not an executable file" % path, pytrace=False)
    return path


@pytest.fixture
def start_server(tmp_path_factory):
    """Factory: start_server(*flags) -> ServerProcess, listening on 127.0.0.1 (port 0 = any)."""
    started = []
    logdir = tmp_path_factory.mktemp("server-logs")

    def start(*flags):
        binary = _server_binary()
        flags = ("--port", "0") + tuple(str(f) for f in flags)
        # CHAT_TEST_SHARDS=N runs every server as a ShardedServer of N io threads.
        if os.environ.get("CHAT_TEST_SHARDS") and "--shards" not in flags:
            flags += ("--shards", os.environ["CHAT_TEST_SHARDS"])
        stderr_path = str(logdir / ("stderr-%d.log" % len(started)))
        errf = open(stderr_path, "wb")
        proc = subprocess.Popen([binary, *flags], stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=errf)
        errf.close()
        lines = queue.Queue()
        stdout_lines = []

        def drain():
            for raw in iter(proc.stdout.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                stdout_lines.append(line)
                lines.put(line)
            lines.put(None)

        threading.Thread(target=drain, daemon=True).start()
        server = ServerProcess(proc, None, flags, stderr_path, stdout_lines)
        started.append(server)
        while True:
            try:
                line = lines.get(timeout=STARTUP_TIMEOUT)
            except queue.Empty:
                pytest.fail("%s printed no `LISTENING <port>` line within %.0f s; stdout so far: %r"
                            % (server.describe(), STARTUP_TIMEOUT, stdout_lines), pytrace=False)
            if line is None:
                proc.wait(timeout=SHUTDOWN_TIMEOUT)
                pytest.fail("%s exited with status %s before printing `LISTENING <port>`; "
                            "stdout %r; stderr:\n%s" % (server.describe(), proc.returncode,
                                                        stdout_lines, server.stderr_tail()),
                            pytrace=False)
            m = re.fullmatch(r"LISTENING (\d+)", line.strip())
            if m:
                server.port = int(m.group(1))
                assert 0 < server.port < 65536
                return server

    yield start

    problems = []
    for server in started:
        proc = server.proc
        if server.stopped:
            continue
        if proc.poll() is not None:
            problems.append("%s died during the test with status %s; stderr:\n%s"
                            % (server.describe(), proc.returncode, server.stderr_tail()))
            continue
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=SHUTDOWN_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            problems.append("%s did not exit within %.0f s of SIGTERM; stderr:\n%s"
                            % (server.describe(), SHUTDOWN_TIMEOUT, server.stderr_tail()))
            continue
        if rc != 0:
            problems.append("%s exited with status %s on SIGTERM (expected 0); stderr:\n%s"
                            % (server.describe(), rc, server.stderr_tail()))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


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
