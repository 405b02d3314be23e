"""The chat app's protocol (docs/protocol.md), against both servers: examples/python_chat/app.py
and examples/chat_server, with python-socketio's client over WebSocket and polling.

Every test starts its own server(s) on a fresh SQLite file. To show that an event did NOT reach a
client, a later event is sent on the same path and awaited; the earlier one must not have come
before it (the client delivers events in the order the server sent them).
"""
import subprocess
import time
import urllib.request

import pytest

HTTP_TIMEOUT = 10.0   # hang guard
EXIT_TIMEOUT = 30.0   # hang guard on a server that must refuse to start


# ---- helpers ----

def ok(ack):
    assert isinstance(ack, dict) and ack.get("ok") is True, ack
    return ack


def refused(ack, code):
    assert isinstance(ack, dict), ack
    assert ack.get("ok") is False and ack.get("error") == code, "expected %s, got %r" % (code, ack)
    assert isinstance(ack.get("message"), str) and ack["message"], ack
    return ack


def login(peer, name, token=None):
    data = {"name": name}
    if token is not None:
        data["token"] = token
    return ok(peer.call("login", data))


def join(peer, room, **fields):
    return ok(peer.call("join", dict(fields, room=room)))


def post(peer, room, text):
    return ok(peer.call("message", {"room": room, "text": text}))["message"]


def history(peer, room, before, **fields):
    return ok(peer.call("history", dict(fields, room=room, before=before)))


def person(server, connect, name):
    """A new connection logged in as a new user `name`: (peer, user, token)."""
    peer = connect(server)
    ack = login(peer, name)
    return peer, ack["user"], ack["token"]


def same_user(peer, token):
    """Logs `peer` in with an existing user's token."""
    return login(peer, "ignored-name", token=token)["user"]


def text_is(text):
    return lambda payload: payload.get("text") == text


def about(name):
    return lambda payload: payload.get("user", {}).get("name") == name


def public(room_id):
    return {"id": room_id, "name": room_id, "kind": "public"}


def private(low, high, seen_by):
    other = high if seen_by["id"] == low["id"] else low
    return {"id": "dm:%d:%d" % (low["id"], high["id"]), "name": other["name"], "kind": "private",
            "members": [low, high]}


def same_room(got, expected):
    """Rooms compare equal; a private room's two members in any order."""
    if got.get("kind") == "private" and isinstance(got.get("members"), list):
        got = dict(got, members=sorted(got["members"], key=lambda u: u.get("id")))
    return got == expected


def check_message(message, room, author, text):
    assert set(message) == {"id", "room", "author", "text", "time"}, message
    assert isinstance(message["id"], int) and not isinstance(message["id"], bool)
    assert (message["room"], message["author"], message["text"]) == (room, author, text)
    now = time.time() * 1000
    assert isinstance(message["time"], int) and now - 86400000 < message["time"] < now + 86400000, message


def post_later_than(peer, room, text, time_ms):
    """Posts until the server's clock has passed `time_ms` (most-recent-first lists compare
    times in milliseconds); bounded by the number of attempts, not by a clock."""
    for attempt in range(10000):
        message = post(peer, room, "%s %d" % (text, attempt))
        if message["time"] > time_ms:
            return message
    raise AssertionError("the server's clock did not move past %d" % time_ms)


# ---- login ----

def test_login_registers_a_new_user(server, connect):
    peer = connect(server)
    ack = ok(peer.call("login", {"name": "  alice  "}))
    assert set(ack) == {"ok", "user", "token", "rooms", "conversations"}, ack
    assert set(ack["user"]) == {"id", "name"} and ack["user"]["name"] == "alice"
    assert isinstance(ack["user"]["id"], int)
    assert isinstance(ack["token"], str) and len(ack["token"]) >= 16
    assert ack["rooms"] == [public("general")]
    assert ack["conversations"] == []

    other = ok(connect(server).call("login", {"name": "bob"}))
    assert other["user"]["id"] != ack["user"]["id"]
    assert other["token"] != ack["token"]


def test_login_with_a_token_is_the_same_user(server, connect):
    alice_peer, alice, token = person(server, connect, "alice")
    ack = ok(connect(server).call("login", {"name": "somebody else", "token": token}))
    assert ack["user"] == alice  # the stored name wins
    assert ack["token"] == token

    ack = ok(connect(server).call("login", {"name": "carol", "token": "not-a-token-of-this-server"}))
    assert ack["user"]["name"] == "carol" and ack["user"]["id"] != alice["id"]
    assert ack["token"] != "not-a-token-of-this-server"


