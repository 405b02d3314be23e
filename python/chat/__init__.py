"""chat: Flask-SocketIO's API on a C++ Socket.IO server.

Move a Flask-SocketIO app over by changing its import::

    from chat import SocketIO, emit, send, join_room, leave_room

Everything below behaves as its Flask-SocketIO namesake; the README lists what differs.
"""
from __future__ import annotations

from typing import Any, List, Optional

from . import _context, _core
from .exceptions import ConnectionRefusedError
from .namespace import Namespace
from .remote_socket import RemoteSocket
from .server import SocketIO, _take
from .test_client import SocketIOTestClient

__all__ = [
    "SocketIO", "Namespace", "SocketIOTestClient", "RemoteSocket", "ConnectionRefusedError", "emit", "send", "call",
    "join_room", "leave_room", "close_room", "rooms", "disconnect", "request",
]

__version__ = _core.__version__


def _target(function: str, sid: Optional[str], namespace: Optional[str], needs_sid: bool = True):
    """The SocketIO, sid and namespace a module-level function acts on: the running handler's,
    or, outside a handler (an HTTP route, a background task), those given, with the SocketIO of
    the current Flask app (Flask-SocketIO's rule)."""
    context = _context.current_or_none()
    if context is not None:
        return context.socketio, sid or context.sid, namespace or context.namespace
    socketio = None
    try:
        import flask

        if flask.has_app_context():
            socketio = flask.current_app.extensions.get("socketio")
    except ImportError:  # pragma: no cover - Flask is optional
        pass
    if socketio is None:
        raise RuntimeError("%s() outside a Socket.IO handler needs a Flask app context (with the app "
                           "SocketIO was given) to find the server; or call the SocketIO object's "
                           "methods" % function)
    if needs_sid and sid is None:
        raise RuntimeError("%s() outside a Socket.IO handler needs the client's sid: pass sid=" % function)
    return socketio, sid, namespace or "/"


def emit(event: str, *args, **kwargs) -> None:
    """Emit an event from a handler: to the sender by default; ``broadcast=True`` to the whole
    namespace (sender included); ``to``/``room`` a sid, room or list; ``include_self=False`` or
    ``skip_sid`` to leave clients out; ``namespace`` another namespace; ``callback`` to get each
    recipient's acknowledgement. Outside a handler (inside a Flask app context) it needs ``to``
    or ``broadcast=True``."""
    _take(kwargs, "emit", ("namespace", "broadcast", "to", "room", "include_self", "skip_sid", "callback",
                           "ignore_queue", "volatile", "compress"))
    to = kwargs.get("to")
    if to is None:
        to = kwargs.get("room")
    broadcast = kwargs.get("broadcast", False)
    socketio, sid, namespace = _target("emit", None, kwargs.get("namespace"), needs_sid=False)
    if to is None and not broadcast:
        if sid is None:
            raise RuntimeError("emit() outside a Socket.IO handler needs to= (or broadcast=True)")
        to = sid
    socketio.emit(event, *args, namespace=namespace, to=to, include_self=kwargs.get("include_self", True),
                  skip_sid=kwargs.get("skip_sid"), callback=kwargs.get("callback"),
                  ignore_queue=kwargs.get("ignore_queue", False), volatile=kwargs.get("volatile", False),
                  compress=kwargs.get("compress", True))


def send(message: Any, **kwargs) -> None:
    """Send a ``message`` event (``json=True``: a ``json`` event), routed like ``emit``."""
    json = kwargs.pop("json", False)
    emit("json" if json else "message", message, **kwargs)


def call(event: str, *args, **kwargs):
    """Emit to a client (the sender by default) and wait for its acknowledgement."""
    _take(kwargs, "call", ("namespace", "to", "room", "timeout", "ignore_queue"))
    socketio, sid, namespace = _target("call", kwargs.pop("to", None) or kwargs.pop("room", None),
                                       kwargs.pop("namespace", None))
    return socketio.call(event, *args, to=sid, namespace=namespace, **kwargs)


def join_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Put the sender (or ``sid``) in a room."""
    socketio, sid, namespace = _target("join_room", sid, namespace)
    socketio._ensure_server().join_room(namespace, sid, room)


def leave_room(room: str, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
    """Take the sender (or ``sid``) out of a room."""
    socketio, sid, namespace = _target("leave_room", sid, namespace)
    socketio._ensure_server().leave_room(namespace, sid, room)


def close_room(room: str, namespace: Optional[str] = None) -> None:
    """Remove everyone from a room."""
    socketio, _, namespace = _target("close_room", None, namespace, needs_sid=False)
    socketio.close_room(room, namespace=namespace)


def rooms(sid: Optional[str] = None, namespace: Optional[str] = None) -> List[str]:
    """The rooms of the sender (or ``sid``), its own sid room included."""
    socketio, sid, namespace = _target("rooms", sid, namespace)
    return socketio._ensure_server().rooms(namespace, sid)


def disconnect(sid: Optional[str] = None, namespace: Optional[str] = None, silent: bool = False) -> None:
    """Disconnect the sender (or ``sid``) from the namespace; its disconnect handler runs with
    reason ``'server disconnect'``. (``silent`` is deprecated in Flask-SocketIO and does
    nothing there either.)"""
    socketio, sid, namespace = _target("disconnect", sid, namespace)
    socketio._ensure_server().disconnect(namespace, sid)


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
