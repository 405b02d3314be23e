// Bodies of chat::store::SqliteStore (included by chat/store/sqlite_store.hpp).
#ifndef CHAT_STORE_IMPL_SQLITE_STORE_HPP
#define CHAT_STORE_IMPL_SQLITE_STORE_HPP

#include <algorithm>  // reverse, min, max
#include <chrono>     // system_clock

namespace chat::store {

namespace detail {

inline std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Version 1. Names are unique without regard to ASCII case (COLLATE NOCASE); message ids come
// from AUTOINCREMENT so they never go back, even after the newest message is deleted by hand.
constexpr const char* schema_v1 = R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE COLLATE NOCASE,
  secret TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE rooms (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('public', 'private')),
  created_at INTEGER NOT NULL,
  last_activity INTEGER NOT NULL
);
CREATE TABLE room_members (
  room_id TEXT NOT NULL REFERENCES rooms(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX room_members_by_user ON room_members(user_id);
CREATE TABLE messages (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  room_id TEXT NOT NULL REFERENCES rooms(id),
  author_id INTEGER NOT NULL REFERENCES users(id),
  author_name TEXT NOT NULL,
  text TEXT NOT NULL,
  time INTEGER NOT NULL
);
CREATE INDEX messages_by_room ON messages(room_id, id);
PRAGMA user_version = 1;
)sql";

constexpr const char* room_columns = "SELECT id, kind, created_at, last_activity FROM rooms ";
constexpr const char* message_columns = "SELECT id, room_id, author_id, author_name, text, time FROM messages ";

inline std::string private_room_id(std::int64_t a, std::int64_t b) {
  return "dm:" + std::to_string(std::min(a, b)) + ":" + std::to_string(std::max(a, b));
}

}  // namespace detail

inline SqliteStore::SqliteStore(const std::string& path, std::chrono::milliseconds busy_timeout) : path_(path) {
  db_.open(path);
  // SQLite falls back to reading only when the file is write-protected; a chat store that cannot
  // store is useless, so say it now rather than at the first message.
  if (sqlite3_db_readonly(db_.handle(), "main") == 1) {
    throw StoreError(StoreErrc::read_only, "chat store " + path + ": the file is read-only");
  }
  sqlite3_busy_timeout(db_.handle(), int(busy_timeout.count()));

  const auto read_integer = [this](const char* sql, std::string_view doing) {
    detail::Statement query;
    query.prepare(db_, sql);
    query.bind();
    query.step(doing);  // the first read: a file that is not a database fails here
    const auto value = query.integer(0);
    query.run(doing);
    return value;
  };
  const auto check_version = [&](std::int64_t found) {
    if (found > schema_version) {
      throw StoreError(StoreErrc::incompatible, "chat store " + path + ": schema version " + std::to_string(found) +
                                                    " is newer than this program's " + std::to_string(schema_version));
    }
  };
  check_version(read_integer("PRAGMA user_version", "read the schema version"));
  if (read_integer("PRAGMA user_version", "read the schema version") == 0) {
    detail::Transaction create(db_);
    // Read again under the write lock: another process may have created the schema meanwhile.
    const auto version = read_integer("PRAGMA user_version", "read the schema version");
    check_version(version);
    if (version == 0) {
      if (read_integer("SELECT count(*) FROM sqlite_master", "inspect the file") != 0) {
        throw StoreError(StoreErrc::incompatible,
                         "chat store " + path + ": the file is a SQLite database but not a chat store");
      }
      db_.exec(detail::schema_v1, "create the schema");
    }
    create.commit();
  }
  // WAL: readers never wait for the writer; NORMAL: a commit is safe from a process crash
  // without an fsync per message.
  db_.exec("PRAGMA journal_mode = WAL", "switch to WAL");
  db_.exec("PRAGMA synchronous = NORMAL", "set synchronous");
  db_.exec("PRAGMA foreign_keys = ON", "enable foreign keys");

  using std::string;
  insert_user_.prepare(db_, "INSERT INTO users (name, secret, created_at) VALUES (?, ?, ?)");
  user_by_id_.prepare(db_, "SELECT id, name FROM users WHERE id = ?");
  user_by_name_.prepare(db_, "SELECT id, name FROM users WHERE name = ?");
  user_by_secret_.prepare(db_, "SELECT id, name FROM users WHERE secret = ?");
  rename_user_.prepare(db_, "UPDATE users SET name = ? WHERE id = ?");
  insert_room_.prepare(db_, "INSERT OR IGNORE INTO rooms (id, kind, created_at, last_activity) VALUES (?, ?, ?, ?)");
  room_by_id_.prepare(db_, string(detail::room_columns) + "WHERE id = ?");
  public_rooms_.prepare(db_, string(detail::room_columns) + "WHERE kind = 'public' ORDER BY id");
  private_rooms_of_.prepare(db_,
      "SELECT r.id, r.kind, r.created_at, r.last_activity FROM room_members m JOIN rooms r ON r.id = m.room_id "
      "WHERE m.user_id = ? AND r.kind = 'private' "
      // Two rooms active in the same millisecond: the one with the later message first.
      "ORDER BY r.last_activity DESC, (SELECT max(id) FROM messages WHERE room_id = r.id) DESC, r.id");
  members_of_.prepare(db_,
      "SELECT u.id, u.name FROM room_members m JOIN users u ON u.id = m.user_id WHERE m.room_id = ? ORDER BY u.id");
  insert_member_.prepare(db_, "INSERT OR IGNORE INTO room_members (room_id, user_id) VALUES (?, ?)");
  is_member_.prepare(db_,
      "SELECT kind = 'public' OR EXISTS (SELECT 1 FROM room_members WHERE room_id = ?1 AND user_id = ?2) "
      "FROM rooms WHERE id = ?1");
  touch_room_.prepare(db_, "UPDATE rooms SET last_activity = max(last_activity, ?) WHERE id = ?");
  insert_message_.prepare(db_,
      "INSERT INTO messages (room_id, author_id, author_name, text, time) VALUES (?, ?, ?, ?, ?)");
  latest_.prepare(db_, string(detail::message_columns) + "WHERE room_id = ? ORDER BY id DESC LIMIT ?");
  before_.prepare(db_, string(detail::message_columns) + "WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?");
  after_.prepare(db_, string(detail::message_columns) + "WHERE room_id = ? AND id > ? ORDER BY id DESC LIMIT ?");
}

// ---- users ----

inline User SqliteStore::create_user(std::string_view name, std::string_view secret) {
  if (name.empty() || secret.empty()) {
    throw StoreError(StoreErrc::invalid_argument, "chat store: a user needs a name and a secret");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  // The secret is unique too; check it first so that the insert's only possible conflict is the name.
  if (user_by_secret_.bind(secret).step("find a user")) {
    user_by_secret_.bind();
    throw StoreError(StoreErrc::invalid_argument, "chat store: that secret belongs to another user");
  }
  insert_user_.bind(name, secret, detail::now_ms()).run("create a user");
  return User{sqlite3_last_insert_rowid(db_.handle()), std::string(name)};
}

inline std::optional<User> SqliteStore::find_user(std::int64_t id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!user_by_id_.bind(id).step("find a user")) return std::nullopt;
  User user{user_by_id_.integer(0), user_by_id_.text(1)};
  user_by_id_.bind();
  return user;
}

inline std::optional<User> SqliteStore::find_user_by_name(std::string_view name) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!user_by_name_.bind(name).step("find a user")) return std::nullopt;
  User user{user_by_name_.integer(0), user_by_name_.text(1)};
  user_by_name_.bind();
  return user;
}

