"""A Flask app that leans on Flask (apps/flask_app.py) over real sockets: the user session from
an HTTP login seen and kept by Socket.IO handlers, a server-side session shared with routes
(manage_session=False), emits and room calls from routes, callbacks to a room, and a function
as the CORS check; driven by python-socketio's client and by socket.io-client under Node. The
whole module runs on Debian's Flask 2.2 and again on Flask 3 (scripts/test)."""
import time

import pytest
import requests
import websocket

from clients import run_node
from app_servers import IO_TIMEOUT, module_server

ALLOWED = "http://app.allowed.example"
REFUSED = "http://evil.example"


@pytest.fixture(scope="module")
def flask_app(tmp_path_factory):
    """flask_app.py with Flask's cookie session, managed by the extension (the default)."""
    with module_server(tmp_path_factory, "flask_app.py") as server:
        yield server


def login(server, name):
    """Logs in over HTTP; returns the Cookie header the browser would send."""
    http = requests.Session()
    r = http.get(server.url + "/login/" + name, timeout=IO_TIMEOUT)
    assert (r.status_code, r.text) == (200, "logged in")
    return "; ".join("%s=%s" % (k, v) for k, v in http.cookies.items())


def wait_for(fetch, predicate, timeout=IO_TIMEOUT):
    """Polls `fetch()` (bounded) until `predicate` holds of it; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fetch()
        if predicate(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


# ---------------------------------------------------------------- the user session

def test_session_of_the_login_is_seen_and_kept_by_handlers(flask_app, clients, transport):
    cookie = login(flask_app, "alice")
    c = clients().connect(flask_app, transport, headers={"Cookie": cookie})
    first = c.call("whoami")
    assert first["user"] == "alice"
    assert first["connected_as"] == "alice"  # set by the connect handler
    assert first["events"] == 1
    second = c.call("whoami")
    assert second["events"] == 2  # the managed session lives as long as the connection
    anonymous = clients().connect(flask_app, transport)
    assert anonymous.call("whoami") == {"user": None, "connected_as": "anonymous", "events": 1,
                                        "sid": anonymous.sio.get_sid()}


def test_managed_session_is_each_connections_own(flask_app, clients):
    cookie = login(flask_app, "bob")
    one = clients().connect(flask_app, "websocket", headers={"Cookie": cookie})
    two = clients().connect(flask_app, "websocket", headers={"Cookie": cookie})
    assert one.call("set", ["color", "red"])["color"] == "red"
    assert "color" not in two.call("set", ["size", 3])
    # a copy: the HTTP session is unchanged
    r = requests.get(flask_app.url + "/session", headers={"Cookie": cookie}, timeout=IO_TIMEOUT)
    assert r.json() == {"user": "bob"}


def test_server_side_session_is_shared_with_routes(start_app, clients, transport):
    server = start_app("flask_app.py", args=("--server-session",))
    cookie = login(server, "carol")
    c = clients().connect(server, transport, headers={"Cookie": cookie})
    assert c.call("whoami")["user"] == "carol"
    c.call("set", ["color", "green"])
    # manage_session=False: what the handlers changed was saved through the session interface
    r = requests.get(server.url + "/session", headers={"Cookie": cookie}, timeout=IO_TIMEOUT)
    assert r.json() == {"user": "carol", "connected_as": "carol", "events": 1, "color": "green"}


# ---------------------------------------------------------------- emits and rooms from routes

def test_emits_from_routes(flask_app, clients, transport):
    c = clients().connect(flask_app, transport)
    sid = c.sio.get_sid()
    assert requests.get(flask_app.url + "/notify/" + sid, timeout=IO_TIMEOUT).text == "sent"
    assert c.next("notified") == ({"sid": sid},)
    # the module-level emit(broadcast=True) in a route
    assert requests.get(flask_app.url + "/news", timeout=IO_TIMEOUT).text == "sent"
    assert c.next("news") == ("from a route",)


def test_room_functions_with_a_sid_in_routes(flask_app, clients):
    c = clients().connect(flask_app, "websocket")
    sid = c.sio.get_sid()
    r = requests.get(flask_app.url + "/join/%s/lobby" % sid, timeout=IO_TIMEOUT)
    assert r.json() == sorted([sid, "lobby"])
    requests.get(flask_app.url + "/room-news/lobby", timeout=IO_TIMEOUT)
    assert c.next("room news") == ("lobby",)
    r = requests.get(flask_app.url + "/leave/%s/lobby" % sid, timeout=IO_TIMEOUT)
    assert r.json() == [sid]
    requests.get(flask_app.url + "/join/%s/other" % sid, timeout=IO_TIMEOUT)
    requests.get(flask_app.url + "/close/other", timeout=IO_TIMEOUT)
    requests.get(flask_app.url + "/room-news/lobby", timeout=IO_TIMEOUT)
    requests.get(flask_app.url + "/room-news/other", timeout=IO_TIMEOUT)
    requests.get(flask_app.url + "/notify/" + sid, timeout=IO_TIMEOUT)
    c.next("notified")  # after the room news: none of it came
    assert c.pending("room news") == []
    assert requests.get(flask_app.url + "/kick/" + sid, timeout=IO_TIMEOUT).text == "kicked"
    assert c.disconnects.get(timeout=IO_TIMEOUT) == "/"


def test_room_functions_outside_any_context_say_what_they_need():
    from chat import join_room, emit

    with pytest.raises(RuntimeError, match="Flask app context"):
        join_room("lobby", sid="abc", namespace="/")
    with pytest.raises(RuntimeError, match="Flask app context"):
        emit("news", "x", broadcast=True)


# ---------------------------------------------------------------- callbacks to a room

def _answering(c):
    sid = c.sio.get_sid()
    c.sio.on("question", lambda room: ("answer", sid, room))
    return sid


def test_callback_to_a_room_from_a_handler(flask_app, clients, transport):
    members = [clients().connect(flask_app, transport) for _ in range(3)]
    outsider = clients().connect(flask_app, transport)
    sids = [_answering(c) for c in members]
    _answering(outsider)
    room = "ask-%s" % sids[0]
    for c in members:
        c.call("join", room)
    assert members[0].call("ask room", room) == "asked"
    answers = wait_for(lambda: [a for a in requests.get(flask_app.url + "/answers", timeout=IO_TIMEOUT).json()
                                if a["answer"][2:] == [room]],
                       lambda found: len(found) >= 3)
    # one answer per member, each with its own ack id, each in the asking handler's context
    assert sorted(a["answer"][1] for a in answers) == sorted(sids)
    assert all(a["from"] == "handler" and a["asker"] == sids[0] and a["context_sid"] == sids[0] for a in answers)


def test_callback_to_a_room_from_a_route(flask_app, clients):
    members = [clients().connect(flask_app, "websocket") for _ in range(2)]
    sids = [_answering(c) for c in members]
    room = "route-ask-%s" % sids[0]
    for c in members:
        c.call("join", room)
    assert requests.get(flask_app.url + "/ask-room/" + room, timeout=IO_TIMEOUT).text == "asked"
    answers = wait_for(lambda: [a for a in requests.get(flask_app.url + "/answers", timeout=IO_TIMEOUT).json()
                                if a["answer"][2:] == [room]],
                       lambda found: len(found) >= 2)
    assert sorted(a["answer"][1] for a in answers) == sorted(sids)
    assert all(a["from"] == "route" for a in answers)


# ---------------------------------------------------------------- a function as the CORS check

def _handshake(server, origin=None):
    headers = {"Origin": origin} if origin else {}
    return requests.get(server.url + "/socket.io/?EIO=4&transport=polling", headers=headers, timeout=IO_TIMEOUT)


def test_cors_function_decides_polling_requests(flask_app):
    allowed = _handshake(flask_app, ALLOWED)
    assert allowed.status_code == 200 and allowed.text.startswith("0{")
    assert allowed.headers["Access-Control-Allow-Origin"] == ALLOWED
    assert allowed.headers["Access-Control-Allow-Credentials"] == "true"
    refused = _handshake(flask_app, REFUSED)
    assert refused.status_code == 403
    assert refused.json() == {"code": 4, "message": "Forbidden"}
    assert "Access-Control-Allow-Origin" not in refused.headers
    # no Origin: not a browser, no check
    assert _handshake(flask_app).status_code == 200
    # a check that raises refuses, and the server goes on
    assert _handshake(flask_app, "http://explode.example").status_code == 403
    assert _handshake(flask_app, ALLOWED).status_code == 200
    calls = requests.get(flask_app.url + "/origin-calls", timeout=IO_TIMEOUT).json()
    mine = [c for c in calls if c["origin"] in (ALLOWED, REFUSED, "http://explode.example")]
    assert [c["origin"] for c in mine][:4] == [ALLOWED, REFUSED, "http://explode.example", ALLOWED]
    # it gets the WSGI environ of the request, as python-engineio passes it
    assert all(c["path"] == "/socket.io/" and "transport=polling" in c["transport"] for c in mine)


def test_cors_function_decides_websocket_requests(flask_app):
    url = flask_app.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    ws = websocket.create_connection(url, origin=ALLOWED, timeout=IO_TIMEOUT)
    try:
        assert ws.recv().startswith("0{")
    finally:
        ws.close()
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(url, origin=REFUSED, timeout=IO_TIMEOUT)
    assert refused.value.status_code == 403


def test_socketio_client_through_the_cors_function(flask_app, clients, transport):
    cookie = login(flask_app, "dave")
    c = clients().connect(flask_app, transport, headers={"Cookie": cookie, "Origin": ALLOWED})
    assert c.call("whoami")["user"] == "dave"


# ---------------------------------------------------------------- socket.io-client under Node

def test_node_client_session_routes_and_cors(flask_app, node_transport):
    r = run_node("flask", flask_app, node_transport, ALLOWED, REFUSED, script="flask_client.mjs")
    assert r["whoami"]["user"] == "erin"
    assert r["whoami"]["connected_as"] == "erin"
    assert r["whoami_again"]["events"] == 2
    assert r["notified"] == [{"sid": r["sid"]}]
    assert r["news"] == ["from a route"]
    assert sorted(a["answer"][1] for a in r["answers"]) == sorted(r["member_sids"])
    assert r["refused"]["connected"] is False
    assert r["transport"] == ("polling" if node_transport == "polling" else "websocket")
