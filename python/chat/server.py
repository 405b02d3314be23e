"""``SocketIO``: Flask-SocketIO's API on chat's C++ server."""
from __future__ import annotations

import datetime
import json as json_module_std
import itertools
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from typing import Any, Callable, Dict, List, Optional

from . import _context, _core, _options, _tls
from ._context import HandlerContext, Headers, QueryArgs, Request
from .exceptions import ConnectionRefusedError
from .remote_socket import RemoteSocket

_default_logger = logging.getLogger("chat")


class _Reason:
    """Disconnect reasons, as Flask-SocketIO 5.5's ``socketio.reason``."""

    SERVER_DISCONNECT = "server disconnect"
    CLIENT_DISCONNECT = "client disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


# chat's reasons (Node's, as the C++ server has them) as python-socketio names them: every one
# (the test suite checks none is missing).
_REASONS = {
    _core.DisconnectReason.server_namespace_disconnect: _Reason.SERVER_DISCONNECT,
    _core.DisconnectReason.client_namespace_disconnect: _Reason.CLIENT_DISCONNECT,
    _core.DisconnectReason.ping_timeout: _Reason.PING_TIMEOUT,
    _core.DisconnectReason.transport_close: _Reason.TRANSPORT_CLOSE,
    _core.DisconnectReason.transport_error: _Reason.TRANSPORT_ERROR,
    _core.DisconnectReason.parse_error: _Reason.TRANSPORT_ERROR,
    _core.DisconnectReason.forced_server_close: _Reason.SERVER_DISCONNECT,
    _core.DisconnectReason.server_shutting_down: _Reason.SERVER_DISCONNECT,
    _core.DisconnectReason.forced_close: _Reason.TRANSPORT_CLOSE,
}


def _payload(args: tuple) -> list:
    """Flask-SocketIO's payload rule: one positional value is one argument, except a tuple,
    whose elements are the arguments (several positional values are taken as several)."""
    if len(args) == 1 and isinstance(args[0], tuple):
        return list(args[0])
    return list(args)


def _unpack(reply: list):
    """An acknowledgement's arguments as ``call`` returns them: the value, a tuple when the client
    sent several, ``None`` when none."""
    if len(reply) == 0:
        return None
    return reply[0] if len(reply) == 1 else tuple(reply)


def _timeout(value, function: str) -> float:
    value = float(value)
    if not value > 0:
        raise ValueError("%s(): timeout must be positive (an answer may never come)" % function)
    return value


def _as_list(value) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