def test_login_name_taken_ignores_case(server, connect):
    person(server, connect, "Alice")
    peer = connect(server)
    refused(peer.call("login", {"name": "alice"}), "name_taken")
    refused(peer.call("login", {"name": " ALICE "}), "name_taken")
    refused(peer.call("rooms", {}), "not_logged_in")  # a failed login leaves it logged out
    assert login(peer, "alice2")["user"]["name"] == "alice2"


@pytest.mark.parametrize("name", ["", "     ", "x" * 33, "line\nbreak", "tab\there", "bell\x07",
                                  "del\x7f", "c1\u0085control"],
                         ids=["empty", "spaces", "33", "newline", "tab", "bell", "del", "c1"])
def test_login_bad_name(server, connect, name):
    peer = connect(server)
    refused(peer.call("login", {"name": name}), "bad_name")
    refused(peer.call("rooms", {}), "not_logged_in")


def test_login_name_limits_count_characters(server, connect):
    peer = connect(server)
    for name in ["x" * 32, "\u00e9" * 32, "\U0001f600" * 32, "  " + "y" * 32 + "  ", "a"]:
        assert login(peer, name)["user"]["name"] == name.strip()


def test_login_again_switches_the_connection(server, connect):
    bob_peer, bob, _ = person(server, connect, "bob")
    join(bob_peer, "general")
    peer, alice, _ = person(server, connect, "alice")
    join(peer, "general")
    bob_peer.next("user_joined", about("alice"))

    carol = login(peer, "carol")["user"]
    assert bob_peer.next("user_left") == {"room": "general", "user": alice}
    refused(peer.call("message", {"room": "general", "text": "hi"}), "not_joined")

    # alice's private messages no longer reach this connection
    dm = ok(bob_peer.call("open_private", {"user": "alice"}))["room"]["id"]
    join(bob_peer, dm)
    post(bob_peer, dm, "for alice")
    join(peer, "general")
    bob_peer.next("user_joined", about("carol"))
    assert post(peer, "general", "carol here")["author"] == carol
    post(bob_peer, "general", "marker")
    peer.next("message", text_is("marker"))
    assert peer.received("message", text_is("for alice")) == []


# ---- rename ----

def test_rename(server, connect):
    alice_peer, alice, token = person(server, connect, "alice")
    alice_again = connect(server)
    same_user(alice_again, token)
    bob_peer, bob, _ = person(server, connect, "bob")
    anonymous = connect(server)  # connected, not logged in
    join(alice_peer, "general")
    before = post(alice_peer, "general", "before")

    ack = ok(alice_peer.call("rename", {"name": "  Alicia "}))
    renamed = {"id": alice["id"], "name": "Alicia"}
    assert ack == {"ok": True, "user": renamed}
    for peer in (alice_peer, alice_again, bob_peer):  # every logged-in connection
        assert peer.next("user_renamed") == {"user": renamed, "old_name": "alice"}
    refused(anonymous.call("rooms", {}), "not_logged_in")
    assert anonymous.received("user_renamed") == []

    after = post(alice_peer, "general", "after")
    assert after["author"] == renamed
    page = history(bob_peer, "general", after["id"] + 1)
    assert [(m["id"], m["author"]["name"]) for m in page["messages"]] == \
        [(before["id"], "alice"), (after["id"], "Alicia")]
    assert join(bob_peer, "general")["online"] == [renamed, bob]

    refused(bob_peer.call("rename", {"name": "ALICIA"}), "name_taken")
    refused(bob_peer.call("rename", {"name": "  "}), "bad_name")
    refused(bob_peer.call("rename", {"name": "z" * 33}), "bad_name")
    refused(bob_peer.call("rename", {"name": "new\nline"}), "bad_name")
    assert same_user(connect(server), token) == renamed
    assert login(connect(server), "alice")["user"]["id"] not in (alice["id"], bob["id"])  # freed


# ---- join, leave, presence ----

