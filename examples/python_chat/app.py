"""The chat app of docs/protocol.md, hosted from Python with Flask-SocketIO's API.

    .venv/bin/python examples/python_chat/app.py [--host 127.0.0.1] [--port 5000] [--db chat.sqlite3]

It serves the page of examples/chat_page/ and speaks docs/protocol.md on Socket.IO. Users, rooms
and messages live in a SQLite file (chat.store) that the C++ server, examples/chat_server, reads
and writes the same way, so either server can take over the other's file. Written as a
Flask-SocketIO app: only the import names chat instead of flask_socketio.

Socket.IO rooms: "room:<id>" holds the connections that have a chat room open, "user:<id>" the
connections of one user, and "users" every logged-in connection.
"""
import argparse
import hashlib
import logging
import os
import re
import secrets
import signal
import sys
import threading
import time

from flask import Flask, send_from_directory

from chat import SocketIO, emit, join_room, leave_room, request
from chat.store import SqliteStore, StoreError

PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "chat_page")

NAME_MAX = 32          # characters of a user name, after trimming
TEXT_MAX = 2000        # code points of a message, after trimming
HISTORY_DEFAULT = 50   # messages of a join without `since`, and of a history page without `limit`
HISTORY_MAX = 100      # the largest history page, and the most messages a join with `since` returns
ID_MAX = 2**63 - 1     # message ids are SQLite integers

ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
PRIVATE_ROOM = re.compile(r"dm:([0-9]+):([0-9]+)\Z")
SPACES = " \t\n\r\f\v"

ERRORS = {
    "bad_request": "The server did not understand that request.",
    "not_logged_in": "Log in first.",
    "bad_name": "A name is 1 to 32 characters, without control characters.",
    "name_taken": "Someone already has that name.",
    "bad_room_name": "A room name is 1 to 32 letters, digits, '-' or '_'.",
    "not_found": "There is no such room or user.",
    "forbidden": "That conversation is private.",
    "not_joined": "Open the room first.",
    "empty_message": "The message is empty.",
    "message_too_long": "A message is at most 2,000 characters.",
    "unavailable": "The server cannot store anything right now. Try again later.",
}

logger = logging.getLogger("python_chat")

app = Flask(__name__)
socketio = SocketIO(app)
store = None  # the SqliteStore, opened by main()


class Refused(Exception):
    """A request the protocol answers with an error code."""

    def __init__(self, code, message=None):
        super().__init__(code)
        self.code = code
        self.message = message or ERRORS[code]

    def ack(self):
        return {"ok": False, "error": self.code, "message": self.message}


class Connection:
    """What one Socket.IO connection is: its user, and the chat rooms it has open."""

    def __init__(self, user):
        self.user_id = user.id
        self.rooms = set()


class State:
    """Connections and presence, shared by the handlers (which run on several threads).

    Every field is guarded by `lock`; emits and room changes made while holding it reach the
    io thread in that order, so presence and its user_joined / user_left events agree.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.connections = {}  # sid -> Connection, once logged in
        self.users = {}        # user id -> the User as stored (its current name)
        self.presence = {}     # room id -> {user id: connections with the room open}
        self.typing = set()    # (room id, user id) whose typing notice is on


state = State()


# ---- the page ----

@app.route("/")
def index():
    return send_from_directory(PAGE_DIR, "index.html")


@app.route("/<path:name>")
def page_file(name):
    return send_from_directory(PAGE_DIR, name)


# ---- JSON shapes of docs/protocol.md ----

def user_json(user):
    return {"id": user.id, "name": user.name}


def room_json(room, viewer_id):
    """A Room as `viewer_id` sees it: a private room is named after its other member."""
    if room.kind != "private":
        return {"id": room.id, "name": room.name, "kind": "public"}
    other = next((m for m in room.members if m.id != viewer_id), room.members[0])
    return {"id": room.id, "name": other.name, "kind": "private",
            "members": [user_json(m) for m in room.members]}


def message_json(message):
    return {"id": message.id, "room": message.room, "author": user_json(message.author),
            "text": message.text, "time": message.time}


def room_lists(user_id):
    rooms = sorted(store.public_rooms(), key=lambda room: (room.id != "general", room.id))
    return {"rooms": [room_json(room, user_id) for room in rooms],
            "conversations": [room_json(room, user_id) for room in store.private_rooms_of(user_id)]}


# ---- argument checks ----

def field(data, key, kind, required=True):
    """data[key] if it has type `kind` (an absent or null optional field is None). Integers are
    ids and counts: never negative."""
    value = data.get(key)
    if value is None and not required:
        return None
    if kind is int:
        valid = isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= ID_MAX
    else:
        valid = isinstance(value, kind)
    if not valid:
        what = {str: "a string", int: "a non-negative integer", bool: "true or false"}[kind]
        raise Refused("bad_request", "'%s' must be %s." % (key, what))
    return value


def clean_name(name):
    name = name.strip(SPACES)
    if not 1 <= len(name) <= NAME_MAX or any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in name):
        raise Refused("bad_name")
    return name


def room_key(room):
    """The id a client names a room by: a public room's in lower case."""
    return room.lower() if ROOM_NAME.match(room) else room


