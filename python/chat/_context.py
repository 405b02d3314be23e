"""The per-handler context that the module-level functions (emit, send, join_room, ...) read."""
from __future__ import annotations

import contextvars
from dataclasses import dataclass, field
from typing import Any, Optional

_current: contextvars.ContextVar[Optional["HandlerContext"]] = contextvars.ContextVar("chat_context", default=None)


class QueryArgs(dict):
    """A read-only view of a query string: ``args['k']`` is the first value, ``getlist`` all."""

    def __init__(self, pairs):
        super().__init__()
        self._pairs = list(pairs)
        for key, value in self._pairs:
            self.setdefault(key, value)

    def getlist(self, key):
        return [value for name, value in self._pairs if name == key]

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's name
        if key not in self:
            return default
        value = self[key]
        return type(value) if type is not None else value


class Headers(dict):
    """Request headers, matched without regard to case."""

    def __init__(self, pairs):
        super().__init__()
        for key, value in pairs:
            super().setdefault(key.lower(), value)

    def __getitem__(self, key):
        return super().__getitem__(key.lower())

    def __contains__(self, key):
        return super().__contains__(key.lower())

    def get(self, key, default=None):
        return super().get(key.lower(), default)


@dataclass
class Request:
    """What ``request`` holds inside a handler when no Flask app provides a request context."""

    sid: str
    namespace: str
    event: Optional[dict]
    args: QueryArgs
    headers: Headers
    remote_addr: str
    path: str = "/socket.io/"
    #: connection state recovery gave this client its socket back (same sid, rooms, missed events)
    recovered: bool = False


@dataclass
class HandlerContext:
    socketio: Any
    namespace: str
    sid: str
    request: Any = field(default=None)


def current() -> HandlerContext:
    context = _current.get()
    if context is None:
        raise RuntimeError("Working outside of a Socket.IO handler context.")
    return context


def current_or_none() -> Optional[HandlerContext]:
    return _current.get()