inline std::optional<User> SqliteStore::find_user_by_secret(std::string_view secret) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (secret.empty() || !user_by_secret_.bind(secret).step("find a user")) return std::nullopt;
  User user{user_by_secret_.integer(0), user_by_secret_.text(1)};
  user_by_secret_.bind();
  return user;
}

inline User SqliteStore::rename_user(std::int64_t id, std::string_view name) {
  if (name.empty()) throw StoreError(StoreErrc::invalid_argument, "chat store: a user needs a name");
  std::lock_guard<std::mutex> lock(mutex_);
  rename_user_.bind(name, id).run("rename a user");
  if (sqlite3_changes(db_.handle()) == 0) {
    throw StoreError(StoreErrc::not_found, "chat store: no user " + std::to_string(id));
  }
  return User{id, std::string(name)};
}

// ---- rooms ----

inline Room SqliteStore::read_room(detail::Statement& row) {
  Room room;
  room.id = row.text(0);
  room.kind = row.text(1) == "private" ? RoomKind::private_room : RoomKind::public_room;
  room.name = room.kind == RoomKind::public_room ? room.id : std::string();
  room.created_at = row.integer(2);
  room.last_activity = row.integer(3);
  return room;
}

inline void SqliteStore::load_members(Room& room) {
  if (room.kind != RoomKind::private_room) return;
  members_of_.bind(room.id);
  while (members_of_.step("read a room's members")) {
    room.members.push_back(User{members_of_.integer(0), members_of_.text(1)});
  }
}

inline std::vector<Room> SqliteStore::read_rooms(detail::Statement& query) {
  std::vector<Room> rooms;
  while (query.step("list rooms")) rooms.push_back(read_room(query));
  for (auto& room : rooms) load_members(room);
  return rooms;
}

