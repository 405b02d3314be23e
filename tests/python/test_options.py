"""Every option of Flask-SocketIO / python-socketio / python-engineio that `chat.SocketIO`
accepts does what it does there, on the wire; every one it cannot honour is refused at once
with an error naming it. Servers run in this process (socketio.run on a thread, port 0) and are
reached over real sockets."""
import io
import json
import logging
import re
import socket
import threading
import time

import pytest
import requests
import websocket
from flask import Flask

from chat import SocketIO, emit
from app_servers import IO_TIMEOUT


def refused_status(server, origin):
    try:
        ws = websocket.create_connection(server.ws_url(), origin=origin, timeout=IO_TIMEOUT)
    except websocket.WebSocketBadStatusException as e:
        return e.status_code
    ws.close()
    return 101


# ---------------------------------------------------------------- CORS

def test_default_allows_only_the_same_origin(serve):
    server = serve(SocketIO())
    own = "http://127.0.0.1:%d" % server.port
    r = server.handshake({"Origin": own})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == own
    refused = server.handshake({"Origin": "http://other.example"})
    assert refused.status_code == 403 and refused.json() == {"code": 4, "message": "Forbidden"}
    assert server.handshake().status_code == 200  # no Origin: not a browser
    # a proxy's X-Forwarded-Host / -Proto name the origin the browser sees
    assert server.handshake({"Origin": "https://chat.example", "X-Forwarded-Host": "chat.example",
                             "X-Forwarded-Proto": "https"}).status_code == 200
    assert server.handshake({"Origin": "https://chat.example", "X-Forwarded-Host": "other.example",
                             "X-Forwarded-Proto": "https"}).status_code == 403
    assert refused_status(server, own) == 101
    assert refused_status(server, "http://other.example") == 403


def test_empty_list_turns_cors_off(serve):
    server = serve(SocketIO(cors_allowed_origins=[]))
    r = server.handshake({"Origin": "http://other.example"})
    assert r.status_code == 200
    assert "Access-Control-Allow-Origin" not in r.headers


def test_one_origin_as_a_string(serve):
    server = serve(SocketIO(cors_allowed_origins="http://good.example"))
    assert server.handshake({"Origin": "http://good.example"}).status_code == 200
    assert server.handshake({"Origin": "http://127.0.0.1:%d" % server.port}).status_code == 403


def test_function_of_the_origin_alone(serve):
    seen = []

    def allowed(origin):
        seen.append(origin)
        return origin == "http://good.example"

    server = serve(SocketIO(cors_allowed_origins=allowed))
    assert server.handshake({"Origin": "http://good.example"}).status_code == 200
    assert server.handshake({"Origin": "http://bad.example"}).status_code == 403
    assert refused_status(server, "http://bad.example") == 403
    assert seen == ["http://good.example", "http://bad.example", "http://bad.example"]


