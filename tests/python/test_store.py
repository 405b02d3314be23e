"""chat.store: the C++ SQLite message store from Python, on real files."""
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading

import pytest

from chat.store import Message, MessagePage, Room, SqliteStore, StoreError, User


def error_code(call, *args):
    with pytest.raises(StoreError) as raised:
        call(*args)
    return raised.value.code


@pytest.fixture
def store(tmp_path):
    return SqliteStore(tmp_path / "chat.sqlite3")


def test_fresh_file_gets_the_schema_and_keeps_everything_after_reopening(tmp_path):
    path = tmp_path / "chat.sqlite3"
    first = SqliteStore(path)
    assert first.path == str(path)
    alice = first.create_user("alice", "secret")
    first.open_public_room("general")
    first.append("general", alice, "before the restart", 1234)
    del first

    with sqlite3.connect(str(path)) as raw:  # the format is plain SQLite: other programs can read it
        assert raw.execute("PRAGMA user_version").fetchone()[0] == SqliteStore.schema_version == 1
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert {"users", "rooms", "room_members", "messages"} <= tables

    again = SqliteStore(str(path))
    assert again.find_user_by_secret("secret") == alice
    page = again.latest("general", 50)
    assert isinstance(page, MessagePage) and page.has_more is False
    [message] = page.messages
    assert isinstance(message, Message)
    assert (message.text, message.author.name, message.time, message.room) == ("before the restart", "alice", 1234, "general")


def test_users_names_are_unique_without_regard_to_case(store):
    alice = store.create_user("Alice", "s1")
    assert isinstance(alice, User) and alice.name == "Alice"
    assert store.find_user_by_name("aLIce") == alice
    assert store.find_user(alice.id) == alice
    assert store.find_user(alice.id + 100) is None
    assert store.find_user_by_secret("wrong") is None
    assert error_code(store.create_user, "ALICE", "s2") == "name_taken"
    assert error_code(store.create_user, "", "s3") == "invalid_argument"
    bob = store.create_user("bob", "s4")
    assert error_code(store.rename_user, bob.id, "alice") == "name_taken"
    assert error_code(store.rename_user, 999, "zed") == "not_found"
    assert store.rename_user(bob.id, "Bobby") == User(bob.id, "Bobby")
    assert store.find_user_by_name("bob") is None


def test_rooms_public_and_private(store):
    alice, bob, carol = (store.create_user(n, "secret-" + n) for n in ("alice", "bob", "carol"))
    room, created = store.open_public_room("general")
    assert isinstance(room, Room) and created and room.kind == "public" and room.name == "general"
    assert store.open_public_room("general")[1] is False
    store.open_public_room("books")
    assert [r.id for r in store.public_rooms()] == ["books", "general"]

    dm, created = store.open_private_room(bob.id, alice.id)
    assert created and dm.kind == "private" and dm.name == ""
    assert dm.id == "dm:%d:%d" % (alice.id, bob.id)
    assert [m.name for m in dm.members] == ["alice", "bob"]
    assert store.open_private_room(alice.id, bob.id)[1] is False
    assert error_code(store.open_private_room, alice.id, alice.id) == "invalid_argument"
    assert error_code(store.open_private_room, alice.id, 999) == "not_found"

    assert store.is_member("general", carol.id)
    assert store.is_member(dm.id, alice.id) and store.is_member(dm.id, bob.id)
    assert not store.is_member(dm.id, carol.id)
    assert not store.is_member("nowhere", alice.id)
    assert [r.id for r in store.private_rooms_of(alice.id)] == [dm.id]
    assert store.private_rooms_of(carol.id) == []
    assert store.find_room(dm.id).members[1].name == "bob"
    assert store.find_room("nowhere") is None


