"""The chat app of docs/protocol.md, hosted from Python with Flask-SocketIO's API.

    .venv/bin/python examples/python_chat/app.py [--host 127.0.0.1] [--port 5000] [--db chat.sqlite3]
        [--redis URL] [--limit-messages BURST,SECONDS] [--limit-... ...] [--no-limits]   (--help lists them)

It serves the page of examples/chat_page/ and speaks docs/protocol.md on Socket.IO. Users, rooms
and messages live in a SQLite file (chat.store) that the C++ server, examples/chat_server, reads
and writes the same way, so either server can take over the other's file. Written as a
Flask-SocketIO app: only the import names chat instead of flask_socketio.

Socket.IO rooms: "room:<id>" holds the connections that have a chat room open, "user:<id>" the
connections of one user, and "users" every logged-in connection.

Several processes can serve one app (--redis, Flask-SocketIO's message_queue): what a connection
receives goes through those rooms, which Redis carries to every process; who has a room open is
in the shared SQLite file (presence.py); names are read from the store. What stays in this process
is its own connections, the typing notices they started, and the rate limits' buckets.
"""
import argparse
import hashlib
import logging
import os
import re
import secrets
import signal
import sqlite3
import sys
import threading
import time

from flask import Flask, send_from_directory

from chat import SocketIO, emit, join_room, leave_room, request
from chat.store import SqliteStore, StoreError
from presence import BEAT, Presence
from rate_limits import LIMIT_FLAGS, RateLimits, add_limit_options, limits_from, wait_phrase

PAGE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "chat_page")

NAME_MAX = 32          # characters of a user name, after trimming
TEXT_MAX = 2000        # code points of a message, after trimming
HISTORY_DEFAULT = 50   # messages of a join without `since`, and of a history page without `limit`
HISTORY_MAX = 100      # the largest history page, and the most messages a join with `since` returns
ID_MAX = 2**63 - 1     # message ids are SQLite integers

ROOM_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}\Z")
PRIVATE_ROOM = re.compile(r"dm:([1-9][0-9]*):([1-9][0-9]*)\Z")  # decimal, no sign, no leading zero
SPACES = " \t\n\r\f\v"

# Code points a user name may not hold: controls, and the invisible, spacing, bidi-control,
# private-use and tag characters that would let one name pass for another ("alice" followed by a
# zero-width space, a right-to-left override). This exact list (not unicodedata, whose tables
# change with the Python version) is the one the C++ server refuses, so both hosts agree.
NAME_FORBIDDEN = (
    (0x0000, 0x001F), (0x007F, 0x00A0), (0x00AD, 0x00AD), (0x034F, 0x034F), (0x061C, 0x061C),
    (0x115F, 0x1160), (0x17B4, 0x17B5), (0x180B, 0x180F), (0x2000, 0x200F), (0x2028, 0x202F),
    (0x205F, 0x206F), (0x3000, 0x3000), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0), (0xFFF0, 0xFFFF), (0xE000, 0xF8FF), (0x1D173, 0x1D17A), (0xE0000, 0xE0FFF),
    (0xF0000, 0x10FFFF),
)
NAME_FORBIDDEN_CHARACTER = re.compile(
    "[%s]" % "".join("\\U%08x-\\U%08x" % bounds for bounds in NAME_FORBIDDEN))

ERRORS = {
    "bad_request": "The server did not understand that request.",
    "not_logged_in": "Log in first.",
    "bad_name": "A name is 1 to 32 characters, without control or invisible characters.",
    "name_taken": "Someone already has that name.",
    "bad_room_name": "A room name is 1 to 32 letters, digits, '-' or '_'.",
    "not_found": "There is no such room or user.",
    "forbidden": "That conversation is private.",
    "not_joined": "Open the room first.",
    "empty_message": "The message is empty.",
    "message_too_long": "A message is at most 2,000 characters.",
    "unavailable": "The server cannot store anything right now. Try again later.",
}

# What a rate_limited answer says was too much, by limit (rate_limits.LIMIT_FLAGS).
TOO_MANY = {
    "messages": "Too many messages at once",
    "signups": "Too many new users on this connection",
    "signups_per_ip": "Too many new users from your network",
    "rooms": "Too many new rooms",
    "renames": "Too many name changes",
    "typing": "Too many typing notices",
}

logger = logging.getLogger("python_chat")

