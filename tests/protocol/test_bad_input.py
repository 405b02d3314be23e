"""Bad input loses nothing: while one client sends something malformed, healthy python-socketio
clients on the same server keep exchanging events, and the server stays up (its clean SIGTERM
exit is checked at teardown).

Each attack also checks the answer the attacker itself gets where the protocol defines one."""
import json
import socket
import threading
import time

import pytest

import protocol_wire as wire
from protocol_wire import SEP

MAX_PAYLOAD = 10000
PH0 = '{"_placeholder":true,"num":0}'


# ------------------------------------------------------------------------------ attacks


def _ws_sio_closes(port, *frames):
    ws, _, _ = wire.sio_ws_connect(port)
    for f in frames:
        if isinstance(f, bytes):
            ws.send_binary(f)
        else:
            ws.send(f)
    got = wire.ws_expect_close(ws)
    assert set(got) <= {"2"}, got


def _ws_eio_closes(port, frame):
    ws, _ = wire.eio_ws_open(port)
    ws.send(frame)
    got = wire.ws_expect_close(ws)
    assert set(got) <= {"2"}, got


def attack_ws_invalid_eio_packet(port):
    _ws_eio_closes(port, "abc")


def attack_ws_empty_text_frame(port):
    _ws_eio_closes(port, "")


def attack_ws_invalid_sio_packets(port):
    for p in ["4abc", "42{}", '42abc["x"]', "47", "42[]", '42["message"', '42["disconnect"]',
              "431{}", '41{"a":1}', '45x-["message"]', '42/custom,["message","x"]', "40"]:
        _ws_sio_closes(port, p)


def attack_ws_binary_without_header(port):
    _ws_sio_closes(port, b"\x00\x01\x02")


def attack_ws_text_instead_of_attachment(port):
    _ws_sio_closes(port, '451-["message",%s]' % PH0, '42["message","x"]')


def attack_ws_placeholder_out_of_range(port):
    # placeholder 5 with one attachment: Node's parser throws "illegal attachments" and closes
    _ws_sio_closes(port, '451-["message",{"_placeholder":true,"num":5}]', b"\x01")


def attack_ws_many_attachments_announced(port):
    # Node accepts at most 10 attachments per packet
    _ws_sio_closes(port, '4599999999-["message",%s]' % PH0)


def attack_ws_invalid_utf8_text(port):
    ws, _, _ = wire.sio_ws_connect(port)
    frame = wire.websocket.ABNF.create_frame(b'42["message","\xff\xfe"]',
                                            wire.websocket.ABNF.OPCODE_TEXT)
    ws.send_frame(frame)
    wire.ws_expect_close(ws)


def attack_ws_frame_over_max_payload(port):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send('42["message","%s"]' % ("x" * (MAX_PAYLOAD * 2)))
    frames = wire.ws_expect_close(ws)
    assert all(not f.startswith('42["message-back"') for f in frames if isinstance(f, str)), \
        "an over-size frame was processed"


def _deep_json(port, depth):
    """Deeply nested arrays: the server may refuse them (close) or echo them, never crash."""
    ws, _, _ = wire.sio_ws_connect(port)
    nested = "[" * depth + "]" * depth
    ws.send('42["message",' + nested + "]")
    try:
        kind, data = wire.ws_recv_frame(ws)
        while kind == "text" and data == "2":
            ws.send("3")
            kind, data = wire.ws_recv_frame(ws)
    except wire.Closed:
        return
    assert data == '42["message-back",' + nested + "]", data[:200]
    ws.close()


def attack_ws_deeply_nested_json(port):
    _deep_json(port, 4000)                          # 8 kB of brackets: under MAX_PAYLOAD


def attack_ws_abrupt_disconnect_mid_attachments(port):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send('452-["message",%s,{"_placeholder":true,"num":1}]' % PH0)
    ws.send_binary(b"\x01")
    ws.sock.shutdown(socket.SHUT_RDWR)
    ws.sock.close()


def attack_polling_invalid_eio_packet(port):
    sid, _, _ = wire.polling_handshake(port)
    r = wire.post(port, sid, "abc")
    assert r.status == 400, r
    assert wire.get(port, sid).status == 400


def attack_polling_invalid_sio_packets(port):
    for p in ["4abc", "42{}", '42abc["x"]', "47", '42["message"']:
        sid, _ = wire.sio_polling_connect(port)
        r = wire.post(port, sid, p)
        assert r.status in (200, 400), r
        wire.expect_polling_session_closed(port, sid)


def attack_polling_empty_and_separator_bodies(port):
    for body in ["", SEP, SEP * 3, "4" + SEP, "b", "b!!!!", "2" + SEP + "abc"]:
        sid, _ = wire.sio_polling_connect(port)
        r = wire.post(port, sid, body)
        assert r.status in (200, 400), (body, r)


def attack_polling_too_many_packets_in_one_post(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, SEP.join(['42["message",%d]' % i for i in range(500)]))
    assert r.status in (200, 400, 413), r


def attack_polling_body_over_max_payload(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, '42["message","%s"]' % ("x" * (MAX_PAYLOAD * 2)))
    assert r.status == 413, r