def is_private(room_id):
    return room_id.startswith("dm:")


def private_members(room_id):
    """The two user ids of a private room's id ("dm:LOW:HIGH"), or None for a public one."""
    match = PRIVATE_ROOM.match(room_id)
    return (int(match.group(1)), int(match.group(2))) if match else None


def find_room(room_id, user_id, create=False):
    """The stored room `room_id` that `user_id` may use; with `create`, a public room is made
    (and announced) when missing."""
    if is_private(room_id):
        room = store.find_room(room_id)
        if room is None:
            raise Refused("not_found")
        if user_id not in (member.id for member in room.members):
            raise Refused("forbidden")
        return room
    if not ROOM_NAME.match(room_id):
        raise Refused("bad_room_name")
    room_id = room_id.lower()
    if not create:
        room = store.find_room(room_id)
        if room is None:
            raise Refused("not_found")
        return room
    room, created = store.open_public_room(room_id)
    if created:
        emit("room_created", room_json(room, None), to="users")
    return room


def connected(sid):
    """This connection's state (the caller holds state.lock)."""
    connection = state.connections.get(sid)
    if connection is None:  # logged out by a disconnect that overtook this event
        raise Refused("not_logged_in")
    return connection


def check_open(room_id, user_id):
    """Refuses unless `room_id` is open on this connection: forbidden for a private room of
    others (or none), not_joined otherwise."""
    with state.lock:
        connection = state.connections.get(request.sid)
        if connection is not None and room_id in connection.rooms:
            return
    if is_private(room_id) and not store.is_member(room_id, user_id):
        raise Refused("forbidden")
    raise Refused("not_joined")


def close_room(sid, connection, room_id):
    """Takes `room_id` off a connection (the caller holds state.lock); the user's last
    connection to leave it announces user_left."""
    connection.rooms.discard(room_id)
    leave_room("room:" + room_id, sid=sid)
    counts = state.presence.get(room_id, {})
    user_id = connection.user_id
    counts[user_id] = counts.get(user_id, 1) - 1
    if counts[user_id] <= 0:
        del counts[user_id]
        state.typing.discard((room_id, user_id))
        user = state.users[user_id]
        emit("user_left", {"room": room_id, "user": user_json(user)}, to="room:" + room_id)
    if not counts:
        state.presence.pop(room_id, None)


def typing_recipients(room_id, user_id):
    """emit() arguments that reach the others of a room: a private room's other member, or
    the other connections that have a public room open."""
    members = private_members(room_id)
    if members is not None:
        other = members[1] if members[0] == user_id else members[0]
        return {"to": "user:%d" % other}
    return {"to": "room:" + room_id, "skip_sid": request.sid}


# ---- events ----

def command(event, needs_login=True):
    """Registers `handler(data, user)` for `event`: checks the argument is one object and the
    connection is logged in, and turns what the handler returns or refuses into the ack."""

    def decorator(handler):
        def run(*args):
            try:
                if not args or not isinstance(args[0], dict):  # arguments after it are ignored
                    raise Refused("bad_request", "'%s' takes one object." % event)
                user = None
                if needs_login:
                    with state.lock:
                        connection = state.connections.get(request.sid)
                        user = state.users[connection.user_id] if connection else None
                    if user is None:
                        raise Refused("not_logged_in")
                return dict({"ok": True}, **handler(args[0], user))
            except Refused as refusal:
                return refusal.ack()
            except StoreError as error:
                logger.error("store: %s (%s)", error, error.code)
                return Refused("unavailable").ack()
            except Exception:  # a bug: logged, and the client still gets its answer
                logger.exception("%s failed", event)
                return Refused("unavailable", "The server failed to do that.").ack()

        run.__name__ = handler.__name__
        socketio.on(event)(run)
        return handler

    return decorator


@command("login", needs_login=False)
def login(data, _user):
    token = field(data, "token", str, required=False)
    user = store.find_user_by_secret(secret_hash(token)) if token else None
    if user is None:  # a new user; with a known token, `name` is ignored
        name = clean_name(field(data, "name", str))
        token = secrets.token_urlsafe(24)
        try:
            user = store.create_user(name, secret_hash(token))
        except StoreError as error:
            if error.code == "name_taken":
                raise Refused("name_taken") from None
            raise
    sid = request.sid
    with state.lock:
        previous = state.connections.pop(sid, None)
        if previous is not None:  # logging in again: leave the first user's rooms
            for room_id in sorted(previous.rooms):
                close_room(sid, previous, room_id)
            leave_room("user:%d" % previous.user_id)
        state.users[user.id] = user
        state.connections[sid] = Connection(user)
        join_room("user:%d" % user.id)
        join_room("users")
    return dict({"user": user_json(user), "token": token}, **room_lists(user.id))


def secret_hash(token):
    """What the store keeps of a token (the C++ server hashes the same way)."""
    return hashlib.sha1(token.encode()).hexdigest()


