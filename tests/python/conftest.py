"""Shared fixtures of the `chat` Python package tests.

- `free_port`: a TCP port on 127.0.0.1 that was free a moment ago (bound, then closed).
- `start_app`: starts a chat app file (tests/python/apps/) in a subprocess with the Python that runs
  the tests (the venv's, or the Flask 3 venv's on the second run),
  as `python APP PORT [ARGS]`, and waits (bounded) until its Flask route /hello answers. The process's
  stdout and stderr go to a log file, appended to the report of any failing test that used it.
  At teardown every server still running gets SIGINT and must exit 0 within SHUTDOWN_TIMEOUT;
  one that does not is killed and the teardown fails.
- `chat_server`: one realtime_app.py server shared by a test module.
- `clients`: a factory of python-socketio clients (clients.Client), disconnected at teardown;
  `transport` and `node_transport`: the transports the tests run over (parameters).
"""
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(os.path.dirname(HERE))
APPS_DIR = os.path.join(HERE, "apps")
# The apps run on the interpreter that runs the tests: .venv (Flask 2.2) or .venv-flask3.
APP_PYTHON = sys.executable

STARTUP_TIMEOUT = 30.0   # hang guard: a Flask import plus the server start
SHUTDOWN_TIMEOUT = 5.0   # hang guard on SIGINT, not a timing assertion
IO_TIMEOUT = 10.0        # hang guard on every wait for a packet

_all_servers = []


def pick_free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port():
    return pick_free_port()


def _default_sigint():
    # A process started with SIGINT ignored (as a shell's background job is) keeps it ignored
    # and Python then installs no KeyboardInterrupt handler: restore the default in the child.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class ServerProcess:
    """A chat app running in a subprocess on 127.0.0.1:port."""

    def __init__(self, app_file, port, log_path, args=()):
        self.app_file = app_file
        self.port = port
        self.log_path = log_path
        self.stopped = False
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen([APP_PYTHON, app_file, str(port), *args], cwd=APPS_DIR, env=env,
                                     stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=_default_sigint)
        _all_servers.append(self)

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def describe(self):
        return "%s (pid %d, port %d)" % (os.path.basename(self.app_file), self.proc.pid, self.port)

    def output(self, limit=20000):
        try:
            self._log.flush()
        except (OSError, ValueError):
            pass
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def wait_ready(self, timeout=STARTUP_TIMEOUT):
        import requests

        deadline = time.monotonic() + timeout
        last_error = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with status %s before serving; output:\n%s"
                                     % (self.describe(), self.proc.returncode, self.output()))
            try:
                r = requests.get(self.url + "/hello", timeout=2)
                if r.status_code == 200:
                    return self
                last_error = "GET /hello: %d %r" % (r.status_code, r.text[:200])
            except requests.RequestException as e:
                last_error = repr(e)
            time.sleep(0.05)
        self.kill()
        raise AssertionError("%s did not serve GET /hello within %.0f s (last: %s); output:\n%s"
                             % (self.describe(), timeout, last_error, self.output()))

    def interrupt(self, timeout=SHUTDOWN_TIMEOUT):
        """SIGINT, then wait; returns the exit status, or None if it had to be killed."""
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        self.stopped = True
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait()

    def close_log(self):
        try:
            self._log.close()
        except OSError:
            pass


def _stop_all(servers):
    problems = []
    for server in servers:
        if server.stopped:
            server.close_log()
            continue
        if server.proc.poll() is not None:
            problems.append("%s died during the tests with status %s; output:\n%s"
                            % (server.describe(), server.proc.returncode, server.output()))
            server.stopped = True
            server.close_log()
            continue
        rc = server.interrupt()
        if rc is None:
            problems.append("%s did not exit within %.0f s of SIGINT (killed); output:\n%s"
                            % (server.describe(), SHUTDOWN_TIMEOUT, server.output()))
        elif rc != 0:
            problems.append("%s exited with status %s on SIGINT (expected 0); output:\n%s"
                            % (server.describe(), rc, server.output()))
        server.close_log()
    return problems


@pytest.fixture
def start_app(tmp_path_factory, request):
    """Factory: start_app(app='realtime_app.py', port=None, args=()) -> a ready ServerProcess
    (`args` follow the port on the app's command line)."""
    started = []
    request.node.chat_servers = started
    logdir = tmp_path_factory.mktemp("chat-server-logs")

    def start(app="realtime_app.py", port=None, args=()):
        port = port or pick_free_port()
        server = ServerProcess(os.path.join(APPS_DIR, app), port,
                               str(logdir / ("server-%d.log" % len(started))), args)
        started.append(server)
        return server.wait_ready()

    yield start
    problems = _stop_all(started)
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@contextlib.contextmanager
def module_server(tmp_path_factory, app="realtime_app.py", args=()):
    """A ready ServerProcess of `app` for a module-scoped fixture; stopped (and checked) at exit."""
    logdir = tmp_path_factory.mktemp("module-server")
    server = ServerProcess(os.path.join(APPS_DIR, app), pick_free_port(), str(logdir / "server.log"), args)
    server.wait_ready()
    yield server
    problems = _stop_all([server])
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


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


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Appends the output of every server a failing test used to its report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for name, value in getattr(item, "funcargs", {}).items():
            if isinstance(value, ServerProcess):
                report.sections.append(("chat server %s: %s" % (name, value.describe()),
                                        value.output()))
        for server in getattr(item, "chat_servers", []):
            report.sections.append(("chat server %s" % server.describe(), server.output()))


def pytest_sessionfinish(session, exitstatus):
    """Kills any server left running (an interrupted run, a crashed fixture)."""
    for server in _all_servers:
        if server.proc.poll() is None:
            server.kill()
        server.close_log()

