"""The `chat` package over real sockets: a chat app (apps/realtime_app.py, a Flask app on
`chat.SocketIO`) in a subprocess, driven by python-socketio's client and by socket.io-client under
Node (apps/node_client.mjs), over HTTP long-polling, WebSocket, and polling upgraded to WebSocket.

The app pings every 0.5 s and waits 0.5 s for the pong, so a server that stops answering pings
while a handler blocks drops clients within the tests.
"""
import json
import threading
import time

import requests

from clients import run_node
from app_servers import IO_TIMEOUT, SHUTDOWN_TIMEOUT


def expected_transport(transport):
    return "polling" if transport == "polling" else "websocket"


def server_log(client):
    return client.call("server log")


def wait_for_log(client, entry, timeout=IO_TIMEOUT):
    """Polls the server's log (bounded) until `entry` is in it; returns the log."""
    deadline = time.monotonic() + timeout
    while True:
        log = server_log(client)
        if entry in log or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


# ---------------------------------------------------------------- python-socketio client tests

def test_connect_auth_query_and_emit_in_connect(chat_server, clients, transport):
    c = clients()
    c.connect(chat_server, transport, auth={"token": "good"}, query="q=hello")
    assert c.sio.transport() == expected_transport(transport)
    sid = c.sio.get_sid()
    assert sid and sid != c.sio.eio.sid
    assert c.next("welcome") == ({"sid": sid, "auth": {"token": "good"}, "q": "hello",
                                  "namespace": "/"},)


