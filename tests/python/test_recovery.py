"""Connection state recovery from Python: SocketIO(app, connection_state_recovery={...}) checks
its keys, gives a socket.io-client 4.6+ that lost its connection its sid, rooms and missed
events back (request.recovered tells the handlers), and adds an offset to every event, which
python-socketio's client (no recovery of its own) receives as one more argument."""
import threading

import pytest
from flask import Flask, request

from chat import SocketIO, emit, join_room
from chat._options import core_options
from clients import Client, run_node

WINDOW = 60  # seconds: longer than any test


def recovery_app(**options):
    """A Flask app whose handlers say what recovery did: `welcome` on connect with the sid and
    request.recovered; `join`, `to-room`; `lost` acks the sids whose connection went."""
    app = Flask(__name__)
    socketio = SocketIO(app, **options)
    lost = []
    lock = threading.Lock()

    @socketio.on("connect")
    def on_connect(auth):
        emit("welcome", {"sid": request.sid, "recovered": request.recovered})

    @socketio.on("disconnect")
    def on_disconnect(reason=None):
        with lock:
            lost.append(request.sid)

    @socketio.on("lost")
    def on_lost():
        with lock:
            return list(lost)

    @socketio.on("join")
    def on_join(room):
        join_room(room)
        return True

    @socketio.on("to-room")
    def on_to_room(room, data):
        emit("room", data, to=room)
        return True

    return app, socketio


@pytest.fixture
def serve_recovery(serve):
    """serve_recovery(**options) -> Running: recovery_app with these SocketIO options."""

    def start(**options):
        app, socketio = recovery_app(**options)
        return serve(socketio, app)

    return start


# ---------------------------------------------------------------- the option

def test_keys_are_checked():
    with pytest.raises(TypeError, match="max_disconnection_time"):
        SocketIO(connection_state_recovery={"max_disconnection_time": 10})
    with pytest.raises(ValueError, match="max_disconnection_duration"):
        SocketIO(connection_state_recovery={"max_disconnection_duration": 0})
    with pytest.raises(ValueError, match="skip_middlewares"):
        SocketIO(connection_state_recovery={"skip_middlewares": False})
    with pytest.raises(ValueError, match="connection_state_recovery"):
        SocketIO(connection_state_recovery=120)


def test_seconds_and_defaults_reach_the_server():
    core, _ = core_options({"connection_state_recovery": {"max_disconnection_duration": 2.5,
                                                          "skip_middlewares": True}})
    assert core.connection_state_recovery == (2.5, True, 64 << 20)
    core, _ = core_options({"connection_state_recovery": True})
    assert core.connection_state_recovery == (120.0, True, 64 << 20)
    core, _ = core_options({"connection_state_recovery": {"max_kept_bytes": 1000}})
    assert core.connection_state_recovery == (120.0, True, 1000)
    core, _ = core_options({})
    assert core.connection_state_recovery is None


# ---------------------------------------------------------------- over real sockets

@pytest.mark.parametrize("transport", ["polling", "websocket"])
def test_socketio_client_recovers_with_sid_rooms_and_missed_events(serve_recovery, transport):
    server = serve_recovery(connection_state_recovery={"max_disconnection_duration": WINDOW, "skip_middlewares": True})
    out = run_node("recover", server, transport, script="recovery_client.mjs")
    first_welcome, first_offset = out["first_welcome"]
    assert first_welcome == {"sid": out["sid"], "recovered": False}
    assert isinstance(first_offset, str)
    second_welcome, _ = out["second_welcome"]
    assert second_welcome == {"sid": out["sid"], "recovered": True}
    assert out["recovered"] is True and out["same_sid"] is True
    # The two sent while it was away, once and in order, then one sent after: each with an offset.
    assert [args[0] for args in out["rooms"]] == [{"n": 1}, {"n": 2}, {"n": 3}]
    assert all(len(args) == 2 and isinstance(args[1], str) for args in out["rooms"])


def test_without_the_option_a_reconnecting_client_gets_a_fresh_session(serve_recovery):
    out = run_node("recover", serve_recovery(), "websocket", script="recovery_client.mjs")
    assert out["first_welcome"] == [{"sid": out["sid"], "recovered": False}]  # no offset
    assert out["second_welcome"][0]["recovered"] is False
    assert not out.get("recovered") and out["same_sid"] is False
    assert out["rooms"] == []  # neither what it missed nor, having a fresh socket, the room


def test_python_socketio_client_gets_the_offset_as_one_more_argument(serve_recovery):
    server = serve_recovery(connection_state_recovery={"max_disconnection_duration": WINDOW})
    c = Client()
    try:
        c.connect(server, "websocket")
        welcome = c.next("welcome")
        assert len(welcome) == 2
        assert welcome[0] == {"sid": c.sio.get_sid(), "recovered": False}
        assert isinstance(welcome[1], str) and welcome[1]
        assert c.call("join", "lobby") is True  # acks carry no offset
        c.emit("to-room", ("lobby", {"n": 1}))
        data, offset = c.next("room")
        assert data == {"n": 1} and isinstance(offset, str) and offset != welcome[1]
    finally:
        c.close()