def test_history_paging_ordering_and_private_isolation(store):
    alice, bob, carol = (store.create_user(n, "secret-" + n) for n in ("alice", "bob", "carol"))
    store.open_public_room("general")
    ab = store.open_private_room(alice.id, bob.id)[0].id
    ac = store.open_private_room(alice.id, carol.id)[0].id
    ids = []
    for i in range(1, 131):
        ids.append(store.append("general", alice if i % 2 else bob, "m%d" % i, i).id)
        store.append(ab, bob, "secret for alice %d" % i, i)
        store.append(ac, carol, "carol's %d" % i, i)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)

    page = store.latest("general", 50)
    assert [m.text for m in page.messages] == ["m%d" % i for i in range(81, 131)] and page.has_more
    seen = [m.text for m in page.messages]
    while page.has_more:
        page = store.before("general", page.messages[0].id, 50)
        seen = [m.text for m in page.messages] + seen
    assert seen == ["m%d" % i for i in range(1, 131)]

    gap = store.after("general", ids[9], 20)
    assert [m.text for m in gap.messages] == ["m%d" % i for i in range(111, 131)] and gap.has_more
    tail = store.after("general", ids[119], 20)
    assert [m.text for m in tail.messages] == ["m%d" % i for i in range(121, 131)] and not tail.has_more

    assert all(m.text.startswith("secret for alice") and m.room == ab for m in store.latest(ab, 1000).messages)
    assert all(m.text.startswith("carol's") for m in store.latest(ac, 1000).messages)
    assert error_code(store.latest, "general", 0) == "invalid_argument"
    assert error_code(store.append, "nowhere", alice, "x", 1) == "not_found"


def test_calls_from_many_threads_lose_nothing(store):
    store.open_public_room("general")
    users = [store.create_user("user%d" % t, "s%d" % t) for t in range(4)]

    def write(user):
        for i in range(100):
            store.append("general", user, "%s:%d" % (user.name, i), i)

    threads = [threading.Thread(target=write, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    messages = store.latest("general", 1000).messages
    assert len(messages) == 400
    for user in users:
        assert [m.text for m in messages if m.author.id == user.id] == ["%s:%d" % (user.name, i) for i in range(100)]


def test_unusable_files_raise_a_clear_store_error(tmp_path):
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_bytes(b"x" * 4096)
    with pytest.raises(StoreError) as raised:
        SqliteStore(garbage)
    assert raised.value.code == "corrupt"
    assert str(garbage) in str(raised.value) and "not a database" in str(raised.value)

    foreign = tmp_path / "foreign.sqlite3"
    with sqlite3.connect(str(foreign)) as raw:
        raw.execute("CREATE TABLE t (x)")
    assert error_code(SqliteStore, foreign) == "incompatible"

    assert error_code(SqliteStore, tmp_path / "missing" / "chat.sqlite3") == "cannot_open"


def test_a_read_only_file_raises_read_only():
    # Root writes any file, so the check runs as an ordinary user when the tests run as root; that
    # user must reach the file, which pytest's private tmp_path does not allow.
    directory = tempfile.mkdtemp(prefix="chat-store-")
    try:
        path = os.path.join(directory, "read-only.sqlite3")
        SqliteStore(path).open_public_room("general")
        for leftover in ("-wal", "-shm"):
            if os.path.exists(path + leftover):
                os.remove(path + leftover)
        os.chmod(directory, 0o755)
        os.chmod(path, 0o444)
        probe = ("from chat.store import SqliteStore, StoreError\n"
                 "try:\n    SqliteStore(%r)\nexcept StoreError as e:\n    print(e.code, e)\nelse:\n    print('opened')\n"
                 % path)
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
        as_user = {"user": 65534, "group": 65534, "extra_groups": []} if os.geteuid() == 0 else {}
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=60,
                                cwd="/", **as_user)
        assert result.returncode == 0, result.stderr
        code, _, message = result.stdout.strip().partition(" ")
        assert code == "read_only", result.stdout
        assert path in message and "read-only" in message
    finally:
        shutil.rmtree(directory)
