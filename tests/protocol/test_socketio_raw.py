"""Port of the official socket.io-protocol test suite (the Socket.IO part), raw over WebSocket,
plus the test server's hooks (TEST_SERVER.md) driven at the wire level where ordering matters.

Server: --ping-interval 300 --ping-timeout 200 --connect-timeout 1000 --cors '*'.
Engine.IO pings (`2`) are answered and skipped by the helpers unless a test looks for them.
"""
import json
import re
import time

import pytest

import protocol_wire as wire
from protocol_wire import SEP

PH0 = '{"_placeholder":true,"num":0}'
PH1 = '{"_placeholder":true,"num":1}'


def _connect_reply(frame, prefix):
    """`40<prefix>{"sid":".."}` -> sid; the sid must be the only key."""
    m = re.fullmatch("40" + re.escape(prefix) + r"(\{.*\})", frame)
    assert m, frame
    value = json.loads(m.group(1))
    assert set(value) == {"sid"}, value
    assert isinstance(value["sid"], str) and value["sid"], value
    return value["sid"]


# ------------------------------------------------------------------------------ connect


def test_connect_main_namespace(port):
    ws, opened = wire.eio_ws_open(port)
    try:
        ws.send("40")
        sid = _connect_reply(wire.ws_recv_text(ws), "")
        assert sid != opened["sid"], "the Socket.IO sid must not be the Engine.IO sid"
        assert wire.ws_recv_text(ws) == '42["auth",{}]'
    finally:
        ws.close()


def test_connect_main_namespace_with_payload(port):
    ws, _ = wire.eio_ws_open(port)
    try:
        ws.send('40{"token":"123"}')
        _connect_reply(wire.ws_recv_text(ws), "")
        assert wire.ws_recv_text(ws) == '42["auth",{"token":"123"}]'
    finally:
        ws.close()


def test_connect_custom_namespace(port):
    ws, opened = wire.eio_ws_open(port)
    try:
        ws.send("40/custom,")
        sid = _connect_reply(wire.ws_recv_text(ws), "/custom,")
        assert sid != opened["sid"]
        assert wire.ws_recv_text(ws) == '42/custom,["auth",{}]'
    finally:
        ws.close()


def test_connect_custom_namespace_with_payload(port):
    ws, _ = wire.eio_ws_open(port)
    try:
        ws.send('40/custom,{"token":"abc"}')
        _connect_reply(wire.ws_recv_text(ws), "/custom,")
        assert wire.ws_recv_text(ws) == '42/custom,["auth",{"token":"abc"}]'
    finally:
        ws.close()


def test_connect_unknown_namespace(port):
    ws, _ = wire.eio_ws_open(port)
    try:
        ws.send("40/random")
        assert wire.ws_recv_text(ws) == '44/random,{"message":"Invalid namespace"}'
    finally:
        ws.close()


def test_connect_private_namespace_with_good_token(port):
    ws, _ = wire.eio_ws_open(port)
    try:
        ws.send('40/private,{"token":"secret"}')
        _connect_reply(wire.ws_recv_text(ws), "/private,")
        assert wire.ws_recv_text(ws) == '42/private,["auth",{"token":"secret"}]'
    finally:
        ws.close()


@pytest.mark.parametrize("packet", ['40/private,{"token":"bad"}', "40/private,", "40/private"])
def test_connect_private_namespace_rejected(port, packet):
    ws, _ = wire.eio_ws_open(port)
    try:
        ws.send(packet)
        frame = wire.ws_recv_text(ws)
        assert frame.startswith("44/private,"), frame
        assert json.loads(frame[len("44/private,"):]) == {
            "message": "Not authorized", "data": {"reason": "bad token"}}, frame
        # a rejected namespace does not cost the connection its other namespaces
        ws.send("40")
        _connect_reply(wire.ws_recv_text(ws), "")
        assert wire.ws_recv_text(ws) == '42["auth",{}]'
    finally:
        ws.close()


def test_connect_sids_are_distinct(port):
    sids = set()
    socks = []
    try:
        for _ in range(3):
            ws, eio_sid, sio_sid = wire.sio_ws_connect(port)
            socks.append(ws)
            sids.update([eio_sid, sio_sid])
        assert len(sids) == 6, sids
    finally:
        for ws in socks:
            ws.close()