@command("rename")
def rename(data, user):
    name = clean_name(field(data, "name", str))
    if name == user.name:
        return {"user": user_json(user)}
    try:
        renamed = store.rename_user(user.id, name)
    except StoreError as error:
        if error.code == "name_taken":
            raise Refused("name_taken") from None
        raise
    with state.lock:
        state.users[renamed.id] = renamed
        emit("user_renamed", {"user": user_json(renamed), "old_name": user.name}, to="users")
    return {"user": user_json(renamed)}


@command("join")
def join(data, user):
    room = find_room(room_key(field(data, "room", str)), user.id, create=True)
    since = field(data, "since", int, required=False)
    if since is None:
        page = store.latest(room.id, HISTORY_DEFAULT)
    else:
        page = store.after(room.id, since, HISTORY_MAX)
    sid = request.sid
    with state.lock:
        connection = connected(sid)
        counts = state.presence.setdefault(room.id, {})
        if room.id not in connection.rooms:
            connection.rooms.add(room.id)
            if counts.get(user.id, 0) == 0:
                emit("user_joined", {"room": room.id, "user": user_json(user)}, to="room:" + room.id)
            counts[user.id] = counts.get(user.id, 0) + 1
            join_room("room:" + room.id)
        online = sorted((state.users[user_id] for user_id in counts), key=lambda u: (u.name.lower(), u.id))
    return {"room": room_json(room, user.id), "messages": [message_json(m) for m in page.messages],
            "has_more": page.has_more, "online": [user_json(u) for u in online]}


@command("leave")
def leave(data, user):
    room_id = room_key(field(data, "room", str))
    sid = request.sid
    with state.lock:
        connection = connected(sid)
        if room_id not in connection.rooms:
            raise Refused("not_joined")
        close_room(sid, connection, room_id)
    return {}


@command("history")
def history(data, user):
    room = find_room(room_key(field(data, "room", str)), user.id)
    before = field(data, "before", int)
    limit = field(data, "limit", int, required=False)
    limit = HISTORY_DEFAULT if limit is None else limit
    if not 1 <= limit <= HISTORY_MAX:
        raise Refused("bad_request", "'limit' must be 1 to %d." % HISTORY_MAX)
    page = store.before(room.id, before, limit)
    return {"messages": [message_json(m) for m in page.messages], "has_more": page.has_more}


@command("message")
def message(data, user):
    room_id = room_key(field(data, "room", str))
    text = field(data, "text", str)
    check_open(room_id, user.id)
    text = text.strip(SPACES)
    if not text:
        raise Refused("empty_message")
    if len(text) > TEXT_MAX:
        raise Refused("message_too_long")
    stored = store.append(room_id, user, text, int(time.time() * 1000))
    payload = message_json(stored)
    members = private_members(room_id)
    if members is None:
        emit("message", payload, to="room:" + room_id)
    else:  # both members' connections, open or not
        emit("message", payload, to=["user:%d" % member for member in members])
    with state.lock:
        was_typing = (room_id, user.id) in state.typing
        state.typing.discard((room_id, user.id))
    if was_typing:
        emit("typing", {"room": room_id, "user": user_json(user), "typing": False},
             **typing_recipients(room_id, user.id))
    return {"message": payload}


@command("typing")
def typing(data, user):
    room_id = room_key(field(data, "room", str))
    is_typing = field(data, "typing", bool)
    check_open(room_id, user.id)
    with state.lock:
        was_typing = (room_id, user.id) in state.typing
        if is_typing:
            state.typing.add((room_id, user.id))
        else:
            state.typing.discard((room_id, user.id))
    if is_typing or was_typing:  # a renewal goes out again; a repeated "stopped" does not
        emit("typing", {"room": room_id, "user": user_json(user), "typing": is_typing},
             **typing_recipients(room_id, user.id))
    return {}


@command("open_private")
def open_private(data, user):
    other = store.find_user_by_name(field(data, "user", str).strip(SPACES))
    if other is None:
        raise Refused("not_found", "There is no user by that name.")
    if other.id == user.id:
        raise Refused("bad_request", "A conversation needs someone else.")
    room, created = store.open_private_room(user.id, other.id)
    if created:
        emit("room_created", room_json(room, other.id), to="user:%d" % other.id)
    return {"room": room_json(room, user.id)}


@command("rooms")
def rooms(data, user):
    return room_lists(user.id)


@socketio.on("*")
def unknown_event(event, *args):
    return Refused("bad_request", "There is no event '%s'." % event).ack()


@socketio.on("disconnect")
def disconnected(*_reason):
    sid = request.sid
    with state.lock:
        connection = state.connections.pop(sid, None)
        if connection is not None:
            for room_id in sorted(connection.rooms):
                close_room(sid, connection, room_id)


# ---- running ----

def main(argv=None):
    parser = argparse.ArgumentParser(description="The chat app of docs/protocol.md, hosted from Python.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument("--db", default="chat.sqlite3",
                        help="the SQLite file of users, rooms and messages (default chat.sqlite3)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    global store
    try:
        store = SqliteStore(args.db)
        store.open_public_room("general")
    except StoreError as error:
        print("chat: cannot use %s: %s" % (args.db, error), file=sys.stderr)
        return 1
    # SIGTERM stops the server as Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    socketio.run(app, host=args.host, port=args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
