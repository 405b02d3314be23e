"""The options of ``SocketIO(app, **options)``: Flask-SocketIO's, python-socketio's and
python-engineio's names, checked when given and turned into the C++ server's settings.

Every option either does what it does there or is refused at once, with a message that names it
and says what to use instead: none is accepted and quietly ignored.
"""
from __future__ import annotations

import inspect
import ipaddress
import json as std_json
from typing import Any, Callable, Dict, List, Optional

from .wsgi import base_environ

# What SocketIO() and init_app() accept: Flask-SocketIO's, python-socketio's and
# python-engineio's names, and chat's own.
SERVER_OPTIONS = frozenset({
    # Flask-SocketIO
    "manage_session", "message_queue", "channel", "path", "resource",
    # python-socketio
    "client_manager", "logger", "serializer", "json", "async_handlers", "always_connect",
    "namespaces", "engineio_logger", "write_only",
    # python-engineio
    "async_mode", "ping_interval", "ping_timeout", "max_http_buffer_size", "allow_upgrades",
    "http_compression", "compression_threshold", "cookie", "cors_allowed_origins",
    "cors_credentials", "monitor_clients", "transports",
    # Node's, under python names
    "upgrade_timeout", "per_message_deflate", "allow_request", "initial_packet", "initial_headers", "headers",
    "cors_methods", "cors_allowed_headers", "cors_exposed_headers", "cors_max_age",
    "cleanup_empty_child_namespaces", "allow_eio3",
    # chat's own
    "workers", "client_bundle_dir", "connect_timeout", "handshake_timeout", "max_connections",
    "max_sessions_per_ip", "handshake_rate_per_ip", "trusted_proxies", "max_pending_acks",
    "max_queued_events",
    # Node's connectionStateRecovery, under its python name
    "connection_state_recovery",
})

# The keys of connection_state_recovery, with Node's defaults (times in seconds).
RECOVERY_DEFAULTS = {"max_disconnection_duration": 120.0, "skip_middlewares": True, "max_kept_bytes": 64 << 20}

_TRANSPORTS = ("polling", "websocket")


class UnsupportedOption(ValueError):
    """An option (or a value of one) that chat does not support: refused rather than ignored."""

    def __init__(self, name: str, value: Any, why: str):
        super().__init__("%s=%r: %s" % (name, value, why))
        self.option = name


