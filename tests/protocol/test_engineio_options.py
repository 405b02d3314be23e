"""Engine.IO options on the wire (raw HTTP and WebSocket): http_compression and its threshold,
the CORS lists (methods, allowed and exposed headers, max age), allow_request, initial_packet,
the headers hooks, and whether permessage-deflate is negotiated. test_server's flags for them
are in tests/support/TEST_SERVER.md."""
import gzip
import json
import os
import zlib

import pytest

import protocol_wire as wire

GOOD = "http://good.example"
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLIENT_DIST = os.path.join(REPO, "node_modules", "socket.io-client", "dist")
LONG = "x" * 3000  # well over the 1024-byte threshold once echoed


def _decode(response):
    coding = response.header("content-encoding")
    if coding == "gzip":
        return gzip.decompress(response.body)
    if coding == "deflate":
        return zlib.decompress(response.body)
    assert coding is None, response
    return response.body


def _long_poll_response(port, accept_encoding):
    """A polling session whose next GET answers with a payload over the threshold: the
    server's `message-back` of a 3000-character argument."""
    sid, _, _ = wire.polling_handshake(port)
    wire.post_ok(port, sid, "40")
    connect = wire.get(port, sid)
    assert connect.text.startswith("40"), connect
    wire.post_ok(port, sid, '42["message","%s"]' % LONG)
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding is not None else None
    return wire.get(port, sid, headers=headers)


def _assert_echo(body):
    packets = wire.split_payload(body)
    assert '42["message-back","%s"]' % LONG in packets, packets


@pytest.mark.parametrize("accept,coding", [("gzip", "gzip"), ("deflate", "deflate"),
                                           ("gzip, deflate", "gzip"), ("deflate, gzip", "deflate"),
                                           ("gzip;q=0.5, deflate", "deflate"), ("*", "gzip"),
                                           ("br", None), ("gzip;q=0", None), (None, None)])
def test_polling_payload_is_compressed_as_accept_encoding_asks(start_server, accept, coding):
    port = start_server().port
    r = _long_poll_response(port, accept)
    assert r.status == 200, r
    assert r.header("content-encoding") == coding, r
    if coding:
        assert len(r.body) < len(LONG), r
    _assert_echo(_decode(r))


def test_polling_payload_sent_without_compression_is_not_compressed(start_server):
    """Node's compress(false): a polling response holding only such packets goes plain."""
    port = start_server().port
    sid, _, _ = wire.polling_handshake(port)
    wire.post_ok(port, sid, "40")
    assert wire.get(port, sid).text.startswith("40")
    wire.post_ok(port, sid, '42["message-uncompressed","%s"]' % LONG)
    r = wire.get(port, sid, headers={"Accept-Encoding": "gzip"})
    assert r.status == 200, r
    assert r.header("content-encoding") is None, r
    _assert_echo(r.body)
    # The same message sent normally is compressed on the same session.
    wire.post_ok(port, sid, '42["message","%s"]' % LONG)
    r = wire.get(port, sid, headers={"Accept-Encoding": "gzip"})
    assert r.header("content-encoding") == "gzip", r
    _assert_echo(_decode(r))


