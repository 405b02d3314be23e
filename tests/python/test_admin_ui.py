"""SocketIO.instrument(): the Socket.IO Admin UI's namespace with python-socketio's arguments,
driven by python-socketio's client as the UI drives it (login, config, all_sockets, live
notifications, server_stats, the join and _disconnect commands)."""
import time

import pytest
from flask import Flask

from chat import SocketIO, rooms
from app_servers import IO_TIMEOUT

CREDENTIALS = {"username": "admin", "password": "secret"}
ALL_FEATURES = ["EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT", "AGGREGATED_EVENTS",
                "ALL_EVENTS"]


def instrumented(**kwargs):
    socketio = SocketIO(Flask(__name__))

    @socketio.on("rooms")
    def my_rooms():
        return sorted(rooms())

    socketio.instrument(**kwargs)
    return socketio


def admin_client(clients, server, auth=CREDENTIALS, namespace="/admin"):
    return clients(namespaces=(namespace,)).connect(server, "websocket", auth=auth)


def until(client, event, match, ns="/admin"):
    """The first `event` (consumed in order) whose arguments satisfy `match`."""
    deadline = time.monotonic() + IO_TIMEOUT
    while True:
        args = client.next(event, ns=ns, timeout=max(0.01, deadline - time.monotonic()))
        if match(*args):
            return args


def test_login_with_a_dict_and_the_ui_commands(serve, clients):
    server = serve(instrumented(auth=CREDENTIALS, server_stats_interval=0.2))
    user = clients().connect(server, "websocket")
    admin = admin_client(clients, server)
    (config,) = admin.next("config", ns="/admin")
    assert config == {"supportedFeatures": ALL_FEATURES}
    (sockets,) = admin.next("all_sockets", ns="/admin")
    mine = [s for s in sockets if s["id"] == user.sio.get_sid()]
    assert mine and mine[0]["nsp"] == "/" and mine[0]["transport"] == "websocket"

    later = clients().connect(server, "polling")
    (socket, _when) = until(admin, "socket_connected", lambda s, when: s["id"] == later.sio.get_sid())
    assert socket["transport"] == "polling"

    sid = user.sio.get_sid()
    admin.emit("join", ("/", "from-the-ui", sid), ns="/admin")
    until(admin, "room_joined", lambda nsp, room, who, when: room == "from-the-ui" and who == sid)
    assert user.call("rooms") == sorted([sid, "from-the-ui"])
    admin.emit("_disconnect", ("/", False, sid), ns="/admin")
    assert user.disconnects.get(timeout=IO_TIMEOUT) == "/"

    (stats,) = admin.next("server_stats", ns="/admin")
    assert {"serverId", "hostname", "pid", "uptime", "clientsCount", "pollingClientsCount", "aggregatedEvents",
            "namespaces"} == set(stats)
    assert {"name": "/admin", "socketsCount": 1} in stats["namespaces"]


def test_wrong_credentials_are_refused(serve, clients):
    server = serve(instrumented(auth=[CREDENTIALS, {"username": "other", "password": "x"}]))
    refused = clients(namespaces=("/admin",)).connect(server, "websocket", auth={"username": "admin", "password": "no"},
                                                      wait=False)
    ns, args = refused.next_connect_error()
    assert ns == "/admin" and args[0]["message"] == "authentication failed"
    other = admin_client(clients, server, auth={"username": "other", "password": "x"})
    assert other.next("config", ns="/admin")


def test_a_function_decides_and_read_only_offers_no_commands(serve, clients):
    seen = []

    def check(auth):
        seen.append(auth)
        return auth.get("token") == "let me in"

    server = serve(instrumented(auth=check, read_only=True, mode="production", server_id="py-under-test",
                                namespace="/watch", server_stats_interval=0.2))
    user = clients().connect(server, "websocket")
    admin = admin_client(clients, server, auth={"token": "let me in"}, namespace="/watch")
    (config,) = admin.next("config", ns="/watch")
    assert config == {"supportedFeatures": ["AGGREGATED_EVENTS"]}
    admin.emit("_disconnect", ("/", True, user.sio.get_sid()), ns="/watch")
    (stats,) = admin.next("server_stats", ns="/watch")
    assert stats["serverId"] == "py-under-test"
    assert user.call("rooms") == [user.sio.get_sid()]  # still connected
    assert admin.pending("all_sockets", ns="/watch") == []
    assert {"token": "let me in"} in seen


def test_arguments_are_checked():
    socketio = SocketIO(Flask(__name__))
    with pytest.raises(ValueError, match="auth must be specified"):
        socketio.instrument()
    with pytest.raises(ValueError, match="mode"):
        socketio.instrument(auth=False, mode="staging")
    socketio.instrument(auth=False)
    with pytest.raises(RuntimeError, match="already"):
        socketio.instrument(auth=False)
