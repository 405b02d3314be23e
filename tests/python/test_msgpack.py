"""SocketIO(app, serializer='msgpack'): the C++ server's msgpack parser (socket.io-msgpack-parser's
format) against python-socketio's own msgpack client (socketio.Client(serializer='msgpack')),
over polling, WebSocket and polling upgraded to WebSocket: events, acks both ways, binary values,
nested maps, rooms; a default (JSON) client cannot connect to it."""
import queue

import pytest
import socketio as python_socketio
from flask import Flask

from app_servers import IO_TIMEOUT
from chat import SocketIO, emit, join_room

pytest.importorskip("msgpack", reason="python-socketio's msgpack client needs python3-msgpack (scripts/setup)")

NESTED = {"user": {"name": "Zoë", "tags": ["a", "b"], "profile": {"age": 42, "ratio": 0.5, "none": None}},
          "list": [1, -2, 3.25, "x", [[[]]], {}], "big": 2 ** 40}


@pytest.fixture
def server(serve):
    app = Flask(__name__)
    socketio = SocketIO(app, serializer="msgpack")
    answers = queue.Queue()

    @socketio.on("echo")
    def echo(*args):
        emit("echo", args)
        return args

    @socketio.on("ask")
    def ask(*args):
        emit("question", args, callback=lambda *answer: answers.put(answer))

    @socketio.on("join")
    def join(room):
        join_room(room)

    @socketio.on("to-room")
    def to_room(room, payload):
        emit("room-message", payload, to=room)

    running = serve(socketio, app)
    running.answers = answers
    return running


def msgpack_client(clients, **kwargs):
    return clients(serializer="msgpack", **kwargs)


def test_events_round_trip(server, clients, transport):
    c = msgpack_client(clients).connect(server, transport)
    c.emit("echo", ("hello", NESTED, 7))
    assert c.next("echo") == ("hello", NESTED, 7)


def test_server_acks_client_events(server, clients, transport):
    c = msgpack_client(clients).connect(server, transport)
    for i in range(3):
        assert c.call("echo", (i, NESTED)) == (i, NESTED)


def test_binary_values_inline(server, clients, transport):
    c = msgpack_client(clients).connect(server, transport)
    data = bytes([0, 1, 2, 253, 254, 255])
    big = bytes(range(256)) * 400
    sent = (data, {"inner": {"file": data, "list": [b""]}}, big)
    assert c.call("echo", sent) == sent
    assert c.next("echo") == sent


def test_client_acks_server_questions(server, clients, transport):
    c = msgpack_client(clients, handlers={("/", "question"): lambda *args: ("answer to",) + args})
    c.connect(server, transport)
    # The server's first ack id is 1: python-socketio's msgpack packet drops an id of 0.
    for i in range(3):
        c.emit("ask", ("q", i, bytes([i])))
        assert server.answers.get(timeout=IO_TIMEOUT) == ("answer to", "q", i, bytes([i]))


def test_rooms(server, clients, transport):
    a = msgpack_client(clients).connect(server, transport)
    b = msgpack_client(clients).connect(server, transport)
    outsider = msgpack_client(clients).connect(server, transport)
    a.call("join", "room")
    b.call("join", "room")
    outsider.call("to-room", ("room", {"tag": "room", "bin": b"\x05"}))
    assert a.next("room-message") == ({"tag": "room", "bin": b"\x05"},)
    assert b.next("room-message") == ({"tag": "room", "bin": b"\x05"},)
    assert outsider.call("echo", "fence") == "fence"
    assert outsider.pending("room-message") == []


def test_a_json_client_cannot_connect(server, clients):
    c = clients()
    with pytest.raises(python_socketio.exceptions.ConnectionError):
        c.connect(server, "websocket")


def test_test_client_goes_through_the_msgpack_parser():
    """Flask-SocketIO's test client works whatever the serializer: here its packets are encoded
    and decoded by the server's msgpack parser."""
    app = Flask(__name__)
    socketio = SocketIO(app, serializer="msgpack")

    @socketio.on("echo")
    def echo(*args):
        emit("echo", args)
        return args

    client = socketio.test_client(app)
    assert client.emit("echo", b"\x00\xff", NESTED, callback=True) == [b"\x00\xff", NESTED]
    assert client.get_received() == [{"name": "echo", "args": [b"\x00\xff", NESTED], "namespace": "/"}]


def test_options_msgpack_refuses():
    with pytest.raises(ValueError, match="^initial_packet="):
        SocketIO(Flask(__name__), serializer="msgpack", initial_packet='2["welcome"]')
    with pytest.raises(ValueError, match="^serializer="):
        SocketIO(Flask(__name__), serializer="cbor")
