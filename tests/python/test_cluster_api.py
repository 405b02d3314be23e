"""The cluster API of SocketIO (Node's server API in snake_case: fetch_sockets, sockets_join,
sockets_leave, disconnect_sockets, set_data/get_data, server_side_emit and
on_server_side_emit, emit_with_ack): across two app processes (apps/cluster_api_app.py) on
Debian's redis-server started here on a free port, with python-socketio clients; and on one
server alone, in this process, with the test client and with a server on a thread."""
import threading
import time

import pytest
from flask import Flask

import servers  # tests/support/servers.py
from servers import until
from chat import RemoteSocket, SocketIO, emit
from app_servers import IO_TIMEOUT, Running


@pytest.fixture
def two_servers(start_app, redis):
    first = start_app("cluster_api_app.py", args=(redis.url,))
    second = start_app("cluster_api_app.py", args=(redis.url,))
    until(lambda: redis.subscribers("socket.io-request#/#") == 2, "both servers in the cluster")
    return first, second



def sid_of(client):
    return client.sio.get_sid("/")


def connected(clients, server, **kwargs):
    return clients(**kwargs).connect(server, transport="websocket")


# ---------------------------------------------------------------- two servers, one Redis

def test_fetch_sockets_finds_the_sockets_of_every_server_with_their_data(two_servers, clients):
    first, second = two_servers
    alice = clients().connect(first, query="who=alice", auth={"token": "a"}, headers={"X-Who": "alice"})
    bob = clients().connect(second, query="who=bob")
    assert alice.call("set name", "alice") == {"name": "alice", "port": str(first.port)}
    assert bob.call("set name", "bob") == {"name": "bob", "port": str(second.port)}
    for asking in (alice, bob):
        found = {s["sid"]: s for s in asking.call("fetch", None)}
        assert set(found) == {sid_of(alice), sid_of(bob)}
        a, b = found[sid_of(alice)], found[sid_of(bob)]
        assert a["data"] == {"name": "alice", "port": str(first.port)}
        assert b["data"] == {"name": "bob", "port": str(second.port)}
        assert a["id"] == a["sid"] and a["rooms"] == [sid_of(alice)] and a["namespace"] == "/"
        assert a["query"]["who"] == "alice" and b["query"]["who"] == "bob"
        assert a["auth"] == {"token": "a"} and b["auth"] == {}
        assert a["address"] == b["address"] == "127.0.0.1"
        assert a["who_header"] == "alice" and b["who_header"] is None and a["issued"] > 0
    # A room selects on the other server too.
    assert alice.call("join all", {"rooms": "lobby", "to": sid_of(bob)}) == "ok"
    until(lambda: [s["sid"] for s in alice.call("fetch", "lobby")] == [sid_of(bob)], "bob in lobby, seen from alice")


def test_sockets_join_and_leave_reach_the_clients_of_the_other_server(two_servers, clients):
    first, second = two_servers
    alice = connected(clients, first)
    bob = connected(clients, second)
    carol = connected(clients, second)
    assert alice.call("join all", {"rooms": ["red", "blue"], "to": sid_of(bob)}) == "ok"
    until(lambda: bob.call("my rooms") == sorted([sid_of(bob), "red", "blue"]), "bob in red and blue")
    assert carol.call("my rooms") == [sid_of(carol)]
    assert alice.call("say to", {"to": "red", "text": "to red"}) == "ok"
    assert list(bob.next("said")) == ["to red"]
    # Every socket of the namespace, on both servers.
    assert bob.call("join all", {"rooms": "everyone"}) == "ok"
    for client in (alice, bob, carol):
        until(lambda: "everyone" in client.call("my rooms"), "everyone in the room")
    assert alice.call("leave all", {"rooms": ["red", "everyone"], "to": "blue"}) == "ok"
    until(lambda: bob.call("my rooms") == sorted([sid_of(bob), "blue"]), "bob out of red and everyone")
    assert "everyone" in carol.call("my rooms")
    assert carol.call("say to", {"to": "red", "text": "nobody"}) == "ok"
    assert carol.call("say to", {"to": "blue", "text": "marker"}) == "ok"
    assert list(bob.next("said")) == ["marker"]  # not "nobody" first


def test_disconnect_sockets_reaches_the_clients_of_the_other_server(two_servers, clients):
    first, second = two_servers
    alice = connected(clients, first)
    bob = connected(clients, second)
    carol = connected(clients, second)
    assert alice.call("join all", {"rooms": "kick", "to": sid_of(carol)}) == "ok"
    until(lambda: "kick" in carol.call("my rooms"), "carol in kick")
    assert alice.call("disconnect all", {"to": "kick"}) == "ok"
    assert carol.disconnects.get(timeout=IO_TIMEOUT) == "/"
    assert bob.call("my rooms") == [sid_of(bob)]  # still connected
    assert alice.call("disconnect all", {"to": sid_of(bob), "close": True}) == "ok"
    assert bob.disconnects.get(timeout=IO_TIMEOUT) == "/"
    until(lambda: not bob.sio.connected, "bob's connection closed")
    assert [s["sid"] for s in alice.call("fetch", None)] == [sid_of(alice)]