app = Flask(__name__)
socketio = SocketIO(app)
store = None     # the SqliteStore, opened by main()
presence = None  # the Presence in the same file, opened by main()
# The defaults, until main() reads the flags.
limits = RateLimits({attribute: default for _, attribute, default, _ in LIMIT_FLAGS})


class Refused(Exception):
    """A request the protocol answers with an error code."""

    def __init__(self, code, message=None, retry_after=0):
        super().__init__(code)
        self.code = code
        self.message = message or ERRORS[code]
        self.retry_after = retry_after

    def ack(self):
        answer = {"ok": False, "error": self.code, "message": self.message}
        if self.retry_after > 0:
            answer["retry_after"] = self.retry_after
        return answer


def rate_limited(limit, seconds):
    return Refused("rate_limited", "%s: try again in %s." % (TOO_MANY[limit], wait_phrase(seconds)),
                   retry_after=seconds)


def spend(limit, key):
    """Takes a token of `key` from the limit named `limit`, or refuses with rate_limited."""
    seconds = getattr(limits, limit).try_take(key)
    if seconds:
        raise rate_limited(limit, seconds)


class Connection:
    """What one Socket.IO connection is: its user, and the chat rooms it has open."""

    def __init__(self, user):
        self.user_id = user.id
        self.rooms = set()


class State:
    """This process's connections, shared by the handlers (which run on several threads; one
    connection's events run one at a time).

    Every field is guarded by `lock`, and so are presence's changes; emits and room changes made
    while holding it reach the io thread in that order, so presence and its user_joined /
    user_left events agree.
    `posting` is held around storing a message and emitting it (and the typing notice it
    clears), so messages go out in the order of their ids: a client that asks for what came
    after the last id it saw must not have missed an earlier one. Taken before `lock`, never
    while holding it.
    """

    def __init__(self):
        self.posting = threading.Lock()
        self.lock = threading.Lock()
        self.connections = {}  # sid -> Connection, once logged in
        self.typing = set()    # (room id, user id) whose typing notice is on
        self.stopping = False  # the process is stopping: its connections' presence stays (see stop_serving)


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
    """A user name to register: trimmed, 1 to 32 code points, none of NAME_FORBIDDEN."""
    name = name.strip(SPACES)
    if not 1 <= len(name) <= NAME_MAX or NAME_FORBIDDEN_CHARACTER.search(name):
        raise Refused("bad_name")
    return name


def room_key(room):
    """The id a client names a room by: a public room's in lower case."""
    return room.lower() if ROOM_NAME.match(room) else room


def is_private(room_id):
    return room_id.startswith("dm:")


def private_members(room_id):
    """The two user ids of a well-formed private room id "dm:LOW:HIGH" (decimal, no sign, no
    leading zero, LOW < HIGH), or None (a public room's id, or a malformed one)."""
    match = PRIVATE_ROOM.match(room_id)
    if match is None:
        return None
    low, high = match.groups()
    if (len(low), low) >= (len(high), high):  # compared as numbers, without converting them
        return None
    # A number longer than any id (which int() may refuse to convert) is no user's.
    return tuple(int(digits) if len(digits) <= len(str(ID_MAX)) else ID_MAX + 1 for digits in (low, high))


def find_room(requested, user_id, create=False):
    """(room, created): the stored room `requested` names, if `user_id` may read it. A private
    room of others is forbidden whether or not it exists, and is not even looked up, so the
    answer tells a stranger nothing about who talks to whom. With `create`, a missing public
    room is made (the caller announces it)."""
    if is_private(requested):
        members = private_members(requested)
        if members is None:
            raise Refused("not_found")
        if user_id not in members:
            raise Refused("forbidden")
        room = store.find_room(requested)
        if room is None:
            raise Refused("not_found")
        return room, False
    if not ROOM_NAME.match(requested):
        raise Refused("bad_room_name")
    room_id = requested.lower()
    if create:
        if store.find_room(room_id) is None:  # only a new room counts, and a refused one is not made
            spend("rooms", user_id)
        return store.open_public_room(room_id)
    room = store.find_room(room_id)
    if room is None:
        raise Refused("not_found")
    return room, False


def connected(sid):
    """This connection's state (the caller holds state.lock)."""
    connection = state.connections.get(sid)
    if connection is None:  # logged out by a disconnect that overtook this event
        raise Refused("not_logged_in")
    return connection


