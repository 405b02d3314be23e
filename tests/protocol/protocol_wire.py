"""Wire-level helpers for the protocol tests: raw HTTP, raw WebSocket, Engine.IO and Socket.IO framing.

Every socket operation has a short timeout (IO_TIMEOUT) so that a broken server fails a test
instead of hanging it. Nothing here measures time.
"""
import http.client
import json
import queue
import re
import socket
import threading

import socketio
import websocket

from received import Received  # tests/support/received.py, on sys.path through tests/conftest.py

IO_TIMEOUT = 5.0          # any single read or connect
STARTUP_TIMEOUT = 10.0    # server start until `LISTENING <port>`
SHUTDOWN_TIMEOUT = 5.0    # SIGTERM until exit

# Flags of the reference server of the official engine.io-protocol / socket.io-protocol suites.
SUITE_FLAGS = ("--ping-interval", "300", "--ping-timeout", "200",
               "--connect-timeout", "1000", "--cors", "*")
PATH = "/socket.io/"
SEP = "\x1e"              # Engine.IO v4 polling record separator


# --------------------------------------------------------------------------------------------
# HTTP


class Response:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.header_list = headers                 # [(name, value)] as received
        self.headers = {k.lower(): v for k, v in headers}
        self.body = body                           # bytes

    @property
    def text(self):
        return self.body.decode("utf-8")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def __repr__(self):
        return "<HTTP %d %s headers=%r body=%r>" % (self.status, self.reason, self.header_list,
                                                    self.body[:300])


