"""chat.store: the message store of chat apps, SQLite underneath (the C++ chat::store::SqliteStore).

    from chat.store import SqliteStore, StoreError

    store = SqliteStore("chat.sqlite3")        # busy_timeout=5.0: seconds to wait for another process's lock
    alice = store.create_user("alice", secret_hash)
    room, created = store.open_public_room("general")
    message = store.append("general", alice, "hello", time_ms)
    page = store.latest("general", 50)          # page.messages oldest first, page.has_more

Users have unique names (ASCII case ignored); rooms are public (id = name) or private between two
users (id "dm:LOW:HIGH"); messages get ids that grow with time across every room. Every method may
be called from any thread and releases the GIL while SQLite works. Failures raise StoreError, whose
``code`` is one of "cannot_open", "read_only", "corrupt", "incompatible", "name_taken",
"not_found", "invalid_argument", "failed".
"""
from ._core import Message, MessagePage, Room, SqliteStore, StoreError, User

__all__ = ["SqliteStore", "StoreError", "User", "Room", "Message", "MessagePage"]