def check(options: Dict[str, Any]) -> None:
    """Refuses unknown option names and values chat cannot honour (raises at once)."""
    unknown = sorted(set(options) - SERVER_OPTIONS)
    if unknown:
        raise TypeError("SocketIO() got unknown option%s %s; the options are: %s"
                        % ("s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)),
                           ", ".join(sorted(SERVER_OPTIONS))))
    for name in ("client_manager", "write_only"):
        if name in options and options[name] is not None and not (name == "write_only" and options[name] is False):
            raise UnsupportedOption(
                name, options[name],
                "chat has no client manager to plug in: pass message_queue='redis://...' for a cluster "
                "(SocketIO(message_queue=...) without an app is the write-only emitter)")
    queue = options.get("message_queue")
    if queue is not None and not (isinstance(queue, str) and queue.startswith("redis://")):
        raise UnsupportedOption(
            "message_queue", queue,
            "chat's message queue is Redis, in the format of Node's @socket.io/redis-adapter: give "
            "redis://[[user]:password@]host[:port][/db] (rediss://, Kafka, ZeroMQ and Kombu's queues are "
            "not supported)")
    channel = options.get("channel")
    if channel is not None:
        if not isinstance(channel, str) or not channel:
            raise UnsupportedOption("channel", channel, "the channel is a non-empty string")
        if queue is None:
            raise UnsupportedOption("channel", channel, "a channel is the message queue's: pass message_queue too")
    mode = options.get("async_mode")
    if mode not in (None, "threading"):
        raise UnsupportedOption("async_mode", mode,
                                "chat runs handlers on its own thread pool, not on eventlet or gevent; "
                                "leave async_mode out (or pass 'threading')")
    if not isinstance(options.get("http_compression", True), bool):
        raise UnsupportedOption("http_compression", options["http_compression"], "pass True or False")
    deflate = options.get("per_message_deflate", False)
    if not (isinstance(deflate, bool) or (isinstance(deflate, dict) and set(deflate) <= {"threshold"})):
        raise UnsupportedOption("per_message_deflate", deflate,
                                "pass True, False or Node's {'threshold': bytes} (no other zlib settings)")
    for name, value in (("compression_threshold", options.get("compression_threshold")),
                        ("per_message_deflate", deflate.get("threshold") if isinstance(deflate, dict) else None),
                        ("cors_max_age", options.get("cors_max_age"))):
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise UnsupportedOption(name, value, "pass a whole number of at least 0")
    for name in ("cors_methods", "cors_allowed_headers", "cors_exposed_headers"):
        value = options.get(name)
        if value is not None and not (isinstance(value, str) or (isinstance(value, (list, tuple))
                                                                 and all(isinstance(v, str) for v in value))):
            raise UnsupportedOption(name, value, "pass a comma-separated str or a list of str")
    if options.get("allow_request") is not None and not callable(options["allow_request"]):
        raise UnsupportedOption("allow_request", options["allow_request"],
                                "pass a function of (environ) returning True, False or a refusal message")
    if options.get("initial_packet") is not None and not isinstance(options["initial_packet"], str):
        raise UnsupportedOption("initial_packet", options["initial_packet"],
                                "pass the text of a Socket.IO packet, e.g. '2[\"welcome\"]' (no binary)")
    for name in ("initial_headers", "headers"):
        value = options.get(name)
        if value is not None and not (callable(value) or isinstance(value, dict)):
            raise UnsupportedOption(name, value, "pass a dict of headers, or a function of (environ) returning one")
    if options.get("monitor_clients") not in (None, True):
        raise UnsupportedOption("monitor_clients", options["monitor_clients"],
                                "the C++ server always closes clients that stop answering pings; "
                                "leave it out")
    if options.get("engineio_logger") not in (None, False):
        raise UnsupportedOption("engineio_logger", options["engineio_logger"],
                                "chat's Engine.IO layer is C++ and does not log packets; leave it out "
                                "(logger=True logs every Socket.IO event received and emitted)")
    serializer = options.get("serializer", "default")
    if not isinstance(serializer, str) or serializer not in ("default", "msgpack"):
        raise UnsupportedOption("serializer", serializer,
                                "chat speaks 'default' (JSON, socket.io-parser) and 'msgpack' "
                                "(socket.io-msgpack-parser); a Packet subclass or 'cbor' cannot run in the C++ server")
    if serializer == "msgpack":
        if options.get("initial_packet") is not None:
            raise UnsupportedOption("initial_packet", options["initial_packet"],
                                    "it is socket.io-parser text, which serializer='msgpack' clients cannot read; "
                                    "leave it out")
        # json= shapes JSON text, which msgpack packets do not go through: python-socketio
        # ignores it there; here it is refused rather than silently ignored.
        if options.get("json") not in (None, std_json):
            raise UnsupportedOption("json", options["json"],
                                    "serializer='msgpack' sends no JSON text, so a json module has nothing to do; "
                                    "leave it out")
    logger = options.get("logger", False)
    if not isinstance(logger, bool) and not all(hasattr(logger, m) for m in ("info", "error", "exception")):
        raise UnsupportedOption("logger", logger, "pass True, False or a logging.Logger")
    json_module = options.get("json")
    if json_module is not None and not (callable(getattr(json_module, "dumps", None))
                                        and callable(getattr(json_module, "loads", None))):
        raise UnsupportedOption("json", json_module, "pass a module with dumps() and loads(), like json")
    transports(options.get("transports"))
    recovery(options.get("connection_state_recovery"))
    cookie(options.get("cookie"))
    handshake_rate(options.get("handshake_rate_per_ip"))
    trusted_proxies(options.get("trusted_proxies"))
    for name in ("max_connections", "max_sessions_per_ip", "max_pending_acks", "max_queued_events"):
        value = options.get(name)
        if value is not None and not (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
            raise UnsupportedOption(name, value, "pass a whole number of at least 0 (0: no limit)")
    origins = options.get("cors_allowed_origins")
    if not (origins is None or isinstance(origins, (str, list, tuple, set)) or callable(origins)):
        raise UnsupportedOption("cors_allowed_origins", origins,
                                "pass None (same origin only), '*', an origin, a list of origins, or a "
                                "function of (origin[, environ])")


def handshake_rate(value) -> None:
    """``(per_second, burst)``: a positive rate with a burst of at least 1, or None."""
    if value is None:
        return
    try:
        per_second, burst = value
        valid = float(per_second) > 0 and int(burst) >= 1 and int(burst) == burst
    except (TypeError, ValueError):
        valid = False
    if not valid:
        raise UnsupportedOption("handshake_rate_per_ip", value,
                                "pass (handshakes per second, burst), e.g. (1, 10), or None for no limit")


def trusted_proxies(value) -> None:
    """Addresses ('10.0.0.1') and networks ('10.0.0.0/8'), checked as the C++ server checks them."""
    if not value:
        return
    for entry in [value] if isinstance(value, str) else value:
        try:
            address, slash, length = str(entry).partition("/")
            if slash and not (length.isdigit() and len(length) <= 3):
                raise ValueError("a prefix length, not a netmask")
            ipaddress.ip_network(str(entry), strict=False)
        except ValueError:
            raise UnsupportedOption("trusted_proxies", value,
                                    "%r is neither an IP address nor a network such as 10.0.0.0/8" % (entry,)) from None


def recovery(value) -> Optional[Dict[str, Any]]:
    """connection_state_recovery: None or False (off, the default), True (Node's defaults), or a
    dict of ``max_disconnection_duration`` (seconds), ``skip_middlewares`` and ``max_kept_bytes``;
    returns the settings, defaults filled in, or None."""
    if value is None or value is False:
        return None
    if value is True:
        value = {}
    if not isinstance(value, dict):
        raise UnsupportedOption("connection_state_recovery", value,
                                "pass a dict such as {'max_disconnection_duration': 120} (or True for the defaults)")
    unknown = sorted(set(value) - set(RECOVERY_DEFAULTS))
    if unknown:
        raise TypeError("connection_state_recovery got unknown key%s %s; the keys are: %s"
                        % ("s" if len(unknown) > 1 else "", ", ".join(map(repr, unknown)),
                           ", ".join(sorted(RECOVERY_DEFAULTS))))
    settings = dict(RECOVERY_DEFAULTS, **value)
    duration = settings["max_disconnection_duration"]
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not duration > 0:
        raise UnsupportedOption("connection_state_recovery", value,
                                "max_disconnection_duration is a number of seconds greater than 0")
    if settings["skip_middlewares"] is not True:
        raise UnsupportedOption("connection_state_recovery", value,
                                "skip_middlewares must be True: the Python API has no connect middlewares, and "
                                "the connect handler runs for every connection, recovered or not (it can read "
                                "request.recovered)")
    kept = settings["max_kept_bytes"]
    if isinstance(kept, bool) or not isinstance(kept, int) or kept < 0:
        raise UnsupportedOption("connection_state_recovery", value,
                                "max_kept_bytes is a whole number of bytes, at least 0 (0: no bound but the window)")
    return settings


def transports(value) -> Optional[List[str]]:
    """python-engineio's rule: a name or a list; unknown names are dropped; none left is an error."""
    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    valid = [name for name in names if name in _TRANSPORTS]
    if not valid:
        raise UnsupportedOption("transports", value, "no valid transport: use 'polling' and/or 'websocket'")
    return valid


def cookie(value) -> Optional[tuple]:
    """The (name, attributes) of the session cookie: python-engineio's string (a name, with
    ``Path=/; SameSite=Lax``) or dict (``name`` and attributes; ``True`` for a bare attribute)."""
    if value is None or value is False:
        return None
    if isinstance(value, str):
        return value, "path=/; SameSite=Lax"
    if not isinstance(value, dict):
        raise UnsupportedOption("cookie", value, "pass a cookie name or a dict of its name and attributes")
    parts = []
    for attribute, setting in value.items():
        if attribute == "name" or setting is None or setting is False:
            continue
        if callable(setting):
            raise UnsupportedOption("cookie", value,
                                    "attribute %r is a function; chat sets the cookie from the C++ server "
                                    "and takes only str values (or True for a bare attribute)" % attribute)
        parts.append(attribute if setting is True else "%s=%s" % (attribute, setting))
    return str(value.get("name", "io")), "; ".join(parts)


def _seconds(value) -> float:
    return float(value)


def origin_check(function: Callable) -> Callable[[str, dict], bool]:
    """python-engineio calls a ``cors_allowed_origins`` function with the origin and the WSGI
    environ, or with the origin alone when it takes one argument."""
    try:
        parameters = inspect.signature(function).parameters.values()
        positional = [p for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        takes_environ = len(positional) >= 2 or any(p.kind == p.VAR_POSITIONAL for p in parameters)
    except (TypeError, ValueError):  # a builtin without a signature: try as python-engineio does
        takes_environ = None

    def check_request(origin: str, request: dict) -> bool:
        environ = base_environ(request["method"], request["target"], request["headers"], request["remote_address"])
        if takes_environ is None:
            try:
                return bool(function(origin, environ))
            except TypeError:
                return bool(function(origin))
        return bool(function(origin, environ) if takes_environ else function(origin))

    return check_request


def _environ_of(request: dict) -> dict:
    return base_environ(request["method"], request["target"], request["headers"], request["remote_address"])


def request_check(function: Callable) -> Callable[[dict], Any]:
    """``allow_request(environ)``: True allows the handshake; False refuses it with 403 and
    "Forbidden"; a str refuses it with that message (Node's ``callback(message, false)``)."""

    def check_request(request: dict):
        verdict = function(_environ_of(request))
        return verdict if isinstance(verdict, str) else bool(verdict)

    return check_request


def headers_hook(value) -> Callable[[dict], list]:
    """``headers``/``initial_headers``: a dict of headers, or a function of (environ) returning a
    dict (or a list of (name, value) pairs, or None), as (name, value) pairs for the C++ hook."""

    def pairs(added) -> list:
        if not added:
            return []
        items = added.items() if isinstance(added, dict) else added
        return [(str(name), str(header)) for name, header in items]

    if isinstance(value, dict):
        fixed = pairs(value)
        return lambda request: fixed
    return lambda request: pairs(value(_environ_of(request)))


def _names(value) -> List[str]:
    """A list of names given as a list or as npm cors' comma-separated string."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return [str(v) for v in value]


def core_options(options: Dict[str, Any]):
    """The C++ server's settings for `options` (already checked): a ``_core.Options``, and the
    host's own settings (``workers``, ``ordered_events``) as keyword arguments of
    ``_core.Server``."""
    from . import _core

    core = _core.Options()
    if "ping_interval" in options:
        interval = options["ping_interval"]
        if isinstance(interval, (tuple, list)):  # python-engineio's (interval, grace period)
            interval, grace = interval
            core.ping_interval_grace = _seconds(grace)
        core.ping_interval = _seconds(interval)
    for name in ("ping_timeout", "upgrade_timeout", "connect_timeout", "handshake_timeout"):
        if name in options:
            setattr(core, name, _seconds(options[name]))
    if "max_pending_acks" in options:
        core.max_pending_acks = int(options["max_pending_acks"] or 0)
    if "cleanup_empty_child_namespaces" in options:
        core.cleanup_empty_child_namespaces = bool(options["cleanup_empty_child_namespaces"])
    if "max_connections" in options:
        core.max_connections = int(options["max_connections"] or 0)
    if "max_sessions_per_ip" in options:
        core.max_sessions_per_ip = int(options["max_sessions_per_ip"] or 0)
    rate = options.get("handshake_rate_per_ip")
    if rate is not None:
        per_second, burst = rate  # ValueError from C++ for a negative rate or no burst
        core.handshake_rate_per_ip = (float(per_second), int(burst))
    if options.get("trusted_proxies"):
        proxies = options["trusted_proxies"]
        core.trusted_proxies = [proxies] if isinstance(proxies, str) else [str(p) for p in proxies]
    if "max_http_buffer_size" in options:
        core.max_payload = int(options["max_http_buffer_size"])
    if "allow_upgrades" in options:
        core.allow_upgrades = bool(options["allow_upgrades"])
    if "allow_eio3" in options:
        core.allow_eio3 = bool(options["allow_eio3"])
    if "cors_credentials" in options:
        core.cors_credentials = bool(options["cors_credentials"])
    for name in ("cors_methods", "cors_allowed_headers", "cors_exposed_headers"):
        if options.get(name) is not None:
            setattr(core, name, _names(options[name]))
    if options.get("cors_max_age") is not None:
        core.cors_max_age = int(options["cors_max_age"])
    if "http_compression" in options:
        core.http_compression = bool(options["http_compression"])
    if options.get("compression_threshold") is not None:
        core.compression_threshold = int(options["compression_threshold"])
    deflate = options.get("per_message_deflate")
    if deflate is not None:
        core.per_message_deflate = bool(deflate) or isinstance(deflate, dict)
        if isinstance(deflate, dict) and "threshold" in deflate:
            core.per_message_deflate_threshold = int(deflate["threshold"])
    if options.get("allow_request") is not None:
        core.allow_request = request_check(options["allow_request"])
    if options.get("initial_packet") is not None:
        core.initial_packet = options["initial_packet"]
    if options.get("serializer") == "msgpack":
        core.parser = "msgpack"
    origins = options.get("cors_allowed_origins")
    if origins is None:
        core.cors_allow_same_origin = True  # Flask-SocketIO's default: the page's own site only
    elif callable(origins) and not isinstance(origins, str):
        core.cors_origin_check = origin_check(origins)
    elif origins == "*":
        core.cors_allowed_origins = ["*"]
    elif isinstance(origins, str):
        core.cors_allowed_origins = [origins]
    else:
        core.cors_allowed_origins = ["*"] if "*" in origins else [str(o) for o in origins]
    allowed = transports(options.get("transports"))
    if allowed is not None:
        core.transports = allowed
    recovering = recovery(options.get("connection_state_recovery"))
    if recovering is not None:
        core.connection_state_recovery = (float(recovering["max_disconnection_duration"]),
                                          recovering["skip_middlewares"], recovering["max_kept_bytes"])
    session_cookie = cookie(options.get("cookie"))
    if session_cookie is not None:
        core.cookie = session_cookie
    path = options.get("path") or options.get("resource") or "socket.io"
    core.path = "/" + path.strip("/") + "/"
    host = {"ordered_events": not options.get("async_handlers", False)}
    if "workers" in options:
        host["workers"] = int(options["workers"])
    if "max_queued_events" in options:
        host["max_queued_events"] = int(options["max_queued_events"] or 0)
    return core, host


class JsonCodec:
    """A ``json=`` module in the path of every payload: what goes out is its ``dumps``' output
    (so the types it knows, such as Flask's for dates, can be sent), what comes in is its
    ``loads``' output. Bytes pass around it as binary attachments, as in python-socketio."""

    _KEY = "\x00chat-binary"

    def __init__(self, module, app=None):
        self.module = module
        self.app = app

    def _call(self, function, *args):
        # Flask's json reads the app's settings from the app context (Flask-SocketIO wraps it
        # the same way).
        if self.app is not None and getattr(self.module, "__name__", "") == "flask.json":
            with self.app.app_context():
                return function(*args)
        return function(*args)

    def _hide(self, value, found):
        if isinstance(value, (bytes, bytearray, memoryview)):
            found.append(bytes(value))
            return {self._KEY: len(found) - 1}
        if isinstance(value, dict):
            return {k: self._hide(v, found) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self._hide(v, found) for v in value]
        return value

    def _restore(self, value, found):
        if isinstance(value, dict):
            if len(value) == 1 and self._KEY in value:
                return found[value[self._KEY]]
            return {k: self._restore(v, found) for k, v in value.items()}
        if isinstance(value, list):
            return [self._restore(v, found) for v in value]
        return value

    def outgoing(self, args: list) -> list:
        found: list = []
        text = self._call(self.module.dumps, self._hide(list(args), found))
        return self._restore(std_json.loads(text), found)

    def incoming(self, args):
        found: list = []
        text = std_json.dumps(self._hide(args, found))
        return self._restore(self._call(self.module.loads, text), found)
