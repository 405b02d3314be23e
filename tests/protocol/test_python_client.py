"""The stock python-socketio client (5.x) against test_server, over polling only, WebSocket only,
and the default (polling, then upgrade to WebSocket)."""
import time

import pytest
import socketio

import protocol_wire as wire

TRANSPORTS = {
    "polling": ["polling"],
    "websocket": ["websocket"],
    "upgrade": None,
}


@pytest.fixture(params=sorted(TRANSPORTS))
def transport(request):
    return request.param


@pytest.fixture
def server(start_server):
    return start_server()


@pytest.fixture
def connect(server, sio_clients, transport):
    """connect(**kwargs) -> a connected RecordingClient on `server` over `transport`."""
    def make(**kwargs):
        kwargs.setdefault("transports", TRANSPORTS[transport])
        c = sio_clients(server.port, **kwargs)
        expected = "polling" if transport == "polling" else "websocket"
        assert c.sio.transport() == expected, "client is on %s" % c.sio.transport()
        return c
    return make


def test_connect_with_auth(connect):
    c = connect(auth={"token": "abc", "n": 1})
    assert c.next("auth") == ({"token": "abc", "n": 1},)
    sid = c.sio.get_sid()
    assert sid and sid != c.sio.eio.sid


def test_connect_without_auth(connect):
    c = connect()
    assert c.next("auth") == ({},)


def test_event_roundtrip(connect):
    c = connect()
    c.emit("message", 1, "2", {"3": [True, None, 1.5]}, ["x"])
    assert c.next("message-back") == (1, "2", {"3": [True, None, 1.5]}, ["x"])
    c.emit("message", "unicode \u00e9\u4e2d\U0001f600")
    assert c.next("message-back") == ("unicode \u00e9\u4e2d\U0001f600",)
    c.emit("message")
    assert c.next("message-back") == ()


def test_many_events(connect):
    c = connect()
    for i in range(100):
        c.emit("message", i)
        assert c.next("message-back") == (i,)
    assert c.call("message-with-ack", "done") == "done"


def test_burst_of_events(connect, transport):
    """40 events emitted at once: the client batches them, the server answers them all.

    Over polling the 40 replies are buffered while no GET is pending. python-engineio's client
    (4.x, Payload.max_decode_packets = 16) refuses a polling payload of more than 16 packets
    ("Unexpected packet from server, aborting") and drops the connection, so a server that
    wants to serve it must send at most 16 packets per GET response and leave the rest for the
    next GET (which Node-style clients issue at once anyway)."""
    c = connect()
    for i in range(40):
        c.emit("message", i)
    got = sorted(c.next("message-back")[0] for _ in range(40))
    assert got == list(range(40))
    assert c.call("message-with-ack", "done") == "done"


def test_call_ack(connect):
    c = connect()
    assert c.call("message-with-ack", "one") == "one"
    assert c.call("message-with-ack", 1, {"a": [2]}) == (1, {"a": [2]})
    assert c.call("message-with-ack") is None


def test_large_message(connect):
    c = connect()
    big = "z" * 200000
    assert c.call("message-with-ack", big) == big


def test_catch_all(connect):
    c = connect()
    c.emit("something-else", 1, "two")
    assert c.next("catch-all") == ("something-else", 1, "two")


def test_server_to_client_ack(connect):
    c = connect()
    c.on("question", lambda *args: ("answer to", list(args)))
    c.emit("ask", 5000, "what?", {"k": 1})
    assert c.next("answer") == ("answer to", ["what?", {"k": 1}])


def test_binary_roundtrip(connect):
    c = connect()
    payload = {"a": b"\x00\x01\x02", "b": [b"\xff" * 3, {"c": b"nested"}], "s": "text"}
    c.emit("message", payload, b"top")
    assert c.next("message-back") == (payload, b"top")


def test_binary_ack(connect):
    c = connect()
    payload = [b"\x10\x20", {"k": [b"\x30"]}]
    assert c.call("message-with-ack", payload) == payload


def test_binary_large(connect):
    c = connect()
    blob = bytes(range(256)) * 1000
    assert c.call("message-with-ack", {"blob": blob}) == {"blob": blob}


def test_custom_namespace(connect):
    c = connect(namespaces=["/", "/custom"], auth={"t": 1})
    assert c.next("auth", "/custom") == ({"t": 1},)
    assert c.next("auth", "/") == ({"t": 1},)
    assert c.sio.get_sid("/custom") != c.sio.get_sid("/")
    assert c.call("message-with-ack", "in custom", ns="/custom") == "in custom"
    c.emit("message", "x", ns="/custom")
    assert c.next("message-back", "/custom") == ("x",)
    assert c.call("message-with-ack", "in root") == "in root"


def test_private_namespace_accepted(connect):
    c = connect(namespaces=["/private"], auth={"token": "secret"})
    assert c.next("auth", "/private") == ({"token": "secret"},)
    assert c.call("message-with-ack", 5, ns="/private") == 5