def attack_polling_huge_content_length(port):
    sid, _ = wire.sio_polling_connect(port)
    raw = wire.raw_exchange(port, (
        "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 999999999\r\n"
        "\r\n42" % wire.eio_path(sid=sid)).encode())
    assert wire.parse_status(raw) in (413, 400, None), raw[:300]


def attack_polling_octet_stream(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, '42["message","x"]',
                  headers={"Content-Type": "application/octet-stream"})
    assert r.status == 400, r


def attack_polling_truncated_body(port):
    sid, _ = wire.sio_polling_connect(port)
    s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
    s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n"
               "\r\n42[\"mess" % wire.eio_path(sid=sid)).encode())
    s.close()


def attack_polling_concurrent_posts(port):
    sid, _ = wire.sio_polling_connect(port)
    reqs = [wire.PendingRequest(port, "POST", wire.eio_path(sid=sid),
                                body='42["message",%d]' % i, headers=wire.TEXT_PLAIN)
            for i in range(5)]
    for q in reqs:
        r = q.wait()
        assert r.status in (200, 400, 500), r


def attack_unknown_sids(port):
    for sid in ["x", "A" * 5000, "%00", "../../etc"]:
        assert wire.get(port, sid).status == 400
        assert wire.post(port, sid, "40").status == 400


def attack_garbage_bytes(port):
    # each ends with an empty line, so that the HTTP parser has a whole (bad) request to refuse
    for data in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n",
                 b"\x00" * 1000 + b"\r\n\r\n",
                 b"GARBAGE GARBAGE GARBAGE\r\n\r\n",
                 b"GET\r\n\r\n",
                 b"GET / HTTP/9.9\r\n\r\n",
                 b"GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n" + b"X: " + b"a" * 100000
                 + b"\r\n\r\n"]:
        raw = wire.raw_exchange(port, data)
        status = wire.parse_status(raw) if raw.startswith(b"HTTP/") else None
        assert status is None or 400 <= status < 500 or status == 505, raw[:300]


def attack_unterminated_garbage_then_hang_up(port):
    # no line end: the server cannot refuse it yet; the client hangs up first
    for data in [b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)),
                 b"\x00" * 1000, b"\xff" * 70000]:
        s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        s.close()


def attack_connect_and_close_without_bytes(port):
    for _ in range(20):
        s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
        s.close()


def attack_bad_websocket_handshakes(port):
    path = wire.eio_path(transport="websocket")
    for extra in ["Sec-WebSocket-Version: 99\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
                  "Sec-WebSocket-Version: 13\r\n"]:                      # no key
        raw = wire.raw_exchange(port, (
            "GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n%s\r\n"
            % (path, extra)).encode())
        assert wire.parse_status(raw) != 101, raw[:300]


# attacks that stay open while the healthy clients work
class HalfOpenWebSocketHandshake:
    def __enter__(self):
        self.port = None
        return self

    def start(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
        self.s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Version: 13\r\n" % wire.eio_path(transport="websocket"))
                       .encode())   # never finished

    def __exit__(self, *exc):
        self.s.close()


class SlowLoris:
    def __enter__(self):
        return self

    def start(self, port):
        self.socks = []
        for _ in range(10):
            s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
            s.sendall(b"GET /socket.io/?EIO=4&trans")
            self.socks.append(s)

    def __exit__(self, *exc):
        for s in self.socks:
            s.close()


ATTACKS = {name[len("attack_"):]: fn for name, fn in list(globals().items())
           if name.startswith("attack_")}


# ------------------------------------------------------------------------------ harness


class Healthy:
    """Two python-socketio clients (websocket and polling) exchanging events from a thread."""

    def __init__(self, sio_clients, port):
        self.clients = [sio_clients(port, transports=["websocket"]),
                        sio_clients(port, transports=["polling"])]
        self.errors = []
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def exchange(self, tag):
        for c in self.clients:
            assert c.call("message-with-ack", tag, {"n": [1, 2]}) == (tag, {"n": [1, 2]})
            c.emit("message", tag, [tag])
            assert c.next("message-back") == (tag, [tag])

    def _run(self):
        while not self._stop.is_set():
            try:
                self.exchange("bg-%d" % self.rounds)
                self.rounds += 1
            except BaseException as e:   # noqa: B902 - reported by stop()
                self.errors.append(repr(e))
                return

    def start(self):
        self.exchange("before")
        self._thread.start()

    def wait_rounds(self, n):
        """Wait until the background exchange has completed n more rounds."""
        target = self.rounds + n
        deadline = time.monotonic() + 4 * wire.IO_TIMEOUT
        while self.rounds < target and not self.errors and self._thread.is_alive():
            assert time.monotonic() < deadline, "the healthy clients' exchange is stuck"
            time.sleep(0.02)
        assert self.errors == [], self.errors

    def stop(self):
        self._stop.set()
        self._thread.join(2 * wire.IO_TIMEOUT)
        assert not self._thread.is_alive(), "the healthy clients' exchange hangs"
        assert self.errors == [], self.errors
        for c in self.clients:
            assert c.sio.connected, "a healthy client was disconnected"
        self.exchange("after")