inline std::pair<Room, bool> SqliteStore::open_public_room(std::string_view id) {
  if (id.empty()) throw StoreError(StoreErrc::invalid_argument, "chat store: a room needs a name");
  std::lock_guard<std::mutex> lock(mutex_);
  const auto now = detail::now_ms();
  insert_room_.bind(id, "public", now, now).run("create a room");
  const bool created = sqlite3_changes(db_.handle()) == 1;
  room_by_id_.bind(id).step("find a room");
  Room room = read_room(room_by_id_);
  room_by_id_.bind();
  if (room.kind != RoomKind::public_room) {
    throw StoreError(StoreErrc::invalid_argument, "chat store: " + room.id + " is a private room");
  }
  return {std::move(room), created};
}

inline std::pair<Room, bool> SqliteStore::open_private_room(std::int64_t user_a, std::int64_t user_b) {
  if (user_a == user_b) {
    throw StoreError(StoreErrc::invalid_argument, "chat store: a private room needs two different users");
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (const auto id : {user_a, user_b}) {
    const bool exists = user_by_id_.bind(id).step("find a user");
    user_by_id_.bind();
    if (!exists) throw StoreError(StoreErrc::not_found, "chat store: no user " + std::to_string(id));
  }
  const auto id = detail::private_room_id(user_a, user_b);
  const auto now = detail::now_ms();
  detail::Transaction transaction(db_);
  insert_room_.bind(id, "private", now, now).run("create a private room");
  const bool created = sqlite3_changes(db_.handle()) == 1;
  insert_member_.bind(id, user_a).run("add a member");
  insert_member_.bind(id, user_b).run("add a member");
  transaction.commit();
  room_by_id_.bind(id).step("find a room");
  Room room = read_room(room_by_id_);
  room_by_id_.bind();
  load_members(room);
  return {std::move(room), created};
}

inline std::optional<Room> SqliteStore::find_room(std::string_view id) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!room_by_id_.bind(id).step("find a room")) return std::nullopt;
  Room room = read_room(room_by_id_);
  room_by_id_.bind();
  load_members(room);
  return room;
}

inline std::vector<Room> SqliteStore::public_rooms() {
  std::lock_guard<std::mutex> lock(mutex_);
  public_rooms_.bind();
  return read_rooms(public_rooms_);
}

inline std::vector<Room> SqliteStore::private_rooms_of(std::int64_t user) {
  std::lock_guard<std::mutex> lock(mutex_);
  private_rooms_of_.bind(user);
  return read_rooms(private_rooms_of_);
}

inline bool SqliteStore::is_member(std::string_view room, std::int64_t user) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!is_member_.bind(room, user).step("check a membership")) return false;
  const bool member = is_member_.integer(0) != 0;
  is_member_.bind();
  return member;
}

// ---- messages ----

inline Message SqliteStore::append(std::string_view room, const User& author, std::string_view text,
                                   std::int64_t time_ms) {
  std::lock_guard<std::mutex> lock(mutex_);
  const bool exists = room_by_id_.bind(room).step("find a room");
  room_by_id_.bind();
  if (!exists) throw StoreError(StoreErrc::not_found, "chat store: no room " + std::string(room));
  detail::Transaction transaction(db_);
  insert_message_.bind(room, author.id, author.name, text, time_ms).run("store a message");
  const auto id = sqlite3_last_insert_rowid(db_.handle());
  touch_room_.bind(time_ms, room).run("store a message");
  transaction.commit();
  return Message{id, std::string(room), author, std::string(text), time_ms};
}

inline void SqliteStore::check_limit(int limit) {
  if (limit < 1 || limit > 1000) {
    throw StoreError(StoreErrc::invalid_argument,
                     "chat store: a page holds 1 to 1000 messages, not " + std::to_string(limit));
  }
}

inline MessagePage SqliteStore::read_page(detail::Statement& query, int limit) {
  // The query runs newest first with one row more than asked: that row says has_more.
  MessagePage page;
  while (query.step("read messages")) {
    if (int(page.messages.size()) == limit) {
      page.has_more = true;
      query.bind();  // finished with it: reset
      break;
    }
    page.messages.push_back(Message{query.integer(0), query.text(1), User{query.integer(2), query.text(3)},
                                    query.text(4), query.integer(5)});
  }
  std::reverse(page.messages.begin(), page.messages.end());
  return page;
}

inline MessagePage SqliteStore::latest(std::string_view room, int limit) {
  check_limit(limit);
  std::lock_guard<std::mutex> lock(mutex_);
  latest_.bind(room, limit + 1);
  return read_page(latest_, limit);
}

inline MessagePage SqliteStore::before(std::string_view room, std::int64_t before_id, int limit) {
  check_limit(limit);
  std::lock_guard<std::mutex> lock(mutex_);
  before_.bind(room, before_id, limit + 1);
  return read_page(before_, limit);
}

inline MessagePage SqliteStore::after(std::string_view room, std::int64_t after_id, int limit) {
  check_limit(limit);
  std::lock_guard<std::mutex> lock(mutex_);
  after_.bind(room, after_id, limit + 1);
  return read_page(after_, limit);
}

}  // namespace chat::store

#endif  // CHAT_STORE_IMPL_SQLITE_STORE_HPP