@pytest.mark.parametrize("auth", [{"token": "wrong"}, None])
def test_private_namespace_rejected(server, sio_clients, transport, auth):
    c = wire.RecordingClient(namespaces=["/private"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        c.connect(server.port, transports=TRANSPORTS[transport], namespaces=["/private"],
                  auth=auth, wait_timeout=1)   # python-socketio waits this long after a refusal
    ns, args = c.connect_errors.get(timeout=wire.IO_TIMEOUT)
    assert ns == "/private"
    assert args == ({"message": "Not authorized", "data": {"reason": "bad token"}},)


def test_unknown_namespace_rejected(server, transport):
    c = wire.RecordingClient(namespaces=["/nope"])
    with pytest.raises(socketio.exceptions.ConnectionError):
        c.connect(server.port, transports=TRANSPORTS[transport], namespaces=["/nope"],
                  wait_timeout=1)
    ns, args = c.connect_errors.get(timeout=wire.IO_TIMEOUT)
    assert (ns, args) == ("/nope", ({"message": "Invalid namespace"},))


def test_rooms(connect):
    a = connect()
    b = connect()
    c = connect()
    a_sid, b_sid = a.sio.get_sid(), b.sio.get_sid()
    assert a.call("join", "r1") == sorted([a_sid, "r1"])
    assert b.call("join", "r1") == sorted([b_sid, "r1"])
    assert c.call("to-room", "r1", {"p": 1}) is None
    assert a.next("room-message") == ({"p": 1},)
    assert b.next("room-message") == ({"p": 1},)
    c.sync()
    assert c.pending("room-message") == []
    assert a.call("to-room-except-me", "r1", "others") is None
    assert b.next("room-message") == ("others",)
    a.sync()
    assert a.pending("room-message") == []
    assert c.call("except-room", "r1", "out") is None
    assert c.next("except-message") == ("out",)
    a.sync()
    b.sync()
    assert a.pending("except-message") == [] and b.pending("except-message") == []
    assert b.call("leave", "r1") == [b_sid]
    assert c.call("to-room", "r1", "after leave") is None
    assert a.next("room-message") == ("after leave",)
    b.sync()
    assert b.pending("room-message") == []


def test_broadcast_and_direct(connect):
    a = connect()
    b = connect()
    assert a.call("broadcast", "to others") is None
    assert b.next("broadcast") == ("to others",)
    a.sync()
    assert a.pending("broadcast") == []
    assert a.call("broadcast-all", "to all") is None
    assert a.next("broadcast") == ("to all",)
    assert b.next("broadcast") == ("to all",)
    assert a.call("to-socket", b.sio.get_sid(), "hi b") is None
    assert b.next("direct") == ("hi b",)
    a.sync()
    assert a.pending("direct") == []


def test_disconnect_me(connect, server, sio_clients):
    c = connect()
    other = sio_clients(server.port)
    c.emit("disconnect-me")
    assert c.disconnects.get(timeout=wire.IO_TIMEOUT) == "/"
    reasons = _wait_reasons(other, 1)
    assert reasons == ["/ server namespace disconnect"], reasons


def test_close_me_closes_every_namespace(connect):
    c = connect(namespaces=["/", "/custom"])
    c.emit("close-me")
    got = {c.disconnects.get(timeout=wire.IO_TIMEOUT) for _ in range(2)}
    assert got == {"/", "/custom"}
    deadline = time.monotonic() + wire.IO_TIMEOUT
    while c.sio.eio.state != "disconnected":
        assert time.monotonic() < deadline, c.sio.eio.state
        time.sleep(0.02)


def test_throw_in_handler_is_reported_and_server_goes_on(connect):
    c = connect()
    c.emit("throw")
    assert c.call("message-with-ack", "still alive") == "still alive"
    errors = c.call("errors")
    assert isinstance(errors, list) and len(errors) == 1, errors
    assert "boom" in errors[0], errors


def test_many_sequential_connections(start_server, sio_clients, transport):
    """python-socketio's disconnect() does not always get its `41`/`1` out before it drops the
    transport (abort=True), so some sessions end by ping timeout: the server runs with a short
    heartbeat, and every one of the n sessions must end up in disconnect-reasons exactly once."""
    server = start_server("--ping-interval", "300", "--ping-timeout", "200")
    n = 20
    for i in range(n):
        c = sio_clients(server.port, transports=TRANSPORTS[transport], auth={"i": i})
        assert c.next("auth") == ({"i": i},)
        assert c.call("message-with-ack", i) == i
        c.sio.disconnect()
    observer = sio_clients(server.port, transports=TRANSPORTS[transport])
    reasons = _wait_reasons(observer, n)
    assert len(reasons) == n, reasons
    assert all(r in ("/ client namespace disconnect", "/ transport close", "/ ping timeout")
               for r in reasons), reasons
    assert observer.call("message-with-ack", "ok") == "ok"


def test_many_concurrent_clients(server, sio_clients, transport):
    clients = [sio_clients(server.port, transports=TRANSPORTS[transport]) for _ in range(10)]
    assert clients[0].call("broadcast-all", "everyone") is None
    for c in clients:
        assert c.next("broadcast") == ("everyone",)
    for i, c in enumerate(clients):
        assert c.call("message-with-ack", i) == i


def test_heartbeats_keep_client_connected(start_server, sio_clients, transport):
    server = start_server("--ping-interval", "200", "--ping-timeout", "1000")
    c = sio_clients(server.port, transports=TRANSPORTS[transport])
    time.sleep(1.0)   # several ping rounds, answered by the client
    assert c.sio.connected
    assert c.call("message-with-ack", "after pings") == "after pings"
    assert c.call("disconnect-reasons") == []


def _wait_reasons(client, n):
    """disconnect-reasons, polled until it holds at least n entries (disconnects are processed
    asynchronously by the server)."""
    deadline = time.monotonic() + 2 * wire.IO_TIMEOUT
    while True:
        reasons = client.call("disconnect-reasons")
        assert isinstance(reasons, list), reasons
        if len(reasons) >= n or time.monotonic() > deadline:
            return reasons
        time.sleep(0.05)
