"""What the pytest suites under tests/ (protocol, python, app) share: tests/support/servers.py.

pytest loads this file before any suite's conftest.py, whether it runs one suite or several in
one process: it puts tests/support on sys.path, so that those can `import servers`, and hooks in
the report and the end of the session for every server they start.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "support"))

import servers  # noqa: E402 - found through the line above


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Appends the output of every server a failing test used to its report."""
    outcome = yield
    servers.report_server_output(item, outcome.get_result())


@pytest.fixture
def redis():
    """Debian's redis-server on a free port for one test (servers.RedisServer), stopped after it."""
    server = servers.RedisServer(30.0)
    yield server
    server.stop()


def pytest_sessionfinish(session, exitstatus):
    """Kills any server left running (an interrupted run, a crashed fixture)."""
    servers.kill_leftovers()
