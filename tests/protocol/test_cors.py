"""CORS: --cors ORIGIN[,ORIGIN...] allows those origins (echoed, with credentials), refuses the
others with 403 and the Engine.IO error JSON; --cors '*' allows and echoes any origin."""
import json

import pytest

import protocol_wire as wire

GOOD = "http://good.example"
EVIL = "http://evil.example"


@pytest.fixture
def good_port(start_server):
    return start_server("--cors", GOOD).port


def _handshake(port, origin):
    headers = {"Origin": origin} if origin else None
    return wire.http_request(port, "GET", wire.eio_path(), headers=headers)


def test_allowed_origin_polling_handshake(good_port):
    r = _handshake(good_port, GOOD)
    assert r.status == 200, r
    assert r.text.startswith("0{"), r
    assert r.header("access-control-allow-origin") == GOOD, r
    assert r.header("access-control-allow-credentials") == "true", r


def test_allowed_origin_post_and_get_carry_cors_headers(good_port):
    r = _handshake(good_port, GOOD)
    sid = json.loads(r.text[1:])["sid"]
    p = wire.post(good_port, sid, "40", headers={"Origin": GOOD})
    assert p.status == 200 and p.body == b"ok", p
    assert p.header("access-control-allow-origin") == GOOD, p
    g = wire.get(good_port, sid, headers={"Origin": GOOD})
    assert g.status == 200, g
    assert g.header("access-control-allow-origin") == GOOD, g


def test_refused_origin_polling_handshake(good_port):
    r = _handshake(good_port, EVIL)
    wire.assert_error_json(r, 403, 4)
    assert r.header("access-control-allow-origin") in (None, GOOD), r


def test_similar_origins_are_refused(good_port):
    for origin in ["http://good.example.evil.example", "https://good.example",
                   "http://good.example:8080", "http://xgood.example", "null"]:
        r = _handshake(good_port, origin)
        assert r.status == 403, (origin, r)


def test_request_without_origin_is_allowed(good_port):
    """Non-browser clients send no Origin header; CORS does not apply to them."""
    r = _handshake(good_port, None)
    assert r.status == 200, r


def test_refused_origin_websocket(good_port):
    outcome, detail = wire.ws_refused_or_closed(good_port, origin=EVIL)
    if outcome == "refused":
        assert detail in (400, 403), detail
    else:
        assert not any(isinstance(f, str) and f.startswith("0") for f in detail), detail


def test_allowed_origin_websocket(good_port):
    ws = wire.ws_connect(good_port, origin=GOOD)
    try:
        assert wire.ws_recv_text(ws, skip_pings=False).startswith("0{")
    finally:
        ws.close()


def test_preflight_from_allowed_origin(good_port):
    r = wire.http_request(good_port, "OPTIONS", wire.eio_path(), headers={
        "Origin": GOOD,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    })
    assert r.status in (200, 204), r
    assert r.header("access-control-allow-origin") == GOOD, r
    methods = [m.strip().upper() for m in r.header("access-control-allow-methods", "").split(",")]
    assert "GET" in methods and "POST" in methods, r


def test_several_allowed_origins(start_server):
    other = "http://other.example"
    port = start_server("--cors", GOOD + "," + other).port
    for origin in (GOOD, other):
        r = _handshake(port, origin)
        assert r.status == 200, (origin, r)
        assert r.header("access-control-allow-origin") == origin, r
    assert _handshake(port, EVIL).status == 403


def test_wildcard_allows_and_echoes_any_origin(start_server):
    port = start_server("--cors", "*").port
    for origin in (GOOD, EVIL, "http://localhost:3000"):
        r = _handshake(port, origin)
        assert r.status == 200, (origin, r)
        assert r.header("access-control-allow-origin") == origin, r
        assert r.header("access-control-allow-credentials") == "true", r
    ws = wire.ws_connect(port, origin=EVIL)
    try:
        assert wire.ws_recv_text(ws, skip_pings=False).startswith("0{")
    finally:
        ws.close()


def test_cors_responses_close_connection(good_port):
    for r in (_handshake(good_port, GOOD), _handshake(good_port, EVIL),
              wire.http_request(good_port, "OPTIONS", wire.eio_path(), headers={
                  "Origin": GOOD, "Access-Control-Request-Method": "POST"})):
        assert r.header("connection", "").lower() == "close", r
