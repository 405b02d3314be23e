"""SocketIO(app, message_queue='redis://...') and the write-only SocketIO(message_queue=...), as
Flask-SocketIO apps write them, against Debian's redis-server started here on a free port: two
app processes (apps/cluster_app.py) share it, with python-socketio and socket.io-client clients.
The wire format against Node's own servers and emitter is in tests/node/cluster.test.mjs."""
import json
import os
import subprocess
import time

import pytest

import servers  # tests/support/servers.py
from servers import until
from chat import SocketIO
from clients import APPS_DIR, NODE

WAIT = 10.0


@pytest.fixture
def redis_url(redis):
    return redis.url



def joined(clients, server, room, transport="websocket"):
    client = clients()
    client.connect(server, transport=transport)
    assert client.call("join", room) == "joined " + room
    return client


@pytest.fixture
def two_servers(start_app, redis):
    first = start_app("cluster_app.py", args=(redis.url,))
    second = start_app("cluster_app.py", args=(redis.url,))
    until(lambda: redis.subscribers("socket.io-request#/#") == 2, "both servers in the cluster")
    return first, second


def test_a_room_spans_the_servers(two_servers, clients):
    first, second = two_servers
    here = joined(clients, first, "lobby")
    there = joined(clients, second, "lobby", transport="polling")
    elsewhere = joined(clients, second, "other")
    assert here.call("say", {"room": "lobby", "text": "hello"}) == "ok"
    assert list(here.next("said")) == [{"text": "hello", "port": str(first.port)}]
    assert list(there.next("said")) == [{"text": "hello", "port": str(first.port)}]
    assert there.call("say all", "everyone") == "ok"
    for client in (here, there, elsewhere):
        assert list(client.next("said")) == [{"text": "everyone", "port": str(second.port)}]
    assert elsewhere.pending("said") == []  # the room's message did not reach it


def test_ignore_queue_stays_on_its_server(two_servers, clients):
    first, second = two_servers
    here = joined(clients, first, "lobby")
    there = joined(clients, second, "lobby")
    assert here.call("say here", "local") == "ok"
    assert list(here.next("said")) == [{"text": "local", "port": str(first.port)}]
    assert there.call("say all", "marker") == "ok"
    assert list(there.next("said")) == [{"text": "marker", "port": str(second.port)}]  # not "local" first


def test_close_room_empties_it_everywhere(two_servers, clients):
    first, second = two_servers
    here = joined(clients, first, "lobby")
    there = joined(clients, second, "lobby")
    assert here.call("close", "lobby") == "ok"
    assert there.call("say", {"room": "lobby", "text": "anyone?"}) == "ok"
    assert there.call("say all", "marker") == "ok"
    assert list(here.next("said")) == [{"text": "marker", "port": str(second.port)}]
    assert list(there.next("said")) == [{"text": "marker", "port": str(second.port)}]


def test_a_worker_emits_through_the_queue(two_servers, clients, redis_url):
    """The write-only SocketIO(message_queue=...) of a worker process (here, the test's)
    reaches python-socketio and socket.io-client clients on both servers."""
    first, second = two_servers
    here = joined(clients, first, "news")
    there = joined(clients, second, "news")
    listener = subprocess.Popen([NODE, os.path.join(APPS_DIR, "cluster_listener.mjs"), second.url, "news", "2"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert listener.stdout.readline().strip() == "READY"
        worker = SocketIO(message_queue=redis_url)
        worker.emit("said", {"text": "from the worker"}, to="news")
        worker.emit("said", b"\x00\x01binary", to="news")
        worker.emit("said", {"text": "to everyone"})  # no room: all clients, in and out of "news"
        for client in (here, there):
            assert list(client.next("said")) == [{"text": "from the worker"}]
            assert list(client.next("said")) == [b"\x00\x01binary"]
            assert list(client.next("said")) == [{"text": "to everyone"}]
        out, err = listener.communicate(timeout=WAIT)
        said = json.loads(out.strip().splitlines()[-1])
        assert said == {"said": [{"text": "from the worker"}, {"type": "Buffer", "data": [0, 1, 98, 105, 110, 97,
                                                                                           114, 121]}]}, err
        worker.close_room("news")
        worker.emit("said", "room closed", to="news")
        worker.emit("said", "marker")
        for client in (here, there):
            assert list(client.next("said")) == ["marker"]
        with pytest.raises(ValueError, match="acknowledgements"):
            worker.emit("said", "x", callback=lambda *a: None)
        del worker  # its connection closes before this test's Redis goes
    finally:
        if listener.poll() is None:
            listener.kill()


def test_an_unreachable_queue_is_a_clear_error_at_start():
    closed = "redis://127.0.0.1:%d" % servers.pick_free_port()
    worker = SocketIO(message_queue=closed)  # connects on first use, as Flask-SocketIO's does
    with pytest.raises(ConnectionError, match="does not answer.*refused"):
        worker.emit("x")
    from flask import Flask

    socketio = SocketIO(Flask(__name__), message_queue=closed)
    with pytest.raises(ConnectionError, match="message_queue"):
        socketio.emit("x")  # the server starts here, and refuses to run alone


@pytest.mark.parametrize("queue, why", [
    ("kafka://localhost:9092", "Redis"),
    ("amqp://guest@localhost//", "Redis"),
    ("rediss://localhost:6380", "rediss"),
    (5, "Redis"),
])
def test_other_queues_are_refused_by_name(queue, why):
    with pytest.raises(ValueError, match="message_queue.*" + why):
        SocketIO(message_queue=queue)


def test_a_channel_needs_a_queue():
    with pytest.raises(ValueError, match="channel"):
        SocketIO(channel="flask-socketio")


def test_a_queue_socketio_without_an_app_serves_once_run(redis_url, clients):
    """SocketIO(message_queue=...) with no app is write-only (an emitter) until run() makes it a
    server: then its handlers' emits with a callback get their acknowledgement."""
    from chat import request
    from app_servers import Running

    socketio = SocketIO(message_queue=redis_url)
    answered = []

    @socketio.on("ask me")
    def ask_me():
        socketio.emit("question", "ready?", to=request.sid, callback=lambda *answer: answered.append(answer))
        return "asked"

    server = Running(socketio, None)
    try:
        client = clients(handlers={("/", "question"): lambda text: text + " yes"})
        client.connect(server, transport="websocket")
        assert client.call("ask me") == "asked"
        until(lambda: answered == [("ready? yes",)], "the client's answer to the server's question")
    finally:
        server.stop()
