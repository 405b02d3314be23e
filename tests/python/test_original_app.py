"""examples/original_app: the original Flask-SocketIO chat app with only its import changed,
served by chat: its page (a Flask template) and its chat, on one port."""
import os
import queue
import re
import signal
import subprocess
import urllib.request

import socketio

from clients import run_node
from app_servers import REPO_ROOT, APP_PYTHON, IO_TIMEOUT, SHUTDOWN_TIMEOUT

EXAMPLE_DIR = os.path.join(REPO_ROOT, "examples", "original_app")

# The app as its README runs it, except on a free port: socketio.run(app, port=0) binds any
# port, and the banner names it.
LAUNCH = (
    "import sys; sys.path.insert(0, {dir!r}); import app as example; "
    "example.socketio.run(example.app, host='127.0.0.1', port=0)"
).format(dir=EXAMPLE_DIR)


def test_original_app_serves_its_page_and_chat(tmp_path):
    proc = subprocess.Popen([APP_PYTHON, "-c", LAUNCH], cwd=str(tmp_path), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        banner = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)", banner)
        assert match, banner
        url = "http://127.0.0.1:%s" % match.group(1)

        page = urllib.request.urlopen(url + "/", timeout=IO_TIMEOUT).read().decode()
        assert "<h1>Chat</h1>" in page
        assert 'src="/socket.io/socket.io.js"' in page
        bundle = urllib.request.urlopen(url + "/socket.io/socket.io.js", timeout=IO_TIMEOUT)
        assert "javascript" in bundle.headers["Content-Type"]

        inboxes = []
        clients = []
        for transports in (["websocket"], ["polling"]):
            inbox = queue.Queue()
            client = socketio.Client()
            client.on("message", inbox.put)
            client.connect(url, transports=transports, wait_timeout=IO_TIMEOUT)
            clients.append(client)
            inboxes.append(inbox)
        clients[0].emit("message", "hello from the first tab")
        for inbox in inboxes:  # everyone, the sender included
            assert inbox.get(timeout=IO_TIMEOUT) == "hello from the first tab"
        clients[1].emit("message", "and from the second")
        for inbox in inboxes:
            assert inbox.get(timeout=IO_TIMEOUT) == "and from the second"
        for client in clients:
            client.disconnect()

        # socket.io-client under Node, over each transport, as two tabs of the page would
        for transport in ("polling", "websocket", "default"):
            r = run_node("original", url, transport, script="flask_client.mjs")
            assert r["received"] == [["hello from node tab 0", "and from tab 1"]] * 2, (transport, r)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=SHUTDOWN_TIMEOUT)
    assert proc.returncode == 0, output
    assert "received message: hello from the first tab" in output
