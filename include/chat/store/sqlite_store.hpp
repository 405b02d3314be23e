// A message store for chat apps on SQLite: users, public and private rooms, and their messages.
//
// Optional: only a program that includes this header needs SQLite (link sqlite3, or the CMake
// target chat::store). It does not depend on the server; any host can use it.
#ifndef CHAT_STORE_SQLITE_STORE_HPP
#define CHAT_STORE_SQLITE_STORE_HPP

#include <chrono>       // milliseconds
#include <cstdint>      // int64_t
#include <mutex>        // mutex
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

#include <chat/store/detail/sqlite.hpp>
#include <chat/store/store_error.hpp>

namespace chat::store {

/// A person using the chat. Names are unique, compared without regard to ASCII case.
struct User {
  std::int64_t id = 0;  ///< assigned by the store, from 1
  std::string name;     ///< as the user spelled it
};

/// Whether a room is open to everyone or a conversation of two.
enum class RoomKind {
  public_room,   ///< open to everyone; its id is its name
  private_room,  ///< a one-to-one conversation ("dm:LOW:HIGH")
};

/// A public room (open to everyone; its id is its name) or a private room: a one-to-one
/// conversation whose id is "dm:LOW:HIGH" with its two members' user ids.
struct Room {
  std::string id;             ///< the name of a public room; "dm:LOW:HIGH" for a private one
  std::string name;           ///< public: the id; private: empty (each member sees the other's name)
  RoomKind kind = RoomKind::public_room;  ///< public or private
  std::vector<User> members;  ///< private rooms: the two members, by id; public rooms: empty
  std::int64_t created_at = 0;     ///< milliseconds since the Unix epoch
  std::int64_t last_activity = 0;  ///< time of the latest message, or created_at
};

/// A stored message. Ids grow with time across all rooms: a larger id is a later message.
struct Message {
  std::int64_t id = 0;  ///< assigned by the store; later messages have larger ids
  std::string room;     ///< the room's id
  User author;          ///< the author's id and their name when the message was stored
  std::string text;     ///< the message as sent
  std::int64_t time = 0;  ///< milliseconds since the Unix epoch
};

/// A page of a room's history, oldest first.
struct MessagePage {
  std::vector<Message> messages;  ///< oldest first
  bool has_more = false;  ///< whether older messages exist before the first one of the page
};

/**
 * Users, rooms and messages in one SQLite file.
 *
 * Opening creates the schema on a new or empty file and checks an existing one (its version is
 * kept in `PRAGMA user_version`). The file runs in WAL mode with synchronous=NORMAL: a call that
 * returned has committed, and survives the process crashing (a power cut may lose the last
 * transactions, never corrupt the file). Statements are prepared once.
 *
 * @par Thread Safety
 * Every member function may be called from any thread; calls are serialised by an internal mutex.
 *
 * @par Errors
 * Every member function throws StoreError; the store stays usable after a failed call.
 */
class SqliteStore {
 public:
  /// The schema version this code writes and reads.
  static constexpr int schema_version = 1;

  /// Opens (or creates) the store in `path`; ":memory:" makes a private in-memory store. A call
  /// that finds the file locked by another process waits up to `busy_timeout`, then throws
  /// `failed`. Throws StoreError: cannot_open, read_only, corrupt, incompatible.
  explicit SqliteStore(const std::string& path, std::chrono::milliseconds busy_timeout = std::chrono::seconds(5));

  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  /// The file the store was opened with.
  const std::string& path() const noexcept { return path_; }

  // ---- users ----

  /// Registers a user. `secret` identifies them later (store a hash of a token, not the token).
  /// Throws name_taken when another user has `name` (in any ASCII case), invalid_argument when
  /// `name` or `secret` is empty.
  User create_user(std::string_view name, std::string_view secret);
  /// The user with this id, if any.
  std::optional<User> find_user(std::int64_t id);
  std::optional<User> find_user_by_name(std::string_view name);  ///< ignores ASCII case
  /// The user registered with this secret, if any.
  std::optional<User> find_user_by_secret(std::string_view secret);
  /// Renames a user (their old messages keep the old name). Throws name_taken, not_found.
  User rename_user(std::int64_t id, std::string_view name);

  // ---- rooms ----

  /// The public room `id`, created if missing; `.second` says whether it was created.
  std::pair<Room, bool> open_public_room(std::string_view id);
  /// The private room of two users, created if missing; `.second` says whether it was created.
  /// Throws not_found when a user does not exist, invalid_argument when they are the same.
  std::pair<Room, bool> open_private_room(std::int64_t user_a, std::int64_t user_b);
  /// The room with this id (public or private), if any.
  std::optional<Room> find_room(std::string_view id);
  /// Every public room, by id.
  std::vector<Room> public_rooms();
  /// The private rooms `user` is a member of, the most recently active first.
  std::vector<Room> private_rooms_of(std::int64_t user);
  /// Whether `user` may read and post in `room`: always for a public room, only its two members
  /// for a private one, never for a room that does not exist.
  bool is_member(std::string_view room, std::int64_t user);

  // ---- messages ----

  /// Stores a message in `room` (committed when this returns). Throws not_found for an unknown
  /// room.
  Message append(std::string_view room, const User& author, std::string_view text, std::int64_t time_ms);
  /// The latest `limit` (1 to 1000) messages of `room`, oldest first.
  MessagePage latest(std::string_view room, int limit);
  /// The `limit` messages of `room` just before the message id `before_id`, oldest first.
  MessagePage before(std::string_view room, std::int64_t before_id, int limit);
  /// The messages of `room` after the id `after_id`, oldest first; at most the newest `limit` of
  /// them, and then `has_more` says that messages between `after_id` and the page were left out.
  MessagePage after(std::string_view room, std::int64_t after_id, int limit);

 private:
  Room read_room(detail::Statement& row);
  void load_members(Room& room);
  MessagePage read_page(detail::Statement& query, int limit);
  std::vector<Room> read_rooms(detail::Statement& query);
  static void check_limit(int limit);

  std::mutex mutex_;
  std::string path_;
  detail::Database db_;
  detail::Statement insert_user_, user_by_id_, user_by_name_, user_by_secret_, rename_user_;
  detail::Statement insert_room_, room_by_id_, public_rooms_, private_rooms_of_, members_of_,
      insert_member_, is_member_, touch_room_;
  detail::Statement insert_message_, latest_, before_, after_;
};

}  // namespace chat::store

#include <chat/store/impl/sqlite_store.hpp>

#endif  // CHAT_STORE_SQLITE_STORE_HPP
