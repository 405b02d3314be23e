"""Port of the official engine.io-protocol test suite (EIO=4) onto /socket.io/.

Server: --ping-interval 300 --ping-timeout 200 --connect-timeout 1000 --cors '*'.

The official suite's reference server echoes every Engine.IO message. test_server echoes at the
Socket.IO level instead (TEST_SERVER.md: `message` -> `message-back`), so the echo cases first send
a Socket.IO CONNECT (`40`) and then the Socket.IO form of each payload; the expected reply is the
exact byte string the server must produce:

  official (Engine.IO echo)      here (Socket.IO `message` -> `message-back`)
  4hello                          42["message","hello"]  ->  42["message-back","hello"]
  4test1 \x1e 4test2 \x1e 4test3  three such events in one POST -> three replies in one GET
  4hello \x1e bAQIDBA==           42[..hello] \x1e 451-["message",{placeholder 0}] \x1e bAQIDBA==
                                  -> 42["message-back","hello"] \x1e 451-["message-back",..] \x1e bAQIDBA==
  WS binary [1,2,3,4]             451-[..] text frame + binary frame [1,2,3,4], echoed the same way
"""
import json
import time

import pytest

import protocol_wire as wire
from protocol_wire import SEP

OPEN_KEYS = {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}
PH0 = '{"_placeholder":true,"num":0}'
PH1 = '{"_placeholder":true,"num":1}'


# ------------------------------------------------------------------------------ handshake


def test_polling_handshake(port):
    r = wire.http_request(port, "GET", wire.eio_path())
    assert r.status == 200, r
    assert r.header("content-type", "").lower().startswith("text/plain"), r
    text = r.text
    assert text.startswith("0"), text
    assert SEP not in text, text
    value = json.loads(text[1:])
    assert set(value) == OPEN_KEYS, value
    assert isinstance(value["sid"], str) and value["sid"], value
    assert value["upgrades"] == ["websocket"], value
    assert value["pingInterval"] == 300, value
    assert value["pingTimeout"] == 200, value
    assert value["maxPayload"] == 1000000, value


def test_polling_handshake_ignores_unknown_query_params(port):
    r = wire.http_request(port, "GET", wire.eio_path(extra="t=Nxyz123&foo=bar"))
    assert r.status == 200, r
    assert set(json.loads(r.text[1:])) == OPEN_KEYS


def test_handshakes_get_distinct_sids(port):
    sids = {wire.polling_handshake(port)[0] for _ in range(5)}
    assert len(sids) == 5, sids


def test_websocket_handshake(port):
    ws = wire.ws_connect(port)
    try:
        first = wire.ws_recv_text(ws, skip_pings=False)
        assert first.startswith("0"), first
        value = json.loads(first[1:])
        assert set(value) == OPEN_KEYS, value
        assert isinstance(value["sid"], str) and value["sid"], value
        assert value["upgrades"] == [], value
        assert value["pingInterval"] == 300, value
        assert value["pingTimeout"] == 200, value
        assert value["maxPayload"] == 1000000, value
    finally:
        ws.close()


@pytest.mark.parametrize("path, code", [
    (wire.eio_path(eio=None), 5),                      # no EIO
    (wire.eio_path(eio="abc"), 5),                     # bad EIO
    (wire.eio_path(eio="3"), 5),                       # EIO 3 is not enabled
    (wire.eio_path(eio=""), 5),
    (wire.eio_path(transport=None), 0),                # no transport
    (wire.eio_path(transport="abc"), 0),               # bad transport
    (wire.eio_path(transport=""), 0),
    (wire.eio_path(sid="doesnotexist"), 1),            # unknown sid
    (wire.eio_path(transport="websocket"), 3),         # websocket handshake without Upgrade
], ids=["no-EIO", "EIO-abc", "EIO-3", "EIO-empty", "no-transport", "transport-abc",
        "transport-empty", "unknown-sid", "plain-GET-transport-websocket"])