def check_open(room_id, user_id):
    """Refuses unless `room_id` is open on this connection: forbidden for a private room of
    others (told by its id alone, never by the store), not_joined otherwise."""
    members = private_members(room_id)
    if members is not None and user_id not in members:
        raise Refused("forbidden")
    with state.lock:
        if room_id not in connected(request.sid).rooms:
            raise Refused("not_joined")


def close_room(sid, connection, room_id):
    """Takes `room_id` off a connection (the caller holds state.lock); the user's last
    connection to leave it, in any process, announces user_left."""
    connection.rooms.discard(room_id)
    leave_room("room:" + room_id, sid=sid)
    user = presence.close(sid, room_id, connection.user_id)
    if user is not None:
        state.typing.discard((room_id, user.id))
        emit("user_left", {"room": room_id, "user": user_json(user)}, to="room:" + room_id)


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
                    if connection is None:
                        raise Refused("not_logged_in")
                    # As stored now: another process may have renamed them.
                    user = store.find_user(connection.user_id)
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
        if store.find_user_by_name(name) is not None:  # refused before the rate limits, as documented
            raise Refused("name_taken")
        seconds, which = limits.try_signup(request.sid, request.remote_addr)
        if seconds:
            raise rate_limited("signups" if which == "connection" else "signups_per_ip", seconds)
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
    holder = store.find_user_by_name(name)
    if holder is not None and holder.id != user.id:  # refused before the rate limits, as documented
        raise Refused("name_taken")
    spend("renames", user.id)
    try:
        renamed = store.rename_user(user.id, name)
    except StoreError as error:
        if error.code == "name_taken":
            raise Refused("name_taken") from None
        raise
    with state.lock:
        presence.rename(renamed.id, renamed.name)
        emit("user_renamed", {"user": user_json(renamed), "old_name": user.name}, to="users")
    return {"user": user_json(renamed)}


@command("join")
def join(data, user):
    # Every field's shape first: a refused request must not create (and announce) a room.
    requested = field(data, "room", str)
    since = field(data, "since", int, required=False)
    room, created = find_room(room_key(requested), user.id, create=True)
    if created:
        emit("room_created", room_json(room, None), to="users")
    sid = request.sid
    channel = "room:" + room.id
    # The connection joins the Socket.IO room before the page is read: a message stored after
    # the read is then broadcast to it, one stored before is in the page (one stored in between
    # may come both ways; clients keep one per id).
    with state.lock:
        already_open = room.id in connected(sid).rooms
        if not already_open:
            join_room(channel)
    try:
        if since is None:
            page = store.latest(room.id, HISTORY_DEFAULT)
        else:
            page = store.after(room.id, since, HISTORY_MAX)
    except BaseException:
        if not already_open:  # a failed join leaves the room closed
            with state.lock:
                connection = state.connections.get(sid)
                if connection is None or room.id not in connection.rooms:
                    leave_room(channel)
        raise
    with state.lock:
        connection = state.connections.get(sid)
        if connection is None:  # logged out by a disconnect that overtook this event
            leave_room(channel)
            raise Refused("not_logged_in")
        if room.id not in connection.rooms:
            try:
                first = presence.open(sid, room.id, user)
            except BaseException:  # a failed join leaves the room closed
                leave_room(channel)
                raise
            connection.rooms.add(room.id)
            if first:
                emit("user_joined", {"room": room.id, "user": user_json(user)}, to=channel, skip_sid=sid)
        # By name with ASCII letters folded (as names compare), as UTF-8 bytes, then by id: the
        # order the C++ server gives.
        online = sorted(presence.online(room.id), key=lambda u: (u.name.encode("utf-8").lower(), u.id))
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
    requested = field(data, "room", str)
    before = field(data, "before", int)
    limit = field(data, "limit", int, required=False)
    limit = HISTORY_DEFAULT if limit is None else limit
    if not 1 <= limit <= HISTORY_MAX:
        raise Refused("bad_request", "'limit' must be 1 to %d." % HISTORY_MAX)
    room, _ = find_room(room_key(requested), user.id)
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
    spend("messages", user.id)
    members = private_members(room_id)
    if members is None:
        audience = "room:" + room_id
    else:  # both members' connections, open or not
        audience = ["user:%d" % member for member in members]
    # Stored and sent under one lock, so every receiver gets a room's messages in id order.
    with state.posting:
        stored = store.append(room_id, user, text, int(time.time() * 1000))
        payload = message_json(stored)
        with state.lock:
            if (room_id, user.id) in state.typing:  # the notice it ends goes out before it
                state.typing.discard((room_id, user.id))
                emit("typing", {"room": room_id, "user": user_json(user), "typing": False},
                     **typing_recipients(room_id, user.id))
        emit("message", payload, to=audience)
    return {"message": payload}