def http_request(port, method, path, body=None, headers=None, timeout=IO_TIMEOUT):
    """One HTTP/1.1 request on a fresh connection; `path` goes on the request line verbatim."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        headers = dict(headers or {})
        if isinstance(body, str):
            body = body.encode("utf-8")
        if body is not None or method in ("POST", "PUT"):
            headers.setdefault("Content-Length", str(len(body or b"")))
        for k, v in headers.items():
            conn.putheader(k, v)
        conn.endheaders(body)
        r = conn.getresponse()
        data = r.read()
        return Response(r.status, r.reason, r.getheaders(), data)
    finally:
        conn.close()


def eio_path(transport="polling", sid=None, eio="4", extra=""):
    q = []
    if eio is not None:
        q.append("EIO=" + eio)
    if transport is not None:
        q.append("transport=" + transport)
    if sid is not None:
        q.append("sid=" + sid)
    if extra:
        q.append(extra)
    return PATH + "?" + "&".join(q)


TEXT_PLAIN = {"Content-Type": "text/plain;charset=UTF-8"}


def get(port, sid, headers=None, timeout=IO_TIMEOUT, extra=""):
    return http_request(port, "GET", eio_path(sid=sid, extra=extra), headers=headers, timeout=timeout)


def post(port, sid, body, headers=None, timeout=IO_TIMEOUT):
    h = dict(TEXT_PLAIN)
    h.update(headers or {})
    return http_request(port, "POST", eio_path(sid=sid), body=body, headers=h, timeout=timeout)


def split_payload(body):
    """A polling response body -> list of packets (str)."""
    text = body.decode("utf-8") if isinstance(body, bytes) else body
    return text.split(SEP)


def assert_error_json(resp, status, code, message=None):
    assert resp.status == status, resp
    ctype = resp.header("content-type", "")
    assert ctype.startswith("application/json"), resp
    value = resp.json()
    assert isinstance(value, dict), resp
    assert set(value) == {"code", "message"}, resp
    assert value["code"] == code, resp
    assert isinstance(value["message"], str) and value["message"], resp
    if message is not None:
        assert value["message"] == message, resp
    return value


def polling_handshake(port, headers=None):
    """GET handshake -> (sid, open packet dict, Response)."""
    r = http_request(port, "GET", eio_path(), headers=headers)
    assert r.status == 200, r
    text = r.text
    assert text.startswith("0{"), r
    opened = json.loads(text[1:])
    return opened["sid"], opened, r


def post_ok(port, sid, body):
    r = post(port, sid, body)
    assert r.status == 200, "POST %r -> %r" % (body, r)
    assert r.body == b"ok", "POST %r -> %r" % (body, r)
    return r


def poll_packets(port, sid, answer_pings=True, max_polls=10):
    """GET until a response holds a packet other than ping `2`; return that response's packets
    without the pings (each ping is answered with a POST `3` so the session stays alive)."""
    for _ in range(max_polls):
        r = get(port, sid)
        assert r.status == 200, r
        packets = split_payload(r.body)
        rest = [p for p in packets if p != "2"]
        if answer_pings:
            for _p in range(len(packets) - len(rest)):
                post_ok(port, sid, "3")
        if rest:
            return rest
    raise AssertionError("%d polls returned nothing but pings" % max_polls)


def collect_packets(port, sid, count):
    """Poll until `count` non-ping packets have arrived (over one or more GETs)."""
    got = []
    while len(got) < count:
        got.extend(poll_packets(port, sid))
    assert len(got) == count, got
    return got


class PendingRequest:
    """A request running in a thread (e.g. a long-poll GET held by the server)."""

    def __init__(self, port, method, path, body=None, headers=None, timeout=IO_TIMEOUT):
        self.result = None
        self.error = None
        self._t = threading.Thread(target=self._run,
                                   args=(port, method, path, body, headers, timeout), daemon=True)
        self._t.start()

    def _run(self, *args):
        try:
            self.result = http_request(*args)
        except BaseException as e:  # noqa: B902 - reported by wait()
            self.error = e

    def done(self):
        return not self._t.is_alive()

    def wait(self, timeout=IO_TIMEOUT + 1):
        self._t.join(timeout)
        assert not self._t.is_alive(), "request still pending after %.0f s" % timeout
        if self.error is not None:
            raise AssertionError("request failed: %r" % (self.error,))
        return self.result


def pending_get(port, sid):
    return PendingRequest(port, "GET", eio_path(sid=sid))


def expect_polling_session_closed(port, sid):
    """After a protocol error that closes the session: the next GETs hold only the close packet
    `1` (pings and noops aside) and then 400, or answer 400 at once."""
    for _ in range(5):
        r = get(port, sid)
        if r.status != 200:
            assert r.status == 400, r
            return
        packets = split_payload(r.body)
        assert set(packets) <= {"1", "2", "6"}, r
        if "1" in packets:
            r = get(port, sid)
            assert r.status == 400, r
            return
        for p in packets:
            if p == "2":
                post(port, sid, "3")
    raise AssertionError("the session was not closed")


def sio_polling_connect(port, connect_packet="40", nsp_prefix=""):
    """Engine.IO handshake over polling, then Socket.IO CONNECT. Returns (eio sid, sio sid)."""
    sid, _, _ = polling_handshake(port)
    post_ok(port, sid, connect_packet)
    packets = collect_packets(port, sid, 2)
    m = re.fullmatch("40" + re.escape(nsp_prefix) + r"(\{.*\})", packets[0])
    assert m, packets
    sio_sid = json.loads(m.group(1))["sid"]
    assert packets[1].startswith("42" + nsp_prefix + '["auth",'), packets
    return sid, sio_sid


# --------------------------------------------------------------------------------------------
# WebSocket


class Closed(Exception):
    """The server closed the WebSocket (close frame or EOF)."""


def ws_url(port, sid=None, eio="4", transport="websocket", extra=""):
    return "ws://127.0.0.1:%d%s" % (port, eio_path(transport=transport, sid=sid, eio=eio, extra=extra))


def ws_connect(port, sid=None, origin=None, header=None, url=None, timeout=IO_TIMEOUT):
    """Open a WebSocket. No Origin header unless `origin` is given."""
    kwargs = {"timeout": timeout}
    if origin is None:
        kwargs["suppress_origin"] = True
    else:
        kwargs["origin"] = origin
    if header:
        kwargs["header"] = header
    return websocket.create_connection(url or ws_url(port, sid=sid), **kwargs)


def ws_recv_frame(ws):
    """Next data frame as ('text', str) or ('binary', bytes). Raises Closed on close frame / EOF."""
    try:
        opcode, data = ws.recv_data()
    except (websocket.WebSocketConnectionClosedException, ConnectionResetError, BrokenPipeError):
        raise Closed()
    if opcode == websocket.ABNF.OPCODE_CLOSE:
        raise Closed()
    if opcode == websocket.ABNF.OPCODE_TEXT:
        return "text", data.decode("utf-8") if isinstance(data, bytes) else data
    if opcode == websocket.ABNF.OPCODE_BINARY:
        return "binary", bytes(data)
    raise AssertionError("unexpected opcode %r" % opcode)


def ws_recv(ws, skip_pings=True):
    """Next frame's payload (str for text, bytes for binary); Engine.IO pings `2` are answered
    with `3` and skipped unless skip_pings is False. Raises AssertionError if the server closes."""
    while True:
        try:
            kind, data = ws_recv_frame(ws)
        except Closed:
            raise AssertionError("the server closed the WebSocket unexpectedly")
        if skip_pings and kind == "text" and data == "2":
            ws.send("3")
            continue
        return data


def ws_recv_text(ws, skip_pings=True):
    data = ws_recv(ws, skip_pings=skip_pings)
    assert isinstance(data, str), "expected a text frame, got binary %r" % (data,)
    return data


def ws_recv_binary(ws):
    data = ws_recv(ws)
    assert isinstance(data, bytes), "expected a binary frame, got text %r" % (data,)
    return data


def ws_expect_close(ws, answer_pings=True):
    """Read until the server closes the WebSocket; return the data frames received before
    (pings included, answered if answer_pings). Fails if nothing closes it within IO_TIMEOUT
    of silence."""
    frames = []
    while True:
        try:
            kind, data = ws_recv_frame(ws)
        except Closed:
            break
        except websocket.WebSocketTimeoutException:
            raise AssertionError("the server did not close the WebSocket; frames received: %r"
                                 % (frames,))
        frames.append(data)
        if answer_pings and kind == "text" and data == "2":
            try:
                ws.send("3")
            except Exception:
                pass
    try:
        ws.close(timeout=1)
    except Exception:
        pass
    return frames


def eio_ws_open(port, origin=None):
    """WebSocket-only Engine.IO session -> (ws, open packet dict)."""
    ws = ws_connect(port, origin=origin)
    first = ws_recv_text(ws, skip_pings=False)
    assert first.startswith("0{"), first
    return ws, json.loads(first[1:])


def sio_ws_connect(port, connect_packet="40", expect_auth='42["auth",{}]'):
    """Engine.IO + Socket.IO connect over WebSocket -> (ws, eio sid, sio sid)."""
    ws, opened = eio_ws_open(port)
    ws.send(connect_packet)
    reply = ws_recv_text(ws)
    m = re.fullmatch(r"40(\{.*\})", reply)
    assert m, reply
    sio_sid = json.loads(m.group(1))["sid"]
    auth = ws_recv_text(ws)
    if expect_auth is not None:
        assert auth == expect_auth, auth
    return ws, opened["sid"], sio_sid


def ws_refused_or_closed(port, url=None, origin=None, sid=None):
    """Try a WebSocket that the server must refuse. Returns ('refused', status) when the HTTP
    upgrade is answered with a non-101 status, or ('closed', frames) when it is accepted and then
    closed. Fails when the connection stays open."""
    try:
        ws = ws_connect(port, sid=sid, origin=origin, url=url)
    except websocket.WebSocketBadStatusException as e:
        return "refused", e.status_code
    except (websocket.WebSocketConnectionClosedException, ConnectionResetError, BrokenPipeError,
            websocket.WebSocketProtocolException):
        return "refused", None
    return "closed", ws_expect_close(ws, answer_pings=False)


# --------------------------------------------------------------------------------------------
# Raw TCP


def raw_exchange(port, data, read=True, timeout=IO_TIMEOUT):
    """Send raw bytes, read until EOF. Returns the bytes read; fails if the server neither
    answers-and-closes nor closes within `timeout` of silence."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if data:
            s.sendall(data)
        if not read:
            return b""
        chunks = []
        while True:
            try:
                c = s.recv(65536)
            except socket.timeout:
                raise AssertionError("the server kept the connection open after %r; read %r"
                                     % (data[:100], b"".join(chunks)[:300]))
            except ConnectionResetError:
                break
            if not c:
                break
            chunks.append(c)
        return b"".join(chunks)
    finally:
        s.close()