def _take(kwargs: dict, function: str, allowed) -> None:
    """Refuses keyword arguments a function does not take (rather than ignoring them)."""
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError("%s() got unexpected keyword argument%s %s" % (
            function, "s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown))))


# A callback registered by emit(callback=...) lives this long at most when its clients never
# answer (python-socketio keeps it until they disconnect; a bound keeps memory bounded).
_CALLBACK_TIMEOUT = 3600.0

# How long the message queue may take: to answer at start, to take a write-only emit, and
# (Node's requestsTimeout) for the other servers to answer a request.
_REQUESTS_TIMEOUT = 5.0


def _channel(options) -> str:
    """The cluster's channel prefix: ``channel``, else Node's "socket.io" (so that chat's and
    Node's servers and emitters share a cluster by default)."""
    return options.get("channel") or "socket.io"


def _ping(url: str) -> None:
    """A clear error at start when the message queue does not answer."""
    try:
        _core.redis_ping(url, _REQUESTS_TIMEOUT)
    except RuntimeError as error:
        raise ConnectionError("message_queue=%r: %s" % (url, error)) from None


def _open_emitter(options):
    url = options["message_queue"]
    _ping(url)
    return _core.RedisEmitter(url, _channel(options))


# How long run() waits, after stopping the server, for the reloader's server thread to return.
_SERVE_THREAD_EXIT = 5.0

_RUN_ARGUMENTS = ("debug", "use_reloader", "reloader_options", "extra_files", "log_output",
                  "allow_unsafe_werkzeug", "workers")

# What a worker process inherits from its supervisor and must never tear down: objects whose
# threads stayed behind in the supervisor. Kept referenced, so they are never destroyed.
_INHERITED: list = []


def _stop_on_sigterm(signum, frame):  # noqa: ARG001 - a signal handler's signature
    raise KeyboardInterrupt


def _serve_until_stopped(server) -> None:
    """Starts `server` (a _core.Server) and waits, in slices short enough for Ctrl-C (or, in a
    worker, SIGTERM) to be seen, until it stops; stops it then."""
    server.start()
    try:
        while not server.wait(0.1):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


class SocketIO:
    """Create a Socket.IO server, optionally attached to a Flask (any WSGI) app.

    :param app: the Flask application instance, or ``None`` to call ``init_app`` later.
    :param kwargs: Flask-SocketIO's options, with its defaults: ``cors_allowed_origins``
        (``None``: only pages of the server's own origin; ``'*'``; an origin or a list; ``[]``:
        no check; or a function of ``(origin[, environ])``), ``cors_credentials``,
        ``ping_interval`` (seconds, or ``(interval, grace)``), ``ping_timeout``,
        ``max_http_buffer_size``, ``allow_upgrades``, ``transports``, ``cookie``,
        ``http_compression`` (default ``True``), ``compression_threshold`` (1024), ``path``,
        ``namespaces`` (a list or ``'*'``), ``always_connect``, ``manage_session``,
        ``async_handlers``, ``logger``, ``json``, ``serializer`` (``'default'``: JSON;
        ``'msgpack'``: socket.io-msgpack-parser's format, for clients with that parser or
        python-socketio's ``Client(serializer='msgpack')``); Node's ``upgrade_timeout`` and
        ``connect_timeout`` (seconds), and ``allow_eio3`` (Node's ``allowEIO3``: let
        socket.io-client 2.x clients in, default ``False``); and chat's own ``workers`` (handler
        threads, default 16),
        ``client_bundle_dir``, ``handshake_timeout`` (seconds a new connection may take to
        send its request, default 5), ``max_connections`` (sessions at once, default 100,000;
        0: no limit), ``max_sessions_per_ip`` (default 0: no limit), ``handshake_rate_per_ip``
        (``(per_second, burst)``, default none) and ``trusted_proxies`` (addresses and networks
        whose X-Forwarded-For the per-address limits believe), ``max_pending_acks`` (per client,
        default 10,000) and ``max_queued_events`` (a client's events waiting for a handler
        thread, default 1,000: past it the client is disconnected); see the README's limits.
        ``connection_state_recovery={'max_disconnection_duration': 120, 'skip_middlewares':
        True, 'max_kept_bytes': 64 << 20}`` (or ``True`` for these defaults; off by default)
        gives a socket.io-client 4.6+ that lost its connection its sid, rooms and missed events
        back; ``request.recovered`` tells a handler. Every event then carries an offset as its
        last argument, which python-socketio's client hands to handlers as one more argument.
        ``message_queue='redis://[[user]:password@]host[:port][/db]'`` puts the server in a
        cluster through Redis, in the format of Node's @socket.io/redis-adapter (chat's and Node's
        servers and emitters share it), with ``channel`` as the channels' prefix (default
        ``'socket.io'``, Node's); without an app, ``SocketIO(message_queue=...)`` is write-only
        (``write_only``): it emits into the cluster from a worker. A queue that does not answer
        is a ``ConnectionError`` when the server starts (or the first write-only emit). An option
        chat cannot honour (a ``kafka://`` queue, ``async_mode='eventlet'``,
        ``serializer='cbor'``, ``initial_packet`` with ``serializer='msgpack'``, ...) raises
        ``ValueError`` naming it; an unknown name raises ``TypeError``. Node's Engine.IO options python-engineio lacks come under snake_case
        names: ``per_message_deflate``, ``allow_request`` (a function of the handshake's environ:
        ``True``, ``False`` or a refusal message), ``initial_packet``, ``initial_headers`` and
        ``headers`` (a dict, or a function of the environ returning one), ``cors_methods``,
        ``cors_allowed_headers``, ``cors_exposed_headers``, ``cors_max_age`` (see the README).

    Handlers run on a pool of worker threads, never on the server's network thread; one
    client's events run in order, one at a time (``async_handlers=True``: each in its own turn,
    in parallel, as python-socketio does).
    """

    reason = _Reason

    def __init__(self, app=None, **kwargs):
        _options.check(kwargs)
        self.app = None
        self.async_mode = "threading"
        self.manage_session = True
        self.server_options: Dict[str, Any] = {}
        # Keyed by namespace: a name, or a compiled pattern (a parent namespace's).
        self.handlers: Dict[Any, Dict[str, Callable]] = {}
        # Node's any-listeners, by namespace: incoming and outgoing, each in calling order.
        self._any_listeners: Dict[str, List[Callable]] = {}
        self._middlewares: Dict[str, List[Callable]] = {}
        self._outgoing_listeners: Dict[str, List[Callable]] = {}
        self.namespace_handlers: Dict[str, Any] = {}
        self.exception_handlers: Dict[str, Callable] = {}
        self.server_side_handlers: Dict[str, Callable] = {}
        self.default_exception_handler: Optional[Callable] = None
        self.server = None  # the _core.Server, made when the server first starts
        self._supervisor = None  # run(workers=N)'s _core.WorkerProcesses, while it runs
        self._supervisor_pid: Optional[int] = None  # in a worker process: its supervisor
        self._instrumentation: Optional[dict] = None  # instrument()'s arguments, until the server is made
        self.logger = _default_logger
        self._log_events = False
        self._log_requests = False
        self._json: Optional[_options.JsonCodec] = None
        self._lock = threading.RLock()
        self._environs: Dict[tuple, dict] = {}
        self._callbacks: Dict[int, tuple] = {}
        self._reply_callbacks: Dict[int, tuple] = {}  # server_side_emit(callback=...)'s
        self._callback_ids = itertools.count(1)
        self._stopped = threading.Event()
        # Where a handler's exception goes, by sid, instead of the log: a test client's own
        # handlers hand it back to the test, as Flask-SocketIO's synchronous test client does.
        self._error_sinks: Dict[str, Callable[[BaseException], None]] = {}
        # SocketIO(message_queue=...) without an app: a write-only emitter into the cluster, for
        # a worker process (Flask-SocketIO's rule); init_app(app) later makes it a server. The
        # emitter connects on first use.
        self.write_only = False
        self._emitter = None
        if app is not None:
            self.init_app(app, **kwargs)
        else:
            self._merge_options(kwargs)
            self.write_only = bool(self.server_options.get("message_queue"))

    # ---- set-up ----

    def init_app(self, app, **kwargs):
        """Attach the app and merge options (Flask-SocketIO's delayed initialisation)."""
        _options.check(kwargs)
        self.write_only = app is None and bool(kwargs.get("message_queue") or self.server_options.get("message_queue"))
        if app is not None:
            self._emitter = None  # a server from now on
            self.app = app
            extensions = getattr(app, "extensions", None)
            if isinstance(extensions, dict):
                extensions["socketio"] = self
        self._merge_options(kwargs)

    def _merge_options(self, kwargs):
        if self.server is not None and kwargs:
            raise RuntimeError("the server has started: options cannot change any more")
        self.server_options.update(kwargs)
        self.manage_session = bool(self.server_options.get("manage_session", True))
        logger = self.server_options.get("logger", False)
        if isinstance(logger, bool):
            self.logger = _default_logger
            if logger and self.logger.level == logging.NOTSET:
                # python-socketio's logger=True: INFO to stderr when the app configured nothing.
                self.logger.setLevel(logging.INFO)
                if not self.logger.handlers:
                    self.logger.addHandler(logging.StreamHandler())
        else:
            self.logger = logger
        self._log_events = logger is not False
        module = self.server_options.get("json")
        self._json = None if module is None or module is json_module_std else _options.JsonCodec(module, self.app)

    def _core_options(self):
        """The C++ server's options, and the host's own settings (keyword arguments of
        _core.Server)."""
        core, host = _options.core_options(self.server_options)
        bundle = self._client_bundle_dir()
        if bundle:
            core.client_bundle_dir = bundle
        # The namespaces whose hooks go to Python; "*" among them accepts any other.
        host["hook_namespaces"] = self._namespace_names()
        host["hook_patterns"] = [pattern.pattern for pattern in self._namespace_patterns()]
        return core, host

    def _namespace_patterns(self) -> list:
        """The parent namespaces' patterns, in the order their first handler was registered
        (the server asks them in that order, and so does _handler_for)."""
        return [name for name in self.handlers if isinstance(name, re.Pattern)]

    def _parent_of(self, namespace: str):
        """The first pattern that matches a namespace's whole name, or None."""
        for pattern in self._namespace_patterns():
            if pattern.fullmatch(namespace):
                return pattern
        return None

    def _client_bundle_dir(self) -> Optional[str]:
        """Where socket.io-client's dist/ is, to serve /socket.io/socket.io.js: the
        ``client_bundle_dir`` option, else $CHAT_CLIENT_BUNDLE_DIR, else a node_modules found
        from the working directory or the app's root upwards."""
        explicit = self.server_options.get("client_bundle_dir") or os.environ.get("CHAT_CLIENT_BUNDLE_DIR")
        if explicit:
            return str(explicit)
        starts = [os.getcwd()]
        root = getattr(self.app, "root_path", None)
        if root:
            starts.append(root)
        for start in starts:
            directory = os.path.abspath(start)
            while True:
                candidate = os.path.join(directory, "node_modules", "socket.io-client", "dist")
                if os.path.isfile(os.path.join(candidate, "socket.io.js")):
                    return candidate
                parent = os.path.dirname(directory)
                if parent == directory:
                    break
                directory = parent
        return None

    def _namespace_names(self) -> List[str]:
        names = {name for name in self.handlers if isinstance(name, str)}
        names |= set(self.namespace_handlers) | set(self.server_side_handlers) | {"/"}
        listed = self.server_options.get("namespaces")
        if listed == "*" or "*" in names:
            names.add("*")
        elif listed:
            names.update(_as_list(listed))
        return sorted(names)

    def _ensure_server(self):
        with self._lock:
            if self.server is None:
                core, host = self._core_options()
                # The app's routes are served whoever makes the server first: an emit from a
                # background task started before run() must not leave them out.
                server = _core.Server(core, _Dispatcher(self), http=self.app is not None, **host)
                for name, install in (("initial_headers", server.on_initial_headers), ("headers", server.on_headers)):
                    if self.server_options.get(name) is not None:
                        install(_options.headers_hook(self.server_options[name]))
                if any(self._outgoing_listeners.values()):
                    server.set_outgoing_listeners(True)
                queue = self.server_options.get("message_queue")
                if queue:
                    _ping(queue)
                    server.join_cluster(queue, _channel(self.server_options), _REQUESTS_TIMEOUT)
                if self._instrumentation is not None:
                    server.instrument(**self._instrumentation)
                self.server = server
            return self.server

    # ---- registration ----

    def on(self, message: str, namespace=None):
        """Decorator registering a handler for an event (``'connect'``, ``'disconnect'``,
        ``'message'``, ``'json'``, ``'*'`` for any event, or your own). Returns the function.

        ``namespace`` may be a compiled regular expression (``re.compile(r'^/room-\\d+$')``,
        Node's ``io.of(regex)``): a client may then join any namespace whose whole name it
        matches, and these handlers serve it (``request.namespace`` is the name joined). The
        server reads the pattern with ECMAScript's syntax, which the common forms share with
        Python's; one it cannot read is a ValueError when the server starts."""
        namespace = namespace or "/"
        if not isinstance(namespace, (str, re.Pattern)):
            raise TypeError("namespace: a name such as '/chat', or a compiled regular expression")

        def decorator(handler):
            if self.server is not None and namespace not in self._namespace_names():
                self.logger.warning("chat: handlers for new namespace %s registered after the server started", namespace)
            self.handlers.setdefault(namespace, {})[message] = handler
            return handler

        return decorator

    def on_event(self, message: str, handler: Callable, namespace: Optional[str] = None):
        """Register ``handler`` for ``message`` (the non-decorator form of ``on``)."""
        self.on(message, namespace=namespace)(handler)

    def event(self, *args, **kwargs):
        """Decorator naming the event after the function: ``@socketio.event`` or
        ``@socketio.event(namespace='/chat')``."""
        if len(args) == 1 and not kwargs and callable(args[0]):
            return self.on(args[0].__name__)(args[0])

        def set_handler(handler):
            return self.on(handler.__name__, *args, **kwargs)(handler)

        return set_handler

    def on_error(self, namespace: Optional[str] = None):
        """Decorator registering the error handler of a namespace: it gets the exception, and
        what it returns is the event's acknowledgement."""
        namespace = namespace or "/"

        def decorator(exception_handler):
            if not callable(exception_handler):
                raise ValueError("exception_handler must be callable")
            self.exception_handlers[namespace] = exception_handler
            return exception_handler

        return decorator

    def on_error_default(self, exception_handler):
        """Decorator registering the error handler of namespaces without their own."""
        if not callable(exception_handler):
            raise ValueError("exception_handler must be callable")
        self.default_exception_handler = exception_handler
        return exception_handler

    def on_server_side_emit(self, namespace: Optional[str] = None):
        """Decorator registering the handler of the events other servers of the cluster send
        to ``namespace`` (default ``'/'``) with ``server_side_emit`` (what Node's servers
        listen for with ``io.on(event, ...)``). It is called as ``handler(event, *args)`` on the worker
        threads, one at a time per namespace; when the sender asked for replies, what it
        returns is this server's reply (``None`` included). A namespace without one does not
        reply, and a sender waiting for replies then waits out its timeout (as with Node).
        ``@socketio.on_server_side_emit`` without parentheses registers for ``'/'``."""
        if callable(namespace):
            return self.on_server_side_emit()(namespace)
        namespace = namespace or "/"

        def decorator(handler):
            if self.server is not None and namespace not in self._namespace_names():
                self.logger.warning("chat: server-side emit handler for new namespace %s registered after the "
                                    "server started", namespace)
            self.server_side_handlers[namespace] = handler
            return handler

        return decorator

    # ---- Node's any-listeners (socket.onAny and kin, for every client of a namespace) ----

    def on_any(self, listener: Optional[Callable] = None, namespace: Optional[str] = None):
        """Node's ``socket.onAny`` for every client of a namespace: ``listener(event, *args)``
        sees each event a client sends, before its handler and whether or not it has one, in the
        handler's context (``request.sid``). Listeners run in the order added; one that raises
        is logged and the others and the handler still run. Usable as a decorator."""
        return self._add_listener(self._any_listeners, listener, namespace, first=False)

    def prepend_any(self, listener: Optional[Callable] = None, namespace: Optional[str] = None):
        """``on_any``, but the listener runs before those already added (Node's ``prependAny``)."""
        return self._add_listener(self._any_listeners, listener, namespace, first=True)

    def off_any(self, listener: Optional[Callable] = None, namespace: Optional[str] = None) -> None:
        """Removes a listener added by ``on_any``/``prepend_any``; without one, every listener of
        the namespace (Node's ``offAny``)."""
        self._remove_listener(self._any_listeners, listener, namespace)

    def on_any_outgoing(self, listener: Optional[Callable] = None, namespace: Optional[str] = None):
        """Node's ``socket.onAnyOutgoing`` for every client of a namespace: ``listener(event,
        *args)`` sees each event sent to a client (its own and broadcasts alike; not
        acknowledgements) on a worker thread, in that client's context and order, after it left.
        It applies to clients that connect once a first outgoing listener exists (Node adds it
        to one socket at a time): add it before ``run()`` to see every client."""
        added = self._add_listener(self._outgoing_listeners, listener, namespace, first=False)
        self._outgoing_listeners_changed()
        return added

    def prepend_any_outgoing(self, listener: Optional[Callable] = None, namespace: Optional[str] = None):
        """``on_any_outgoing``, but the listener runs before those already added."""
        added = self._add_listener(self._outgoing_listeners, listener, namespace, first=True)
        self._outgoing_listeners_changed()
        return added

    def off_any_outgoing(self, listener: Optional[Callable] = None, namespace: Optional[str] = None) -> None:
        """Removes an outgoing listener; without one, every outgoing listener of the namespace."""
        self._remove_listener(self._outgoing_listeners, listener, namespace)
        self._outgoing_listeners_changed()

    def use(self, middleware: Optional[Callable] = None, namespace: Optional[str] = None):
        """Node's ``socket.use`` for every client of a namespace: ``middleware(event, *args)``
        runs before the event's handler (after the any-listeners), in the handler's context, in
        the order added. Returning ``False`` drops the event: no handler runs and an
        acknowledgement it asked for is not sent (the client's own timeout tells it, as in Node).
        Raising drops it too, and hands the exception to the namespace's ``on_error`` handler (or
        logs it), as Node's ``next(err)`` emits ``error`` on the socket. Anything else lets the
        event through. Usable as a decorator."""
        return self._add_listener(self._middlewares, middleware, namespace, first=False)

    def _add_listener(self, table, listener, namespace, first):
        namespace = namespace or "/"
        if listener is None:  # used as a decorator: @socketio.on_any(namespace='/chat')
            return lambda function: self._add_listener(table, function, namespace, first)
        if not callable(listener):
            raise TypeError("a listener is a function of (event, *args)")
        with self._lock:
            listeners = list(table.get(namespace, []))
            listeners.insert(0, listener) if first else listeners.append(listener)
            table[namespace] = listeners  # replaced, never changed: workers iterate a snapshot
        return listener

    def _remove_listener(self, table, listener, namespace):
        namespace = namespace or "/"
        with self._lock:
            if listener is None:
                table.pop(namespace, None)
            else:
                table[namespace] = [known for known in table.get(namespace, []) if known is not listener]

    def _outgoing_listeners_changed(self):
        if self.server is not None:
            self.server.set_outgoing_listeners(any(self._outgoing_listeners.values()))

    def _notify(self, listeners, namespace, sid, event, args):
        for listener in listeners:
            try:
                self._run_handler(listener, namespace, sid, event, [event, *args])
            except Exception:  # noqa: BLE001 - a listener's failure is logged, the rest go on
                self.logger.exception("chat: any-listener of %s failed on %r", namespace, event)

    def instrument(self, auth=None, mode: str = "development", read_only: bool = False, server_id=None,
                   namespace: str = "/admin", server_stats_interval: float = 2) -> None:
        """Answer the Socket.IO Admin UI (https://admin.socket.io, or the page of the npm package
        @socket.io/admin-ui) on ``namespace``: it shows this server, its sockets, rooms and events,
        and can make sockets join and leave rooms and disconnect them (python-socketio's
        ``Server.instrument``, with its arguments). Call it before the server starts.

        :param auth: required: ``False`` (no login), a dict the UI's ``{"username": ...,
            "password": ...}`` must equal, a list of such dicts, or a function of the UI's auth
            dict returning whether it may connect (it runs on the server's network thread: keep
            it short).
        :param mode: ``"development"`` (every socket, room and event, as it happens) or
            ``"production"`` (only the periodic statistics).
        :param read_only: refuse the UI's actions (join, leave, disconnect, emit).
        :param server_id: the name the UI shows for this server (default: the host name).
        :param server_stats_interval: seconds between two statistics messages.
        """
        if auth is None:
            raise ValueError("auth must be specified (False to turn the Admin UI's login off)")
        if mode not in ("development", "production"):
            raise ValueError("mode must be 'development' or 'production'")
        if not server_stats_interval or server_stats_interval <= 0:
            raise ValueError("server_stats_interval must be a positive number of seconds")
        if isinstance(auth, dict):
            auth = [auth]
        elif not (auth is False or isinstance(auth, list) or callable(auth)):
            raise ValueError("auth must be False, a dict, a list of dicts or a function")
        arguments = dict(auth=auth, mode=mode, read_only=bool(read_only), server_id=server_id or "",
                         namespace=namespace if namespace.startswith("/") else "/" + namespace,
                         server_stats_interval=float(server_stats_interval))
        with self._lock:
            if self._instrumentation is not None:
                raise RuntimeError("instrument() was called already")
            self._instrumentation = arguments
            if self.server is not None:
                self.server.instrument(**arguments)

    def on_namespace(self, namespace_handler):
        """Register a class-based namespace (a ``chat.Namespace`` instance)."""
        from .namespace import Namespace

        if not isinstance(namespace_handler, Namespace):
            raise ValueError("Not a namespace instance.")
        namespace_handler._set_socketio(self)
        self.namespace_handlers[namespace_handler.namespace] = namespace_handler

    # ---- emitting (any thread) ----

    def emit(self, event: str, *args, **kwargs):
        """Emit an event; with no ``to``, to every client of the namespace.

        :param namespace: default ``'/'``.
        :param to: (or ``room``) a sid, a room, or a list of them.
        :param include_self: ``False`` leaves out the client whose handler is running.
        :param skip_sid: a sid or a list of sids to leave out.
        :param callback: called with each recipient's acknowledgement, once per recipient
            that answers (inside the handler's context when emitted from a handler).
        :param ignore_queue: ``True`` reaches this server's clients only, not the other servers of a
            ``message_queue`` cluster.
        :param volatile: ``True`` skips each client whose connection cannot take the event at
            once (Node's ``volatile``): for data a backlog would make stale.
        :param compress: ``False`` sends the event without compression (Node's ``compress``;
            per_message_deflate and http_compression), for data that compresses badly."""
        _take(kwargs, "emit", ("namespace", "to", "room", "include_self", "skip_sid", "callback", "ignore_queue",
                               "volatile", "compress"))
        namespace = kwargs.get("namespace") or "/"
        to = kwargs.get("to")
        if to is None:
            to = kwargs.get("room")
        callback = kwargs.get("callback")
        context = _context.current_or_none()
        skip = _as_list(kwargs.get("skip_sid"))
        if not kwargs.get("include_self", True) and not skip and context is not None:
            skip = [context.sid]
        payload = self._outgoing(_payload(args))
        if self._log_events:
            self.logger.info('emitting event "%s" to %s [%s]', event, to or "all", namespace)
        volatile = bool(kwargs.get("volatile"))
        compress = bool(kwargs.get("compress", True))
        if not compress and callback is not None:
            raise ValueError("compress=False: an event with a callback goes to each client on its own and is "
                             "sent as usual; leave out compress=False or callback=")
        if volatile and callback is not None:
            raise ValueError("volatile: an event that may be dropped cannot wait for acknowledgements; "
                             "leave out volatile=True or callback=")
        if self.write_only:
            if callback is not None:
                raise ValueError("callback: a write-only SocketIO(message_queue=...) hears no acknowledgements; "
                                 "emit with a callback from a server")
            if volatile:
                raise ValueError("volatile: a write-only SocketIO(message_queue=...) does not see the clients' "
                                 "connections; emit volatile events from a server")
            self._writer().emit(namespace, event, payload, _as_list(to), skip, compress=compress)
            self._flush_emitter()
            return
        server = self._ensure_server()
        if callback is None:
            server.emit(namespace, event, payload, _as_list(to), skip, local=bool(kwargs.get("ignore_queue")),
                        is_volatile=volatile, compress=compress)
            return
        callback_id = next(self._callback_ids)
        # From a handler the callback runs in that handler's context (Flask-SocketIO's rule);
        # from elsewhere it is called as it is.
        origin = (context.namespace, context.sid) if context is not None else None
        self._callbacks[callback_id] = (callback, origin)
        server.emit_with_ack(namespace, event, payload, _as_list(to), skip, callback_id, _CALLBACK_TIMEOUT)

    def send(self, data, json: bool = False, namespace: Optional[str] = None, to=None, callback=None,
             include_self: bool = True, skip_sid=None, **kwargs):
        """Send a ``message`` (or, with ``json=True``, a ``json``) event, routed like ``emit``."""
        self.emit("json" if json else "message", data, namespace=namespace, to=to, callback=callback,
                  include_self=include_self, skip_sid=skip_sid, **kwargs)

    def call(self, event: str, *args, **kwargs):
        """Emit to one client and wait for its acknowledgement: its value (or a tuple when it
        sent several, ``None`` when none). Raises ``TimeoutError`` after ``timeout`` (60 s)."""
        _take(kwargs, "call", ("namespace", "to", "room", "timeout", "ignore_queue"))
        namespace = kwargs.get("namespace") or "/"
        to = kwargs.get("to") or kwargs.get("room")
        timeout = kwargs.get("timeout", 60)
        if to is None:
            raise ValueError("call() requires the recipient: pass to=sid")
        reply = self._ensure_server().call(namespace, str(to), event, self._outgoing(_payload(args)), float(timeout))
        return _unpack(self._incoming(reply))

    def close_room(self, room: str, namespace: Optional[str] = None):
        """Remove everyone from a room (on every server of a cluster)."""
        if self.write_only:
            self._writer().sockets_leave(namespace or "/", [room], [room])
            self._flush_emitter()
            return
        self._ensure_server().close_room(namespace or "/", room)

    # ---- across the cluster: Node's server API (on one server alone, it acts on that one) ----

    def fetch_sockets(self, to=None, namespace: Optional[str] = None) -> List[RemoteSocket]:
        """The sockets of ``namespace`` (default ``'/'``) in ``to`` (a sid, a room or a list of
        them; ``None``: every socket), on every server of the cluster (Node's
        ``fetchSockets``): a list of ``chat.RemoteSocket`` with ``sid``, ``rooms``, ``data``
        and ``handshake``. Any thread, a handler's included; it waits for the other servers
        without holding the GIL, at most the cluster's requests timeout (5 s; a server that
        has not answered by then is left out)."""
        namespace = namespace or "/"
        found = self._server_for("fetch_sockets").fetch_sockets(namespace, _as_list(to))
        if self._json is not None:
            for info in found:
                info["data"] = self._incoming([info["data"]])[0]
        return [RemoteSocket(self, namespace, info) for info in found]

    def sockets_join(self, rooms, to=None, namespace: Optional[str] = None) -> None:
        """Puts the sockets in ``to`` (a sid, a room or a list; ``None``: every socket of the
        namespace), wherever they are, in ``rooms`` (a room or a list; Node's
        ``socketsJoin``)."""
        self._select("sockets_join", _as_list(to), namespace, _as_list(rooms))

    def sockets_leave(self, rooms, to=None, namespace: Optional[str] = None) -> None:
        """Takes the sockets in ``to``, wherever they are, out of ``rooms`` (Node's
        ``socketsLeave``)."""
        self._select("sockets_leave", _as_list(to), namespace, _as_list(rooms))

    def disconnect_sockets(self, to=None, namespace: Optional[str] = None, close: bool = False) -> None:
        """Disconnects the sockets in ``to`` (``None``: every socket of the namespace), wherever
        they are; their disconnect handlers run with ``'server disconnect'``. ``close=True``
        closes their whole connections, every namespace of them (Node's
        ``disconnectSockets``)."""
        self._select("disconnect_sockets", _as_list(to), namespace, bool(close))

    def _select(self, function: str, to: List[str], namespace: Optional[str], argument) -> None:
        namespace = namespace or "/"
        if self.write_only:
            getattr(self._writer(), function)(namespace, to, argument)
            self._flush_emitter()
            return
        getattr(self._ensure_server(), function)(namespace, to, argument)

    def set_data(self, value: Any, sid: Optional[str] = None, namespace: Optional[str] = None) -> None:
        """Stores a JSON-able value with a socket of this server (Node's ``socket.data``): what
        ``fetch_sockets`` reports as its ``data``, from any server of the cluster. From a
        handler, ``sid`` and ``namespace`` default to its own; ``KeyError`` when the socket is
        not connected here."""
        sid, namespace = self._socket_of("set_data", sid, namespace)
        self._server_for("set_data").set_data(namespace, sid, self._outgoing([value])[0])

    def get_data(self, sid: Optional[str] = None, namespace: Optional[str] = None) -> Any:
        """A socket's data as ``set_data`` left it (``None`` until set); the socket must be on
        this server (``KeyError`` otherwise): ``fetch_sockets`` reads any socket's."""
        sid, namespace = self._socket_of("get_data", sid, namespace)
        return self._incoming([self._server_for("get_data").get_data(namespace, sid)])[0]

    def _socket_of(self, function: str, sid: Optional[str], namespace: Optional[str]):
        context = _context.current_or_none()
        if context is not None and context.socketio is self and context.sid is not None:
            return sid or context.sid, namespace or context.namespace
        if sid is None:
            raise TypeError("%s() outside a Socket.IO handler needs the socket's sid: pass sid=" % function)
        return sid, namespace or "/"

    def server_side_emit(self, event: str, *args, namespace: Optional[str] = None,
                         callback: Optional[Callable] = None, timeout: float = 5) -> None:
        """Sends an event to ``namespace`` (default ``'/'``) on every other server of the cluster,
        whose ``on_server_side_emit`` handler gets ``(event, *args)`` (Node's
        ``serverSideEmit``); never to this server, and to no one without ``message_queue``.

        Without ``callback`` it returns at once and asks for no reply. With one, it asks every
        other server for its handler's return value and calls ``callback(error, replies)``
        (on a worker thread; from a handler, in that handler's context) once every server
        replied, ``error`` being ``None``, or ``timeout`` seconds after the emit with the
        replies that came and a ``TimeoutError`` as ``error``. The replies come one per server,
        in the order they arrived; ``[]`` at once when there is no other server."""
        namespace = namespace or "/"
        payload = self._outgoing(_payload(args))
        if self.write_only:
            if callback is not None:
                raise ValueError("callback: a write-only SocketIO(message_queue=...) is no server and gets no "
                                 "replies; call server_side_emit with a callback from a server")
            self._writer().server_side_emit(namespace, event, payload)
            self._flush_emitter()
            return
        server = self._ensure_server()
        if callback is None:
            server.server_side_emit(namespace, event, payload, None, 0.0)
            return
        timeout = _timeout(timeout, "server_side_emit")
        callback_id = next(self._callback_ids)
        context = _context.current_or_none()
        origin = (context.namespace, context.sid) if context is not None and context.sid is not None else None
        self._reply_callbacks[callback_id] = (callback, origin, timeout)
        server.server_side_emit(namespace, event, payload, callback_id, timeout)

    def emit_with_ack(self, event: str, *args, to=None, namespace: Optional[str] = None, timeout: float = 5) -> list:
        """Emits to every client in ``to`` (a sid, a room or a list; ``None``: the whole
        namespace) on every server of the cluster and waits for all their acknowledgements
        (Node's ``io.timeout(ms).emitWithAck``): a list with one answer per client, in the
        order they came, each the value it acknowledged with (``None`` when none; of several,
        the first: Node's format carries one value between servers, and one server answers as
        a cluster does). Raises ``TimeoutError`` when ``timeout`` seconds pass first; its
        ``responses`` are the answers that came. Any thread; it waits without holding the GIL.

        ``emit(callback=...)`` differs: it reaches this server's clients only, returns at once,
        and calls the callback once for each client that answers, with no end and no timeout;
        this reaches the clients of every server and returns once, with every answer."""
        namespace = namespace or "/"
        timeout = _timeout(timeout, "emit_with_ack")
        timed_out, answers = self._server_for("emit_with_ack").broadcast_call(
            namespace, event, self._outgoing(_payload(args)), _as_list(to), timeout)
        responses = self._incoming(answers)
        if timed_out:
            error = TimeoutError("emit_with_ack(%r): %d client%s answered within %g s, not all" % (
                event, len(responses), "" if len(responses) == 1 else "s", timeout))
            error.responses = responses  # type: ignore[attr-defined]
            raise error
        return responses

    def _server_for(self, function: str):
        if self.write_only:
            raise ValueError("%s(): a write-only SocketIO(message_queue=...) is no server and gets no answers; "
                             "call it from a server" % function)
        return self._ensure_server()

    def _writer(self):
        with self._lock:
            if self._emitter is None:
                self._emitter = _open_emitter(self.server_options)
            return self._emitter

    def _flush_emitter(self):
        # Returns once Redis has the message, as Flask-SocketIO's publish does: a worker that
        # emits and exits loses nothing.
        if not self._emitter.flush(_REQUESTS_TIMEOUT):
            raise ConnectionError("the message queue %s did not take the message within %g s (it is kept and "
                                  "sent when Redis answers)" % (self.server_options["message_queue"],
                                                                 _REQUESTS_TIMEOUT))

    def _outgoing(self, payload: list) -> list:
        return payload if self._json is None else self._json.outgoing(payload)

    def _incoming(self, payload):
        return payload if self._json is None else self._json.incoming(payload)

    # ---- running ----

    def run(self, app=None, host: Optional[str] = None, port: Optional[int] = None, **kwargs):
        """Serve Socket.IO (and the app's routes, through WSGI) until Ctrl-C or ``stop()``.

        :param host: default ``'127.0.0.1'``.
        :param port: default: the port of the app's ``SERVER_NAME``, else 5000 (0: any free port).
        :param debug: sets ``app.debug``; the reloader is on by default in debug mode.
        :param use_reloader: restart the process when a source file changes (Werkzeug's
            reloader, as Flask-SocketIO uses it), with ``extra_files`` and ``reloader_options``.
        :param log_output: log each request the app's routes answer (default: ``app.debug``).
        :param allow_unsafe_werkzeug: accepted: chat never serves through Werkzeug's server.
        :param certfile: serve https and wss (TLS 1.2 or later) with this PEM certificate chain
            (the server's certificate first), and ``keyfile`` (default: the key is in ``certfile``).
        :param ssl_context: Werkzeug's forms: ``(certfile, keyfile)``, or ``'adhoc'`` (a
            self-signed certificate made at start). A Python ``ssl.SSLContext`` is refused: the
            C++ server cannot use it.
        :param ca_certs: with ``cert_reqs=ssl.CERT_REQUIRED``: every client must present a
            certificate this CA signed.
        :param workers: serve from this many worker processes (1 to 64) behind the one port,
            each with its own interpreter and GIL: this process listens and hands each
            connection to the worker that owns its session (no sticky load balancer), restarts a
            worker that dies, and stops them all on Ctrl-C or SIGTERM. With more than one worker,
            ``message_queue`` is required: rooms and broadcasts cross workers through it. Not
            with TLS (put a terminating proxy in front) or the reloader."""
        _take({k: v for k, v in kwargs.items() if k not in _tls.ARGUMENTS}, "run", _RUN_ARGUMENTS)
        with _tls.files({name: kwargs.get(name) for name in _tls.ARGUMENTS}) as tls:
            self._run(app, host, port, tls, kwargs)

    def _run(self, app, host: Optional[str], port: Optional[int], tls: Optional[_tls.TlsFiles], kwargs):
        if app is not None:
            self.init_app(app)
        app = self.app
        if "debug" in kwargs and app is not None:
            app.debug = bool(kwargs["debug"])
        debug = bool(getattr(app, "debug", False))
        host = host or "127.0.0.1"
        if port is None:
            server_name = getattr(app, "config", {}).get("SERVER_NAME") if app is not None else None
            port = int(server_name.rsplit(":", 1)[1]) if server_name and ":" in server_name else 5000
        self._log_requests = bool(kwargs.get("log_output", debug))
        use_reloader = kwargs.get("use_reloader")
        if use_reloader is None:
            use_reloader = debug
        workers = kwargs.get("workers")
        if workers is not None:
            self._check_workers(workers, tls, use_reloader)
            self._serve_workers(host, int(port), workers)
            return
        if not use_reloader:
            self._serve(host, int(port), tls)
            return
        from werkzeug._reloader import run_with_reloader  # what Flask-SocketIO's run() uses too

        self._stopped.clear()
        try:
            run_with_reloader(lambda: self._serve(host, int(port), tls), extra_files=kwargs.get("extra_files"),
                              **(kwargs.get("reloader_options") or {}))
        finally:
            # The reloader runs the server in a daemon thread of the process it restarts, and
            # leaves by SystemExit when a file changed. The server stops, and that thread leaves
            # the C++ calls it waits in, before the interpreter finalizes: a thread still in one
            # then would be ended inside C++ code, which aborts the process.
            if self.server is not None:
                self.server.stop()
                self._stopped.wait(_SERVE_THREAD_EXIT)

    def _serve(self, host: str, port: int, tls: Optional[_tls.TlsFiles]):
        self._stopped.clear()
        # A SocketIO(message_queue=...) made without an app is write-only until it serves: run()
        # makes it a server of the cluster (its handlers' emits with callbacks get their acks).
        self.write_only = False
        try:
            server = self._ensure_server()
            bound = server.listen_tls(host, port, *tls) if tls else server.listen(host, port)
            self.port = bound
            scheme = "https" if tls else "http"
            print(f" * chat serving Socket.IO on {scheme}://{host}:{bound}", file=sys.stderr, flush=True)
            _serve_until_stopped(server)
        finally:
            self._stopped.set()

    def _check_workers(self, workers, tls, use_reloader):
        if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= 64:
            raise ValueError("run(workers=%r): a number of worker processes from 1 to 64" % (workers,))
        if not hasattr(os, "fork"):
            raise ValueError("run(workers=%d): worker processes need fork(), which this system lacks" % workers)
        if tls:
            raise ValueError("run(workers=%d) serves plain HTTP: the supervisor routes each connection by its "
                             "request line, which TLS hides; terminate TLS in a proxy in front" % workers)
        if use_reloader:
            raise ValueError("run(workers=%d) does not run under the reloader: pass use_reloader=False "
                             "(debug=True turns it on)" % workers)
        if workers > 1 and not self.server_options.get("message_queue"):
            raise ValueError("run(workers=%d): rooms and broadcasts must reach the clients of every worker, "
                             "through a message queue: pass message_queue='redis://...' to SocketIO" % workers)
        if self.server is not None:
            raise RuntimeError("run(workers=%d): this process has a server already (an emit, or a background "
                               "task that emits, ran before run()); with workers every server lives in a worker "
                               "process: start background tasks from a handler, or emit after run() starts "
                               "(this process's emits then go through the message queue)" % workers)

    def _serve_workers(self, host: str, port: int, workers: int):
        core, _ = self._core_options()
        supervisor = _core.WorkerProcesses(workers, core)
        bound = supervisor.listen(host, port)
        self.port = bound
        print(f" * chat serving Socket.IO on http://{host}:{bound} with {workers} worker process"
              f"{'es' if workers > 1 else ''}", file=sys.stderr, flush=True)
        write_only = self.write_only
        # This process supervises and serves no client: what it emits (a background task's
        # broadcasts) goes through the message queue to the workers' clients.
        self.write_only = bool(self.server_options.get("message_queue"))
        self._supervisor = supervisor
        self._stopped.clear()
        try:
            supervisor.run(self._serve_worker)
        finally:
            self._supervisor = None
            self.write_only = write_only
            self._stopped.set()

    def _serve_worker(self, index: int, count: int, channel: int) -> int:
        """One worker process's life, after the fork: serves the connections the supervisor
        hands over on ``channel`` until SIGTERM or SIGINT; returns the exit status."""
        try:
            _INHERITED.append((self._emitter, self._supervisor))
            self._emitter = None
            self._supervisor = None
            self._supervisor_pid = os.getppid()
            self.write_only = False  # each worker serves: a server of the cluster
            signal.signal(signal.SIGTERM, _stop_on_sigterm)
            server = self._ensure_server()
            server.listen_worker(index, count, channel)
            print(f" * chat worker {index} serving (pid {os.getpid()})", file=sys.stderr, flush=True)
            _serve_until_stopped(server)
            return 0
        except BaseException:  # noqa: BLE001 - the worker's exit status says it failed
            traceback.print_exc()
            return 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()

    def stop(self):
        """Stop a running server: ``run()`` returns. Any thread, a handler's included; returns
        at once (``run()``'s thread waits for the server's threads). With ``workers``, stops
        every worker, called in the supervisor or in a worker's handler."""
        if self._supervisor is not None:
            self._supervisor.stop()
        if self._supervisor_pid is not None:
            os.kill(self._supervisor_pid, signal.SIGTERM)  # it stops this worker too
            return
        if self.server is not None:
            self.server.request_stop()

    def start_background_task(self, target: Callable, *args, **kwargs) -> threading.Thread:
        """Run ``target(*args, **kwargs)`` in a thread; returns it (``join()``-able)."""
        thread = threading.Thread(target=target, args=args, kwargs=kwargs, daemon=True)
        thread.start()
        return thread

    def sleep(self, seconds: float = 0):
        """Sleep (``time.sleep``: handlers run in threads)."""
        time.sleep(seconds)

    def test_client(self, app=None, namespace=None, query_string=None, headers=None, auth=None,
                    flask_test_client=None):
        """A client connected in process, for tests (Flask-SocketIO's test client)."""
        from .test_client import SocketIOTestClient

        return SocketIOTestClient(app if app is not None else self.app, self, namespace=namespace,
                                  query_string=query_string, headers=headers, auth=auth,
                                  flask_test_client=flask_test_client)

    # ---- what the C++ side calls, through _Dispatcher (on a worker thread, with the GIL) ----

    def _on_http(self, request):
        from .wsgi import call_wsgi

        status, headers, body = call_wsgi(self.app, request)
        if self._log_requests:
            # Werkzeug's access-log line, as Flask's own server writes it.
            when = datetime.datetime.now().strftime("%d/%b/%Y %H:%M:%S")
            print('%s - - [%s] "%s %s HTTP/1.1" %d -' % (request["remote_address"], when, request["method"],
                                                           request["target"], status), file=sys.stderr, flush=True)
        return status, headers, body

    def _handler_for(self, namespace: str, event: str):
        """The handler of an event and how to call it: (handler, real-namespace-first?)."""
        parent = self._parent_of(namespace) if namespace not in self.handlers else None
        if parent is not None:
            namespace = parent
        for ns in (namespace, "*"):
            handlers = self.handlers.get(ns, {})
            if event in handlers:
                return handlers[event], None
            class_handler = self.namespace_handlers.get(ns)
            if class_handler is not None and hasattr(class_handler, "on_" + event):
                return getattr(class_handler, "on_" + event), None
        if event not in ("connect", "disconnect"):
            for ns in (namespace, "*"):
                if "*" in self.handlers.get(ns, {}):
                    return self.handlers[ns]["*"], event
        return None, None

    def _run_handler(self, handler, namespace, sid, message, args, connect_auth=None, is_connect=False):
        """Calls a handler in its context (and the app's request context); returns its value."""
        environ = self._environs.get((namespace, sid), {})
        event = {"message": message, "args": tuple(args)}
        if self.app is not None and hasattr(self.app, "request_context"):
            import flask

            from ._flask import HandlerContext as FlaskHandlerContext

            with FlaskHandlerContext(self.app, environ, self.manage_session) as flask_context:
                request = flask.request._get_current_object()
                request.sid = sid
                request.namespace = namespace
                request.event = event
                request.recovered = environ.get("recovered", False)
                result = self._call(handler, namespace, sid, request, args, connect_auth, is_connect)
                flask_context.save_session()
                return result
        # Built once per connection; only the event changes from call to call.
        request = environ.get("request")
        if request is None:
            request = Request(sid=sid, namespace=namespace, event=event,
                              args=QueryArgs(environ.get("query", [])),
                              headers=Headers(environ.get("headers", [])),
                              remote_addr=environ.get("remote_address", ""),
                              recovered=environ.get("recovered", False))
            environ["request"] = request
        request.event = event
        return self._call(handler, namespace, sid, request, args, connect_auth, is_connect)

    def _call(self, handler, namespace, sid, request, args, connect_auth, is_connect):
        """Calls a handler with chat's handler context set (what ``emit``, ``join_room``... read)."""
        token = _context._current.set(HandlerContext(self, namespace, sid, request))
        try:
            if is_connect:
                try:
                    return handler(connect_auth)
                except TypeError:
                    return handler()
            return handler(*args)
        finally:
            _context._current.reset(token)

    def _on_connect(self, namespace, sid, auth, environ):
        self._environs[(namespace, sid)] = environ
        auth = self._incoming(auth) if auth else None  # python-socketio hands an empty auth over as none
        server = self.server
        always = bool(self.server_options.get("always_connect"))
        if always:
            server.accept(namespace, sid)
        handler, _ = self._handler_for(namespace, "connect")
        accepted, message, data = True, None, None
        if handler is not None:
            try:
                result = self._run_handler(handler, namespace, sid, "connect", (), connect_auth=auth, is_connect=True)
                if result is False:
                    accepted, message = False, "Connection rejected by server"
            except ConnectionRefusedError as error:
                accepted = False
                message = error.error_args["message"]
                data = error.error_args.get("data")
            except Exception:  # noqa: BLE001 - a failing connect handler refuses, and is logged
                self.logger.exception("chat: connect handler of %s failed", namespace)
                accepted, message = False, "Connection rejected by server"
        if accepted:
            if not always:
                server.accept(namespace, sid)
        elif always:
            server.disconnect(namespace, sid)
        else:
            self._environs.pop((namespace, sid), None)
            server.reject(namespace, sid, message, self._outgoing([data])[0] if data is not None else None)

    def _on_event(self, namespace, sid, name, args, ack_id):
        if self._log_events:
            self.logger.info('received event "%s" from %s [%s]', name, sid, namespace)
        args = self._incoming(args)
        listeners = self._any_listeners.get(namespace) or self._any_listeners.get(self._parent_of(namespace))
        if listeners:
            self._notify(listeners, namespace, sid, name, args)
        middlewares = self._middlewares.get(namespace) or self._middlewares.get(self._parent_of(namespace))
        if middlewares and not self._pass_middlewares(middlewares, namespace, sid, name, args):
            return
        handler, catch_all_event = self._handler_for(namespace, name)
        if handler is None:
            if ack_id is not None:
                self.server.ack(namespace, sid, ack_id, [])
            return
        call_args = [catch_all_event, *args] if catch_all_event is not None else args
        try:
            result = self._run_handler(handler, namespace, sid, name, call_args)
        except Exception as error:  # noqa: BLE001 - handed to the error handlers, or logged
            error_handler = self.exception_handlers.get(namespace, self.default_exception_handler)
            if error_handler is None:
                self._handler_failed(sid, error, "handler of %r in %s failed" % (name, namespace))
                return
            try:
                result = self._run_handler(lambda *_, caught=error: error_handler(caught), namespace, sid, name, call_args)
            except Exception as second:  # noqa: BLE001 - the error handler re-raised
                self._handler_failed(sid, second, "error handler of %s failed" % namespace)
                return
        if ack_id is not None:
            if result is None:
                reply = []
            elif isinstance(result, tuple):
                reply = list(result)
            else:
                reply = [result]
            try:
                self.server.ack(namespace, sid, ack_id, self._outgoing(reply))
            except Exception as error:  # noqa: BLE001 - an unserialisable return value
                self._handler_failed(sid, error, "acknowledgement of %r in %s failed" % (name, namespace))

    def _pass_middlewares(self, middlewares, namespace, sid, name, args):
        """Runs the packet middlewares in order: False when one drops the event."""
        for middleware in middlewares:
            try:
                if self._run_handler(middleware, namespace, sid, name, [name, *args]) is False:
                    return False
            except Exception as error:  # noqa: BLE001 - handed to the error handlers, or logged
                error_handler = self.exception_handlers.get(namespace, self.default_exception_handler)
                if error_handler is None:
                    self._handler_failed(sid, error, "middleware of %s failed on %r" % (namespace, name))
                    return False
                try:
                    self._run_handler(lambda *_, caught=error: error_handler(caught), namespace, sid, name, [name, *args])
                except Exception as second:  # noqa: BLE001 - the error handler re-raised
                    self._handler_failed(sid, second, "error handler of %s failed" % namespace)
                return False
        return True

    def _handler_failed(self, sid, error, what):
        """Logs a handler's exception; a test client's own handlers hand it back to the test,
        as Flask-SocketIO's synchronous test client does."""
        sink = self._error_sinks.get(sid)
        if sink is not None:
            sink(error)
        else:
            self.logger.error("chat: %s", what, exc_info=error)

    def _on_disconnect(self, namespace, sid, reason):
        if (namespace, sid) not in self._environs:
            return  # never accepted
        handler, _ = self._handler_for(namespace, "disconnect")
        try:
            if handler is not None:
                python_reason = _REASONS[reason]
                try:
                    self._run_handler(handler, namespace, sid, "disconnect", (python_reason,))
                except TypeError:
                    self._run_handler(handler, namespace, sid, "disconnect", ())
        except Exception:  # noqa: BLE001
            self.logger.exception("chat: disconnect handler of %s failed", namespace)
        finally:
            self._environs.pop((namespace, sid), None)

    def _on_outgoing(self, namespace, sid, event, args):
        """An event was sent to a client whose socket carries the outgoing listener."""
        listeners = self._outgoing_listeners.get(namespace) or self._outgoing_listeners.get(self._parent_of(namespace))
        if listeners and (namespace, sid) in self._environs:
            self._notify(listeners, namespace, sid, event, self._incoming(args))

    def _on_ack(self, callback_id, args, finished):
        """A recipient's answer to emit(callback=...) (``args`` None: one that never answered);
        ``finished`` when no recipient is left to answer."""
        entry = self._callbacks.pop(callback_id, None) if finished else self._callbacks.get(callback_id)
        if entry is None or args is None:
            return
        callback, origin = entry
        args = self._incoming(args)
        try:
            if origin is None:
                callback(*args)
            else:
                self._run_handler(callback, origin[0], origin[1], None, args)
        except Exception:  # noqa: BLE001
            self.logger.exception("chat: emit callback failed")

    def _on_server_side_emit(self, namespace, event, args, reply):
        """Another server's server_side_emit; ``reply`` (None when it asked for none) takes this
        server's answer as an argument list."""
        handler = self.server_side_handlers.get(namespace) or self.server_side_handlers.get("*")
        if handler is None:
            return
        args = self._incoming(args)
        try:
            if self.app is not None and hasattr(self.app, "app_context"):
                with self.app.app_context():
                    result = handler(event, *args)
            else:
                result = handler(event, *args)
        except Exception:  # noqa: BLE001 - logged; the sender sees no reply from this server
            self.logger.exception("chat: server-side emit handler of %s failed", namespace)
            return
        if reply is not None:
            try:
                reply(self._outgoing([result]))
            except Exception:  # noqa: BLE001 - an unserialisable return value
                self.logger.exception("chat: the reply of the server-side emit handler of %s failed", namespace)

    def _on_replies(self, callback_id, timed_out, replies):
        """The other servers' replies to server_side_emit(callback=...)."""
        entry = self._reply_callbacks.pop(callback_id, None)
        if entry is None:
            return
        callback, origin, timeout = entry
        replies = self._incoming(replies)
        error = None
        if timed_out:
            error = TimeoutError("server_side_emit: %d server%s replied within %g s, not all" % (
                len(replies), "" if len(replies) == 1 else "s", timeout))
            error.responses = replies  # type: ignore[attr-defined]
        try:
            if origin is None:
                callback(error, replies)
            else:
                self._run_handler(callback, origin[0], origin[1], None, (error, replies))
        except Exception:  # noqa: BLE001
            self.logger.exception("chat: server_side_emit callback failed")


class _Dispatcher:
    """What the C++ server calls (on a worker thread holding the GIL): one method per kind of
    work, looked up once when the server is made."""

    def __init__(self, socketio: SocketIO):
        self.on_connect = socketio._on_connect
        self.on_event = socketio._on_event
        self.on_disconnect = socketio._on_disconnect
        self.on_ack = socketio._on_ack
        self.on_http = socketio._on_http
        self.on_server_side_emit = socketio._on_server_side_emit
        self.on_replies = socketio._on_replies
        self.on_outgoing = socketio._on_outgoing
