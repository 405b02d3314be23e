"""Class-based namespaces: ``on_<event>`` methods handle events."""
from __future__ import annotations

from typing import Optional


class Namespace:
    """Subclass and define ``on_connect(self[, auth])``, ``on_disconnect(self[, reason])`` and
    ``on_<event>(self, *args)``; register with ``socketio.on_namespace(MyNamespace('/chat'))``.
    A handler registered with ``@socketio.on`` for the same event wins."""

    def __init__(self, namespace: Optional[str] = None):
        self.namespace = namespace or "/"
        self.socketio = None

    def _set_socketio(self, socketio):
        self.socketio = socketio

    def trigger_event(self, event: str, *args):
        handler_name = "on_" + event
        if hasattr(self, handler_name):
            return getattr(self, handler_name)(*args)

    def emit(self, event, data=None, room=None, include_self=True, namespace=None, callback=None):
        """Emit through the server: with no ``room``, to the whole namespace."""
        args = () if data is None else (data,)
        return self.socketio.emit(event, *args, room=room, include_self=include_self,
                                  namespace=namespace or self.namespace, callback=callback)

    def send(self, data, room=None, include_self=True, namespace=None, callback=None):
        """Send a ``message`` event through the server: with no ``room``, to everyone."""
        return self.socketio.send(data, to=room, include_self=include_self,
                                  namespace=namespace or self.namespace, callback=callback)

    def close_room(self, room, namespace=None):
        return self.socketio.close_room(room=room, namespace=namespace or self.namespace)