def parse_status(raw):
    """Status code of a raw HTTP response, or None if `raw` is empty."""
    if not raw:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    assert m, raw[:200]
    return int(m.group(1))


# --------------------------------------------------------------------------------------------
# python-socketio client


class RecordingClient:
    """A socketio.Client that queues every received event per (namespace, event)."""

    def __init__(self, events=(), namespaces=("/",)):
        self.sio = socketio.Client(reconnection=False)
        self.received = Received()
        self.disconnects = queue.Queue()
        self.connect_errors = queue.Queue()
        base = ["auth", "message-back", "room-message", "except-message", "broadcast", "direct",
                "answer", "answer-timeout", "catch-all"]
        for ns in namespaces:
            for ev in list(base) + list(events):
                self.listen(ev, ns)
            self.sio.on("disconnect", handler=self._on_disconnect(ns), namespace=ns)
            self.sio.on("connect_error", handler=self._on_connect_error(ns), namespace=ns)

    def _on_disconnect(self, ns):
        return lambda *a: self.disconnects.put(ns)

    def _on_connect_error(self, ns):
        return lambda *a: self.connect_errors.put((ns, a))

    def listen(self, event, ns="/"):
        self.sio.on(event, handler=lambda *args: self.received.put(ns, event, args), namespace=ns)

    def on(self, event, handler, ns="/"):
        self.sio.on(event, handler=handler, namespace=ns)

    def connect(self, port, transports=None, namespaces=None, auth=None, wait_timeout=IO_TIMEOUT):
        self.sio.connect("http://127.0.0.1:%d" % port, transports=transports,
                         namespaces=namespaces or ["/"], auth=auth, wait_timeout=wait_timeout)
        return self

    def next(self, event, ns="/", timeout=IO_TIMEOUT):
        """Args tuple of the next `event` received on namespace `ns`."""
        return self.received.next(ns, event, timeout)

    def pending(self, event, ns="/"):
        """Every `event` received and not yet consumed by next()."""
        return self.received.pending(ns, event)

    def call(self, event, *args, ns="/", timeout=IO_TIMEOUT):
        data = args[0] if len(args) == 1 else tuple(args) if args else None
        return self.sio.call(event, data, namespace=ns, timeout=timeout)

    def emit(self, event, *args, ns="/"):
        data = args[0] if len(args) == 1 else tuple(args) if args else None
        self.sio.emit(event, data, namespace=ns)

    def sync(self, ns="/"):
        """A round trip: every packet the server sent this client before the ack has been
        handed to its handler thread by the time this returns (python-engineio runs handlers
        in threads, so one more round trip lets the earlier ones finish)."""
        for i in range(2):
            assert self.call("message-with-ack", "sync-%d" % i, ns=ns) == "sync-%d" % i