def test_invalid_handshake_closes(port):
    ws, _ = wire.eio_ws_open(port)
    ws.send("4abc")
    wire.ws_expect_close(ws)


def test_no_connect_within_connect_timeout_closes(port):
    ws, _ = wire.eio_ws_open(port)
    frames = wire.ws_expect_close(ws, answer_pings=True)   # pings answered: not a ping timeout
    assert set(frames) <= {"2"}, frames


# ------------------------------------------------------------------------------ disconnect


def test_disconnect_main_namespace_keeps_connection(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send("41")
        assert wire.ws_recv_text(ws, skip_pings=False) == "2"
        ws.send("3")
    finally:
        ws.close()


def test_reconnect_main_namespace_after_disconnect(port):
    ws, _, first_sid = wire.sio_ws_connect(port)
    try:
        ws.send("41")
        ws.send("40")
        second_sid = _connect_reply(wire.ws_recv_text(ws), "")
        assert second_sid != first_sid
        assert wire.ws_recv_text(ws) == '42["auth",{}]'
        ws.send('42["message","again"]')
        assert wire.ws_recv_text(ws) == '42["message-back","again"]'
    finally:
        ws.close()


def test_connect_then_disconnect_custom_namespace(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send("40/custom")
        _connect_reply(wire.ws_recv_text(ws), "/custom,")
        assert wire.ws_recv_text(ws) == '42/custom,["auth",{}]'
        ws.send("41/custom")
        ws.send('42["message","message to main namespace"]')
        assert wire.ws_recv_text(ws) == '42["message-back","message to main namespace"]'
    finally:
        ws.close()


def test_event_to_left_namespace_closes(port):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send("40/custom,")
    _connect_reply(wire.ws_recv_text(ws), "/custom,")
    assert wire.ws_recv_text(ws) == '42/custom,["auth",{}]'
    ws.send("41/custom,")
    ws.send('42/custom,["message","x"]')
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, frames


# ------------------------------------------------------------------------------ message


def test_plain_text_event(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["message",1,"2",{"3":[true]}]')
        assert wire.ws_recv_text(ws) == '42["message-back",1,"2",{"3":[true]}]'
    finally:
        ws.close()


def test_plain_text_event_custom_namespace(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send("40/custom,")
        _connect_reply(wire.ws_recv_text(ws), "/custom,")
        assert wire.ws_recv_text(ws) == '42/custom,["auth",{}]'
        ws.send('42/custom,["message",null,-1.5,"\\u00e9\\n",[[]],{}]')
        assert json.loads(wire.ws_recv_text(ws)[len("42/custom,"):]) == \
            ["message-back", None, -1.5, "\u00e9\n", [[]], {}]
    finally:
        ws.close()


def test_event_with_binary_attachments(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('452-["message",%s,%s]' % (PH0, PH1))
        ws.send_binary(bytes([1, 2, 3]))
        ws.send_binary(bytes([4, 5, 6]))
        assert wire.ws_recv_text(ws) == '452-["message-back",%s,%s]' % (PH0, PH1)
        assert wire.ws_recv_binary(ws) == bytes([1, 2, 3])
        assert wire.ws_recv_binary(ws) == bytes([4, 5, 6])
    finally:
        ws.close()


def test_event_with_nested_binary_attachments(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('452-["message",{"a":[%s,{"b":%s}]}]' % (PH0, PH1))
        ws.send_binary(b"\x00\xff")
        ws.send_binary(b"tail")
        frame = wire.ws_recv_text(ws)
        assert frame.startswith("452-"), frame
        assert json.loads(frame[4:]) == [
            "message-back", {"a": [{"_placeholder": True, "num": 0},
                                   {"b": {"_placeholder": True, "num": 1}}]}], frame
        assert wire.ws_recv_binary(ws) == b"\x00\xff"
        assert wire.ws_recv_binary(ws) == b"tail"
    finally:
        ws.close()


def test_event_with_ack(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42456["message-with-ack",1,"2",{"3":[false]}]')
        assert wire.ws_recv_text(ws) == '43456[1,"2",{"3":[false]}]'
    finally:
        ws.close()


def test_event_with_ack_no_args(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('420["message-with-ack"]')
        assert wire.ws_recv_text(ws) == "430[]"
    finally:
        ws.close()


def test_event_with_binary_attachments_and_ack(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('452-789["message-with-ack",%s,%s]' % (PH0, PH1))
        ws.send_binary(bytes([1, 2, 3]))
        ws.send_binary(bytes([4, 5, 6]))
        assert wire.ws_recv_text(ws) == '462-789[%s,%s]' % (PH0, PH1)
        assert wire.ws_recv_binary(ws) == bytes([1, 2, 3])
        assert wire.ws_recv_binary(ws) == bytes([4, 5, 6])
    finally:
        ws.close()


def test_ack_custom_namespace(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send("40/custom,")
        _connect_reply(wire.ws_recv_text(ws), "/custom,")
        assert wire.ws_recv_text(ws) == '42/custom,["auth",{}]'
        ws.send('42/custom,17["message-with-ack","x"]')
        assert wire.ws_recv_text(ws) == '43/custom,17["x"]'
    finally:
        ws.close()


def test_catch_all(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["some-event",1,{"a":"b"}]')
        assert wire.ws_recv_text(ws) == '42["catch-all","some-event",1,{"a":"b"}]'
    finally:
        ws.close()


def test_server_ack_answered(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["ask",5000,"q",1]')
        frame = wire.ws_recv_text(ws)
        m = re.fullmatch(r'42(\d+)\["question","q",1\]', frame)
        assert m, frame
        ws.send('43%s["yes",[2]]' % m.group(1))
        assert wire.ws_recv_text(ws) == '42["answer","yes",[2]]'
    finally:
        ws.close()


def test_server_ack_timeout(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["ask",200,"q"]')
        frame = wire.ws_recv_text(ws)
        assert re.fullmatch(r'42\d+\["question","q"\]', frame), frame
        # no ack sent
        assert wire.ws_recv_text(ws) == '42["answer-timeout"]'
    finally:
        ws.close()


def test_server_ack_ids_are_distinct(port):
    ws, _, _ = wire.sio_ws_connect(port)
    try:
        ws.send('42["ask",5000,"a"]')
        ws.send('42["ask",5000,"b"]')
        f1 = wire.ws_recv_text(ws)
        f2 = wire.ws_recv_text(ws)
        m1 = re.fullmatch(r'42(\d+)\["question","a"\]', f1)
        m2 = re.fullmatch(r'42(\d+)\["question","b"\]', f2)
        assert m1 and m2, (f1, f2)
        assert m1.group(1) != m2.group(1)
        ws.send('43%s["for b"]' % m2.group(1))
        assert wire.ws_recv_text(ws) == '42["answer","for b"]'
        ws.send('43%s["for a"]' % m1.group(1))
        assert wire.ws_recv_text(ws) == '42["answer","for a"]'
    finally:
        ws.close()


# ------------------------------------------------------------------------------ rooms (exact order)


def _ack(ws, ack_id):
    frame = wire.ws_recv_text(ws)
    prefix = "43%d" % ack_id
    assert frame.startswith(prefix + "["), frame
    return json.loads(frame[len(prefix):])


def _frames(ws, n):
    """The next n text frames, sorted: for a hook that both emits to the sender and acks, where
    the order of the two is the server's choice."""
    return sorted(wire.ws_recv_text(ws) for _ in range(n))


def _sync(ws, ns=""):
    """A round trip; a frame the socket should not have received would come before the echo."""
    ws.send('42%s["message","sync"]' % ns)
    assert wire.ws_recv_text(ws) == '42%s["message-back","sync"]' % ns


def test_rooms_join_leave_and_to_room(port):
    a, _, a_sid = wire.sio_ws_connect(port)
    b, _, b_sid = wire.sio_ws_connect(port)
    try:
        a.send('421["join","r1"]')
        assert _ack(a, 1) == [sorted([a_sid, "r1"])]
        b.send('422["to-room","r1",{"x":1}]')
        assert _ack(b, 2) == []
        _sync(b)                                          # b is not in r1
        assert wire.ws_recv_text(a) == '42["room-message",{"x":1}]'
        a.send('423["to-room","r1","self"]')               # sender in the room gets it too
        assert _frames(a, 2) == sorted(['42["room-message","self"]', "433[]"])
        a.send('424["to-room-except-me","r1","not me"]')
        assert _ack(a, 4) == []
        _sync(a)
        b.send('425["except-room","r1","outside"]')
        assert _frames(b, 2) == sorted(['42["except-message","outside"]', "435[]"])
        _sync(a)                                          # a is in r1: no except-message
        a.send('426["leave","r1"]')
        assert _ack(a, 6) == [[a_sid]]
        b.send('427["to-room","r1","nobody"]')
        assert _ack(b, 7) == []
        _sync(a)                                          # a left r1
        _sync(b)
    finally:
        a.close()
        b.close()


def test_join_several_rooms_sorted(port):
    a, _, a_sid = wire.sio_ws_connect(port)
    try:
        for i, room in enumerate(["zeta", "alpha", "Mid"], start=1):
            a.send('42%d["join","%s"]' % (i, room))
            _ack(a, i)
        a.send('424["join","alpha"]')                      # joining twice changes nothing
        assert _ack(a, 4) == [sorted([a_sid, "zeta", "alpha", "Mid"])]
        a.send('425["leave","not-joined"]')
        assert _ack(a, 5) == [sorted([a_sid, "zeta", "alpha", "Mid"])]
    finally:
        a.close()


def test_broadcast_and_to_socket(port):
    a, _, a_sid = wire.sio_ws_connect(port)
    b, _, b_sid = wire.sio_ws_connect(port)
    try:
        a.send('421["broadcast","hi"]')
        assert _ack(a, 1) == []
        _sync(a)                                          # not the sender
        assert wire.ws_recv_text(b) == '42["broadcast","hi"]'
        a.send('422["broadcast-all","all"]')
        assert _frames(a, 2) == sorted(['42["broadcast","all"]', "432[]"])
        assert wire.ws_recv_text(b) == '42["broadcast","all"]'
        b.send('423["to-socket",%s,"direct!"]' % json.dumps(a_sid))
        assert _ack(b, 3) == []
        _sync(b)
        assert wire.ws_recv_text(a) == '42["direct","direct!"]'
    finally:
        a.close()
        b.close()


def test_broadcast_stays_in_namespace(port):
    a, _, _ = wire.sio_ws_connect(port)
    b, _, _ = wire.sio_ws_connect(port)
    try:
        b.send("40/custom,")
        _connect_reply(wire.ws_recv_text(b), "/custom,")
        assert wire.ws_recv_text(b) == '42/custom,["auth",{}]'
        a.send('421["broadcast","root only"]')
        assert _ack(a, 1) == []
        assert wire.ws_recv_text(b) == '42["broadcast","root only"]'
        b.send('42/custom,9["broadcast-all","custom only"]')
        assert _frames(b, 2) == sorted(['42/custom,["broadcast","custom only"]', "43/custom,9[]"])
        _sync(a)
        _sync(b)
    finally:
        a.close()
        b.close()


def _wait_reasons(observer, n):
    """disconnect-reasons, asked until it holds n entries (the observer is a python-socketio
    client, which answers pings in the background while raw sockets are being read)."""
    for _ in range(100):
        value = observer.call("disconnect-reasons")
        assert isinstance(value, list), value
        if len(value) >= n:
            return value
        time.sleep(0.05)
    raise AssertionError("disconnect-reasons stuck at %r" % (value,))


def test_disconnect_reasons(port, sio_clients):
    observer = sio_clients(port, transports=["websocket"])
    assert observer.call("disconnect-reasons") == []
    a, _, _ = wire.sio_ws_connect(port)
    a.send("41")                                          # client leaves the namespace
    assert _wait_reasons(observer, 1) == ["/ client namespace disconnect"]
    a.close()                                             # no namespace left: nothing recorded
    b, _, _ = wire.sio_ws_connect(port)
    b.close()                                             # WebSocket closed by the client
    assert _wait_reasons(observer, 2)[1:] == ["/ transport close"]
    c, _, _ = wire.sio_ws_connect(port)
    c.send("40/custom,")
    assert wire.ws_recv_text(c).startswith("40/custom,")
    assert wire.ws_recv_text(c) == '42/custom,["auth",{}]'
    wire.ws_expect_close(c, answer_pings=False)           # pings unanswered
    assert sorted(_wait_reasons(observer, 4)[2:]) == ["/ ping timeout", "/custom ping timeout"]
    d, _, _ = wire.sio_ws_connect(port)
    d.send('42["disconnect-me"]')
    assert wire.ws_recv_text(d) == "41"                   # DISCONNECT from the server
    assert _wait_reasons(observer, 5)[4:] == ["/ server namespace disconnect"]
    d.close()
    observer.sync()
    assert len(observer.call("disconnect-reasons")) == 5


# ------------------------------------------------------------------------------ invalid packets


@pytest.mark.parametrize("packet", [
    "42{}",                                               # payload not an array
    '42abc["message-with-ack",1,"2",{"3":[false]}]',      # invalid ack id
    "4abc",                                               # unknown packet type `a`
    "47",                                                 # unknown packet type 7
    '48["message"]',                                      # unknown packet type 8
    "42[]",                                               # empty event array
    "42[{}]",                                             # event name not a string/number
    '42["message"',                                       # truncated JSON
    '42["disconnect"]',                                   # reserved event name
    '42["connect"]',                                      # reserved event name
    '431{}',                                              # ACK payload not an array
    '41{"x":1}',                                          # DISCONNECT with payload
    '40/custom,"str"',                                    # CONNECT payload not an object
    '45x-["message",{"_placeholder":true,"num":0}]',      # attachment count not an integer
    '42/custom,["message","x"]',                          # namespace not joined
    "40",                                                 # second CONNECT to a joined namespace
], ids=["payload-object", "bad-ack-id", "type-a", "type-7", "type-8", "empty-array",
        "name-object", "truncated-json", "reserved-disconnect", "reserved-connect",
        "ack-not-array", "disconnect-payload", "connect-payload-string", "bad-attachment-count",
        "namespace-not-joined", "second-connect"])
def test_invalid_packet_closes_connection(port, packet):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send(packet)
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, "sent %r, got %r before the close" % (packet, frames)


def test_event_before_connect_closes(port):
    ws, _ = wire.eio_ws_open(port)
    ws.send('42["message","x"]')
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, frames


def test_unexpected_binary_frame_closes(port):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send_binary(b"\x01\x02")
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, frames


def test_text_frame_instead_of_attachment_closes(port):
    ws, _, _ = wire.sio_ws_connect(port)
    ws.send('451-["message",%s]' % PH0)
    ws.send('42["message","not an attachment"]')
    frames = wire.ws_expect_close(ws)
    assert set(frames) <= {"2"}, frames


# ------------------------------------------------------------------------------ over polling


def test_polling_connect_and_event(port):
    sid, sio_sid = wire.sio_polling_connect(port)
    assert sio_sid != sid
    wire.post_ok(port, sid, '42["message",1,"2",{"3":[true]}]')
    assert wire.poll_packets(port, sid) == ['42["message-back",1,"2",{"3":[true]}]']


def test_polling_event_with_binary_attachments(port):
    sid, _ = wire.sio_polling_connect(port)
    body = SEP.join(['452-["message",%s,%s]' % (PH0, PH1), "bAQID", "bBAUG"])
    wire.post_ok(port, sid, body)
    assert wire.poll_packets(port, sid) == [
        '452-["message-back",%s,%s]' % (PH0, PH1), "bAQID", "bBAUG"]


def test_polling_binary_ack(port):
    sid, _ = wire.sio_polling_connect(port)
    body = SEP.join(['452-789["message-with-ack",%s,%s]' % (PH0, PH1), "bAQID", "bBAUG"])
    wire.post_ok(port, sid, body)
    assert wire.poll_packets(port, sid) == ['462-789[%s,%s]' % (PH0, PH1), "bAQID", "bBAUG"]


def test_polling_attachments_across_posts(port):
    sid, _ = wire.sio_polling_connect(port)
    wire.post_ok(port, sid, '452-["message",%s,%s]' % (PH0, PH1))
    wire.post_ok(port, sid, "bAQID")
    wire.post_ok(port, sid, "bBAUG")
    assert wire.collect_packets(port, sid, 3) == [
        '452-["message-back",%s,%s]' % (PH0, PH1), "bAQID", "bBAUG"]


def test_polling_invalid_socketio_packet_closes(port):
    sid, _ = wire.sio_polling_connect(port)
    r = wire.post(port, sid, "42{}")
    assert r.status in (200, 400), r
    wire.expect_polling_session_closed(port, sid)
