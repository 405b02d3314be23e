"""``RemoteSocket``: a socket as ``SocketIO.fetch_sockets`` finds it, on this server or on another
server of the cluster (Node's RemoteSocket)."""
from __future__ import annotations

import datetime
from typing import Any, Dict, List

from ._context import Headers, QueryArgs


class RemoteSocket:
    """A snapshot of one socket, wherever it is connected.

    :ivar sid: the socket's id (also ``id``, Node's name).
    :ivar namespace: the namespace it is connected to.
    :ivar rooms: the rooms it was in, its own sid room included.
    :ivar data: what ``SocketIO.set_data`` gave it (``None`` until set): Node's ``socket.data``.
    :ivar handshake: the request that opened its connection, as Node's ``socket.handshake``: a
        dict of ``headers`` (names matched without regard to case), ``query`` (``getlist``
        gives every value of a name), ``url``, ``address``, ``issued`` (milliseconds since the
        epoch), ``time`` (the same, ISO 8601 in UTC) and ``auth`` (the client's auth, ``{}``
        when it sent none).

    The attributes are what the socket's server reported when fetched; the methods act on the
    socket itself, on whichever server holds it.
    """

    def __init__(self, socketio, namespace: str, info: Dict[str, Any]):
        self._socketio = socketio
        self.sid: str = info["id"]
        self.namespace = namespace
        self.rooms: List[str] = list(info["rooms"])
        self.data = info["data"]
        handshake = info["handshake"]
        issued = handshake["issued"]
        self.handshake: Dict[str, Any] = {
            "headers": Headers(handshake["headers"]),
            "query": QueryArgs(handshake["query"]),
            "url": handshake["url"],
            "address": handshake["address"],
            "issued": issued,
            "time": datetime.datetime.fromtimestamp(issued / 1000, datetime.timezone.utc).isoformat(),
            "auth": handshake["auth"],
        }

    @property
    def id(self) -> str:
        return self.sid

    def emit(self, event: str, *args) -> None:
        """Emits an event to this socket."""
        self._socketio.emit(event, *args, to=self.sid, namespace=self.namespace)

    def join(self, rooms) -> None:
        """Puts the socket in a room (or a list of rooms)."""
        self._socketio.sockets_join(rooms, to=self.sid, namespace=self.namespace)

    def leave(self, rooms) -> None:
        """Takes the socket out of a room (or a list of rooms)."""
        self._socketio.sockets_leave(rooms, to=self.sid, namespace=self.namespace)

    def disconnect(self, close: bool = False) -> None:
        """Disconnects the socket from its namespace; ``close``: its whole connection."""
        self._socketio.disconnect_sockets(to=self.sid, namespace=self.namespace, close=close)

    def __repr__(self) -> str:
        return "RemoteSocket(sid=%r, namespace=%r, rooms=%r)" % (self.sid, self.namespace, self.rooms)
