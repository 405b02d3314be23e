"""The chat app as several processes (docs/protocol.md, "Several processes"): two servers started
with --redis on one redis-server and one SQLite file, people on both. Each test runs with two C++
servers and with two Python servers; the first also with one of each, which share the file and
the cluster's format.

To show that an event did NOT reach a client, a later event is sent on the same path and awaited
(the client delivers events in the order the server sent them).
"""
import subprocess

import pytest

from test_chat_protocol import join, ok, person, post, refused, same_user, text_is

EXIT_TIMEOUT = 30.0  # hang guard on a server that must refuse to start


@pytest.fixture(params=[("python", "python"), ("cpp", "cpp"), ("cpp", "python")], ids="-".join)
def two_kinds(request, launch):
    for kind in set(request.param):
        launch.require(kind)
    return request.param


def names(users):
    return [user["name"] for user in users]


def test_rooms_typing_and_who_is_online_span_the_processes(cluster, connect, two_kinds):
    a, b = cluster(two_kinds)
    alice, alice_user, alice_token = person(a, connect, "alice")
    bob, bob_user, _ = person(b, connect, "bob")
    join(alice, "general")
    assert names(join(bob, "general")["online"]) == ["alice", "bob"]
    assert alice.next("user_joined")["user"]["name"] == "bob"

    sent = post(alice, "general", "hello from a")
    assert bob.next("message", text_is("hello from a")) == sent
    ok(bob.call("typing", {"room": "general", "typing": True}))
    assert alice.next("typing") == {"room": "general", "user": bob_user, "typing": True}

    # alice's second connection, on b: not a new arrival; closing the first is not a departure.
    alice_on_b = connect(b)
    same_user(alice_on_b, alice_token)
    assert names(join(alice_on_b, "general")["online"]) == ["alice", "bob"]
    carol, _, _ = person(a, connect, "carol")
    join(carol, "general")
    assert bob.next("user_joined")["user"]["name"] == "carol"  # not alice again before it
    alice.close()
    alice_on_b.close()
    assert bob.next("user_left") == {"room": "general", "user": alice_user}
    dave, _, _ = person(a, connect, "dave")
    assert names(join(dave, "general")["online"]) == ["bob", "carol", "dave"]
    post(dave, "general", "marker")
    bob.next("message", text_is("marker"))
    assert len(bob.received("user_left")) == 1  # from whichever process saw her last connection go


def test_a_private_conversation_stays_between_its_members(cluster, connect, kind):
    a, b = cluster((kind, kind))
    alice, alice_user, _ = person(a, connect, "alice")
    bob, bob_user, _ = person(b, connect, "bob")
    carol, _, _ = person(b, connect, "carol")  # on bob's process
    carol_on_a, _, _ = person(a, connect, "carol2")  # and someone on alice's
    for peer in (alice, bob, carol, carol_on_a):
        join(peer, "general")
    room = ok(alice.call("open_private", {"user": "bob"}))["room"]
    assert bob.next("room_created")["id"] == room["id"]
    join(alice, room["id"])
    sent = post(alice, room["id"], "just for bob")
    assert bob.next("message", text_is("just for bob")) == sent  # bob has not opened it: it reaches him
    join(bob, room["id"])
    ok(bob.call("typing", {"room": room["id"], "typing": True}))
    assert alice.next("typing")["room"] == room["id"]
    refused(carol.call("join", {"room": room["id"]}), "forbidden")
    refused(carol_on_a.call("history", {"room": room["id"], "before": sent["id"] + 1}), "forbidden")

    post(bob, "general", "marker")
    for outsider in (carol, carol_on_a):
        outsider.next("message", text_is("marker"))
        assert [payload for payload in outsider.received("message") if payload["room"] == room["id"]] == []
        assert outsider.received("typing") == []
        assert outsider.received("room_created") == []


def test_a_rename_on_one_process_is_seen_on_the_other(cluster, connect, kind):
    a, b = cluster((kind, kind))
    alice, _, alice_token = person(a, connect, "alice")
    bob, _, _ = person(b, connect, "bob")
    alice_on_b = connect(b)
    same_user(alice_on_b, alice_token)
    join(alice_on_b, "general")
    join(bob, "general")
    ok(alice.call("rename", {"name": "alicia"}))
    assert bob.next("user_renamed")["user"]["name"] == "alicia"
    # b's own record of alice is the store's: her message there carries her new name.
    assert post(alice_on_b, "general", "renamed")["author"]["name"] == "alicia"
    carol, _, _ = person(a, connect, "carol")
    assert names(join(carol, "general")["online"]) == ["alicia", "bob", "carol"]


@pytest.mark.parametrize("how", ["killed", "stopped"])
def test_when_a_process_goes_its_people_leave_and_the_other_goes_on(cluster, connect, kind, how):
    a, b = cluster((kind, kind))
    alice, alice_user, _ = person(a, connect, "alice")
    bob, _, _ = person(b, connect, "bob")
    join(alice, "general")
    join(bob, "general")
    if how == "killed":
        a.kill()  # SIGKILL: nothing of a runs after it
    else:
        assert a.stop() == 0
    # The survivor's next beat after a's last one (5 s of silence, or at once when a stopped).
    assert bob.next("user_left") == {"room": "general", "user": alice_user}
    assert post(bob, "general", "still here")["text"] == "still here"
    carol, _, _ = person(b, connect, "carol")
    assert names(join(carol, "general")["online"]) == ["bob", "carol"]


def test_a_process_whose_redis_does_not_answer_does_not_start(launch, kind, db, redis):
    closed = redis.url
    redis.stop()
    done = subprocess.run(launch.command(kind, db, ("--redis", closed)), capture_output=True, text=True,
                          timeout=EXIT_TIMEOUT)
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "--redis" in done.stderr and "127.0.0.1:%d" % redis.port in done.stderr, done.stderr