def test_cors_credentials_false(serve):
    server = serve(SocketIO(cors_allowed_origins="*", cors_credentials=False))
    r = server.handshake({"Origin": "http://any.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "http://any.example"
    assert "Access-Control-Allow-Credentials" not in r.headers


# ---------------------------------------------------------------- Engine.IO options

def test_transports_websocket_only(serve):
    server = serve(SocketIO(transports=["websocket"]))
    r = server.handshake()
    assert r.status_code == 400 and r.json() == {"code": 0, "message": "Transport unknown"}
    ws = websocket.create_connection(server.ws_url(), timeout=IO_TIMEOUT)
    try:
        assert ws.recv().startswith("0{")
    finally:
        ws.close()


def test_transports_polling_only(serve, clients):
    server = serve(SocketIO(transports="polling"))
    assert server.open_packet()["upgrades"] == []
    with pytest.raises(websocket.WebSocketBadStatusException) as refused:
        websocket.create_connection(server.ws_url(), timeout=IO_TIMEOUT)
    assert refused.value.status_code == 400
    c = clients().connect(server, "upgrade")  # asks to upgrade, is not offered one, stays polling
    assert c.sio.transport() == "polling"


def test_no_valid_transport_is_refused():
    with pytest.raises(ValueError, match="transports"):
        SocketIO(transports=["carrier-pigeon"])


def test_cookie_name(serve):
    server = serve(SocketIO(cookie="route"))
    r = server.handshake()
    sid = json.loads(r.text[1:])["sid"]
    assert r.headers["Set-Cookie"] == "route=%s; path=/; SameSite=Lax" % sid


def test_cookie_attributes(serve):
    server = serve(SocketIO(cookie={"name": "lb", "path": "/chat", "Secure": True, "HttpOnly": True,
                                    "SameSite": "Strict", "Domain": None}))
    r = server.handshake()
    sid = json.loads(r.text[1:])["sid"]
    assert r.headers["Set-Cookie"] == "lb=%s; path=/chat; Secure; HttpOnly; SameSite=Strict" % sid


def test_cookie_attribute_functions_are_refused():
    with pytest.raises(ValueError, match="cookie"):
        SocketIO(cookie={"name": "io", "Expires": lambda: "tomorrow"})


def test_ping_interval_with_grace_period(serve):
    server = serve(SocketIO(ping_interval=(2, 3), ping_timeout=4))
    packet = server.open_packet()
    # python-engineio tells clients the interval plus the grace period
    assert (packet["pingInterval"], packet["pingTimeout"]) == (5000, 4000)


def test_upgrade_timeout(serve):
    server = serve(SocketIO(upgrade_timeout=0.2))
    sid = server.open_packet()["sid"]
    probe = websocket.create_connection(server.ws_url("&sid=" + sid), timeout=IO_TIMEOUT)
    try:
        # A probe that never sends 2probe is closed once upgrade_timeout has passed (with the
        # default 10 s, recv() would time out first and fail the test).
        while probe.recv() not in ("", b""):
            pass
    finally:
        probe.close()


def test_handshake_timeout(serve):
    server = serve(SocketIO(handshake_timeout=0.2))
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as slow:
        slow.sendall(b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n")  # never finished
        # Closed once handshake_timeout has passed (with the default 5 s, recv() would time
        # out first and fail the test).
        while slow.recv(4096):
            pass


def test_max_connections(serve):
    server = serve(SocketIO(max_connections=2))
    server.open_packet()
    server.open_packet()
    refused = server.handshake()
    assert refused.status_code == 503
    assert refused.json() == {"code": 4, "message": "Server is at its connection limit"}


def test_max_sessions_per_ip_and_trusted_proxies(serve):
    server = serve(SocketIO(max_sessions_per_ip=1, trusted_proxies=["127.0.0.1"]))
    server.open_packet({"X-Forwarded-For": "203.0.113.1"})
    refused = server.handshake({"X-Forwarded-For": "203.0.113.1"})
    assert refused.status_code == 429
    assert refused.json() == {"code": 4, "message": "Too many sessions from this address"}
    server.open_packet({"X-Forwarded-For": "203.0.113.2"})


def test_handshake_rate_per_ip(serve):
    server = serve(SocketIO(handshake_rate_per_ip=(0.001, 2)))
    server.open_packet()
    server.open_packet()
    refused = server.handshake()
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.json() == {"code": 4, "message": "Too many handshakes from this address"}


@pytest.mark.parametrize("name, value", [
    ("handshake_rate_per_ip", (1, 0)),
    ("handshake_rate_per_ip", 5),
    ("handshake_rate_per_ip", (-1, 3)),
    ("trusted_proxies", ["10.0.0.0/8", "proxy.example"]),
    ("trusted_proxies", "10.0.0.0/33"),
    ("trusted_proxies", ["10.0.0.0/255.0.0.0"]),
    ("max_connections", -1),
    ("max_sessions_per_ip", 1.5),
    ("max_pending_acks", "10"),
    ("max_queued_events", -3),
])
def test_bad_admission_limits_are_refused_by_name(name, value):
    with pytest.raises(ValueError, match="^%s=" % name):
        SocketIO(**{name: value})


def test_max_http_buffer_size(serve):
    server = serve(SocketIO(max_http_buffer_size=100))
    assert server.open_packet()["maxPayload"] == 100


# ---------------------------------------------------------------- python-socketio options

def test_async_handlers_lets_one_clients_events_overlap(serve, clients):
    socketio = SocketIO(async_handlers=True)
    released = threading.Event()

    @socketio.on("wait")
    def wait():
        return "released" if released.wait(IO_TIMEOUT) else "timed out"

    @socketio.on("release")
    def release():
        released.set()
        return "ok"

    server = serve(socketio)
    c = clients().connect(server, "websocket")
    c.emit("wait")  # its handler blocks until the next event of the same client has run
    assert c.call("release") == "ok"


def test_max_queued_events_disconnects_a_client_that_outpaces_its_handlers(serve, clients):
    socketio = SocketIO(max_queued_events=5)
    released = threading.Event()
    handled = []

    @socketio.on("work")
    def work(n):
        handled.append(n)
        released.wait(IO_TIMEOUT)  # the first one holds the client's queue until released

    @socketio.on("ping_me")
    def ping_me():
        return "pong"

    server = serve(socketio)
    c = clients().connect(server, "websocket")
    for n in range(7):  # one running, five waiting, the seventh one too many
        c.emit("work", n)
    assert c.disconnects.get(timeout=IO_TIMEOUT) == "/"
    released.set()
    # Another client is served, and the cut client's waiting events ran or were dropped, none
    # beyond the bound.
    other = clients().connect(server, "websocket")
    assert other.call("ping_me") == "pong"
    ran = list(handled)  # a worker may still be appending
    assert ran == list(range(len(ran))) and len(ran) <= 6


def test_max_pending_acks_refuses_a_call_past_the_bound(serve, clients):
    import queue
    from chat import request
    socketio = SocketIO(max_pending_acks=2)
    sids = queue.Queue()

    @socketio.on("connect")
    def connect():
        sids.put(request.sid)

    server = serve(socketio)
    arrived, hold = queue.Queue(), threading.Event()

    def ask(*args):
        arrived.put(args)
        hold.wait(IO_TIMEOUT)  # the answer waits: the server's acknowledgement stays pending
        return "answer"

    clients(handlers={("/", "ask"): ask}).connect(server, "websocket")
    sid = sids.get(timeout=IO_TIMEOUT)
    answers = []
    callers = [threading.Thread(target=lambda: answers.append(socketio.call("ask", to=sid, timeout=IO_TIMEOUT)))
               for _ in range(2)]
    for caller in callers:
        caller.start()
    for _ in callers:
        arrived.get(timeout=IO_TIMEOUT)  # both sent, both awaited
    with pytest.raises(TimeoutError, match="max_pending_acks"):
        socketio.call("ask", to=sid, timeout=IO_TIMEOUT)
    assert arrived.empty()
    hold.set()
    for caller in callers:
        caller.join(IO_TIMEOUT)
    assert answers == ["answer", "answer"]


@pytest.fixture
def chat_logger():
    """The "chat" logger, put back as it was after the test (logger=True configures it)."""
    logger = logging.getLogger("chat")
    level, handlers = logger.level, list(logger.handlers)
    yield logger
    logger.setLevel(level)
    logger.handlers[:] = handlers


def test_logger_true_logs_events(serve, clients, caplog, chat_logger):
    socketio = SocketIO(logger=True)
    assert chat_logger.level == logging.INFO

    @socketio.on("hello")
    def hello(data):
        emit("reply", data)

    server = serve(socketio)
    c = clients().connect(server, "websocket")
    with caplog.at_level(logging.INFO, logger="chat"):
        c.emit("hello", 1)
        c.next("reply")
    messages = [r.getMessage() for r in caplog.records if r.name == "chat"]
    assert any(re.match(r'received event "hello" from \S+ \[/\]', m) for m in messages), messages
    assert any(m.startswith('emitting event "reply" to ') for m in messages), messages


def test_logger_object_gets_the_logs(serve, clients):
    stream = io.StringIO()
    custom = logging.getLogger("test_options.custom")
    custom.setLevel(logging.INFO)
    handler = logging.StreamHandler(stream)
    custom.addHandler(handler)
    try:
        socketio = SocketIO(logger=custom)

        @socketio.on("hello")
        def hello(data):
            return data

        server = serve(socketio)
        c = clients().connect(server, "websocket")
        assert c.call("hello", 2) == 2
        assert 'received event "hello"' in stream.getvalue()
    finally:
        custom.removeHandler(handler)


class Tagging:
    """A json module of the kind python-socketio accepts: it writes sets as sorted lists and
    reads every object with a marker key added."""

    @staticmethod
    def dumps(value, **kwargs):
        return json.dumps(value, default=lambda o: sorted(o) if isinstance(o, set) else repr(o), **kwargs)

    @staticmethod
    def loads(text, **kwargs):
        return json.loads(text, object_hook=lambda d: dict(d, tagged=True), **kwargs)


def test_json_module(serve, clients):
    socketio = SocketIO(json=Tagging)

    @socketio.on("convert")
    def convert(data):
        return {"received": data, "set": {3, 1, 2}, "bytes": b"\x00\x01"}

    server = serve(socketio)
    c = clients().connect(server, "websocket")
    reply = c.call("convert", {"a": 1})
    assert reply == {"received": {"a": 1, "tagged": True}, "set": [1, 2, 3], "bytes": b"\x00\x01"}


# ---------------------------------------------------------------- refused at once

@pytest.mark.parametrize("options, named", [
    ({"message_queue": "kafka://localhost:9092"}, "message_queue"),
    ({"channel": "other"}, "channel"),
    ({"client_manager": object()}, "client_manager"),
    ({"write_only": True}, "write_only"),
    ({"async_mode": "eventlet"}, "async_mode"),
    ({"async_mode": "gevent"}, "async_mode"),
    ({"http_compression": "yes"}, "http_compression"),
    ({"compression_threshold": -1}, "compression_threshold"),
    ({"per_message_deflate": {"level": 9}}, "per_message_deflate"),
    ({"cors_methods": 3}, "cors_methods"),
    ({"cors_max_age": 1.5}, "cors_max_age"),
    ({"allow_request": True}, "allow_request"),
    ({"initial_packet": b"bytes"}, "initial_packet"),
    ({"headers": ["X-A"]}, "headers"),
    ({"monitor_clients": False}, "monitor_clients"),
    ({"engineio_logger": True}, "engineio_logger"),
    ({"serializer": "cbor"}, "serializer"),
    ({"serializer": "msgpack", "initial_packet": '2["welcome"]'}, "initial_packet"),
    ({"serializer": "msgpack", "json": object()}, "json"),
    ({"json": object()}, "json"),
    ({"logger": "yes"}, "logger"),
    ({"cors_allowed_origins": 42}, "cors_allowed_origins"),
])
def test_unsupported_options_are_refused(options, named):
    with pytest.raises(ValueError, match="^%s=" % named) as refused:
        SocketIO(Flask(__name__), **options)
    assert refused.value.option == named
    # the same from init_app, and with no app (Flask-SocketIO's emitter-only instance)
    with pytest.raises(ValueError, match="^%s=" % named):
        SocketIO().init_app(Flask(__name__), **options)
    with pytest.raises(ValueError, match="^%s=" % named):
        SocketIO(**options)


def test_supported_values_of_those_options_are_accepted():
    SocketIO(Flask(__name__), async_mode="threading", http_compression=False, monitor_clients=True,
             engineio_logger=False, serializer="default", write_only=False, json=json, logger=False)
    SocketIO(Flask(__name__), http_compression=True, compression_threshold=2048, per_message_deflate={"threshold": 0},
             cors_methods="GET,POST", cors_max_age=600, allow_request=lambda environ: True,
             initial_packet='2["hi"]', headers={"X-A": "1"}, initial_headers=lambda environ: None)


def test_unknown_option_names_are_refused():
    with pytest.raises(TypeError, match="'ping_intervall'"):
        SocketIO(ping_intervall=3)


def test_unknown_emit_arguments_are_refused():
    socketio = SocketIO()
    with pytest.raises(TypeError, match="'brodcast'"):
        socketio.emit("x", brodcast=True)


def test_run_refuses_unknown_arguments():
    with pytest.raises(TypeError, match="'reload'"):
        SocketIO(Flask(__name__)).run(port=0, reload=True)


def test_every_disconnect_reason_has_a_python_socketio_name():
    from chat import _core
    from chat.server import _REASONS, SocketIO

    assert set(_REASONS) == set(_core.DisconnectReason.__members__.values())
    names = {value for name, value in vars(SocketIO.reason).items() if name.isupper()}
    assert set(_REASONS.values()) <= names
    assert str(_core.DisconnectReason.ping_timeout) == "ping timeout"


# ---------------------------------------------------------------- Engine.IO options

def _long_poll(server, socketio, accept_encoding):
    """The GET that carries a 3000-character event of the server to a polling session."""
    sid = server.open_packet()["sid"]
    url = server.url + "/socket.io/?EIO=4&transport=polling&sid=" + sid
    assert requests.post(url, data="40", timeout=IO_TIMEOUT).text == "ok"
    assert requests.get(url, timeout=IO_TIMEOUT).text.startswith("40")
    assert requests.post(url, data='42["shout","%s"]' % ("x" * 3000), timeout=IO_TIMEOUT).text == "ok"
    return requests.get(url, headers={"Accept-Encoding": accept_encoding}, timeout=IO_TIMEOUT)


def _shouting_socketio(**options):
    socketio = SocketIO(**options)

    @socketio.on("shout")
    def shout(text):
        emit("shouted", text)

    return socketio


@pytest.mark.parametrize("options,coding", [({}, "gzip"), ({"http_compression": False}, None),
                                            ({"compression_threshold": 100000}, None)])
def test_http_compression(serve, options, coding):
    socketio = _shouting_socketio(**options)
    server = serve(socketio)
    r = _long_poll(server, socketio, "gzip")
    assert r.headers.get("Content-Encoding") == coding
    assert '42["shouted","%s"]' % ("x" * 3000) in r.text.split("\x1e")  # requests inflates it


def test_cors_lists(serve):
    server = serve(SocketIO(cors_allowed_origins="http://good.example", cors_methods="GET,POST",
                            cors_allowed_headers=["X-A", "X-B"], cors_exposed_headers="X-C", cors_max_age=600))
    r = requests.options(server.url + "/socket.io/?EIO=4&transport=polling", timeout=IO_TIMEOUT,
                         headers={"Origin": "http://good.example", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 204
    assert r.headers["Access-Control-Allow-Methods"] == "GET,POST"
    assert r.headers["Access-Control-Allow-Headers"] == "X-A,X-B"
    assert r.headers["Access-Control-Expose-Headers"] == "X-C"
    assert r.headers["Access-Control-Max-Age"] == "600"


def test_allow_request(serve, clients):
    seen = []

    def allow(environ):
        seen.append((environ["PATH_INFO"], environ.get("HTTP_X_TOKEN")))
        token = environ.get("HTTP_X_TOKEN")
        return True if token == "good" else ("bad token" if token else False)

    server = serve(SocketIO(allow_request=allow))
    r = server.handshake()
    assert r.status_code == 403 and r.json() == {"code": 4, "message": "Forbidden"}
    r = server.handshake({"X-Token": "wrong"})
    assert r.status_code == 403 and r.json() == {"code": 4, "message": "bad token"}
    assert seen[:2] == [("/socket.io/", None), ("/socket.io/", "wrong")]
    import socketio as python_socketio
    for transport in ("polling", "websocket"):
        refused = clients()
        with pytest.raises(python_socketio.exceptions.ConnectionError):
            refused.connect(server, transport, headers={"X-Token": "wrong"})
        admitted = clients().connect(server, transport, headers={"X-Token": "good"})
        assert admitted.sio.connected


def test_initial_packet(serve, clients):
    server = serve(SocketIO(initial_packet='2["welcome","hi"]'))
    for transport in ("polling", "websocket"):
        c = clients().connect(server, transport)
        assert c.next("welcome") == ("hi",)


def test_headers_and_initial_headers(serve):
    server = serve(SocketIO(headers={"X-Every": "1"},
                            initial_headers=lambda environ: {"X-First": environ["QUERY_STRING"].split("&")[1]}))
    r = server.handshake()
    assert r.headers["X-Every"] == "1" and r.headers["X-First"] == "transport=polling"
    sid = json.loads(r.text[1:])["sid"]
    poll = requests.post(server.url + "/socket.io/?EIO=4&transport=polling&sid=" + sid, data="40", timeout=IO_TIMEOUT)
    assert poll.headers["X-Every"] == "1" and "X-First" not in poll.headers
    ws = websocket.create_connection(server.ws_url(), timeout=IO_TIMEOUT, suppress_origin=True)
    try:
        assert ws.getheaders()["x-every"] == "1" and ws.getheaders()["x-first"] == "transport=websocket"
    finally:
        ws.close()


@pytest.mark.parametrize("options,negotiated", [({}, False), ({"per_message_deflate": True}, True),
                                                ({"per_message_deflate": {"threshold": 0}}, True)])
def test_per_message_deflate(serve, options, negotiated):
    server = serve(SocketIO(**options))
    ws = websocket.create_connection(server.ws_url(), timeout=IO_TIMEOUT, suppress_origin=True,
                                     header=["Sec-WebSocket-Extensions: permessage-deflate"])
    try:
        assert ws.getheaders().get("sec-websocket-extensions", "").startswith("permessage-deflate") == negotiated
    finally:
        ws.close()


def test_emit_with_compress_false_leaves_a_polling_response_plain(serve):
    # Node's compress flag: http_compression (on by default) skips a response holding only
    # events sent with compress=False; the same event sent normally is compressed.
    socketio = SocketIO()
    big = "x" * 4000

    @socketio.on("ask")
    def ask(compress):
        emit("big", big, compress=compress)

    server = serve(socketio)
    r = server.handshake()
    sid = json.loads(r.text[1:])["sid"]
    url = server.url + "/socket.io/?EIO=4&transport=polling&sid=" + sid
    assert requests.post(url, data="40", timeout=IO_TIMEOUT).text == "ok"
    assert requests.get(url, timeout=IO_TIMEOUT).text.startswith("40")
    for compress, coding in ((False, None), (True, "gzip")):
        assert requests.post(url, data='42["ask",%s]' % json.dumps(compress), timeout=IO_TIMEOUT).text == "ok"
        poll = requests.get(url, headers={"Accept-Encoding": "gzip"}, timeout=IO_TIMEOUT)
        assert poll.headers.get("Content-Encoding") == coding
        assert poll.text == '42["big","%s"]' % big


def test_compress_false_with_a_callback_is_refused():
    with pytest.raises(ValueError, match="compress=False"):
        SocketIO().emit("x", compress=False, callback=lambda *a: None)
