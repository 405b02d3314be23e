"""The chat app's protocol (docs/protocol.md), against both servers: examples/python_chat/app.py
and examples/chat_server, with python-socketio's client over WebSocket and polling.

Every test starts its own server(s) on a fresh SQLite file. To show that an event did NOT reach a
client, a later event is sent on the same path and awaited; the earlier one must not have come
before it (the client delivers events in the order the server sent them).
"""
import subprocess
import threading
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


@pytest.mark.server_flags("--limit-signups", "off")  # five new users on one connection
def test_login_name_limits_count_characters(server, connect):
    peer = connect(server)
    for name in ["x" * 32, "\u00e9" * 32, "\U0001f600" * 32, "  " + "y" * 32 + "  ", "a"]:
        assert login(peer, name)["user"]["name"] == name.strip()


# Names that would pass for another: invisible, spacing, bidi-control, private-use and tag
# characters (docs/protocol.md, Limits), anywhere in the name; trimming is ASCII whitespace only.
LOOKALIKE_NAMES = {
    "zero-width-space": "ali\u200bce",
    "rtl-override": "\u202eecila",
    "nbsp-inside": "ali\u00a0ce",
    "nbsp-leading": "\u00a0alice",
    "bom": "\ufeffalice",
    "tag": "alice\U000e0041",
    "soft-hyphen": "ali\u00adce",
    "cgj": "alice\u034f",
    "alm": "alice\u061c",
    "hangul-filler": "\u3164",
    "word-joiner": "alice\u2060",
    "ideographic-space": "alice\u3000",
    "variation-selector": "alice\ufe0f",
    "mongolian-fvs": "alice\u180e",
    "line-separator": "ali\u2028ce",
    "private-use": "alice\ue000",
    "music-format": "alice\U0001d173",
    "specials": "alice\ufff9",
    "plane-15": "alice\U000f0000",
    "last-code-point": "alice\U0010ffff",
}
FAIR_NAMES = ["Zo\u00eb", "\u65e5\u672c", "\u00a1hola", "x\u2010y", "50\u2030", "\u05e9\u05dc\u05d5\u05dd",
              "a\U0001d172", "a\U0001d17b"]


@pytest.mark.server_flags("--limit-renames", "off")  # eight renames in a row
def test_names_that_pass_for_another_are_refused(server, connect):
    peer = connect(server)
    for name in LOOKALIKE_NAMES.values():
        refused(peer.call("login", {"name": name}), "bad_name")
    refused(peer.call("rooms", {}), "not_logged_in")
    alice = login(peer, "alice")["user"]
    for name in LOOKALIKE_NAMES.values():
        refused(peer.call("rename", {"name": name}), "bad_name")
    for index, name in enumerate(FAIR_NAMES):
        assert login(connect(server), name)["user"]["name"] == name
        renamed = ok(peer.call("rename", {"name": name + str(index)}))["user"]
        assert renamed == {"id": alice["id"], "name": name + str(index)}
    # " \t\n\r\f\v" are trimmed, nothing else
    assert login(connect(server), " \t\n\r\f\vtrimmed\v\f\r\n\t ")["user"]["name"] == "trimmed"


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