def test_server_side_emit_reaches_the_other_server_and_gets_its_reply(two_servers, clients):
    first, second = two_servers
    alice = connected(clients, first)
    bob = connected(clients, second)
    got = alice.call("server side", {"event": "hello", "args": [1, {"x": [2, 3]}]})
    assert got == {"error": None, "replies": [{"port": str(second.port), "event": "hello", "args": [1, {"x": [2, 3]}]}]}
    assert bob.call("seen") == [["hello", 1, {"x": [2, 3]}]]
    assert alice.call("seen") == []  # never to the sender's own server
    # Without a callback: no reply asked for, the handler there runs all the same.
    assert bob.call("server side no reply", {"event": "note", "args": ["b"]}) == "ok"
    until(lambda: alice.call("seen") == [["note", "b"]], "the first server's handler ran")
    # A server that does not reply (its handler raised): the callback gets TimeoutError and the
    # replies that came (none) once the timeout passed.
    got = alice.call("server side", {"event": "silent", "args": [], "timeout": 1})
    assert got == {"error": "TimeoutError", "replies": []}
    assert bob.call("seen")[-1] == ["silent"]


def answering(clients, server, answer):
    return connected(clients, server, handlers={("/", "question"): lambda text: answer + " " + text})


def test_emit_with_ack_gathers_the_answers_of_the_clients_of_every_server(two_servers, clients):
    first, second = two_servers
    alice = answering(clients, first, "alice")
    bob = answering(clients, second, "bob")
    # Of several values, the first (what Node's format carries between servers).
    carol = connected(clients, second, handlers={("/", "question"): lambda text: ("carol", len(text))})
    got = alice.call("gather", {"text": "why?", "timeout": IO_TIMEOUT})
    assert sorted(got["responses"]) == ["alice why?", "bob why?", "carol"]
    assert "timeout" not in got
    assert bob.call("join all", {"rooms": "few", "to": [sid_of(alice), sid_of(carol)]}) == "ok"
    until(lambda: len(bob.call("fetch", "few")) == 2, "alice and carol in few")
    got = bob.call("gather", {"text": "who?", "to": "few", "timeout": IO_TIMEOUT})
    assert sorted(got["responses"]) == ["alice who?", "carol"]


def test_emit_with_ack_times_out_with_the_answers_that_came(two_servers, clients):
    first, second = two_servers
    release = threading.Event()
    alice = answering(clients, first, "alice")
    answering(clients, second, "bob")
    # A client whose answer comes only after the timeout (bounded: released at the end).
    connected(clients, second, handlers={("/", "question"): lambda text: release.wait(IO_TIMEOUT) and "late"})
    try:
        got = alice.call("gather", {"text": "now?", "timeout": 3}, timeout=IO_TIMEOUT)
    finally:
        release.set()
    assert got["timeout"] is True
    assert sorted(got["responses"]) == ["alice now?", "bob now?"]


# ---------------------------------------------------------------- one server, in this process

@pytest.fixture
def one_server():
    """A SocketIO without message_queue and its test clients (closed at teardown)."""
    app = Flask(__name__)
    socketio = SocketIO(app)
    made = []

    def client(**kwargs):
        made.append(socketio.test_client(app, **kwargs))
        return made[-1]

    yield socketio, client
    for c in made:
        if c.is_connected():
            c.disconnect()
    socketio.server.stop()