def test_join_returns_history_and_who_is_online(server, connect):
    zed_peer, zed, _ = person(server, connect, "Zed")
    first = join(zed_peer, "general")
    assert set(first) == {"ok", "room", "messages", "has_more", "online"}, first
    assert first["room"] == public("general")
    assert (first["messages"], first["has_more"], first["online"]) == ([], False, [zed])
    sent = [post(zed_peer, "general", "message %d" % i) for i in range(3)]

    amy_peer, amy, _ = person(server, connect, "amy")
    second = join(amy_peer, "GENERAL")  # any case
    assert second["room"] == public("general")
    assert second["messages"] == sent
    assert second["has_more"] is False
    assert second["online"] == [amy, zed]  # by name, without regard to case (as names compare)


def test_join_returns_the_latest_50(server, connect):
    peer, _, _ = person(server, connect, "alice")
    join(peer, "general")
    sent = [post(peer, "general", "m%d" % i) for i in range(50)]
    reader, _, _ = person(server, connect, "bob")
    ack = join(reader, "general")
    assert (ack["messages"], ack["has_more"]) == (sent, False)  # exactly 50: nothing older
    sent += [post(peer, "general", "m%d" % i) for i in range(50, 55)]
    ack = join(reader, "general")
    assert ack["messages"] == sent[5:]
    assert ack["has_more"] is True
    older = history(reader, "general", sent[5]["id"], limit=100)
    assert (older["messages"], older["has_more"]) == (sent[:5], False)


def test_join_since_fills_in(server, connect):
    peer, _, _ = person(server, connect, "alice")
    join(peer, "general")
    sent = [post(peer, "general", "m%d" % i) for i in range(110)]
    reader, _, _ = person(server, connect, "bob")

    ack = join(reader, "general", since=sent[104]["id"])
    assert (ack["messages"], ack["has_more"]) == (sent[105:], False)
    ack = join(reader, "general", since=sent[-1]["id"])
    assert (ack["messages"], ack["has_more"]) == ([], False)
    ack = join(reader, "general", since=sent[9]["id"])  # exactly 100 after it
    assert (ack["messages"], ack["has_more"]) == (sent[10:], False)
    ack = join(reader, "general", since=sent[8]["id"])  # 101 after it: the newest 100, a gap
    assert (ack["messages"], ack["has_more"]) == (sent[10:], True)
    ack = join(reader, "general", since=sent[4]["id"])
    assert (ack["messages"], ack["has_more"]) == (sent[10:], True)