def test_connect_without_auth(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    (welcome,) = c.next("welcome")
    assert welcome["auth"] is None
    assert welcome["q"] is None


def test_events_and_acks_client_to_server(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    # a tuple is N arguments: the handler gets them, emits them back, and returns them as the ack
    assert c.call("echo", (1, "two", {"three": [3, None, True, 1.5]})) == \
        (1, "two", {"three": [3, None, True, 1.5]})
    assert c.next("echo") == (1, "two", {"three": [3, None, True, 1.5]})
    assert c.call("echo", "single") == "single"
    assert c.next("echo") == ("single",)
    assert c.call("echo", "unicode \u00e9\u4e2d\U0001f600") == "unicode \u00e9\u4e2d\U0001f600"
    assert c.next("echo") == ("unicode \u00e9\u4e2d\U0001f600",)
    # a handler returning None acks with no arguments
    assert c.call("no ack value", 1) is None
    # send() is the 'message' event
    c.sio.send("hello there")
    assert c.next("message") == ("hello there",)
    assert c.sio.call("message", "again", timeout=IO_TIMEOUT) == "got again"
    assert c.next("message") == ("again",)


def test_many_events_in_order_per_client(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    sid = c.sio.get_sid()
    # 50 events sent at once run one at a time, in the order sent
    for i in range(50):
        c.emit("mark", i)
    assert c.call("mark", "last") == "last"
    assert [e[2] for e in server_log(c) if e[1] == sid] == list(range(50)) + ["last"]
    # and 50 round trips
    assert [c.call("echo", i) for i in range(50)] == list(range(50))
    assert sorted(c.next("echo")[0] for _ in range(50)) == list(range(50))


def test_binary_round_trip(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    payload = {"a": b"\x00\x01\x02\xff", "list": [b"xyz", {"deep": b"\x07"}], "text": "plain",
               "empty": b""}
    assert c.call("binary", payload) == payload
    assert c.next("binary") == (payload,)
    assert c.call("binary", b"\xde\xad\xbe\xef") == b"\xde\xad\xbe\xef"
    assert c.next("binary") == (b"\xde\xad\xbe\xef",)
    # several binary arguments, through echo
    assert c.call("echo", (b"one", "two", [b"three"])) == (b"one", "two", [b"three"])
    assert c.next("echo") == (b"one", "two", [b"three"])


def test_ack_server_to_client_callback(chat_server, clients, transport):
    c = clients(handlers={("/", "question"): lambda data: ("py answer", data)})
    c.connect(chat_server, transport)
    sid = c.sio.get_sid()
    c.emit("ask client", {"n": 1})
    # emit(..., callback=) got the client's two ack arguments, and ran in the sender's context
    assert c.next("client answered") == ({"answer": ["py answer", {"n": 1}], "sid": sid},)


def test_ack_server_to_client_call(chat_server, clients, transport):
    c = clients(handlers={("/", "question"): lambda data: ("py answer", data)})
    c.connect(chat_server, transport)
    # call() returned the two ack arguments as a tuple; the handler returns it (two ack args)
    assert c.call("call client", {"n": 2}) == ("py answer", {"n": 2})
    assert c.next("call answered") == ({"answer": ["py answer", {"n": 2}]},)


def test_call_timeout(chat_server, clients, transport):
    release = threading.Event()

    def slow_answer(data):
        release.wait(IO_TIMEOUT)  # answers only after the server's call() has timed out
        return "late"

    c = clients(handlers={("/", "ignored question"): slow_answer})
    c.connect(chat_server, transport)
    try:
        assert c.call("call client timeout", {"n": 3}) == "timed out"
    finally:
        release.set()
    # the late ack is dropped and the connection goes on
    assert c.call("echo", "after") == "after"


def test_error_handler_return_is_the_ack(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    assert c.call("boom", 7) == {"error": "ValueError", "message": "kaboom 7", "event": "boom"}
    assert c.call("echo", "still alive") == "still alive"


def test_request_context(chat_server, clients, transport):
    c = clients().connect(chat_server, transport, query="q=ctx", headers={"X-Custom": "yes"})
    info = c.call("request info")
    assert info == {"sid": c.sio.get_sid(), "namespace": "/",
                    "event": {"message": "request info", "args": []},
                    "q": "ctx", "x_custom": "yes"}


def test_rooms(chat_server, clients, transport):
    a = clients().connect(chat_server, transport)
    b = clients().connect(chat_server, transport)
    c = clients().connect(chat_server, transport)
    sa, sb, sc = (x.sio.get_sid() for x in (a, b, c))
    room = "lobby-" + transport
    assert a.call("join", room) == sorted([sa, room])
    assert b.call("join", room) == sorted([sb, room])

    def drain(*xs):
        for x in xs:
            x.sync()
        return [sorted(m[0] for m in x.pending("room message")) for x in xs]

    a.emit("to room", {"room": room, "msg": "with self", "include_self": True})
    assert drain(a, b, c) == [["with self"], ["with self"], []]
    a.emit("to room", {"room": room, "msg": "without self", "include_self": False})
    assert drain(a, b, c) == [[], ["without self"], []]
    a.emit("to room skip", {"room": room, "msg": "skip b", "skip": sb})
    assert drain(a, b, c) == [["skip b"], [], []]
    a.emit("to room skip", {"room": room, "msg": "skip list", "skip": [sa]})
    assert drain(a, b, c) == [[], ["skip list"], []]
    # an outsider can address the room
    c.emit("to room", {"room": room, "msg": "from outside", "include_self": True})
    assert drain(a, b, c) == [["from outside"], ["from outside"], []]
    # to=sid reaches that client only
    a.emit("to sid", {"sid": sc, "msg": "psst"})
    c.sync()
    assert c.next("direct") == ({"from": sa, "msg": "psst"},)
    a.sync()
    assert a.pending("direct") == []
    # to a list: b's sid and c's sid
    a.emit("to many", {"targets": [sb, sc], "msg": "both"})
    assert b.next("direct") == ({"from": sa, "msg": "both"},)
    assert c.next("direct") == ({"from": sa, "msg": "both"},)
    a.sync()
    assert a.pending("direct") == []
    assert a.call("leave", room) == [sa]
    c.emit("to room", {"room": room, "msg": "after leave", "include_self": True})
    assert drain(a, b, c) == [[], ["after leave"], []]
    b.emit("close room", room)
    b.sync()
    c.emit("to room", {"room": room, "msg": "after close", "include_self": True})
    assert drain(a, b, c) == [[], [], []]


def test_broadcast(chat_server, clients, transport):
    a = clients().connect(chat_server, transport)
    b = clients().connect(chat_server, transport)
    other_ns = clients(namespaces=["/other"]).connect(chat_server, transport)
    tag = "bc-" + transport
    a.emit("broadcast", tag)
    # broadcast=True reaches the whole namespace, the sender included
    assert a.next("broadcast") == (tag,)
    assert b.next("broadcast") == (tag,)
    b.emit("broadcast others", tag + "-others")
    assert a.next("broadcast") == (tag + "-others",)
    b.sync()
    assert [m for m in b.pending("broadcast") if m[0].startswith(tag)] == []
    other_ns.sync(ns="/other")
    assert other_ns.pending("broadcast", ns="/other") == []


def test_namespaces(chat_server, clients, transport):
    c = clients(namespaces=["/", "/other", "/class"])
    c.connect(chat_server, transport, auth={"who": "py"})
    assert c.next("welcome", ns="/class") == ({"namespace": "/class", "auth": {"who": "py"}},)
    assert c.call("echo", "hi other", ns="/other") == "/other"
    assert c.next("echo", ns="/other") == ({"namespace": "/other", "data": "hi other"},)
    assert c.call("echo", "hi class", ns="/class") == "hi class"
    assert c.next("echo", ns="/class") == ({"class": True, "data": "hi class"},)
    # the sids differ per namespace
    assert c.sio.get_sid("/") != c.sio.get_sid("/other")
    # rooms are per namespace: 'same' in /other does not reach 'same' in /
    room = "same-" + transport
    c.call("join", room)
    c.emit("join", room, ns="/other")
    c.call("echo", "x", ns="/other")
    c.emit("to room", {"room": room, "msg": "other only"}, ns="/other")
    assert c.next("room message", ns="/other") == ("other only",)
    c.sync()
    assert c.pending("room message", ns="/") == []


def test_unknown_namespace_is_refused(chat_server, clients, transport):
    c = clients(namespaces=["/nope"])
    c.connect(chat_server, transport, wait=False)
    ns, _args = c.next_connect_error()
    assert ns == "/nope"
    assert "/nope" not in c.sio.namespaces


def test_auth_rejected_with_message_and_data(chat_server, clients, transport):
    c = clients()
    c.connect(chat_server, transport, auth={"token": "bad"}, wait=False)
    assert c.next_connect_error() == \
        ("/", ({"message": "Not authorized", "data": {"code": 401, "hint": "use a good token"}},))
    assert "/" not in c.sio.namespaces
    # and it does not get the welcome emitted by an accepted connect
    assert c.pending("welcome") == []


def test_auth_rejected_by_returning_false(chat_server, clients, transport):
    c = clients()
    c.connect(chat_server, transport, auth={"token": "false"}, wait=False)
    assert c.next_connect_error() == ("/", ({"message": "Connection rejected by server"},))
    assert "/" not in c.sio.namespaces


def test_rejected_then_accepted_on_the_same_server(chat_server, clients, transport):
    bad = clients()
    bad.connect(chat_server, transport, auth={"token": "bad"}, wait=False)
    bad.next_connect_error()
    good = clients().connect(chat_server, transport, auth={"token": "good"})
    assert good.next("welcome")[0]["auth"] == {"token": "good"}


def test_server_disconnect_and_reasons(chat_server, clients, transport):
    observer = clients().connect(chat_server, transport)
    kicked = clients().connect(chat_server, transport)
    kicked_sid = kicked.sio.get_sid()
    kicked.emit("kick me")
    assert kicked.disconnects.get(timeout=IO_TIMEOUT) == "/"
    log = wait_for_log(observer, ["disconnect", kicked_sid, "server disconnect"])
    assert [e for e in log if e[1] == kicked_sid] == [["disconnect", kicked_sid, "server disconnect"]]
    # (the client-side 'client disconnect' reason is checked with Node's client: python-socketio
    # 5.7's disconnect() closes a WebSocket without waiting for its DISCONNECT packet to leave)


def test_flask_routes_on_the_socketio_port(chat_server, clients):
    r = requests.get(chat_server.url + "/hello", timeout=IO_TIMEOUT)
    assert r.status_code == 200
    assert r.text == "Hello, World!"
    assert r.headers["Content-Type"] == "text/html; charset=utf-8"

    r = requests.get(chat_server.url + "/data.json", timeout=IO_TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {"numbers": [1, 2, 3], "name": "chat", "nested": {"ok": True}}

    r = requests.post(chat_server.url + "/echo?q=1", json={"x": [1, "y"]}, timeout=IO_TIMEOUT)
    assert r.status_code == 200
    assert r.json() == {"got": {"x": [1, "y"]}, "query": "1", "method": "POST"}

    r = requests.get(chat_server.url + "/no-such-page", timeout=IO_TIMEOUT)
    assert r.status_code == 404

    # an HTTP view emitting to a connected Socket.IO client, on the same port
    c = clients().connect(chat_server, "websocket")
    sid = c.sio.get_sid()
    r = requests.get(chat_server.url + "/notify/" + sid, timeout=IO_TIMEOUT)
    assert (r.status_code, r.text) == (200, "sent")
    assert c.next("notified") == ({"from": "http", "sid": sid},)


def test_engineio_handshake_on_the_flask_port(chat_server):
    # the Engine.IO handshake over plain HTTP on the port that serves the Flask routes
    r = requests.get(chat_server.url + "/socket.io/?EIO=4&transport=polling", timeout=IO_TIMEOUT)
    assert r.status_code == 200
    assert r.text.startswith("0{")
    handshake = json.loads(r.text[1:])
    assert handshake["pingInterval"] == 500
    assert handshake["pingTimeout"] == 500


def test_blocking_handler_does_not_stall_other_clients(chat_server, clients, transport):
    sleeper = clients().connect(chat_server, transport)
    other = clients().connect(chat_server, transport)
    sleeper_sid = sleeper.sio.get_sid()
    sleeper.emit("sleep", 2)
    # the other client's echo is answered while the sleeper's handler sleeps
    assert other.call("echo", "fast") == "fast"
    assert sleeper.pending("slept") == [], "the other client's echo waited for the sleeping handler"
    assert sleeper.next("slept") == (2,)
    # 2 s is four ping intervals: the sleeper's pings were answered meanwhile
    assert sleeper.sio.connected
    assert sleeper.disconnects.empty()
    assert sleeper.sio.get_sid() == sleeper_sid
    assert sleeper.call("echo", "still here") == "still here"
    assert other.disconnects.empty()
    log = server_log(other)
    assert [e for e in log if e[0] == "disconnect" and e[1] in (sleeper_sid, other.sio.get_sid())] \
        == []


def test_one_clients_events_run_in_order(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    sid = c.sio.get_sid()
    c.emit("sleep", 0.3)
    c.emit("mark", "second")
    # queued behind the sleep on the same client: it runs after it
    assert c.call("mark", "third") == "third"
    log = server_log(c)
    assert [e for e in log if e[1] == sid] == [["slept", sid, 0.3], ["mark", sid, "second"],
                                               ["mark", sid, "third"]]


def test_background_task_emits_arrive(chat_server, clients, transport):
    c = clients().connect(chat_server, transport)
    assert c.call("start task", 5) == "started"
    assert c.next("task done") == (5,)
    assert sorted(c.next("tick")[0] for _ in range(5)) == [0, 1, 2, 3, 4]


def test_background_task_broadcast_is_joinable(chat_server, clients, transport):
    a = clients(namespaces=["/bg"]).connect(chat_server, transport)
    b = clients(namespaces=["/", "/bg"]).connect(chat_server, transport)
    value = "bg-" + transport
    assert b.call("start broadcast task", value) == "joined"
    assert a.next("bg broadcast", ns="/bg") == (value,)
    assert b.next("bg broadcast", ns="/bg") == (value,)


# ---------------------------------------------------------------- SIGINT

def test_sigint_stops_idle_server(start_app):
    server = start_app()
    rc = server.interrupt()
    assert rc == 0, "exit status %r after SIGINT (None: still running after %.0f s); output:\n%s" \
        % (rc, SHUTDOWN_TIMEOUT, server.output())
    assert "RUN RETURNED" in server.output()


def test_sigint_stops_server_with_clients_and_busy_threads(start_app, clients):
    server = start_app()
    polling = clients().connect(server, "polling")
    ws = clients().connect(server, "websocket")
    # a background task emitting in a loop, and a handler sleeping, while SIGINT arrives
    assert ws.call("start task", 100000) == "started"
    ws.next("tick")
    polling.emit("sleep", 1)
    rc = server.interrupt()
    assert rc == 0, "exit status %r after SIGINT (None: still running after %.0f s); output:\n%s" \
        % (rc, SHUTDOWN_TIMEOUT, server.output())
    assert "RUN RETURNED" in server.output()
    assert ws.disconnects.get(timeout=IO_TIMEOUT) == "/"
    # python-engineio's polling client drops the session silently (no disconnect event) when a
    # request it sends during the shutdown is refused with an HTTP error, so: its Engine.IO state
    deadline = time.monotonic() + IO_TIMEOUT
    while polling.sio.eio.state == "connected" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert polling.sio.eio.state != "connected"


# ---------------------------------------------------------------- socket.io-client under Node

def test_node_events_acks_binary(chat_server, node_transport):
    r = run_node("basic", chat_server, node_transport)
    assert r["transport"] == ("polling" if node_transport == "polling" else "websocket")
    assert r["welcome"] == {"sid": r["sid"], "auth": {"token": "good"}, "q": "from-node",
                            "namespace": "/"}
    assert r["echo_ack"] == [1, "two", {"three": [3, None, True]}]
    assert r["echo_event"] == [1, "two", {"three": [3, None, True]}]
    assert r["echo_one_ack"] == ["single"]
    assert r["echo_one_event"] == ["single"]
    assert r["send_ack"] == ["got hello there"]
    assert r["message"] == ["hello there"]
    assert r["no_ack_value"] == []
    binary = {"a": b"\x00\x01\x02\xff", "list": [b"xyz", {"deep": b"\x07"}], "text": "plain"}
    assert r["binary_ack"] == [binary]
    assert r["binary_event"] == [binary]
    assert r["client_answered"] == {"answer": ["node answer", {"n": 1}], "sid": r["sid"]}
    assert r["call_ack"] == ["node answer", {"n": 2}]
    assert r["call_answered"] == {"answer": ["node answer", {"n": 2}]}
    assert r["call_timeout_ack"] == ["timed out"]
    assert r["error_ack"] == [{"error": "ValueError", "message": "kaboom 5", "event": "boom"}]


def test_node_auth_rejection(chat_server, node_transport):
    r = run_node("rejected", chat_server, node_transport)
    assert r["bad"] == {"message": "Not authorized",
                        "data": {"code": 401, "hint": "use a good token"}, "connected": False}
    assert r["false"] == {"message": "Connection rejected by server", "data": None,
                          "connected": False}


def test_node_rooms(chat_server, node_transport):
    r = run_node("rooms", chat_server, node_transport)
    ids = r["ids"]
    assert r["a_rooms"] == [sorted([ids["a"], "lobby"])]
    assert r["b_rooms"] == [sorted([ids["b"], "lobby"])]
    assert r["after_emits"] == {"a": ["with self", "skip b"], "b": ["with self", "without self"],
                                "c": []}
    assert r["a_rooms_after_leave"] == [[ids["a"]]]
    assert r["after_leave"] == {"a": ["with self", "skip b"],
                                "b": ["with self", "without self", "after leave"], "c": []}


def test_node_namespaces(chat_server, node_transport):
    r = run_node("namespaces", chat_server, node_transport)
    assert r["class_welcome"] == {"namespace": "/class", "auth": {"who": "node"}}
    assert r["other_ack"] == ["/other"]
    assert r["other_echo"] == [{"namespace": "/other", "data": "hi other"}]
    assert r["class_ack"] == ["hi class"]
    assert r["class_echo"] == [{"class": True, "data": "hi class"}]
    assert isinstance(r["unknown_namespace_error"], str) and r["unknown_namespace_error"]


def test_node_disconnect_reasons(chat_server, node_transport):
    r = run_node("reasons", chat_server, node_transport)
    assert r["leaver_log"] == [["disconnect", r["leaver_sid"], "client disconnect"]]
    assert r["kicked_reason"] == "io server disconnect"
    assert r["kicked_log"] == [["disconnect", r["kicked_sid"], "server disconnect"]]


def test_node_blocking_handler(chat_server, node_transport):
    r = run_node("blocking", chat_server, node_transport)
    assert r["b_echo"] == ["fast"]
    assert r["order"] == ["b echoed", "a slept"]
    assert r["a_connected_after"] is True
    assert r["a_disconnect_reason"] is None
    assert r["a_same_sid"] is True
    assert r["a_echo_after"] == ["still here"]