def test_polling_bad_query_is_400_with_error_json(port, path, code):
    r = wire.http_request(port, "GET", path)
    messages = {0: "Transport unknown", 1: "Session ID unknown", 3: "Bad request",
                5: "Unsupported protocol version"}
    wire.assert_error_json(r, 400, code, messages[code])


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_handshake_with_other_method_is_400(port, method):
    r = wire.http_request(port, method, wire.eio_path(), body=b"", headers=wire.TEXT_PLAIN)
    wire.assert_error_json(r, 400, 2, "Bad handshake method")


def test_post_to_unknown_sid_is_400(port):
    r = wire.post(port, "doesnotexist", '42["message","x"]')
    wire.assert_error_json(r, 400, 1, "Session ID unknown")


@pytest.mark.parametrize("path", [
    wire.eio_path(transport="websocket", eio=None),
    wire.eio_path(transport="websocket", eio="abc"),
    wire.eio_path(transport=None),
    wire.eio_path(transport="abc"),
    wire.eio_path(transport="websocket", sid="doesnotexist"),
], ids=["no-EIO", "EIO-abc", "no-transport", "transport-abc", "unknown-sid"])
def test_websocket_bad_query_is_refused(port, path):
    outcome, detail = wire.ws_refused_or_closed(port, url="ws://127.0.0.1:%d%s" % (port, path))
    if outcome == "refused":
        assert detail == 400, "WebSocket upgrade answered %r, expected 400" % (detail,)
    else:
        assert not any(isinstance(f, str) and f.startswith("0") for f in detail), \
            "the server opened a session on a bad query: %r" % (detail,)


# ------------------------------------------------------------------------------ message (polling)


def test_polling_echo_one_text_packet(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, '42["message","hello"]')
    assert r.status == 200 and r.body == b"ok", r
    assert wire.poll_packets(port, sid) == ['42["message-back","hello"]']


def test_polling_echo_several_text_packets_in_one_poll(port):
    sid, _ = wire.sio_polling_connect(port)
    body = SEP.join('42["message","test%d"]' % i for i in (1, 2, 3))
    wire.post_ok(port, sid, body)
    assert wire.poll_packets(port, sid) == ['42["message-back","test%d"]' % i for i in (1, 2, 3)]


def test_polling_echo_text_and_binary_packets(port):
    sid, _ = wire.sio_polling_connect(port)
    body = SEP.join(['42["message","hello"]', '451-["message",%s]' % PH0, "bAQIDBA=="])
    wire.post_ok(port, sid, body)
    assert wire.poll_packets(port, sid) == [
        '42["message-back","hello"]', '451-["message-back",%s]' % PH0, "bAQIDBA=="]


def test_polling_invalid_packet_closes_session(port):
    sid, _, _ = wire.polling_handshake(port)
    r = wire.post(port, sid, "abc")
    assert r.status == 400, r
    r = wire.get(port, sid)
    assert r.status == 400, r


def test_polling_duplicate_get_closes_session(port):
    sid, _, _ = wire.polling_handshake(port)
    first = wire.pending_get(port, sid)
    time.sleep(0.1)   # let the first GET reach the server and be held (the suite waits 5 ms)
    assert not first.done(), "the first GET was answered at once: %r" % (first.result,)
    second = wire.get(port, sid, extra="t=burst")
    assert second.status in (400, 500), second
    r1 = first.wait()
    assert r1.status == 200, r1
    assert r1.body == b"1", r1
    r = wire.get(port, sid)
    assert r.status == 400, r


# ------------------------------------------------------------------------------ message (WebSocket)