def test_rename_to_the_same_name_announces_nothing(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    assert ok(alice_peer.call("rename", {"name": "alice"})) == {"ok": True, "user": alice}
    assert ok(alice_peer.call("rename", {"name": " alice\t"})) == {"ok": True, "user": alice}
    shouting = {"id": alice["id"], "name": "ALICE"}
    assert ok(alice_peer.call("rename", {"name": "ALICE"})) == {"ok": True, "user": shouting}  # a change
    for peer in (alice_peer, bob_peer):
        assert peer.next("user_renamed") == {"user": shouting, "old_name": "alice"}
        assert len(peer.received("user_renamed")) == 1  # none for the two renames before it


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


def test_online_is_ordered_by_folded_utf8_then_id(server, connect):
    """ASCII letters folded to lower case, then compared as UTF-8 bytes: the same order in both
    hosts, whatever their locale or Unicode tables."""
    users = []
    for name in ["Zed", "amy", "\u00c9z", "\u00e9a", "ab"]:
        peer, user, _ = person(server, connect, name)
        join(peer, "general")
        users.append((peer, user))
    last_peer = users[-1][0]
    online = join(last_peer, "general")["online"]
    assert [u["name"] for u in online] == ["ab", "amy", "Zed", "\u00c9z", "\u00e9a"]
    assert sorted((u for _, u in users), key=lambda u: (u["name"].encode("utf-8").lower(), u["id"])) == online


@pytest.mark.server_flags("--limit-messages", "off")  # fills a history page at once
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


@pytest.mark.server_flags("--limit-messages", "off")  # fills a history page at once
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


def test_a_refused_join_creates_no_room(server, connect):
    alice_peer, _, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    for since in (-1, "x", 1.5, True, [1], {"id": 1}):
        refused(bob_peer.call("join", {"room": "newroom", "since": since}), "bad_request")
    refused(bob_peer.call("join", {"room": "NewRoom", "since": -5}), "bad_request")
    refused(bob_peer.call("history", {"room": "newroom", "before": 5}), "not_found")  # reading creates nothing
    refused(bob_peer.call("message", {"room": "newroom", "text": "hi"}), "not_joined")
    for peer in (alice_peer, bob_peer):
        assert ok(peer.call("rooms", {}))["rooms"] == [public("general")]
    # A room made later is announced on the same path; nothing came before it.
    join(bob_peer, "marker")
    for peer in (alice_peer, bob_peer):
        assert peer.next("room_created") == public("marker")
        assert peer.received("room_created") == [public("marker")]
    refused(bob_peer.call("history", {"room": "newroom", "before": 5}), "not_found")


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


@pytest.mark.parametrize("limit", [0, 101, -1, "5", True, 2.5, [5], {"n": 5}],
                         ids=["0", "101", "-1", "string", "bool", "float", "list", "object"])
def test_history_bad_limit(server, connect, limit):
    peer, _, _ = person(server, connect, "alice")
    refused(peer.call("history", {"room": "general", "before": 5, "limit": limit}), "bad_request")


@pytest.mark.server_flags("--limit-messages", "off")  # fills a history page at once
def test_null_is_an_absent_optional_field(server, connect):
    """docs/protocol.md: `null` counts as absent. A null limit is the default page (50); a null
    since is a join without it (the latest 50)."""
    peer, _, _ = person(server, connect, "alice")
    join(peer, "general", since=None)
    sent = [post(peer, "general", "m%d" % i) for i in range(55)]
    page = history(peer, "general", sent[-1]["id"] + 1, limit=None)
    assert (page["messages"], page["has_more"]) == (sent[5:], True)
    ack = join(peer, "general", since=None)
    assert (ack["messages"], ack["has_more"]) == (sent[5:], True)
    other, _, _ = person(server, connect, "bob")
    ack = ok(other.call("login", {"name": "carol", "token": None}))
    assert ack["user"]["name"] == "carol"


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
    for peer in (bob_peer, alice_tab):  # the "false" comes before the message that caused it
        peer.next("message", text_is("done typing"))
        order = [(event, payload.get("typing")) for event, payload in peer.events
                 if event in ("typing", "message")]
        assert order == [("typing", True), ("typing", False), ("message", None)], order
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


@pytest.mark.parametrize("how", ["leave", "disconnect"])
def test_a_typist_who_goes_leaves_no_notice_behind(server, connect, how):
    bob_peer, bob, _ = person(server, connect, "bob")
    alice_peer = connect(server, "websocket")  # closes cleanly: see conftest's connect
    alice_ack = login(alice_peer, "alice")
    alice = alice_ack["user"]
    carol_peer, carol, _ = person(server, connect, "carol")
    for peer in (bob_peer, alice_peer, carol_peer):
        join(peer, "general")

    ok(alice_peer.call("typing", {"room": "general", "typing": True}))
    assert bob_peer.next("typing") == {"room": "general", "user": alice, "typing": True}
    if how == "leave":
        ok(alice_peer.call("leave", {"room": "general"}))
    else:
        alice_peer.close()
    assert bob_peer.next("user_left") == {"room": "general", "user": alice}
    ok(carol_peer.call("typing", {"room": "general", "typing": True}))
    assert bob_peer.next("typing") == {"room": "general", "user": carol, "typing": True}

    # Her notice went with her: back in the room, her message clears nothing.
    again = alice_peer if how == "leave" else connect(server)
    if how == "disconnect":
        same_user(again, alice_ack["token"])
    join(again, "general")
    bob_peer.next("user_joined", about("alice"))
    post(again, "general", "back")
    bob_peer.next("message", text_is("back"))
    assert [p for p in bob_peer.received("typing") if p["user"] == alice] == \
        [{"room": "general", "user": alice, "typing": True}]
    ok(carol_peer.call("typing", {"room": "general", "typing": False}))
    assert bob_peer.next("typing") == {"room": "general", "user": carol, "typing": False}


# ---- message order ----

POSTERS = 6
POSTS_EACH = 60


@pytest.mark.server_flags("--limit-messages", "off")  # 60 messages from each of six posters at once
def test_every_receiver_gets_a_rooms_messages_in_id_order(server, connect):
    """Several clients post at once; every connection with the room open (a listener, and the
    posters themselves) receives the room's messages in increasing id order, so a client that
    rejoins with since=<the last id it saw> misses nothing."""
    listener, _, _ = person(server, connect, "listener")
    join(listener, "general")
    posters = []
    for index in range(POSTERS):
        peer, _, _ = person(server, connect, "poster%d" % index)
        join(peer, "general")
        posters.append(peer)
    start = threading.Barrier(POSTERS)
    failures = []

    def run(index, peer):
        try:
            start.wait(timeout=10)
            for count in range(POSTS_EACH):
                post(peer, "general", "p%d-%d" % (index, count))
        except Exception as error:  # reported by the main thread
            failures.append("poster %d: %r" % (index, error))

    threads = [threading.Thread(target=run, args=(i, peer)) for i, peer in enumerate(posters)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [] and not any(t.is_alive() for t in threads), failures

    total = POSTERS * POSTS_EACH
    for receiver in [listener] + posters:
        ids = [receiver.next("message")["id"] for _ in range(total)]
        out_of_order = [(a, b) for a, b in zip(ids, ids[1:]) if b <= a]
        assert out_of_order == [], "%s peer: %d of %d ids out of order, first %r" % (
            receiver.transport, len(out_of_order), total, out_of_order[:5])
    page = history(listener, "general", ids[-1] + 1, limit=100)
    assert [m["id"] for m in page["messages"]] == ids[-100:]


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


def test_checks_come_in_the_documented_order(server, connect):
    """Field shapes, then the room name, then access, then whether the room is open, then the
    content: the first failure answers, and a refused request changes nothing."""
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, carol, _ = person(server, connect, "carol")
    dave_peer, dave, _ = person(server, connect, "dave")
    theirs = ok(alice_peer.call("open_private", {"user": "bob"}))["room"]["id"]  # exists
    join(alice_peer, theirs)
    low, high = sorted((bob["id"], dave["id"]))
    unopened = "dm:%d:%d" % (low, high)  # bob and dave: not opened, not carol's either
    low, high = sorted((carol["id"], dave["id"]))
    mine = "dm:%d:%d" % (low, high)  # carol's own, never opened
    cases = [
        # the shape of every field comes first
        ("message", {"room": "nope", "text": 5}, "bad_request"),
        ("message", {"room": theirs, "text": 5}, "bad_request"),
        ("message", {"room": "a b", "text": None}, "bad_request"),
        ("typing", {"room": "nope", "typing": "yes"}, "bad_request"),
        ("typing", {"room": theirs, "typing": None}, "bad_request"),
        ("join", {"room": theirs, "since": "x"}, "bad_request"),
        ("join", {"room": unopened, "since": -1}, "bad_request"),
        ("join", {"room": "dm:2:1", "since": 1.5}, "bad_request"),
        ("join", {"room": "a b", "since": "x"}, "bad_request"),
        ("history", {"room": "a b", "before": "x"}, "bad_request"),
        ("history", {"room": theirs, "before": 5, "limit": 0}, "bad_request"),
        ("history", {"room": "nope", "before": 5, "limit": 101}, "bad_request"),
        ("history", {"room": 5, "before": -1}, "bad_request"),
        ("leave", {"room": None}, "bad_request"),
        ("open_private", {"user": None}, "bad_request"),
        ("rename", {"name": None}, "bad_request"),
        # then the room name
        ("join", {"room": "a b"}, "bad_room_name"),
        ("join", {"room": "a b", "since": None}, "bad_room_name"),
        ("history", {"room": "a b", "before": 5}, "bad_room_name"),
        ("history", {"room": "a b", "before": 5, "limit": None}, "bad_room_name"),
        # then access
        ("join", {"room": theirs}, "forbidden"),
        ("join", {"room": theirs, "since": None}, "forbidden"),
        ("history", {"room": theirs, "before": 5}, "forbidden"),
        ("message", {"room": theirs, "text": ""}, "forbidden"),
        ("message", {"room": theirs, "text": "x" * 2001}, "forbidden"),
        ("message", {"room": unopened, "text": "hi"}, "forbidden"),
        ("typing", {"room": theirs, "typing": True}, "forbidden"),
        ("typing", {"room": unopened, "typing": False}, "forbidden"),
        # then whether the room is open here
        ("message", {"room": "nope", "text": ""}, "not_joined"),
        ("message", {"room": "general", "text": "x" * 2001}, "not_joined"),
        ("message", {"room": mine, "text": " "}, "not_joined"),
        ("typing", {"room": "nope", "typing": True}, "not_joined"),
        ("typing", {"room": mine, "typing": True}, "not_joined"),
        ("leave", {"room": theirs}, "not_joined"),
        ("leave", {"room": "a b"}, "not_joined"),
        ("leave", {"room": "dm:2:1"}, "not_joined"),
    ]
    mismatches = []
    for event, data, code in cases:
        ack = carol_peer.call(event, data)
        if not (isinstance(ack, dict) and ack.get("ok") is False and ack.get("error") == code):
            mismatches.append("%s %r -> %r (expected %s)" % (event, data, ack, code))
    assert mismatches == [], "\n".join(mismatches)

    # then the content, once the room is open
    join(carol_peer, "general")
    refused(carol_peer.call("message", {"room": "general", "text": " \n"}), "empty_message")
    refused(carol_peer.call("message", {"room": "general", "text": "x" * 2001}), "message_too_long")
    # nothing changed: no room, no conversation, no message, no event
    assert ok(carol_peer.call("rooms", {})) == {"ok": True, "rooms": [public("general")], "conversations": []}
    post(alice_peer, theirs, "marker")
    for peer in (alice_peer, bob_peer):
        peer.next("message", text_is("marker"))
        assert peer.received("message") == [peer.received("message", text_is("marker"))[0]]
        assert peer.received("typing") == []
    assert [room["id"] for room in bob_peer.received("room_created")] == [theirs]  # alice opened it
    for peer in (alice_peer, carol_peer, dave_peer):
        assert peer.received("room_created") == []
    assert history(alice_peer, theirs, 10**12)["messages"][0]["text"] == "marker"


def test_private_ids_of_others_tell_nothing(server, connect):
    """A stranger gets forbidden for every well-formed dm id of others, existing or not; a
    malformed dm id is not_found for anyone; a member's conversation that was never opened is
    not_found."""
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    carol_peer, carol, _ = person(server, connect, "carol")
    dave_peer, dave, _ = person(server, connect, "dave")
    existing = ok(alice_peer.call("open_private", {"user": "bob"}))["room"]["id"]
    join(alice_peer, existing)
    post(alice_peer, existing, "private")

    def dm(a, b):
        return "dm:%d:%d" % (min(a["id"], b["id"]), max(a["id"], b["id"]))

    low, high = min(alice["id"], bob["id"]), max(alice["id"], bob["id"])
    assert existing == dm(alice, bob)
    others = [existing, dm(bob, dave), dm(alice, dave), "dm:%d:%d" % (high, high + 1000)]
    malformed = ["dm:%d:%d" % (high, low), "dm:0%d:%d" % (low, high), "dm:%d:0%d" % (low, high),
                 "dm:%d" % low, "dm:a:b", "dm:", "dm:%d:%d:" % (low, high), "dm:+%d:%d" % (low, high),
                 "dm:%d:%d" % (low, low), "dm: %d:%d" % (low, high), "dm:%d:%d " % (low, high),
                 "dm:0:%d" % low, "dm:\u0661:\u0662"]
    mismatches = []

    def expect(peer, event, data, code):
        ack = peer.call(event, data)
        if not (isinstance(ack, dict) and ack.get("ok") is False and ack.get("error") == code):
            mismatches.append("%s %r -> %r (expected %s)" % (event, data, ack, code))

    for room in others:
        expect(carol_peer, "join", {"room": room}, "forbidden")
        expect(carol_peer, "join", {"room": room, "since": 0}, "forbidden")
        expect(carol_peer, "history", {"room": room, "before": 10**12}, "forbidden")
        expect(carol_peer, "message", {"room": room, "text": "let me in"}, "forbidden")
        expect(carol_peer, "typing", {"room": room, "typing": True}, "forbidden")
        expect(carol_peer, "leave", {"room": room}, "not_joined")
    for peer in (carol_peer, alice_peer):  # a stranger, and a member (for the ids of her room)
        for room in malformed:
            expect(peer, "join", {"room": room}, "not_found")
            expect(peer, "history", {"room": room, "before": 10**12}, "not_found")
    for room in (dm(carol, dave), dm(carol, alice), "dm:%d:%d" % (carol["id"], carol["id"] + 1000)):
        expect(carol_peer, "join", {"room": room}, "not_found")  # hers, never opened
        expect(carol_peer, "history", {"room": room, "before": 10**12}, "not_found")
        expect(carol_peer, "message", {"room": room, "text": "hi"}, "not_joined")
        expect(carol_peer, "typing", {"room": room, "typing": True}, "not_joined")
    assert mismatches == [], "\n".join(mismatches)
    for peer in (carol_peer, dave_peer):
        assert ok(peer.call("rooms", {}))["conversations"] == []
        assert peer.received("room_created") == []
    assert join(bob_peer, existing)["messages"][0]["text"] == "private"


def test_private_ids_with_numbers_longer_than_any_id(server, connect):
    """`dm:LOW:HIGH` has no length limit: a number no user id reaches is still a well-formed id of
    others for a stranger (forbidden), and a conversation that does not exist for its member."""
    alice_peer, alice, _ = person(server, connect, "alice")
    carol_peer, _, _ = person(server, connect, "carol")
    mismatches = []

    def expect(peer, event, data, code):
        ack = peer.call(event, data)
        if not (isinstance(ack, dict) and ack.get("ok") is False and ack.get("error") == code):
            shown = repr(data) if len(repr(data)) < 100 else repr(data)[:60] + "...(%d characters)" % len(repr(data))
            mismatches.append("%s %s -> %r (expected %s)" % (event, shown, ack, code))

    for digits in ("1234567890123456789", "9223372036854775808", "9" * 30, "9" * 5000):
        room = "dm:%d:%s" % (alice["id"], digits)
        expect(carol_peer, "join", {"room": room}, "forbidden")
        expect(carol_peer, "history", {"room": room, "before": 5}, "forbidden")
        expect(carol_peer, "message", {"room": room, "text": "hi"}, "forbidden")
        expect(carol_peer, "typing", {"room": room, "typing": True}, "forbidden")
        expect(alice_peer, "join", {"room": room}, "not_found")
        expect(alice_peer, "history", {"room": room, "before": 5}, "not_found")
        expect(alice_peer, "message", {"room": room, "text": "hi"}, "not_joined")
        expect(alice_peer, "join", {"room": "dm:%s:%d" % (digits, alice["id"])}, "not_found")  # LOW > HIGH
    assert mismatches == [], "\n".join(mismatches)


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


# ---- rate limits ----
# Each test sets a tiny limit whose refill (one token a day) cannot come during the test, so what
# is refused does not depend on how fast the test runs.

SLOW = "86400"  # seconds per token after the burst


def limited(ack):
    """A rate_limited refusal; its retry_after is whole seconds within one refill."""
    refused(ack, "rate_limited")
    assert isinstance(ack.get("retry_after"), int) and not isinstance(ack["retry_after"], bool), ack
    assert 1 <= ack["retry_after"] <= int(SLOW), ack
    return ack


@pytest.mark.server_flags("--limit-messages", "3," + SLOW)
def test_messages_over_the_limit_are_refused_and_not_stored(server, connect):
    alice_peer, alice, token = person(server, connect, "alice")
    bob_peer, bob, _ = person(server, connect, "bob")
    join(alice_peer, "general")
    join(bob_peer, "general")
    sent = [post(alice_peer, "general", "burst %d" % i) for i in range(3)]
    limited(alice_peer.call("message", {"room": "general", "text": "one too many"}))
    alice_peer.emit("message", {"room": "general", "text": "without an ack"})
    # The checks before it still answer first (docs/protocol.md: the limit comes last).
    refused(alice_peer.call("message", {"room": "general", "text": "  "}), "empty_message")
    refused(alice_peer.call("message", {"room": "lobby", "text": "hi"}), "not_joined")
    # The limit is the user's, on every connection of theirs, and nobody else's.
    alice_again = connect(server)
    same_user(alice_again, token)
    join(alice_again, "general")
    limited(alice_again.call("message", {"room": "general", "text": "from another tab"}))
    from_bob = post(bob_peer, "general", "bob is not limited")

    # Bob received the burst, then his own message: nothing refused came in between.
    assert [bob_peer.next("message") for _ in range(4)] == sent + [from_bob]
    page = history(bob_peer, "general", from_bob["id"] + 1)
    assert page["messages"] == sent + [from_bob]
    assert [m["author"] for m in page["messages"]] == [alice] * 3 + [bob]


@pytest.mark.server_flags("--limit-signups", "2," + SLOW)
def test_one_connection_registers_only_a_few_users(server, connect):
    peer = connect(server)
    first = login(peer, "first")
    login(peer, "second")
    ack = limited(peer.call("login", {"name": "third"}))
    assert "connection" in ack["message"], ack
    # Checked before the limit: a bad or taken name says so.
    refused(peer.call("login", {"name": "bad\nname"}), "bad_name")
    refused(peer.call("login", {"name": "FIRST"}), "name_taken")
    # Logging in with a token registers nobody: not limited.
    assert same_user(peer, first["token"]) == first["user"]
    # Another connection may register, and "third" was never stored.
    assert login(connect(server), "third")["user"]["name"] == "third"


@pytest.mark.server_flags("--limit-signups-per-ip", "2," + SLOW)
def test_one_address_registers_only_a_few_users(server, connect):
    first = login(connect(server), "first")
    login(connect(server), "second")
    late = connect(server)
    ack = limited(late.call("login", {"name": "third"}))
    assert "network" in ack["message"], ack
    refused(late.call("rooms", {}), "not_logged_in")
    assert same_user(late, first["token"]) == first["user"]
    limited(connect(server).call("login", {"name": "fourth"}))
    # "third" was never stored: its name is free.
    assert ok(late.call("open_private", {"user": "second"}))["room"]["kind"] == "private"
    refused(late.call("open_private", {"user": "third"}), "not_found")


@pytest.mark.server_flags("--limit-rooms", "2," + SLOW)
def test_room_creation_over_the_limit_creates_nothing(server, connect):
    alice_peer, _, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    join(alice_peer, "one")
    join(alice_peer, "TWO")
    limited(alice_peer.call("join", {"room": "three"}))
    # Checked before the limit: a bad name says so.
    refused(alice_peer.call("join", {"room": "no spaces"}), "bad_room_name")
    # Rooms that exist open as before, whoever made them.
    join(alice_peer, "general")
    join(alice_peer, "two")
    join(bob_peer, "bobs")
    join(alice_peer, "bobs")

    # Bob heard of alice's two rooms, then of his own: never of "three".
    created = [bob_peer.next("room_created")["id"] for _ in range(3)]
    assert created == ["one", "two", "bobs"]
    listed = ok(bob_peer.call("rooms", {}))["rooms"]
    assert [room["id"] for room in listed] == ["general", "bobs", "one", "two"]
    refused(bob_peer.call("history", {"room": "three", "before": 1}), "not_found")


@pytest.mark.server_flags("--limit-renames", "2," + SLOW)
def test_renames_over_the_limit_change_nothing(server, connect):
    alice_peer, alice, token = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    ok(alice_peer.call("rename", {"name": "alicia"}))
    ok(alice_peer.call("rename", {"name": "ally"}))
    limited(alice_peer.call("rename", {"name": "al"}))
    # Checked before the limit: a bad or taken name says so; the same name is no change.
    refused(alice_peer.call("rename", {"name": "BOB"}), "name_taken")
    refused(alice_peer.call("rename", {"name": ""}), "bad_name")
    assert ok(alice_peer.call("rename", {"name": "ally"}))["user"] == {"id": alice["id"], "name": "ally"}
    ok(bob_peer.call("rename", {"name": "robert"}))  # bob's own limit

    renames = [bob_peer.next("user_renamed")["user"]["name"] for _ in range(3)]
    assert renames == ["alicia", "ally", "robert"]
    assert same_user(connect(server), token)["name"] == "ally"
    assert login(connect(server), "al")["user"]["name"] == "al"  # never taken by alice


@pytest.mark.server_flags("--limit-typing", "2," + SLOW)
def test_typing_over_the_limit_is_dropped(server, connect):
    alice_peer, alice, _ = person(server, connect, "alice")
    bob_peer, _, _ = person(server, connect, "bob")
    join(alice_peer, "general")
    join(bob_peer, "general")
    ok(alice_peer.call("typing", {"room": "general", "typing": True}))
    ok(alice_peer.call("typing", {"room": "general", "typing": True}))
    limited(alice_peer.call("typing", {"room": "general", "typing": True}))
    alice_peer.emit("typing", {"room": "general", "typing": True})  # no ack: dropped silently
    # "stopped" is never limited: it goes out only after a counted "typing".
    ok(alice_peer.call("typing", {"room": "general", "typing": False}))
    user = {"id": alice["id"], "name": "alice"}
    notices = [bob_peer.next("typing") for _ in range(3)]
    assert notices == [{"room": "general", "user": user, "typing": typing} for typing in (True, True, False)]
    post(alice_peer, "general", "the next event")
    bob_peer.next("message", text_is("the next event"))
    assert len(bob_peer.received("typing")) == 3


@pytest.mark.server_flags("--no-limits", "--limit-messages", "1," + SLOW)
def test_a_limits_own_flag_wins_over_no_limits(server, connect):
    peer = connect(server)
    for name in ["a", "b", "c", "d"]:  # past the default of 3 new users per connection
        login(peer, name)
    join(peer, "general")
    for room in ["r1", "r2", "r3", "r4", "r5", "r6"]:  # past the default of 5 new rooms
        join(peer, room)
    post(peer, "r6", "the one message")
    limited(peer.call("message", {"room": "r6", "text": "a second"}))


@pytest.mark.parametrize("flags", [["--limit-messages", "20"], ["--limit-messages", "0,1"],
                                   ["--limit-messages", "2.5,1"], ["--limit-messages", "2,0"],
                                   ["--limit-messages", "2,-1"], ["--limit-messages", "2,1e3"],
                                   ["--limit-rooms", "on"], ["--limit-everything", "2,1"]],
                         ids=["no-seconds", "zero-burst", "fraction", "zero-seconds", "negative",
                              "exponent", "word", "unknown"])
def test_bad_limit_flags_are_refused_at_start(kind, db, tmp_path, launch, flags):
    launch.require(kind)
    run = subprocess.run(launch.command(kind, db, flags), cwd=str(tmp_path), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=EXIT_TIMEOUT)
    output = run.stdout.decode("utf-8", "replace")
    assert run.returncode == 2, output
    assert flags[0] in output and "http://" not in output, output
    if flags[0] != "--limit-everything":  # a known flag says what it takes
        assert "BURST,SECONDS" in output, output


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