@pytest.fixture
def bad_input_server(start_server):
    return start_server("--max-payload", str(MAX_PAYLOAD))


def _server_still_accepts(port):
    sid, _ = wire.sio_polling_connect(port)
    assert sid
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send('42["message","ok"]')
    assert wire.ws_recv_text(ws) == '42["message-back","ok"]'
    ws.close()


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_attack_does_not_disturb_others(bad_input_server, sio_clients, name):
    port = bad_input_server.port
    healthy = Healthy(sio_clients, port)
    healthy.start()
    ATTACKS[name](port)
    healthy.wait_rounds(1)
    healthy.stop()
    assert bad_input_server.proc.poll() is None, "the server died"
    _server_still_accepts(port)


@pytest.mark.parametrize("cls", [HalfOpenWebSocketHandshake, SlowLoris])
def test_stalled_connections_do_not_block_others(bad_input_server, sio_clients, cls):
    port = bad_input_server.port
    with cls() as stalled:
        stalled.start(port)
        healthy = Healthy(sio_clients, port)
        healthy.start()
        healthy.wait_rounds(5)
        _server_still_accepts(port)
        healthy.wait_rounds(1)
        healthy.stop()
    assert bad_input_server.proc.poll() is None, "the server died"


def test_every_attack_in_a_row(bad_input_server, sio_clients):
    port = bad_input_server.port
    healthy = Healthy(sio_clients, port)
    healthy.start()
    with HalfOpenWebSocketHandshake() as half:
        half.start(port)
        for name in sorted(ATTACKS):
            ATTACKS[name](port)
            assert bad_input_server.proc.poll() is None, "the server died after %s" % name
    healthy.stop()
    assert healthy.rounds > 0
    _server_still_accepts(port)


def test_max_payload_is_announced(bad_input_server):
    _, opened, _ = wire.polling_handshake(bad_input_server.port)
    assert opened["maxPayload"] == MAX_PAYLOAD, opened


def test_body_at_max_payload_is_accepted(bad_input_server):
    port = bad_input_server.port
    sid, _ = wire.sio_polling_connect(port)
    prefix, suffix = '42["message","', '"]'
    filler = "y" * (MAX_PAYLOAD - len(prefix) - len(suffix))
    body = prefix + filler + suffix
    assert len(body) == MAX_PAYLOAD
    wire.post_ok(port, sid, body)
    assert wire.poll_packets(port, sid) == ['42["message-back","%s"]' % filler]


def test_very_deep_json_with_default_max_payload(start_server, sio_clients):
    """200000 nested arrays (400 kB, under the default 1e6 max payload): a recursive parser or
    serializer would overflow the stack."""
    server = start_server()
    healthy = Healthy(sio_clients, server.port)
    healthy.start()
    _deep_json(server.port, 200000)
    healthy.wait_rounds(1)
    healthy.stop()
    assert server.proc.poll() is None, "the server died"


def _raw_post_response(port, sid, size):
    """POST a text body of `size` bytes on a raw socket; return the parsed response head and
    body (the server may stop reading early: a send error is ignored, the answer still counts)."""
    body = ('42["message","%s"]' % ("x" * (size - 16))).encode()
    assert len(body) == size
    head = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\n"
            "Content-Length: %d\r\n\r\n" % (wire.eio_path(sid=sid), size)).encode()
    s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
    try:
        try:
            s.sendall(head + body)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    head_bytes, _, payload = data.partition(b"\r\n\r\n")
    lines = head_bytes.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines[0].startswith("HTTP/") else None
    headers = {k.strip().lower(): v.strip() for k, v in
               (line.split(":", 1) for line in lines[1:] if ":" in line)}
    return status, headers, payload, data


@pytest.mark.parametrize("factor", [1.5, 3, 10])
def test_post_over_max_payload_gets_413_error_json(bad_input_server, factor):
    """Whatever the size over --max-payload, the answer is the same 413 with the Engine.IO
    error JSON and `Connection: close` (the size at which the HTTP layer itself gives up must
    not show)."""
    port = bad_input_server.port
    sid, _ = wire.sio_polling_connect(port)
    status, headers, payload, raw = _raw_post_response(port, sid, int(MAX_PAYLOAD * factor))
    assert status == 413, raw[:300]
    assert headers.get("connection", "").lower() == "close", raw[:300]
    assert headers.get("content-type", "").startswith("application/json"), raw[:300]
    value = json.loads(payload.decode("utf-8"))
    assert set(value) == {"code", "message"}, raw[:300]


def test_huge_header_gets_4xx_with_connection_close(bad_input_server):
    raw = wire.raw_exchange(bad_input_server.port, (
        "GET %s HTTP/1.1\r\nHost: x\r\nCookie: %s\r\n\r\n"
        % (wire.eio_path(), "c=" + "a" * 100000)).encode())
    status = wire.parse_status(raw)
    assert status is not None and 400 <= status < 500, raw[:300]
    assert b"\r\nconnection: close\r\n" in raw.lower(), raw[:300]
