"""chat: Flask-SocketIO's API on a C++ Socket.IO server.

Move a Flask-SocketIO app over by changing its import::

    from chat import SocketIO, emit, send, join_room, leave_room

Everything below behaves as its Flask-SocketIO namesake; the README lists what differs.
"""
from __future__ import annotations

from typing import Any, List, Optional

from . import _context
from .exceptions import ConnectionRefusedError
from .namespace import Namespace
from .server import SocketIO
from .test_client import SocketIOTestClient

__all__ = [
    "SocketIO", "Namespace", "SocketIOTestClient", "ConnectionRefusedError", "emit", "send", "call",
    "join_room", "leave_room", "close_room", "rooms", "disconnect", "request",
]

__version__ = "0.1.0"


def emit(event: str, *args, **kwargs) -> None:
    """Emit an event from a handler: to the sender by default; ``broadcast=True`` to the whole
    namespace (sender included); ``to``/``room`` a sid, room or list; ``include_self=False`` or
    ``skip_sid`` to leave clients out; ``namespace`` another namespace; ``callback`` to get the
    client's acknowledgement."""
    context = _context.current()
    namespace = kwargs.pop("namespace", None) or context.namespace
    broadcast = kwargs.pop("broadcast", False)
    to = kwargs.pop("to", None)
    room = kwargs.pop("room", None)
    to = to if to is not None else room
    if to is None and not broadcast:
        to = context.sid
    context.socketio.emit(event, *args, namespace=namespace, to=to,
                          include_self=kwargs.pop("include_self", True), skip_sid=kwargs.pop("skip_sid", None),
                          callback=kwargs.pop("callback", None))


def send(message: Any, **kwargs) -> None:
    """Send a ``message`` event (``json=True``: a ``json`` event), routed like ``emit``."""
    json = kwargs.pop("json", False)
    emit("json" if json else "message", message, **kwargs)


def call(event: str, *args, **kwargs):
    """Emit to a client (the sender by default) and wait for its acknowledgement."""
    context = _context.current()
    kwargs.setdefault("to", context.sid)
    kwargs.setdefault("namespace", context.namespace)
    return context.socketio.call(event, *args, **kwargs)


def join_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Put the sender (or ``sid``) in a room."""
    context = _context.current()
    context.socketio._ensure_server().join_room(namespace or context.namespace, sid or context.sid, room)


def leave_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Take the sender (or ``sid``) out of a room."""
    context = _context.current()
    context.socketio._ensure_server().leave_room(namespace or context.namespace, sid or context.sid, room)


def close_room(room: str, namespace: Optional[str] = None) -> None:
    """Remove everyone from a room."""
    context = _context.current()
    context.socketio.close_room(room, namespace=namespace or context.namespace)


def rooms(sid: Optional[str] = None, namespace: Optional[str] = None) -> List[str]:
    """The rooms of the sender (or ``sid``), its own sid room included."""
    context = _context.current()
    return context.socketio._ensure_server().rooms(namespace or context.namespace, sid or context.sid)


def disconnect(sid: Optional[str] = None, namespace: Optional[str] = None, silent: bool = False) -> None:
    """Disconnect the sender (or ``sid``) from the namespace; its disconnect handler runs with
    reason ``'server disconnect'``."""
    context = _context.current()
    context.socketio._ensure_server().disconnect(namespace or context.namespace, sid or context.sid)


class _RequestProxy:
    """``request`` inside a handler: Flask's request (with ``sid``, ``namespace`` and ``event``)
    when the app is a Flask app, else chat's own with ``sid``, ``namespace``, ``event``,
    ``args`` and ``headers``."""

    def _target(self):
        context = _context.current_or_none()
        if context is not None and context.request is not None:
            return context.request
        try:
            import flask

            if flask.has_request_context():
                return flask.request._get_current_object()
        except ImportError:  # pragma: no cover - Flask is optional
            pass
        raise RuntimeError("Working outside of a Socket.IO handler context.")

    def __getattr__(self, name):
        return getattr(self._target(), name)

    def __setattr__(self, name, value):
        setattr(self._target(), name, value)


request = _RequestProxy()
