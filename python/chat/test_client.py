"""``SocketIOTestClient``: a client connected in process, with Flask-SocketIO's methods.

Each packet goes through the server's real encoder and decoder; calls return once the
handlers they set off have run (the handlers themselves still run on the worker threads).
"""
from __future__ import annotations

import itertools
import uuid
from typing import Any, Dict, List, Optional
from urllib.parse import parse_qsl

from . import _core

_Packet = _core.PacketType


class SocketIOTestClient:
    """Connects on construction (to ``namespace``, default ``'/'``), like Flask-SocketIO's."""

    def __init__(self, app, socketio, namespace=None, query_string=None, headers=None, auth=None,
                 flask_test_client=None):
        self.app = app
        self.socketio = socketio
        self.eio_sid = uuid.uuid4().hex
        self.flask_test_client = flask_test_client
        self.connections: Dict[str, Any] = {}
        self.connected: Dict[str, bool] = {}
        self.sids: Dict[str, str] = {}
        self.queue: List[dict] = []
        self.acks: Dict[int, list] = {}
        self.error: Optional[BaseException] = None  # a handler's exception, raised by the next call
        self._ack_ids = itertools.count(1)
        if app is not None and socketio.app is None:
            socketio.init_app(app)
        server = socketio._ensure_server()
        server.start()
        self.connect(namespace=namespace, query_string=query_string, headers=headers, auth=auth)

    def _server(self):
        return self.socketio.server

    def _pump(self):
        """Waits for the server to settle, then files what it sent."""
        server = self._server()
        server.settle()
        for namespace, connection in list(self.connections.items()):
            for kind, packet_namespace, packet_id, data in server.local_receive(connection):
                if kind in (_Packet.EVENT, _Packet.BINARY_EVENT):
                    name = data[0]
                    args = data[1] if name in ("message", "json") and len(data) > 1 else data[1:]
                    self.queue.append({"name": name, "args": args, "namespace": packet_namespace})
                elif kind in (_Packet.ACK, _Packet.BINARY_ACK):
                    self.acks[packet_id] = data
                elif kind in (_Packet.DISCONNECT, _Packet.CONNECT_ERROR):
                    self.connected[packet_namespace] = False
                elif kind == _Packet.CONNECT:
                    self.connected[packet_namespace] = True
                    self.sids[packet_namespace] = data["sid"]
                    self.socketio._error_sinks[data["sid"]] = self._handler_failed
        error, self.error = self.error, None
        if error is not None:
            raise error

    def _handler_failed(self, error: BaseException):
        """A handler of this client's events raised (and no error handler took it)."""
        self.error = error

    def connect(self, namespace: Optional[str] = None, query_string: Optional[str] = None, headers=None,
                auth=None):
        """Connect to a namespace (again)."""
        namespace = namespace or "/"
        query = query_string or ""
        if query.startswith("?"):
            query = query[1:]
        header_pairs = [(str(k), str(v)) for k, v in (headers.items() if isinstance(headers, dict) else headers or [])]
        if self.flask_test_client is not None:
            cookie = self._cookie_header()
            if cookie:
                header_pairs.append(("Cookie", cookie))
        url = "/socket.io/" + ("?" + query if query else "")
        server = self._server()
        connection = server.local_connect(header_pairs, parse_qsl(query, keep_blank_values=True), url)
        self.connections[namespace] = connection
        self.connected[namespace] = False
        server.local_send(connection, _Packet.CONNECT, namespace, None, auth)
        self._pump()

    def _cookie_header(self) -> str:
        jar = getattr(self.flask_test_client, "_cookies", None) or getattr(self.flask_test_client, "cookie_jar", None)
        if not jar:
            return ""
        cookies = jar.values() if isinstance(jar, dict) else jar
        return "; ".join(f"{cookie.key if hasattr(cookie, 'key') else cookie.name}={cookie.value}" for cookie in cookies)

    def disconnect(self, namespace: Optional[str] = None):
        """Disconnect from a namespace."""
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        connection = self.connections[namespace]
        server = self._server()
        server.local_send(connection, _Packet.DISCONNECT, namespace, None, None)
        self.connected[namespace] = False
        self._pump()
        server.local_close(connection)
        self.connections.pop(namespace, None)
        self.socketio._error_sinks.pop(self.sids.get(namespace), None)
        self._pump()

    def is_connected(self, namespace: Optional[str] = None) -> bool:
        self._pump()
        return self.connected.get(namespace or "/", False)

    def emit(self, event: str, *args, callback: bool = False, namespace: Optional[str] = None, **kwargs):
        """Emit an event; with ``callback=True``, returns the acknowledgement (one value, or a
        list of several, ``[]`` for none)."""
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        ack_id = next(self._ack_ids) if callback else None
        self._server().local_send(self.connections[namespace], _Packet.EVENT, namespace, ack_id, [event, *args])
        self._pump()
        if ack_id is not None:
            reply = self.acks.pop(ack_id, None)
            if reply is not None:
                return reply[0] if len(reply) == 1 else reply
        return None

    def send(self, data, json: bool = False, callback: bool = False, namespace: Optional[str] = None):
        """Send a ``message`` (or ``json``) event."""
        return self.emit("json" if json else "message", data, callback=callback, namespace=namespace)

    def get_received(self, namespace: Optional[str] = None) -> List[dict]:
        """The events received on a namespace since the last call:
        ``[{'name': ..., 'args': ..., 'namespace': ...}]``."""
        namespace = namespace or "/"
        if not self.is_connected(namespace):
            raise RuntimeError("not connected")
        received = [packet for packet in self.queue if packet["namespace"] == namespace]
        self.queue = [packet for packet in self.queue if packet["namespace"] != namespace]
        return received
