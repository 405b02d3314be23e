"""``SocketIO``: Flask-SocketIO's API on chat's C++ server."""
from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
import time
from typing import Any, Callable, Dict, List, Optional

from . import _context, _core
from ._context import HandlerContext, Headers, QueryArgs, Request
from .exceptions import ConnectionRefusedError

logger = logging.getLogger("chat")

#: Options Flask-SocketIO accepts that change nothing here (documented in the README).
ACCEPTED_OPTIONS = {
    "async_mode", "manage_session", "message_queue", "channel", "json", "async_handlers",
    "http_compression", "compression_threshold", "cookie", "cors_credentials", "monitor_clients",
    "transports", "client_manager", "serializer", "logger", "engineio_logger", "allow_unsafe_werkzeug",
    "resource", "kafka", "write_only", "upgrade_timeout",
}


class _Reason:
    """Disconnect reasons, as Flask-SocketIO 5.5's ``socketio.reason``."""

    SERVER_DISCONNECT = "server disconnect"
    CLIENT_DISCONNECT = "client disconnect"
    PING_TIMEOUT = "ping timeout"
    TRANSPORT_CLOSE = "transport close"
    TRANSPORT_ERROR = "transport error"


# chat's reasons (Node's names) as python-socketio names them.
_REASONS = {
    "server namespace disconnect": _Reason.SERVER_DISCONNECT,
    "client namespace disconnect": _Reason.CLIENT_DISCONNECT,
    "ping timeout": _Reason.PING_TIMEOUT,
    "transport close": _Reason.TRANSPORT_CLOSE,
    "transport error": _Reason.TRANSPORT_ERROR,
    "parse error": _Reason.TRANSPORT_ERROR,
    "forced server close": _Reason.SERVER_DISCONNECT,
    "server shutting down": _Reason.SERVER_DISCONNECT,
    "forced close": _Reason.TRANSPORT_CLOSE,
}


def _seconds_to_ms(value) -> int:
    if isinstance(value, (tuple, list)):  # Flask-SocketIO's (interval, grace period)
        value = value[0]
    return int(float(value) * 1000)


def _payload(args: tuple) -> list:
    """Flask-SocketIO's payload rule: one positional value is one argument, except a tuple,
    whose elements are the arguments (several positional values are taken as several)."""
    if len(args) == 1 and isinstance(args[0], tuple):
        return list(args[0])
    return list(args)


