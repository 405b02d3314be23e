"""socketio.run()'s arguments, each doing what it does in Flask-SocketIO: debug and the reloader,
log_output, the port from SERVER_NAME (apps/run_app.py in a subprocess)."""
import json
import time

import requests

from app_servers import IO_TIMEOUT


def hello(server):
    return requests.get(server.url + "/hello", timeout=IO_TIMEOUT).json()


def test_debug_sets_app_debug(start_app):
    server = start_app("run_app.py", args=(json.dumps({"debug": True, "use_reloader": False}),))
    assert hello(server)["debug"] is True


def test_reloader_restarts_the_server_when_a_watched_file_changes(start_app, tmp_path):
    watched = tmp_path / "settings.txt"
    watched.write_text("one")
    server = start_app("run_app.py", args=(json.dumps({
        "debug": True, "extra_files": [str(watched)], "reloader_options": {"reloader_type": "stat"}}),))
    first = hello(server)
    assert first["debug"] is True
    assert first["pid"] != server.proc.pid  # served by the reloader's child process
    # The stat reloader looks once a second; a later mtime marks the change for certain.
    time.sleep(1.1)
    watched.write_text("two")
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        try:
            now = hello(server)
            if now["pid"] != first["pid"]:
                break
        except requests.RequestException:
            pass  # between the two servers
        assert time.monotonic() < deadline, "no restart after the change; output:\n" + server.output()
        time.sleep(0.1)
    assert server.output().count(" * chat serving Socket.IO on") == 2


def test_log_output_logs_the_apps_requests(start_app):
    server = start_app("run_app.py", args=(json.dumps({"log_output": True}),))
    hello(server)
    deadline = time.monotonic() + IO_TIMEOUT
    while '"GET /hello HTTP/1.1" 200' not in server.output():
        assert time.monotonic() < deadline, server.output()
        time.sleep(0.05)


def test_requests_are_not_logged_by_default(start_app):
    server = start_app("run_app.py", args=("{}",))
    hello(server)
    requests.get(server.url + "/socket.io/?EIO=4&transport=polling", timeout=IO_TIMEOUT)
    assert "GET /hello" not in server.output()


def test_port_from_server_name(start_app):
    server = start_app("run_app.py", args=("{}", "--server-name"))
    assert hello(server)["debug"] is False


def test_an_emit_before_run_keeps_the_apps_routes(start_app):
    server = start_app("run_app.py", args=("{}", "--emit-first"))
    assert hello(server)["debug"] is False
