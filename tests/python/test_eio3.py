"""Older clients on a Python host: SocketIO(app, allow_eio3=True) serves socket.io-client 2.x
(Engine.IO v3, Socket.IO v2; npm's socket.io-client-v2, driven by apps/eio3_client.mjs) over
polling, WebSocket and the upgrade, beside v4 clients; without the option an EIO=3 handshake is
refused as Node refuses it. Served on a thread of this process, over real sockets."""
import json

import pytest
import requests
import socketio as python_socketio
from flask import Flask, request

from app_servers import IO_TIMEOUT, Running
from chat import ConnectionRefusedError, SocketIO, disconnect, emit
from clients import run_node


def make_app(**options):
    app = Flask(__name__)
    socketio = SocketIO(app, **options)

    @socketio.on("connect")
    def connect(auth):
        emit("welcome", {"sid": request.sid, "auth": auth, "q": request.args.get("q")})

    @socketio.on("echo")
    def echo(value):
        emit("echoed", value)
        return value

    @socketio.on("ask")
    def ask(data):
        sid = request.sid
        socketio.emit("question", data, to=sid,
                      callback=lambda *answer: socketio.emit("answered", list(answer), to=sid))

    @socketio.on("kick")
    def kick():
        disconnect()

    @socketio.on("connect", namespace="/chat")
    def chat_connect(auth):
        if (auth or {}).get("token") != "t1":
            raise ConnectionRefusedError("bad token")
        emit("welcome", {"sid": request.sid, "auth": auth})

    @socketio.on("echo", namespace="/chat")
    def chat_echo(value):
        return value

    return app, socketio


@pytest.fixture(scope="module")
def eio3_server():
    app, socketio = make_app(allow_eio3=True)
    server = Running(socketio, app)
    yield server
    server.stop()


@pytest.mark.parametrize("transport", ["polling", "websocket", "default"])
def test_socketio_client_2_events_acks_binary_namespaces(eio3_server, transport):
    r = run_node("basic", eio3_server, transport, script="eio3_client.mjs")
    assert r["transport"] == ("polling" if transport == "polling" else "websocket")
    # A v2 socket's id is the Engine.IO sid in /, "/nsp#sid" elsewhere, as Node makes them.
    assert r["sid"] == r["engine_sid"]
    # No auth in / (python-socketio hands a handler None for an empty one, as for v4 clients).
    assert r["welcome"] == {"sid": r["sid"], "auth": None, "q": "from-v2"}
    assert r["echo_ack"] == [{"text": "héllo 😀", "n": [1, 2]}]
    assert r["echo_event"] == {"text": "héllo 😀", "n": [1, 2]}
    assert r["binary_ack"] == [{"a": b"\x00\x01\x02\xff", "list": [b"xyz"]}]
    assert r["answered"] == ["v2 answer", {"n": 1}]
    assert r["chat_sid"] == "/chat#" + r["chat_engine_sid"]
    assert r["chat_welcome"] == {"sid": r["chat_sid"], "auth": {"token": "t1"}}
    assert r["chat_ack"] == ["in chat"]
    # Socket.IO v2's ERROR packet: the refusal's message, not v5's {"message": ...}.
    assert r["refused"] == "bad token"
    assert r["disconnect"] == "io server disconnect"


def test_v4_clients_still_connect_beside_them(eio3_server):
    client = python_socketio.Client(reconnection=False)
    answers = []
    client.connect(eio3_server.url, wait_timeout=IO_TIMEOUT)
    try:
        answers.append(client.call("echo", "v4", timeout=IO_TIMEOUT))
    finally:
        client.disconnect()
    assert answers == ["v4"]


def test_raw_v3_polling_framing(eio3_server):
    base = eio3_server.url + "/socket.io/?EIO=3&transport=polling"
    r = requests.get(base, timeout=IO_TIMEOUT)
    assert r.status_code == 200
    length, _, rest = r.text.partition(":")
    open_packet = rest[:int(length)]
    assert open_packet.startswith("0{")
    sid = json.loads(open_packet[1:])["sid"]
    connect = rest[int(length):] or requests.get(base + "&sid=" + sid, timeout=IO_TIMEOUT).text
    assert connect.startswith("2:40")  # CONNECT without a payload, then the welcome event
    post = requests.post(base + "&sid=" + sid, data="1:2", timeout=IO_TIMEOUT)
    assert (post.status_code, post.text) == (200, "ok")
    bodies = ""
    while "1:3" not in bodies:
        bodies += requests.get(base + "&sid=" + sid, timeout=IO_TIMEOUT).text
    requests.post(base + "&sid=" + sid, data="1:1", timeout=IO_TIMEOUT)


def test_refused_without_the_option():
    app, socketio = make_app()
    server = Running(socketio, app)
    try:
        r = requests.get(server.url + "/socket.io/?EIO=3&transport=polling", timeout=IO_TIMEOUT)
        assert r.status_code == 400
        assert r.json() == {"code": 5, "message": "Unsupported protocol version"}
        assert server.open_packet()["sid"]  # v4 as ever
    finally:
        server.stop()
