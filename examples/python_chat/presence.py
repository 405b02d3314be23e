"""Who has which room open, kept in the SQLite file that every process of the app shares, so that
online lists, user_joined and user_left are right when the app runs as several processes behind
one Redis (docs/protocol.md, "Several processes"). The C++ host (examples/chat_server/presence.hpp)
keeps the same tables the same way, so both can share a file.

One row per connection and open room, naming the process that holds the connection; one row per
process with the last time it showed it was alive. A process beats every second; the first process
to see another silent for TIMEOUT takes that one's rows and announces the users who had no other
connection left. Each check and change is one transaction, so two processes never both announce
one user.
"""
import sqlite3
import threading
import time

from chat.store import User

BEAT = 1.0     # seconds between two signs of life of a process
TIMEOUT = 5.0  # seconds of silence after which a process is taken for gone

_SCHEMA = """
CREATE TABLE IF NOT EXISTS presence_processes (id TEXT PRIMARY KEY, seen INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS presence (socket TEXT NOT NULL, room TEXT NOT NULL, user_id INTEGER NOT NULL,
  user_name TEXT NOT NULL, process TEXT NOT NULL, PRIMARY KEY (socket, room));
CREATE INDEX IF NOT EXISTS presence_by_room ON presence (room, user_id);
CREATE INDEX IF NOT EXISTS presence_by_process ON presence (process);
"""


def _now_ms():
    return int(time.time() * 1000)


class Presence:
    """The presence tables of the store's file (after SqliteStore made it), as process `process`.
    Any thread: one connection, used under a lock."""

    def __init__(self, path, process, busy_timeout=5.0):
        self.process = process
        self._lock = threading.Lock()
        # Autocommit: each transaction below begins and ends explicitly.
        self._db = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None, check_same_thread=False)
        self._db.executescript(_SCHEMA)

    def _transaction(self, work):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return result

    def start(self, alone):
        """Starts this process's membership. `alone`: no other process uses the file (no --redis),
        so rows left by one that stopped are dropped now rather than after TIMEOUT."""
        def work(db):
            if alone:
                db.execute("DELETE FROM presence")
                db.execute("DELETE FROM presence_processes")
            db.execute("INSERT OR REPLACE INTO presence_processes (id, seen) VALUES (?, ?)", (self.process, _now_ms()))
        self._transaction(work)

    def stop(self):
        """Leaves: the rows still here are the other processes' to announce at their next beat."""
        self._transaction(lambda db: db.execute("UPDATE presence_processes SET seen = 0 WHERE id = ?", (self.process,)))

    def open(self, socket, room, user):
        """`socket` has `room` open; True when it is the user's first connection with it open, in
        any process."""
        def work(db):
            first = not _present(db, room, user.id)
            db.execute("INSERT OR REPLACE INTO presence (socket, room, user_id, user_name, process) VALUES (?, ?, ?, ?, ?)",
                       (socket, room, user.id, user.name, self.process))
            return first
        return self._transaction(work)

    def close(self, socket, room, user_id):
        """`socket` closed `room`: the user (as the row had them) when it was their last connection
        with it open, else None."""
        def work(db):
            row = db.execute("SELECT user_name FROM presence WHERE socket = ? AND room = ?", (socket, room)).fetchone()
            if row is None:  # another process took this one's rows for dead, and announced it
                return None
            db.execute("DELETE FROM presence WHERE socket = ? AND room = ?", (socket, room))
            return None if _present(db, room, user_id) else User(user_id, row[0])
        return self._transaction(work)

    def online(self, room):
        """The Users with `room` open, in any process, in no particular order."""
        with self._lock:
            rows = self._db.execute("SELECT user_id, max(user_name) FROM presence WHERE room = ? GROUP BY user_id",
                                    (room,)).fetchall()
        return [User(user_id, name) for user_id, name in rows]

    def rename(self, user_id, name):
        with self._lock:
            self._db.execute("UPDATE presence SET user_name = ? WHERE user_id = ?", (name, user_id))

    def beat(self):
        """Every BEAT: shows this process alive, and takes the rows of processes silent for TIMEOUT.
        Returns (was_taken_for_dead, departed): whether this process's rows were taken (put them
        back), and the (room, User) whose last connection was in a process taken now."""
        def work(db):
            now = _now_ms()
            taken = db.execute("UPDATE presence_processes SET seen = ? WHERE id = ?", (now, self.process)).rowcount == 0
            if taken:
                db.execute("INSERT INTO presence_processes (id, seen) VALUES (?, ?)", (self.process, now))
            silent = [row[0] for row in db.execute("SELECT id FROM presence_processes WHERE seen < ? AND id != ?",
                                                   (now - int(TIMEOUT * 1000), self.process))]
            rows = {}
            for process in silent:
                for room, user_id, name in db.execute(
                        "SELECT room, user_id, user_name FROM presence WHERE process = ?", (process,)).fetchall():
                    rows.setdefault((room, user_id), name)
                db.execute("DELETE FROM presence WHERE process = ?", (process,))
                db.execute("DELETE FROM presence_processes WHERE id = ?", (process,))
            # Only the users with no connection left in a live process have left.
            departed = [(room, User(user_id, name)) for (room, user_id), name in rows.items()
                        if not _present(db, room, user_id)]
            return taken, departed
        return self._transaction(work)


def _present(db, room, user_id):
    return db.execute("SELECT EXISTS (SELECT 1 FROM presence WHERE room = ? AND user_id = ?)",
                      (room, user_id)).fetchone()[0] != 0