def test_websocket_echo_text(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["message","hello"]')
        assert wire.ws_recv_text(ws) == '42["message-back","hello"]'
    finally:
        ws.close()


def test_websocket_echo_binary(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('451-["message",%s]' % PH0)
        ws.send_binary(bytes([1, 2, 3, 4]))
        assert wire.ws_recv_text(ws) == '451-["message-back",%s]' % PH0
        assert wire.ws_recv_binary(ws) == bytes([1, 2, 3, 4])
    finally:
        ws.close()


def test_websocket_invalid_packet_closes(port):
    ws, _ = wire.eio_ws_open(port)
    ws.send("abc")
    wire.ws_expect_close(ws)


# ------------------------------------------------------------------------------ heartbeat


# The heartbeat tests connect to the Socket.IO namespace first so that the 1 s connect timeout
# cannot be what closes (or keeps) the session.


def test_polling_ping_pong(port):
    sid, _ = wire.sio_polling_connect(port)
    for _ in range(3):
        r = wire.get(port, sid)
        assert r.status == 200, r
        assert r.body == b"2", r
        wire.post_ok(port, sid, "3")


def test_polling_ping_timeout_closes_session(port):
    sid, _ = wire.sio_polling_connect(port)
    time.sleep(1.2)   # > pingInterval + pingTimeout (500 ms) with room to spare; no pong sent
    r = wire.get(port, sid)
    assert r.status == 400, r
    r = wire.post(port, sid, "3")
    assert r.status == 400, r


def test_websocket_ping_pong(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        for _ in range(3):
            assert wire.ws_recv_text(ws, skip_pings=False) == "2"
            ws.send("3")
    finally:
        ws.close()


def test_websocket_ping_timeout_closes(port):
    ws, _, _ = wire.sio_ws_connect(port)
    frames = wire.ws_expect_close(ws, answer_pings=False)
    assert frames == ["2"], frames


def test_websocket_client_ping_closes(port):
    """In v4 the server pings; a client ping `2` is an "invalid heartbeat direction" error."""
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send("2")
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, frames


def test_polling_client_ping_closes(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, "2")
    assert r.status in (200, 400), r
    wire.expect_polling_session_closed(port, sid)


@pytest.mark.parametrize("packet", ["6", "5", "0"], ids=["noop", "upgrade", "open"])
def test_polling_client_noop_is_ignored(port, packet):
    """Node's engine.io ignores a noop (and an open or a stray upgrade) from a client."""
    sid, _ = wire.sio_polling_connect(port)
    wire.post_ok(port, sid, packet)
    wire.post_ok(port, sid, SEP.join([packet, '42["message","after"]']))
    assert wire.poll_packets(port, sid) == ['42["message-back","after"]']


@pytest.mark.parametrize("packet", ["6", "5", "0"], ids=["noop", "upgrade", "open"])
def test_websocket_client_noop_is_ignored(port, packet):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send(packet)
        ws.send('42["message","after"]')
        assert wire.ws_recv_text(ws) == '42["message-back","after"]'
    finally:
        ws.close()


# ------------------------------------------------------------------------------ close


def test_polling_client_close(port):
    sid, _, _ = wire.polling_handshake(port)
    pending = wire.pending_get(port, sid)
    time.sleep(0.1)   # let the GET be held
    assert not pending.done(), pending.result
    r = wire.post(port, sid, "1")
    assert r.status == 200, r
    r1 = pending.wait()
    assert r1.status == 200, r1
    assert r1.body == b"6", r1
    r = wire.get(port, sid)
    assert r.status == 400, r


def test_websocket_client_close(port):
    ws, _ = wire.eio_ws_open(port)
    ws.send("1")
    wire.ws_expect_close(ws, answer_pings=False)


# ------------------------------------------------------------------------------ upgrade


def _probe(port, sid):
    ws = wire.ws_connect(port, sid=sid)
    ws.send("2probe")
    assert wire.ws_recv_text(ws, skip_pings=False) == "3probe"
    return ws


def _poll_until_noop(port, sid):
    """GET (answering pings) until the server answers `6`; nothing else may come."""
    for _ in range(5):
        r = wire.get(port, sid)
        assert r.status == 200, r
        packets = wire.split_payload(r.body)
        assert set(packets) <= {"2", "6"}, r
        for p in packets:
            if p == "2":
                wire.post_ok(port, sid, "3")
        if "6" in packets:
            return
    raise AssertionError("no noop `6` on the polling transport during the upgrade")


def test_upgrade(port):
    sid, sio_sid = wire.sio_polling_connect(port)
    ws = _probe(port, sid)
    try:
        _poll_until_noop(port, sid)
        ws.send("5")
        ws.send('42["message","hello"]')
        assert wire.ws_recv_text(ws) == '42["message-back","hello"]'
    finally:
        ws.close()


def test_upgrade_with_get_pending_during_probe(port):
    """The stock clients keep a GET pending while probing: it must be released with `6`."""
    sid, _ = wire.sio_polling_connect(port)
    pending = wire.pending_get(port, sid)
    time.sleep(0.1)
    ws = _probe(port, sid)
    try:
        r = pending.wait()
        assert r.status == 200, r
        packets = wire.split_payload(r.body)
        assert set(packets) <= {"2", "6"}, r
        if "2" in packets:
            wire.post_ok(port, sid, "3")
        if "6" not in packets:
            _poll_until_noop(port, sid)
        ws.send("5")
        ws.send('42["message","over websocket"]')
        assert wire.ws_recv_text(ws) == '42["message-back","over websocket"]'
    finally:
        ws.close()


def test_upgrade_flushes_buffer_over_websocket(port):
    """A packet buffered on polling during the probe is delivered over the WebSocket after `5`."""
    sid, _ = wire.sio_polling_connect(port)
    ws = _probe(port, sid)
    try:
        _poll_until_noop(port, sid)
        wire.post_ok(port, sid, '42["message","during upgrade"]')
        ws.send("5")
        assert wire.ws_recv_text(ws) == '42["message-back","during upgrade"]'
    finally:
        ws.close()


def test_polling_request_after_upgrade_is_400(port):
    sid, _ = wire.sio_polling_connect(port)
    ws = _probe(port, sid)
    try:
        _poll_until_noop(port, sid)
        ws.send("5")
        ws.send('42["message","sync"]')          # once this is echoed, `5` has been processed
        assert wire.ws_recv_text(ws) == '42["message-back","sync"]'
        r = wire.get(port, sid)
        wire.assert_error_json(r, 400, 3, "Bad request")
        r = wire.post(port, sid, '42["message","x"]')
        wire.assert_error_json(r, 400, 3, "Bad request")
        ws.send('42["message","hello"]')
        assert wire.ws_recv_text(ws) == '42["message-back","hello"]'
    finally:
        ws.close()


def test_second_websocket_after_upgrade_is_refused(port):
    sid, _ = wire.sio_polling_connect(port)
    ws = _probe(port, sid)
    try:
        _poll_until_noop(port, sid)
        ws.send("5")
        ws.send('42["message","sync"]')
        assert wire.ws_recv_text(ws) == '42["message-back","sync"]'
        outcome, detail = wire.ws_refused_or_closed(port, sid=sid)
        if outcome == "closed":
            assert detail == [], "second WebSocket got data: %r" % (detail,)
        ws.send('42["message","still here"]')
        assert wire.ws_recv_text(ws) == '42["message-back","still here"]'
    finally:
        ws.close()


def test_polling_request_to_websocket_session_is_400(port):
    ws, eio_sid, _ = wire.sio_ws_connect(port)
    try:
        r = wire.get(port, eio_sid)
        wire.assert_error_json(r, 400, 3, "Bad request")
        ws.send('42["message","alive"]')
        assert wire.ws_recv_text(ws) == '42["message-back","alive"]'
    finally:
        ws.close()


# ------------------------------------------------------------------------------ HTTP framing


def _responses_of_every_kind(port):
    out = {}
    out["handshake"] = wire.http_request(port, "GET", wire.eio_path())
    sid = json.loads(out["handshake"].text[1:])["sid"]
    out["post ok"] = wire.post(port, sid, '40')
    out["poll data"] = wire.get(port, sid)
    out["400 bad transport"] = wire.http_request(port, "GET", wire.eio_path(transport="abc"))
    out["400 unknown sid"] = wire.get(port, "nope")
    out["400 post handshake"] = wire.http_request(port, "POST", wire.eio_path(), body=b"")
    out["404"] = wire.http_request(port, "GET", "/no/such/path")
    out["hello"] = wire.http_request(port, "GET", "/hello")
    return out


def test_every_plain_http_response_has_connection_close(port):
    for name, r in _responses_of_every_kind(port).items():
        assert r.header("connection", "").lower() == "close", "%s: %r" % (name, r)