@command("typing")
def typing(data, user):
    room_id = room_key(field(data, "room", str))
    is_typing = field(data, "typing", bool)
    check_open(room_id, user.id)
    if is_typing:  # only "typing" is limited: a "stopped" goes out only after a counted "typing"
        spend("typing", user.id)
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
    limits.signups.forget(sid)
    with state.lock:
        if state.stopping:  # the other processes announce who left with this one
            return
        connection = state.connections.pop(sid, None)
        if connection is not None:
            for room_id in sorted(connection.rooms):
                close_room(sid, connection, room_id)


# ---- the other processes ----

def beat_forever(stopped):
    """Every BEAT until `stopped`: shows this process alive, announces who left with a process
    that stopped or died, and puts this one's rows back if it was silent so long that another
    took them."""
    while not stopped.wait(BEAT):
        try:
            with state.lock:
                taken, departed = presence.beat()
                for room_id, user in departed:
                    socketio.emit("user_left", {"room": room_id, "user": user_json(user)}, to="room:" + room_id)
                if taken:
                    restore_presence()
        except Exception:  # the file is busy: the next beat tries again
            logger.exception("presence")


def restore_presence():
    """Puts this process's connections back in presence (the caller holds state.lock)."""
    for sid, connection in state.connections.items():
        user = store.find_user(connection.user_id)
        for room_id in sorted(connection.rooms):
            if presence.open(sid, room_id, user):
                socketio.emit("user_joined", {"room": room_id, "user": user_json(user)}, to="room:" + room_id)


def stop_serving(_signal, _frame):
    """SIGINT and SIGTERM: stops the server, leaving this process's presence for the others to
    announce (its own broadcasts may not leave before it does)."""
    with state.lock:
        state.stopping = True
    raise KeyboardInterrupt


# ---- running ----

def main(argv=None):
    parser = argparse.ArgumentParser(description="The chat app of docs/protocol.md, hosted from Python.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port to listen on; 0 picks a free one (default 5000)")
    parser.add_argument("--db", default="chat.sqlite3",
                        help="the SQLite file of users, rooms and messages (default chat.sqlite3)")
    parser.add_argument("--redis", metavar="URL",
                        help="redis://[[user]:password@]host[:port][/db]: one of several processes that share this "
                             "Redis and the --db file (behind a load balancer, or on different ports)")
    parser.add_argument("--tls-cert", metavar="FILE",
                        help="serve https and wss (TLS 1.2 or later) with this PEM certificate chain (with --tls-key)")
    parser.add_argument("--tls-key", metavar="FILE", help="the PEM private key of --tls-cert")
    add_limit_options(parser)
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")

    global store, presence, limits
    limits = RateLimits(limits_from(args))
    if args.redis:
        try:
            socketio.init_app(app, message_queue=args.redis)
        except ValueError as error:  # not a redis:// URL
            print("chat: --redis: %s" % error, file=sys.stderr)
            return 2
    try:
        store = SqliteStore(args.db)
        store.open_public_room("general")
        presence = Presence(args.db, secrets.token_urlsafe(24))
        presence.start(alone=not args.redis)
    except (StoreError, sqlite3.Error) as error:
        print("chat: cannot use %s: %s" % (args.db, error), file=sys.stderr)
        return 1
    signal.signal(signal.SIGINT, stop_serving)
    signal.signal(signal.SIGTERM, stop_serving)
    stopped = threading.Event()
    beating = socketio.start_background_task(beat_forever, stopped)
    try:
        socketio.run(app, host=args.host, port=args.port, certfile=args.tls_cert, keyfile=args.tls_key)
    except RuntimeError as error:  # a certificate or key that cannot be used
        if not args.tls_cert:
            raise
        print("chat: --tls-cert %s --tls-key %s: %s" % (args.tls_cert, args.tls_key, error), file=sys.stderr)
        return 1
    except ConnectionError as error:  # --redis does not answer: this process must not serve alone
        print("chat: --redis: %s" % error, file=sys.stderr)
        return 1
    finally:
        stopped.set()
        beating.join()
        presence.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
