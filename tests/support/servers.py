"""Servers in subprocesses for the pytest suites (tests/protocol, tests/python, tests/app).

A suite's conftest.py starts each server as a `ServerProcess`, records it in
`started_servers(request.node)` and waits until it is ready with the check that fits the server:
`PrintsPort` (it prints the port it listens on) or `AnswersGet` (an HTTP route answers 200).
At teardown `stop_and_check` stops what a fixture started and fails the test when a server died
early, hung, or exited with a status other than 0. tests/conftest.py puts this directory on
sys.path and calls `report_server_output` and `kill_leftovers` from its hooks.

Every wait is bounded, as a hang guard only.
"""
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest
import requests

OUTPUT_LIMIT = 20000  # characters of a server's output shown in a message or a report

_every_server = []  # of the session, for kill_leftovers


def pick_free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (bound, then closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _restore_default_sigint():
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _sigint_preexec_fn():
    """What a server needs run before exec to stop on SIGINT. Exec resets a handled signal but
    keeps an ignored one ignored, so a run started with SIGINT ignored (as a shell's background
    job is) restores the default in the child. Otherwise None: with a preexec_fn, Popen forks this
    whole process, which takes longer than test_server takes to start."""
    return _restore_default_sigint if signal.getsignal(signal.SIGINT) == signal.SIG_IGN else None


class ServerProcess:
    """A server on 127.0.0.1 in a subprocess and a session of its own, so that kill() reaches the
    processes it starts too (a reloader's child).

    Its stdout and stderr go together straight to the file `log_path`, with no pipe in between:
    whatever the server has written is in output() at once, in the order it was written.
    `name` starts describe(); stop() sends `stop_signal` and waits at most `shutdown_timeout`;
    `port` is None until a readiness check reads it, for a server started on port 0.
    """

    def __init__(self, command, log_path, *, name, stop_signal, shutdown_timeout, port=None,
                 cwd=None, extra_env=None):
        self.name = name
        self.port = port
        self.log_path = str(log_path)
        self.stop_signal = stop_signal
        self.shutdown_timeout = shutdown_timeout
        self.stopped = False
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(command, cwd=cwd, env=dict(os.environ, **(extra_env or {})),
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                         start_new_session=True, preexec_fn=_sigint_preexec_fn())
        _every_server.append(self)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def describe(self):
        return "%s (pid %d, port %s)" % (self.name, self.proc.pid, self.port)

    def written(self):
        """Everything the server has written so far, stdout and stderr interleaved."""
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def output(self, limit=OUTPUT_LIMIT):
        """The last `limit` characters of written()."""
        return self.written()[-limit:]

    def wait_ready(self, is_ready, timeout):
        """Repeats `is_ready(self)` every `is_ready.pause` seconds until it is true and returns
        self; fails the test when the server exits first, or kills it and fails the test after
        `timeout` seconds. `is_ready` is a PrintsPort, an AnswersGet or the like: its str() says
        what it waits for."""
        deadline = time.monotonic() + timeout
        while True:
            # Whether it had exited before the check: then the check saw all it ever wrote.
            exited = self.proc.poll() is not None
            if is_ready(self):
                return self
            if exited:
                self.stopped = True
                pytest.fail("%s exited with status %s before it was ready (waiting for %s); output:\n%s"
                            % (self.describe(), self.proc.returncode, is_ready, self.output()),
                            pytrace=False)
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail("%s was not ready within %.0f s (waiting for %s), killed; output:\n%s"
                            % (self.describe(), timeout, is_ready, self.output()), pytrace=False)
            time.sleep(is_ready.pause)

    def stop(self, sig=None):
        """Sends `sig` (by default the stop signal) and waits; returns the exit status, or None when
        the server had to be killed. Teardown leaves a stopped server alone."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(self.stop_signal if sig is None else sig)
        try:
            return self.proc.wait(timeout=self.shutdown_timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        """SIGKILL to the server's session: nothing gets a chance to flush."""
        self.stopped = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()


def until(condition, what, timeout=10.0):
    """Waits (`timeout` at most, a hang guard) until condition() is true; fails naming `what`."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for " + what
        time.sleep(0.02)


class RedisServer:
    """Debian's redis-server on a free port of 127.0.0.1, keeping nothing on disk: `url` is its
    redis:// URL once it answers. stop() kills it."""

    def __init__(self, timeout=10.0):
        program = shutil.which("redis-server")
        if program is None:
            pytest.fail("redis-server is not installed (scripts/setup installs it)", pytrace=False)
        self.port = pick_free_port()
        self.url = "redis://127.0.0.1:%d/0" % self.port
        self.proc = subprocess.Popen([program, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self.stop()
                    pytest.fail("redis-server did not start on port %d" % self.port, pytrace=False)
                time.sleep(0.02)

    def subscribers(self, channel):
        """PUBSUB NUMSUB `channel`: how many connections subscribe to it (a chat server of the
        cluster subscribes to "socket.io-request#/#" once it serves "/")."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as s:
            command = [b"PUBSUB", b"NUMSUB", channel.encode()]
            s.sendall(b"*%d\r\n" % len(command) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in command))
            reply = b""
            while reply.count(b"\r\n") < 4:  # *2, $len, the channel, :count
                chunk = s.recv(4096)
                if not chunk:
                    raise ConnectionError("redis-server closed the connection: %r" % reply)
                reply += chunk
            return int(reply.split(b"\r\n")[3][1:])

    def stop(self):
        self.proc.kill()
        self.proc.wait()


class PrintsPort:
    """Readiness: the server printed a line matching `pattern` (a regular expression searched in
    each complete line, stripped), whose first group is the port it listens on."""

    pause = 0.002  # between two checks: reading the log is cheap, and test_server starts in ms

    def __init__(self, pattern):
        self.pattern = re.compile(pattern)

    def __call__(self, server):
        # The last piece may be a line still being written, its port number cut short.
        for line in server.written().split("\n")[:-1]:
            match = self.pattern.search(line.strip())
            if match:
                server.port = int(match.group(1))
                return True
        return False

    def __str__(self):
        return "a line matching /%s/" % self.pattern.pattern


class AnswersGet:
    """Readiness: GET `path` on the server answers 200."""

    pause = 0.05  # between two checks: a Python server takes a while to import its app anyway

    def __init__(self, path):
        self.path = path
        self.last_answer = "none yet"

    def __call__(self, server):
        try:
            response = requests.get(server.url + self.path, timeout=2)
        except requests.RequestException as e:
            self.last_answer = repr(e)
            return False
        self.last_answer = "%d %r" % (response.status_code, response.text[:200])
        return response.status_code == 200

    def __str__(self):
        return "GET %s to answer 200; last answer: %s" % (self.path, self.last_answer)


def started_servers(node):
    """The list in which a factory fixture records the servers it starts for `node` (its test), so
    that report_server_output finds them."""
    if not hasattr(node, "started_servers"):
        node.started_servers = []
    return node.started_servers


def stop_and_check(servers):
    """Teardown: every server of `servers` still running gets its stop signal and must exit with
    status 0 within its shutdown timeout (or is killed); fails the test listing every server that
    died before, hung or exited otherwise. A server the test stopped itself is left alone."""
    problems = []
    for server in servers:
        if server.stopped:
            continue
        signal_name = signal.Signals(server.stop_signal).name
        if server.proc.poll() is not None:
            server.stopped = True
            problems.append("%s died during the test with status %s; output:\n%s"
                            % (server.describe(), server.proc.returncode, server.output()))
            continue
        status = server.stop()
        if status is None:
            problems.append("%s did not exit within %.0f s of %s (killed); output:\n%s"
                            % (server.describe(), server.shutdown_timeout, signal_name, server.output()))
        elif status != 0:
            problems.append("%s exited with status %s on %s (expected 0); output:\n%s"
                            % (server.describe(), status, signal_name, server.output()))
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


def report_server_output(item, report):
    """For pytest_runtest_makereport: adds to the report of a failing test the output of every
    server it used, as a fixture's value or through a factory fixture (started_servers)."""
    if not report.failed:
        return
    reported = []
    for fixture, value in getattr(item, "funcargs", {}).items():
        if isinstance(value, ServerProcess) and value not in reported:
            reported.append(value)
            report.sections.append(("output of %s, fixture %s" % (value.describe(), fixture),
                                    value.output()))
    for server in getattr(item, "started_servers", []):
        if server not in reported:
            reported.append(server)
            report.sections.append(("output of %s" % server.describe(), server.output()))


def kill_leftovers():
    """For pytest_sessionfinish: kills every server left running (an interrupted run, a crashed
    fixture)."""
    for server in _every_server:
        if server.proc.poll() is None:
            server.kill()