def _as_list(value) -> List[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


def _managed_session(session):
    """A dict copy of a Flask session that Flask's session interface accepts."""
    from flask.sessions import SessionMixin

    class ManagedSession(dict, SessionMixin):
        pass

    return ManagedSession(dict(session))


class SocketIO:
    """Create a Socket.IO server, optionally attached to a Flask (any WSGI) app.

    :param app: the Flask application instance, or ``None`` to call ``init_app`` later.
    :param kwargs: Flask-SocketIO's options: ``cors_allowed_origins`` (``'*'``, a list, or
        ``None`` for no Origin check), ``ping_interval`` and ``ping_timeout`` (seconds),
        ``max_http_buffer_size``, ``path``, ``namespaces`` (a list or ``'*'``),
        ``always_connect``, ``logger``, ``engineio_logger``; and chat's own ``workers``
        (handler threads, default 16). Other Flask-SocketIO options are accepted and ignored.

    Handlers run on a pool of worker threads, never on the server's network thread; one
    client's events run in order, one at a time.
    """

    reason = _Reason

    def __init__(self, app=None, **kwargs):
        self.app = None
        self.async_mode = "threading"
        self.manage_session = kwargs.get("manage_session", True)
        self.server_options: Dict[str, Any] = {}
        self.handlers: Dict[str, Dict[str, Callable]] = {}
        self.namespace_handlers: Dict[str, Any] = {}
        self.exception_handlers: Dict[str, Callable] = {}
        self.default_exception_handler: Optional[Callable] = None
        self.server = None  # the _core.Server, made when the server first starts
        self._lock = threading.RLock()
        self._environs: Dict[tuple, dict] = {}
        self._callbacks: Dict[int, tuple] = {}
        self._callback_ids = itertools.count(1)
        self._stopped = threading.Event()
        self._test_sids: set = set()
        self._test_errors: Dict[str, BaseException] = {}
        if app is not None or "message_queue" in kwargs:
            self.init_app(app, **kwargs)
        else:
            self.server_options.update(kwargs)

    # ---- set-up ----

    def init_app(self, app, **kwargs):
        """Attach the app and merge options (Flask-SocketIO's delayed initialisation)."""
        self.server_options.update(kwargs)
        if "manage_session" in kwargs:
            self.manage_session = kwargs["manage_session"]
        if app is not None:
            self.app = app
            extensions = getattr(app, "extensions", None)
            if isinstance(extensions, dict):
                extensions["socketio"] = self

    def _core_options(self, http: bool) -> dict:
        options = dict(self.server_options)
        core: Dict[str, Any] = {"http": http}
        if "ping_interval" in options:
            core["ping_interval_ms"] = _seconds_to_ms(options["ping_interval"])
        if "ping_timeout" in options:
            core["ping_timeout_ms"] = _seconds_to_ms(options["ping_timeout"])
        if "max_http_buffer_size" in options:
            core["max_payload"] = int(options["max_http_buffer_size"])
        origins = options.get("cors_allowed_origins")
        if origins is not None and origins != []:
            core["cors_allowed_origins"] = ["*"] if origins == "*" else _as_list(origins)
        path = options.get("path") or options.get("resource") or "socket.io"
        core["path"] = "/" + path.strip("/") + "/"
        if "allow_upgrades" in options:
            core["allow_upgrades"] = bool(options["allow_upgrades"])
        if "workers" in options:
            core["workers"] = int(options["workers"])
        bundle = self._client_bundle_dir()
        if bundle:
            core["client_bundle_dir"] = bundle
        core["namespaces"] = self._namespace_names()
        return core

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
        names = set(self.handlers) | set(self.namespace_handlers) | {"/"}
        listed = self.server_options.get("namespaces")
        if listed == "*" or "*" in names:
            names.add("*")
        elif listed:
            names.update(_as_list(listed))
        return sorted(names)

    def _ensure_server(self, http: bool = False):
        with self._lock:
            if self.server is None:
                self.server = _core.Server(self._core_options(http), self._dispatch)
            return self.server

    # ---- registration ----

    def on(self, message: str, namespace: Optional[str] = None):
        """Decorator registering a handler for an event (``'connect'``, ``'disconnect'``,
        ``'message'``, ``'json'``, ``'*'`` for any event, or your own). Returns the function."""
        namespace = namespace or "/"

        def decorator(handler):
            if self.server is not None and namespace not in self.handlers and namespace not in self.namespace_handlers:
                logger.warning("chat: handlers for new namespace %s registered after the server started", namespace)
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

        :param namespace: default ``'/'``. :param to: (or ``room``) a sid, a room, or a list.
        :param include_self: ``False`` skips the sender (inside a handler).
        :param skip_sid: a sid or a list of sids to leave out.
        :param callback: called with the client's acknowledgement (one client only)."""
        namespace = kwargs.pop("namespace", None) or "/"
        to = kwargs.pop("to", None)
        room = kwargs.pop("room", None)
        to = to if to is not None else room
        include_self = kwargs.pop("include_self", True)
        skip_sid = kwargs.pop("skip_sid", None)
        callback = kwargs.pop("callback", None)
        kwargs.pop("ignore_queue", None)
        kwargs.pop("broadcast", None)
        context = _context.current_or_none()
        skip = _as_list(skip_sid)
        if not include_self and not skip and context is not None:
            skip = [context.sid]
        server = self._ensure_server()
        if callback is not None:
            if to is None or isinstance(to, (list, tuple, set)):
                raise ValueError("Callbacks can only be issued to a single client")
            callback_id = next(self._callback_ids)
            origin = (context.namespace, context.sid, context.request) if context else (namespace, str(to), None)
            self._callbacks[callback_id] = (callback, origin)
            server.emit_with_ack(namespace, str(to), event, _payload(args), callback_id, 3600.0)
            return
        server.emit(namespace, event, _payload(args), _as_list(to), skip)

    def send(self, data, json: bool = False, namespace: Optional[str] = None, to=None, callback=None,
             include_self: bool = True, skip_sid=None, **kwargs):
        """Send a ``message`` (or, with ``json=True``, a ``json``) event."""
        self.emit("json" if json else "message", data, namespace=namespace, to=to, callback=callback,
                  include_self=include_self, skip_sid=skip_sid, **kwargs)

    def call(self, event: str, *args, **kwargs):
        """Emit to one client and wait for its acknowledgement: its value (or a tuple when it
        sent several, ``None`` when none). Raises ``TimeoutError`` after ``timeout`` (60 s)."""
        namespace = kwargs.pop("namespace", None) or "/"
        to = kwargs.pop("to", None) or kwargs.pop("room", None)
        timeout = kwargs.pop("timeout", 60)
        if to is None:
            raise ValueError("call() requires the recipient: pass to=sid")
        reply = self._ensure_server().call(namespace, str(to), event, _payload(args), float(timeout))
        if len(reply) == 0:
            return None
        return reply[0] if len(reply) == 1 else tuple(reply)

    def close_room(self, room: str, namespace: Optional[str] = None):
        """Remove everyone from a room."""
        self._ensure_server().close_room(namespace or "/", room)

    # ---- running ----

    def run(self, app=None, host: Optional[str] = None, port: Optional[int] = None, **kwargs):
        """Serve Socket.IO (and the app's routes, through WSGI) until Ctrl-C or ``stop()``.

        :param host: default ``'127.0.0.1'``. :param port: default 5000 (0: any free port).
        Flask-SocketIO's other arguments (``debug``, ``use_reloader``, ``log_output``,
        ``allow_unsafe_werkzeug``, ...) are accepted and ignored."""
        if app is not None:
            self.init_app(app)
        host = host or "127.0.0.1"
        port = 5000 if port is None else int(port)
        server = self._ensure_server(http=self.app is not None)
        bound = server.listen(host, port)
        self.port = bound
        if kwargs.get("log_output", True):
            print(f" * chat serving Socket.IO on http://{host}:{bound}", file=sys.stderr, flush=True)
        self._stopped.clear()
        server.start()
        try:
            while not server.wait(0.1):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            server.stop()
            self._stopped.set()

    def stop(self):
        """Stop a running server: ``run()`` returns. Any thread."""
        if self.server is not None:
            threading.Thread(target=self.server.stop, daemon=True).start()

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

    # ---- the dispatcher the C++ side calls (on a worker thread, with the GIL) ----

    def _dispatch(self, kind, *args):
        if kind == "event":
            return self._on_event(*args)
        if kind == "connect":
            return self._on_connect(*args)
        if kind == "disconnect":
            return self._on_disconnect(*args)
        if kind == "ack":
            return self._on_ack(*args)
        if kind == "http":
            from .wsgi import call_wsgi

            return call_wsgi(self.app, args[0])
        raise ValueError(kind)

    def _handler_for(self, namespace: str, event: str):
        """The handler of an event and how to call it: (handler, real-namespace-first?)."""
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
        flask_context = None
        request = None
        if self.app is not None and hasattr(self.app, "request_context"):
            from .wsgi import handshake_environ

            flask_context = self.app.request_context(handshake_environ(environ))
            flask_context.push()
            import flask

            if self.manage_session:
                # A copy of the user session made at connection time, kept across this client's
                # events (Flask-SocketIO's managed session).
                if "saved_session" not in environ:
                    environ["saved_session"] = _managed_session(flask.session)
                flask_context.session = environ["saved_session"]
            request = flask.request._get_current_object()
            request.sid = sid
            request.namespace = namespace
            request.event = event
        else:
            # Built once per connection; only the event changes from call to call.
            request = environ.get("request")
            if request is None:
                request = Request(sid=sid, namespace=namespace, event=event,
                                  args=QueryArgs(environ.get("query", [])),
                                  headers=Headers(environ.get("headers", [])),
                                  remote_addr=environ.get("remote_address", ""))
                environ["request"] = request
            request.event = event
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
            if flask_context is not None:
                flask_context.pop()

    def _on_connect(self, namespace, sid, auth, environ):
        self._environs[(namespace, sid)] = environ
        auth = auth or None  # python-socketio hands an empty auth over as none at all
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
                logger.exception("chat: connect handler of %s failed", namespace)
                accepted, message = False, "Connection rejected by server"
        if accepted:
            if not always:
                server.accept(namespace, sid)
        elif always:
            server.disconnect(namespace, sid)
        else:
            self._environs.pop((namespace, sid), None)
            server.reject(namespace, sid, message, data)

    def _on_event(self, namespace, sid, name, args, ack_id):
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
                result = self._run_handler(lambda *_: error_handler(error), namespace, sid, name, call_args)
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
                self.server.ack(namespace, sid, ack_id, reply)
            except Exception as error:  # noqa: BLE001 - an unserialisable return value
                self._handler_failed(sid, error, "acknowledgement of %r in %s failed" % (name, namespace))

    def _handler_failed(self, sid, error, what):
        """Logs a handler's exception; a test client's own handlers hand it back to the test,
        as Flask-SocketIO's synchronous test client does."""
        if sid in self._test_sids:
            self._test_errors[sid] = error
        else:
            logger.error("chat: %s", what, exc_info=error)

    def _on_disconnect(self, namespace, sid, reason):
        if (namespace, sid) not in self._environs:
            return  # never accepted
        handler, _ = self._handler_for(namespace, "disconnect")
        try:
            if handler is not None:
                python_reason = _REASONS.get(reason, reason)
                try:
                    self._run_handler(handler, namespace, sid, "disconnect", (python_reason,))
                except TypeError:
                    self._run_handler(handler, namespace, sid, "disconnect", ())
        except Exception:  # noqa: BLE001
            logger.exception("chat: disconnect handler of %s failed", namespace)
        finally:
            self._environs.pop((namespace, sid), None)

    def _on_ack(self, callback_id, args):
        entry = self._callbacks.pop(callback_id, None)
        if entry is None:
            return
        callback, (namespace, sid, _request) = entry
        try:
            self._run_handler(callback, namespace, sid, None, args)
        except Exception:  # noqa: BLE001
            logger.exception("chat: emit callback failed")