def test_polling_payload_below_the_threshold_is_not_compressed(start_server):
    port = start_server().port
    r = wire.http_request(port, "GET", wire.eio_path(), headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and len(r.body) < 1024, r
    assert r.header("content-encoding") is None, r
    assert r.text.startswith("0{"), r


def test_a_lower_threshold_compresses_the_handshake(start_server):
    port = start_server("--compression-threshold", "10").port
    r = wire.http_request(port, "GET", wire.eio_path(), headers={"Accept-Encoding": "gzip"})
    assert r.header("content-encoding") == "gzip", r
    assert gzip.decompress(r.body).startswith(b"0{"), r


def test_http_compression_off_sends_everything_plain(start_server):
    port = start_server("--http-compression", "0").port
    r = _long_poll_response(port, "gzip, deflate")
    assert r.header("content-encoding") is None, r
    _assert_echo(r.body)


@pytest.mark.skipif(not os.path.isdir(CLIENT_DIST), reason="socket.io-client's dist/ is not installed (npm ci)")
@pytest.mark.parametrize("accept,coding", [("gzip", "gzip"), ("deflate", "deflate"), (None, None)])
def test_client_bundle_is_compressed(start_server, accept, coding):
    port = start_server("--client-dir", CLIENT_DIST).port
    with open(os.path.join(CLIENT_DIST, "socket.io.js"), "rb") as f:
        original = f.read()
    headers = {"Accept-Encoding": accept} if accept else None
    for _ in range(2):  # the second answer comes from the server's cache of each coding
        r = wire.http_request(port, "GET", "/socket.io/socket.io.js", headers=headers)
        assert r.status == 200, r
        assert r.header("content-encoding") == coding, r
        assert r.header("vary") == "Accept-Encoding", r
        assert _decode(r) == original


# ---- CORS lists ----

def test_preflight_with_the_cors_lists(start_server):
    port = start_server("--cors", GOOD, "--cors-methods", "GET,POST", "--cors-allowed-headers", "X-A,X-B",
                        "--cors-exposed-headers", "X-C,X-D", "--cors-max-age", "600").port
    r = wire.http_request(port, "OPTIONS", wire.eio_path(),
                          headers={"Origin": GOOD, "Access-Control-Request-Method": "POST",
                                   "Access-Control-Request-Headers": "x-other"})
    assert r.status == 204, r
    assert r.header("access-control-allow-origin") == GOOD, r
    assert r.header("access-control-allow-methods") == "GET,POST", r
    assert r.header("access-control-allow-headers") == "X-A,X-B", r
    assert r.header("access-control-expose-headers") == "X-C,X-D", r
    assert r.header("access-control-max-age") == "600", r
    assert r.header("vary") == "Origin", r


def test_preflight_echoes_the_requested_headers_by_default(start_server):
    port = start_server("--cors", GOOD).port
    r = wire.http_request(port, "OPTIONS", wire.eio_path(),
                          headers={"Origin": GOOD, "Access-Control-Request-Headers": "x-token"})
    assert r.status == 204, r
    assert r.header("access-control-allow-methods") == "GET,POST,OPTIONS", r
    assert r.header("access-control-allow-headers") == "x-token", r
    assert r.header("access-control-max-age") is None, r
    assert r.header("access-control-expose-headers") is None, r
    assert [v.strip() for v in r.header("vary").split(",")] == ["Access-Control-Request-Headers", "Origin"], r


def test_exposed_headers_on_every_cors_response(start_server):
    port = start_server("--cors", GOOD, "--cors-exposed-headers", "X-C").port
    sid, _, r = wire.polling_handshake(port, headers={"Origin": GOOD})
    assert r.header("access-control-expose-headers") == "X-C", r
    assert r.header("access-control-max-age") is None, r
    p = wire.post(port, sid, "40", headers={"Origin": GOOD})
    assert p.header("access-control-expose-headers") == "X-C", p


# ---- allow_request ----

def test_allow_request_refuses_a_polling_handshake_with_its_message(start_server):
    port = start_server("--allow-request-query", "token=ok").port
    r = wire.http_request(port, "GET", wire.eio_path())
    wire.assert_error_json(r, 403, 4, 'not allowed by the "test" server')
    r = wire.http_request(port, "GET", wire.eio_path(extra="token=wrong"))
    wire.assert_error_json(r, 403, 4, 'not allowed by the "test" server')


def test_allow_request_admits_and_leaves_the_session_alone(start_server):
    port = start_server("--allow-request-query", "token=ok").port
    r = wire.http_request(port, "GET", wire.eio_path(extra="token=ok"))
    assert r.status == 200 and r.text.startswith("0{"), r
    sid = json.loads(r.text[1:])["sid"]
    # The session's own requests carry no token: only handshakes are asked about.
    wire.post_ok(port, sid, "40")
    assert wire.get(port, sid).text.startswith("40"), sid


def test_allow_request_decides_websocket_handshakes(start_server):
    port = start_server("--allow-request-query", "token=ok").port
    assert wire.ws_refused_or_closed(port) == ("refused", 403)
    ws = wire.ws_connect(port, url=wire.ws_url(port, extra="token=ok"))
    try:
        assert wire.ws_recv_text(ws, skip_pings=False).startswith("0{")
    finally:
        ws.close()


def test_allow_request_that_throws_refuses_with_forbidden(start_server):
    port = start_server("--allow-request-query", "token=ok").port
    r = wire.http_request(port, "GET", wire.eio_path(extra="token=throw"))
    wire.assert_error_json(r, 403, 4, "Forbidden")


# ---- initial_packet ----

def test_initial_packet_follows_the_open_packet_polling(start_server):
    port = start_server("--initial-packet", '2["welcome","hi"]').port
    r = wire.http_request(port, "GET", wire.eio_path())
    packets = wire.split_payload(r.body)
    assert len(packets) == 2 and packets[0].startswith("0{"), packets
    assert packets[1] == '42["welcome","hi"]', packets


def test_initial_packet_follows_the_open_packet_websocket(start_server):
    port = start_server("--initial-packet", '2["welcome","hi"]').port
    ws, _ = wire.eio_ws_open(port)
    try:
        assert wire.ws_recv_text(ws, skip_pings=False) == '42["welcome","hi"]'
    finally:
        ws.close()


# ---- headers hooks ----

def test_headers_hooks_on_polling(start_server):
    port = start_server("--header", "X-Every=1", "--initial-header", "X-First=yes").port
    sid, _, r = wire.polling_handshake(port)
    assert r.header("x-every") == "1" and r.header("x-first") == "yes", r
    assert r.header("x-initial-transport") == "polling", r
    p = wire.post(port, sid, "40")
    assert p.header("x-every") == "1" and p.header("x-first") is None, p
    g = wire.get(port, sid)
    assert g.header("x-every") == "1" and g.header("x-first") is None, g
    # An error is not a response the hooks decorate (as in Node).
    e = wire.get(port, "nosuchsid")
    assert e.status == 400 and e.header("x-every") is None, e


def test_headers_hooks_on_websocket_handshakes(start_server):
    port = start_server("--header", "X-Every=1", "--initial-header", "X-First=yes").port
    ws = wire.ws_connect(port)
    try:
        headers = {k.lower(): v for k, v in ws.getheaders().items()}
        assert headers.get("x-every") == "1" and headers.get("x-first") == "yes", headers
        assert headers.get("x-initial-transport") == "websocket", headers
    finally:
        ws.close()
    # An upgrade is no handshake: the initial hook leaves it alone.
    sid, _, _ = wire.polling_handshake(port)
    ws = wire.ws_connect(port, sid=sid)
    try:
        headers = {k.lower(): v for k, v in ws.getheaders().items()}
        assert headers.get("x-every") == "1" and "x-first" not in headers, headers
    finally:
        ws.close()


# ---- permessage-deflate negotiation (the messages themselves: tests/node/deflate.test.mjs) ----

@pytest.mark.parametrize("flag,negotiated", [(None, False), ("0", False), ("1", True)])
def test_per_message_deflate_is_negotiated_only_when_on(start_server, flag, negotiated):
    port = start_server(*(("--per-message-deflate", flag) if flag else ())).port
    ws = wire.ws_connect(port, header=["Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"])
    try:
        extensions = {k.lower(): v for k, v in ws.getheaders().items()}.get("sec-websocket-extensions", "")
        assert extensions.startswith("permessage-deflate") == negotiated, extensions
        if not negotiated:  # the open packet readable as it is
            assert wire.ws_recv_text(ws, skip_pings=False).startswith("0{")
    finally:
        ws.close()