def test_join_creates_a_public_room(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    anonymous = connect(server)  # connected, not logged in
    ack = join(alice_peer, "Lobby-1")
    assert ack["room"] == public("lobby-1")
    assert (ack["messages"], ack["has_more"], ack["online"]) == ([], False, [alice])
    for peer in (alice_peer, bob_peer):  # every logged-in connection
        assert peer.next("room_created") == public("lobby-1")

    assert join(bob_peer, "LOBBY-1")["room"] == public("lobby-1")  # exists: not created again
    post(alice_peer, "lobby-1", "marker")
    bob_peer.next("message", text_is("marker"))
    alice_peer.next("message", text_is("marker"))
    assert len(bob_peer.received("room_created")) == 1
    assert len(alice_peer.received("room_created")) == 1
    refused(anonymous.call("rooms", {}), "not_logged_in")
    assert anonymous.received("room_created") == []  # only logged-in connections

    join(bob_peer, "aaa")
    lists = ok(bob_peer.call("rooms", {}))
    assert lists["rooms"] == [public("general"), public("aaa"), public("lobby-1")]  # general first
    assert lists["conversations"] == []
    assert login(connect(server), "carol")["rooms"] == lists["rooms"]


@pytest.mark.parametrize("room", ["", "a b", "x" * 33, "room!", "caf\u00e9", "a/b", " general"],
                         ids=["empty", "space", "33", "bang", "accent", "slash", "leading-space"])
def test_join_bad_room_name(server, connect, room):
    peer, _, _ = person(server, connect, "alice")
    refused(peer.call("join", {"room": room}), "bad_room_name")


def test_room_name_limits(server, connect):
    peer, _, _ = person(server, connect, "alice")
    assert join(peer, "x" * 32)["room"] == public("x" * 32)
    assert join(peer, "A-b_9")["room"] == public("a-b_9")


def test_user_joined_and_left_on_a_users_first_and_last_connection(server, connect):
    bob_peer, bob, _ = person(server, connect, "bob")
    join(bob_peer, "general")
    first, alice, token = person(server, connect, "alice")
    second = connect(server)
    same_user(second, token)

    join(first, "general")
    assert bob_peer.next("user_joined") == {"room": "general", "user": alice}
    assert join(second, "general")["online"] == [alice, bob]  # alice once, by name
    post(second, "general", "marker 1")
    bob_peer.next("message", text_is("marker 1"))
    assert len(bob_peer.received("user_joined")) == 1  # not for her second connection

    ok(first.call("leave", {"room": "general"}))
    post(second, "general", "marker 2")
    bob_peer.next("message", text_is("marker 2"))
    assert bob_peer.received("user_left") == []  # her other connection still has it open
    assert join(bob_peer, "general")["online"] == [alice, bob]

    ok(second.call("leave", {"room": "general"}))
    assert bob_peer.next("user_left") == {"room": "general", "user": alice}
    assert join(bob_peer, "general")["online"] == [bob]
    refused(second.call("leave", {"room": "general"}), "not_joined")
    refused(second.call("message", {"room": "general", "text": "gone"}), "not_joined")


def test_user_left_on_disconnect(server, connect):
    bob_peer, bob, _ = person(server, connect, "bob")
    join(bob_peer, "general")
    join(bob_peer, "side")
    first = connect(server, "websocket")  # the closing peers: see conftest's connect
    alice = login(first, "alice")
    second = connect(server, "websocket")
    same_user(second, alice["token"])
    alice = alice["user"]
    join(first, "general")
    join(first, "side")
    join(second, "general")

    first.close()
    # side: her last connection in it went; general: her other connection still has it open
    assert bob_peer.next("user_left") == {"room": "side", "user": alice}
    post(second, "general", "marker")
    bob_peer.next("message", text_is("marker"))
    assert bob_peer.received("user_left", lambda e: e.get("room") == "general") == []

    second.close()
    assert bob_peer.next("user_left") == {"room": "general", "user": alice}
    assert join(bob_peer, "general")["online"] == [bob]


def test_leave_stops_the_rooms_events(server, connect):
    alice_peer, _, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    join(alice_peer, "general")
    join(bob_peer, "general")
    join(bob_peer, "other")
    join(alice_peer, "other")
    assert ok(bob_peer.call("leave", {"room": "GENERAL"})) == {"ok": True}
    post(alice_peer, "general", "after bob left")
    post(alice_peer, "other", "marker")
    bob_peer.next("message", text_is("marker"))
    assert bob_peer.received("message", text_is("after bob left")) == []
    refused(bob_peer.call("leave", {"room": "general"}), "not_joined")
    refused(bob_peer.call("leave", {"room": "never-opened"}), "not_joined")


# ---- history ----

def test_history_pages_oldest_first(server, connect):
    alice_peer, _, _ = person(server, connect, "alice")
    join(alice_peer, "general")
    join(alice_peer, "other")
    sent = []
    for i in range(7):
        sent.append(post(alice_peer, "general", "h%d" % i))
        post(alice_peer, "other", "not in general %d" % i)
    reader, _, _ = person(server, connect, "bob")  # history needs no join

    page = history(reader, "general", sent[6]["id"], limit=3)
    assert set(page) == {"ok", "messages", "has_more"}
    assert (page["messages"], page["has_more"]) == (sent[3:6], True)
    page = history(reader, "general", sent[3]["id"], limit=3)
    assert (page["messages"], page["has_more"]) == (sent[0:3], False)
    page = history(reader, "general", sent[0]["id"])
    assert (page["messages"], page["has_more"]) == ([], False)
    page = history(reader, "general", sent[6]["id"])  # limit 50 by default
    assert (page["messages"], page["has_more"]) == (sent[:6], False)
    page = history(reader, "general", sent[6]["id"] + 1000, limit=1)
    assert (page["messages"], page["has_more"]) == (sent[6:], True)
    assert history(reader, "general", sent[6]["id"], limit=100)["messages"] == sent[:6]
    refused(reader.call("history", {"room": "nowhere", "before": 10}), "not_found")


@pytest.mark.parametrize("limit", [0, 101, -1, "5", True, 2.5, None],
                         ids=["0", "101", "-1", "string", "bool", "float", "null"])
def test_history_bad_limit(server, connect, limit):
    peer, _, _ = person(server, connect, "alice")
    if limit is None:
        # an explicit null is "absent" or a wrong type; either way not an error to crash on
        ack = peer.call("history", {"room": "general", "before": 5, "limit": None})
        assert isinstance(ack, dict) and (ack.get("ok") is True or ack.get("error") == "bad_request"), ack
        return
    refused(peer.call("history", {"room": "general", "before": 5, "limit": limit}), "bad_request")


# ---- messages ----

def test_message_is_stored_acked_and_broadcast_to_the_room(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, carol, _ = person(server, connect, "carol")
    join(alice_peer, "general")
    join(bob_peer, "general")
    join(carol_peer, "other")
    join(alice_peer, "other")

    message = post(alice_peer, "general", "  hello  ")
    check_message(message, "general", alice, "hello")
    assert alice_peer.next("message") == message  # the sender's own connection too
    assert bob_peer.next("message") == message
    assert history(bob_peer, "general", message["id"] + 1)["messages"] == [message]

    later = post(alice_peer, "other", "marker")
    assert later["id"] > message["id"]  # ids grow across rooms
    carol_peer.next("message", text_is("marker"))
    assert carol_peer.received("message", text_is("hello")) == []  # not in general


def test_message_without_an_ack_is_carried_out(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    join(alice_peer, "general")
    join(bob_peer, "general")
    alice_peer.emit("message", {"room": "general", "text": "no ack wanted"})
    got = bob_peer.next("message")
    check_message(got, "general", alice, "no ack wanted")


def test_message_limits(server, connect):
    peer, alice, _ = person(server, connect, "alice")
    join(peer, "general")
    refused(peer.call("message", {"room": "general", "text": ""}), "empty_message")
    refused(peer.call("message", {"room": "general", "text": " \n\t  "}), "empty_message")
    assert post(peer, "general", "x" * 2000)["text"] == "x" * 2000
    assert post(peer, "general", "\U0001f600" * 2000)["text"] == "\U0001f600" * 2000  # code points
    assert post(peer, "general", "  " + "y" * 2000 + "\n")["text"] == "y" * 2000  # after trimming
    refused(peer.call("message", {"room": "general", "text": "z" * 2001}), "message_too_long")
    refused(peer.call("message", {"room": "general", "text": "\u00e9" * 2001}), "message_too_long")
    refused(peer.call("message", {"room": "general", "text": "\U0001f600" * 2001}), "message_too_long")


def test_events_need_an_open_room(server, connect):
    peer, _, _ = person(server, connect, "alice")
    refused(peer.call("message", {"room": "general", "text": "hi"}), "not_joined")
    refused(peer.call("typing", {"room": "general", "typing": True}), "not_joined")
    refused(peer.call("leave", {"room": "general"}), "not_joined")
    assert history(peer, "general", 1)["messages"] == []  # history does not need it


def test_acked_message_survives_a_crash(kind, db, launch, connect):
    first = launch(kind, db)
    peer, alice, token = person(first, connect, "alice")
    join(peer, "general")
    message = post(peer, "general", "stored before the ack")
    first.kill()  # SIGKILL right after the ack: nothing left to flush

    second = launch(kind, db)
    again = connect(second)
    assert same_user(again, token) == alice
    assert join(again, "general")["messages"] == [message]


# ---- private conversations ----

def test_private_conversation(server, connect):
    alice_peer, alice, alice_token = person(server, connect, "alice")
    alice_tab = connect(server)
    same_user(alice_tab, alice_token)
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, carol, _ = person(server, connect, "carol")
    dm = "dm:%d:%d" % (alice["id"], bob["id"])

    ack = ok(bob_peer.call("open_private", {"user": "ALICE"}))  # the higher id opens it
    assert same_room(ack["room"], private(alice, bob, seen_by=bob)), ack
    for peer in (alice_peer, alice_tab):  # the other member's connections
        assert same_room(peer.next("room_created"), private(alice, bob, seen_by=alice))
    again = ok(alice_peer.call("open_private", {"user": "bob"}))  # exists now: no room_created
    assert same_room(again["room"], private(alice, bob, seen_by=alice)), again

    joined = join(bob_peer, dm)
    assert same_room(joined["room"], private(alice, bob, seen_by=bob))
    assert (joined["messages"], joined["has_more"], joined["online"]) == ([], False, [bob])
    message = post(bob_peer, dm, "just between us")
    check_message(message, dm, bob, "just between us")
    for peer in (bob_peer, alice_peer, alice_tab):  # both members, open or not
        assert peer.next("message", text_is("just between us")) == message
    assert bob_peer.received("room_created") == []
    assert len(alice_peer.received("room_created")) == 1

    lists = ok(alice_peer.call("rooms", {}))
    assert len(lists["conversations"]) == 1
    assert same_room(lists["conversations"][0], private(alice, bob, seen_by=alice))
    assert lists["rooms"] == [public("general")]

    # carol may not see it
    refused(carol_peer.call("join", {"room": dm}), "forbidden")
    refused(carol_peer.call("history", {"room": dm, "before": message["id"] + 1}), "forbidden")
    refused(carol_peer.call("message", {"room": dm, "text": "let me in"}), "forbidden")
    refused(carol_peer.call("typing", {"room": dm, "typing": True}), "forbidden")
    refused(carol_peer.call("leave", {"room": dm}), "not_joined")
    assert ok(carol_peer.call("rooms", {}))["conversations"] == []
    post(bob_peer, dm, "secret 2")
    join(carol_peer, "general")
    join(bob_peer, "general")
    post(bob_peer, "general", "marker")
    carol_peer.next("message", text_is("marker"))
    assert carol_peer.received("message", lambda m: m.get("room") == dm) == []
    assert carol_peer.received("room_created") == []

    page = history(alice_peer, dm, 10**12)
    assert [m["text"] for m in page["messages"]] == ["just between us", "secret 2"]


def test_open_private_errors(server, connect):
    peer, alice, _ = person(server, connect, "alice")
    refused(peer.call("open_private", {"user": "nobody"}), "not_found")
    refused(peer.call("open_private", {"user": "ALICE"}), "bad_request")  # oneself
    refused(peer.call("open_private", {"user": 5}), "bad_request")
    refused(peer.call("join", {"room": "dm:%d:%d" % (alice["id"], alice["id"] + 1000)}), "not_found")


def test_conversations_most_recent_first(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, carol, _ = person(server, connect, "carol")
    with_bob = ok(alice_peer.call("open_private", {"user": "bob"}))["room"]["id"]
    with_carol = ok(alice_peer.call("open_private", {"user": "carol"}))["room"]["id"]
    join(alice_peer, with_bob)
    join(alice_peer, with_carol)

    first = post(alice_peer, with_bob, "to bob")
    post_later_than(alice_peer, with_carol, "to carol", first["time"])
    ids = [room["id"] for room in ok(alice_peer.call("rooms", {}))["conversations"]]
    assert ids == [with_carol, with_bob]
    latest = post_later_than(alice_peer, with_carol, "to carol again", 0)
    post_later_than(alice_peer, with_bob, "to bob again", latest["time"])
    ack = login(connect(server), "dave")
    assert ack["conversations"] == []
    ids = [room["id"] for room in ok(alice_peer.call("rooms", {}))["conversations"]]
    assert ids == [with_bob, with_carol]
    names = [room["name"] for room in ok(alice_peer.call("rooms", {}))["conversations"]]
    assert names == ["bob", "carol"]
    assert [room["name"] for room in ok(bob_peer.call("rooms", {}))["conversations"]] == ["alice"]
    assert ok(carol_peer.call("rooms", {}))["conversations"][0]["members"] in \
        ([alice, carol], [carol, alice])


# ---- typing ----

def test_typing_goes_to_the_others_and_clears_on_send(server, connect):
    alice_peer, alice, token = person(server, connect, "alice")
    alice_tab = connect(server)
    same_user(alice_tab, token)
    bob_peer, bob, _ = person(server, connect, "bob")
    for peer in (alice_peer, alice_tab, bob_peer):
        join(peer, "general")

    assert ok(alice_peer.call("typing", {"room": "general", "typing": True})) == {"ok": True}
    notice = {"room": "general", "user": alice, "typing": True}
    assert bob_peer.next("typing") == notice
    assert alice_tab.next("typing") == notice  # another connection with the room open
    post(alice_peer, "general", "done typing")
    cleared = {"room": "general", "user": alice, "typing": False}
    assert bob_peer.next("typing") == cleared  # sending clears the notice
    alice_peer.next("message", text_is("done typing"))
    assert alice_peer.received("typing") == []  # never to the sender

    ok(bob_peer.call("typing", {"room": "general", "typing": True}))
    ok(bob_peer.call("typing", {"room": "general", "typing": False}))
    assert alice_peer.next("typing") == {"room": "general", "user": bob, "typing": True}
    assert alice_peer.next("typing") == {"room": "general", "user": bob, "typing": False}


def test_typing_in_a_private_room(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, _, _ = person(server, connect, "carol")
    dm = ok(alice_peer.call("open_private", {"user": "bob"}))["room"]["id"]
    for peer in (alice_peer, bob_peer):
        join(peer, dm)
        join(peer, "general")
    join(carol_peer, "general")

    ok(alice_peer.call("typing", {"room": dm, "typing": True}))
    assert bob_peer.next("typing") == {"room": dm, "user": alice, "typing": True}
    post(alice_peer, "general", "marker")
    carol_peer.next("message", text_is("marker"))
    assert carol_peer.received("typing") == []


# ---- what a client may get wrong ----

NOT_OBJECTS = [("text",), (5,), ([{"room": "general"}],), (None,), (True,), ()]  # () is no argument
EVENTS = ["login", "rename", "join", "leave", "history", "message", "typing", "open_private", "rooms"]
WRONG_FIELDS = [
    ("login", {}),
    ("login", {"name": 5}),
    ("login", {"name": ["alice"]}),
    ("login", {"name": "alice", "token": 5}),
    ("rename", {}),
    ("rename", {"name": 5}),
    ("join", {}),
    ("join", {"room": 5}),
    ("join", {"room": ["general"]}),
    ("join", {"room": "general", "since": "3"}),
    ("join", {"room": "general", "since": 1.5}),
    ("join", {"room": "general", "since": True}),
    ("leave", {}),
    ("leave", {"room": 5}),
    ("history", {"room": "general"}),
    ("history", {"room": "general", "before": "3"}),
    ("history", {"room": "general", "before": 2.5}),
    ("history", {"room": 5, "before": 3}),
    ("history", {"before": 3}),
    ("message", {"room": "general"}),
    ("message", {"text": "hi"}),
    ("message", {"room": "general", "text": 5}),
    ("message", {"room": "general", "text": ["hi"]}),
    ("message", {"room": "general", "text": None}),
    ("message", {"room": 5, "text": "hi"}),
    ("typing", {"room": "general"}),
    ("typing", {"room": "general", "typing": "yes"}),
    ("typing", {"room": "general", "typing": 1}),
    ("typing", {"room": 5, "typing": True}),
    ("open_private", {}),
    ("open_private", {"user": 5}),
    ("open_private", {"user": ["bob"]}),
]
UNKNOWN_EVENTS = [("nope", {}), ("Message", {"room": "general", "text": "hi"}), ("join ", {"room": "general"}),
                  ("user_joined", {"room": "general"}), ("", {})]


def test_bad_requests(server, connect):
    """Every malformed request gets bad_request, keeps the connection, and disturbs no one."""
    peer, alice, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    join(peer, "general")
    join(bob_peer, "general")
    mismatches = []

    def expect_bad_request(event, *args):
        ack = peer.call(event, *args)
        if not (isinstance(ack, dict) and ack.get("ok") is False and ack.get("error") == "bad_request"
                and isinstance(ack.get("message"), str)):
            mismatches.append("%s %s -> %r" % (event, ", ".join(map(repr, args)) or "(no argument)", ack))

    for event in EVENTS:
        for args in NOT_OBJECTS:
            expect_bad_request(event, *args)
    for event, data in WRONG_FIELDS:
        expect_bad_request(event, data)
    for event, data in UNKNOWN_EVENTS:
        expect_bad_request(event, data)
    assert mismatches == [], "expected bad_request:\n" + "\n".join(mismatches)

    assert peer.sio.connected
    message = post(peer, "general", "still here")  # still alice, general still open
    assert message["author"] == alice
    assert bob_peer.next("message", text_is("still here")) == message
    assert bob_peer.received("message") == [message]


def test_everything_but_login_needs_a_login(server, connect):
    person(server, connect, "bob")
    peer = connect(server)
    requests = [("rename", {"name": "x"}), ("join", {"room": "general"}), ("leave", {"room": "general"}),
                ("history", {"room": "general", "before": 5}), ("message", {"room": "general", "text": "hi"}),
                ("typing", {"room": "general", "typing": True}), ("open_private", {"user": "bob"}),
                ("rooms", {})]
    for event, data in requests:
        refused(peer.call(event, data), "not_logged_in")
    login(peer, "alice")
    join(peer, "general")


# ---- the file ----

def test_restart_keeps_users_rooms_and_history(kind, db, launch, connect):
    first = launch(kind, db)
    alice_peer, alice, alice_token = person(first, connect, "alice")
    bob_peer, bob, bob_token = person(first, connect, "bob")
    join(alice_peer, "Lobby")
    in_lobby = post(alice_peer, "lobby", "in the lobby")
    dm = ok(alice_peer.call("open_private", {"user": "bob"}))["room"]["id"]
    join(alice_peer, dm)
    in_dm = post(alice_peer, dm, "private")
    assert first.stop() == 0

    second = launch(kind, db)
    again = connect(second)
    ack = login(again, "whoever", token=alice_token)
    assert ack["user"] == alice and ack["token"] == alice_token
    assert ack["rooms"] == [public("general"), public("lobby")]
    assert [room["id"] for room in ack["conversations"]] == [dm]
    assert join(again, "lobby")["messages"] == [in_lobby]
    bob_again = connect(second)
    assert same_user(bob_again, bob_token) == bob
    assert join(bob_again, dm)["messages"] == [in_dm]
    refused(connect(second).call("login", {"name": "ALICE"}), "name_taken")
    assert post(again, "lobby", "after the restart")["id"] > in_dm["id"]


@pytest.mark.parametrize("writer,reader", [("python", "cpp"), ("cpp", "python")])
def test_one_servers_file_is_the_others(writer, reader, db, launch, connect):
    launch.require(writer)
    launch.require(reader)
    first = launch(writer, db)
    alice_peer, alice, alice_token = person(first, connect, "alice")
    bob_peer, bob, bob_token = person(first, connect, "bob")
    join(alice_peer, "general")
    hello = post(alice_peer, "general", "written by %s" % writer)
    dm = ok(bob_peer.call("open_private", {"user": "alice"}))["room"]["id"]
    join(bob_peer, dm)
    secret = post(bob_peer, dm, "private, by %s" % writer)
    ok(alice_peer.call("rename", {"name": "alicia"}))
    alicia = {"id": alice["id"], "name": "alicia"}
    assert first.stop() == 0

    second = launch(reader, db)
    again = connect(second)
    ack = login(again, "x", token=alice_token)  # the token hash is the same in both servers
    assert ack["user"] == alicia
    assert [room["id"] for room in ack["conversations"]] == [dm]
    assert same_room(ack["conversations"][0], private(alicia, bob, seen_by=alicia))
    assert join(again, "general")["messages"] == [hello]
    assert join(again, dm)["messages"] == [secret]
    assert same_user(connect(second), bob_token) == bob
    refused(connect(second).call("login", {"name": "BOB"}), "name_taken")
    assert post(again, "general", "read by %s" % reader)["id"] > secret["id"]


def test_a_packet_over_the_limit_closes_only_its_connection(server, connect):
    # python-engineio's polling client does not notice a refused POST, so the sender is the
    # WebSocket peer (a test's first) and the reader the polling one
    sender, _, _ = person(server, connect, "alice")
    reader, _, _ = person(server, connect, "bob")
    assert (sender.transport, reader.transport) == ("websocket", "polling")
    join(sender, "general")
    join(reader, "general")
    # 500 kB: within max_payload, so an answer rather than a close
    refused(reader.call("message", {"room": "general", "text": "x" * 500000}), "message_too_long")
    sender.emit("message", {"room": "general", "text": "y" * 1100000})
    sender.wait_disconnected()
    post(reader, "general", "still here")
    reader.next("message", text_is("still here"))
    assert reader.received("message", lambda m: m.get("text", "").startswith("y")) == []


def test_an_unusable_file_is_refused_at_start(kind, tmp_path, launch):
    db = tmp_path / "not-a-database.sqlite3"
    db.write_bytes(b"this is not a SQLite file\n" * 400)
    run = subprocess.run(launch.command(kind, db), cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=EXIT_TIMEOUT)
    output = run.stdout.decode("utf-8", "replace")
    assert run.returncode not in (0, None), output
    assert "not-a-database.sqlite3" in output, output
    assert "http://" not in output, output


def test_sigterm_exits_cleanly(server, connect):
    peer, _, _ = person(server, connect, "alice")
    join(peer, "general")
    assert server.stop(sig=15) == 0


@pytest.mark.parametrize("path,content_type", [("/", "text/html"), ("/chat.js", "javascript"),
                                               ("/style.css", "text/css"),
                                               ("/socket.io/socket.io.js", "javascript")])
def test_serves_the_page_and_the_client_bundle(server, path, content_type):
    response = urllib.request.urlopen(server.url + path, timeout=HTTP_TIMEOUT)
    assert response.status == 200 and content_type in response.headers["Content-Type"]
    assert response.read()
