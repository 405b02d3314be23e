"""Who may open a session: max_connections (503), max_sessions_per_ip and the handshake rate per
address (429), over polling and WebSocket alike, each answered with the Engine.IO error JSON; a
place is given back when its session ends; X-Forwarded-For counts only from a trusted proxy.
Under CHAT_TEST_SHARDS the limits hold for the whole server, not per shard.
"""
import json
import socket

import protocol_wire as wire

FULL = "Server is at its connection limit"
TOO_MANY_SESSIONS = "Too many sessions from this address"
TOO_MANY_HANDSHAKES = "Too many handshakes from this address"


def polling_open(port, headers=None):
    return wire.http_request(port, "GET", wire.eio_path(), headers=headers)


def websocket_open(port, headers=None):
    """A raw WebSocket handshake with no sid -> (status, headers dict, body bytes)."""
    lines = ["GET %s HTTP/1.1" % wire.eio_path(transport="websocket"), "Host: 127.0.0.1:%d" % port,
             "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
             "Sec-WebSocket-Version: 13"]
    lines += ["%s: %s" % item for item in (headers or {}).items()]
    s = socket.create_connection(("127.0.0.1", port), timeout=wire.IO_TIMEOUT)
    try:
        s.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = s.recv(65536)
            if not chunk:
                break
            raw += chunk
        head, _, body = raw.partition(b"\r\n\r\n")
        status = wire.parse_status(head)
        fields = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        if status != 101:
            length = int(fields.get("content-length", "0"))
            while len(body) < length:
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
        return status, fields, body
    finally:
        s.close()


def assert_refused_json(status, fields, body, expected_status, message):
    assert status == expected_status, (status, fields, body)
    assert fields.get("content-type", "").startswith("application/json"), fields
    assert json.loads(body) == {"code": 4, "message": message}


def open_sessions(port, count, headers=None):
    sids = []
    for _ in range(count):
        sid, _, _ = wire.polling_handshake(port, headers=headers)
        sids.append(sid)
    return sids


def close_session(port, sid):
    wire.post_ok(port, sid, "1")


def test_max_connections_refuses_polling_and_websocket_with_503_and_takes_back_ended_sessions(start_server):
    server = start_server("--max-connections", "3")
    sids = open_sessions(server.port, 2)
    ws = wire.ws_connect(server.port)  # the third, over WebSocket
    assert wire.ws_recv_text(ws).startswith("0{")

    wire.assert_error_json(polling_open(server.port), 503, 4, FULL)
    assert_refused_json(*websocket_open(server.port), 503, FULL)

    # A polling session that ends gives its place back...
    close_session(server.port, sids[0])
    wire.expect_polling_session_closed(server.port, sids[0])
    replacement, _, _ = wire.polling_handshake(server.port)
    wire.assert_error_json(polling_open(server.port), 503, 4, FULL)
    # ...and so does a WebSocket session.
    ws.close()
    status, fields, body = b"", {}, b""
    for _ in range(50):  # the close reaches the server a moment after close() returns
        status, fields, body = websocket_open(server.port)
        if status == 101:
            break
        wire.assert_error_json(polling_open(server.port), 503, 4, FULL)
    assert status == 101, (status, fields, body)
    for sid in (sids[1], replacement):
        close_session(server.port, sid)


def test_the_full_server_is_reported_once_per_episode(start_server, sio_clients):
    server = start_server("--max-connections", "1")
    client = sio_clients(server.port)
    for _ in range(5):
        wire.assert_error_json(polling_open(server.port), 503, 4, FULL)
    errors = [e for e in client.call("errors") if "max_connections" in e]
    assert len(errors) == 1, errors
    assert "max_connections (1) reached" in errors[0]


def test_max_sessions_per_ip_counts_the_peer_address(start_server):
    server = start_server("--max-sessions-per-ip", "2")
    sids = open_sessions(server.port, 2)
    wire.assert_error_json(polling_open(server.port), 429, 4, TOO_MANY_SESSIONS)
    assert_refused_json(*websocket_open(server.port), 429, TOO_MANY_SESSIONS)
    # X-Forwarded-For from a peer that is not a trusted proxy is the client's own word: ignored.
    wire.assert_error_json(polling_open(server.port, {"X-Forwarded-For": "203.0.113.9"}), 429, 4, TOO_MANY_SESSIONS)
    close_session(server.port, sids[0])
    wire.expect_polling_session_closed(server.port, sids[0])
    sids[0], _, _ = wire.polling_handshake(server.port)
    for sid in sids:
        close_session(server.port, sid)


def test_behind_a_trusted_proxy_each_forwarded_address_has_its_own_count(start_server):
    server = start_server("--max-sessions-per-ip", "2", "--trusted-proxies", "127.0.0.0/8,10.0.0.0/8")
    first = {"X-Forwarded-For": "203.0.113.1"}
    second = {"X-Forwarded-For": "198.51.100.7, 10.1.2.3"}  # through a second proxy of ours
    sids = open_sessions(server.port, 2, first)
    wire.assert_error_json(polling_open(server.port, first), 429, 4, TOO_MANY_SESSIONS)
    assert_refused_json(*websocket_open(server.port, first), 429, TOO_MANY_SESSIONS)
    # An address the client wrote left of the real one changes nothing.
    wire.assert_error_json(polling_open(server.port, {"X-Forwarded-For": "1.1.1.1, 203.0.113.1"}), 429, 4,
                           TOO_MANY_SESSIONS)
    sids += open_sessions(server.port, 2, second)
    wire.assert_error_json(polling_open(server.port, second), 429, 4, TOO_MANY_SESSIONS)
    # The proxy's own requests (no header) count against the proxy.
    sids += open_sessions(server.port, 2)
    wire.assert_error_json(polling_open(server.port), 429, 4, TOO_MANY_SESSIONS)
    for sid in sids:
        close_session(server.port, sid)


def test_the_handshake_rate_per_address_refuses_past_its_burst_with_retry_after(start_server):
    # A burst of 3, then one handshake per 1,000 s: nothing refills during the test.
    server = start_server("--handshake-rate-per-ip", "0.001/3")
    sids = open_sessions(server.port, 2)
    ws = wire.ws_connect(server.port)
    assert wire.ws_recv_text(ws).startswith("0{")
    ws.close()
    refused = polling_open(server.port)
    wire.assert_error_json(refused, 429, 4, TOO_MANY_HANDSHAKES)
    assert 0 < int(refused.header("retry-after")) <= 1000
    status, fields, body = websocket_open(server.port)
    assert_refused_json(status, fields, body, 429, TOO_MANY_HANDSHAKES)
    assert 0 < int(fields["retry-after"]) <= 1000
    # Ended sessions give no handshake back: only time does.
    for sid in sids:
        close_session(server.port, sid)
    wire.assert_error_json(polling_open(server.port), 429, 4, TOO_MANY_HANDSHAKES)
    # Requests on existing sessions are not handshakes.
    assert wire.get(server.port, "nonexistent").status == 400


def test_no_per_address_limit_by_default(start_server):
    # Twenty sessions from one address, none refused.
    server = start_server()
    sids = open_sessions(server.port, 20)
    for sid in sids:
        close_session(server.port, sid)