def test_one_server_fetch_sockets_data_join_leave_disconnect(one_server):
    socketio, client = one_server

    @socketio.on("name")
    def name(value):
        socketio.set_data({"name": value})
        return socketio.get_data()

    first = client(query_string="who=first", headers={"User-Agent": "tests"}, auth={"token": "t"})
    second = client()
    assert first.emit("name", "first", callback=True) == {"name": "first"}
    sid1, sid2 = first.sids["/"], second.sids["/"]
    socketio.set_data([1, "two"], sid=sid2)
    assert socketio.get_data(sid=sid2) == [1, "two"]
    found = {s.sid: s for s in socketio.fetch_sockets()}
    assert set(found) == {sid1, sid2}
    one = found[sid1]
    assert isinstance(one, RemoteSocket) and one.id == sid1 and one.namespace == "/"
    assert one.data == {"name": "first"} and found[sid2].data == [1, "two"]
    assert one.rooms == [sid1]
    assert one.handshake["query"]["who"] == "first" and one.handshake["headers"]["user-agent"] == "tests"
    assert one.handshake["auth"] == {"token": "t"} and one.handshake["address"] == "127.0.0.1"
    assert one.handshake["url"].startswith("/socket.io/") and one.handshake["time"].startswith("20")

    socketio.sockets_join(["a", "b"], to=sid2)
    assert [s.sid for s in socketio.fetch_sockets(to="a")] == [sid2]
    assert sorted(found[sid2].rooms) == [sid2]  # a snapshot: fetched before the join
    one.join("a")
    assert sorted(s.sid for s in socketio.fetch_sockets(to=["a", "b"])) == sorted([sid1, sid2])
    socketio.sockets_leave("a")
    assert socketio.fetch_sockets(to="a") == []
    assert [s.sid for s in socketio.fetch_sockets(to="b")] == [sid2]
    one.emit("hi", 1, 2)
    assert first.get_received() == [{"name": "hi", "args": [1, 2], "namespace": "/"}]

    socketio.disconnect_sockets(to="b")
    assert not second.is_connected() and first.is_connected()
    with pytest.raises(KeyError, match="on this server"):
        socketio.get_data(sid=sid2)
    with pytest.raises(KeyError):
        socketio.set_data(1, sid=sid2)
    with pytest.raises(TypeError, match="sid="):
        socketio.get_data()
    one.disconnect()
    assert not first.is_connected()
    assert socketio.fetch_sockets() == []


def test_one_server_server_side_emit_has_no_other_server(one_server):
    socketio, client = one_server
    ran = []
    socketio.on_server_side_emit()(lambda event, *args: ran.append(event))

    @socketio.on("ask servers")
    def ask():
        socketio.server_side_emit("anyone", 1, callback=lambda error, replies: emit("answered", [error, replies]))

    c = client()
    c.emit("ask servers")
    assert c.get_received() == [{"name": "answered", "args": [[None, []]], "namespace": "/"}]
    socketio.server_side_emit("anyone", 2)  # to no one: no error either
    assert ran == []  # never to this server
    with pytest.raises(ValueError, match="positive"):
        socketio.server_side_emit("x", callback=lambda *a: None, timeout=0)


def test_one_server_emit_with_ack(clients):
    app = Flask(__name__)
    socketio = SocketIO(app)
    running = Running(socketio, app)
    release = threading.Event()
    try:
        answering(clients, running, "a")
        b = answering(clients, running, "b")
        connected(clients, running, handlers={("/", "question"): lambda text: ("c", 1, None)})  # the first: "c"
        no_value = connected(clients, running, handlers={("/", "question"): lambda text: None})
        assert sorted(socketio.emit_with_ack("question", "q?", timeout=IO_TIMEOUT), key=str) == \
            [None, "a q?", "b q?", "c"]
        assert sorted(socketio.emit_with_ack("question", "you?", to=[sid_of(b), sid_of(no_value)]), key=str) == \
            [None, "b you?"]
        assert socketio.emit_with_ack("question", "nobody?", to="no such room") == []
        connected(clients, running, handlers={("/", "question"): lambda text: release.wait(IO_TIMEOUT) and "late"})
        with pytest.raises(TimeoutError) as raised:
            socketio.emit_with_ack("question", "all?", timeout=2)
        assert sorted(raised.value.responses, key=str) == [None, "a all?", "b all?", "c"]
    finally:
        release.set()
        running.stop()


def test_write_only_refuses_what_needs_answers():
    """Refused before any connection is tried (there is no Redis at this address)."""
    worker = SocketIO(message_queue="redis://127.0.0.1:%d" % servers.pick_free_port())
    for call in (lambda: worker.fetch_sockets(), lambda: worker.emit_with_ack("x"),
                 lambda: worker.get_data(sid="x"), lambda: worker.set_data(1, sid="x"),
                 lambda: worker.server_side_emit("x", callback=lambda *a: None)):
        with pytest.raises(ValueError, match="write-only"):
            call()


def test_a_worker_acts_on_the_sockets_of_every_server(two_servers, clients, redis):
    """The write-only SocketIO(message_queue=...) of a worker process: sockets_join/leave,
    disconnect_sockets and server_side_emit (to every server: a worker is none)."""
    first, second = two_servers
    alice = connected(clients, first)
    bob = connected(clients, second)
    worker = SocketIO(message_queue=redis.url)
    worker.sockets_join(["news", "sport"])
    for client in (alice, bob):
        until(lambda: client.call("my rooms") == sorted([sid_of(client), "news", "sport"]), "both in news and sport")
    worker.sockets_leave("sport", to=sid_of(bob))
    until(lambda: bob.call("my rooms") == sorted([sid_of(bob), "news"]), "bob out of sport")
    worker.server_side_emit("from worker", 7)
    for client in (alice, bob):
        until(lambda: client.call("seen") == [["from worker", 7]], "every server's handler ran")
    worker.disconnect_sockets(to="news")
    for client in (alice, bob):
        assert client.disconnects.get(timeout=IO_TIMEOUT) == "/"
    del worker
