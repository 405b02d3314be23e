// Who has which room open, kept in the SQLite file that every process of the app shares, so that
// online lists, user_joined and user_left are right when the app runs as several processes
// behind one Redis (docs/protocol.md, "Several processes"). The Python host
// (examples/python_chat/presence.py) keeps the same tables the same way, so both can share a file.
//
// One row per connection and open room, naming the process that holds the connection; one row
// per process with the last time it showed it was alive. A process beats every second; the first
// process to see another silent for `presence_timeout` takes that one's rows and announces the
// users who had no other connection left. Each check and change is one transaction, so two
// processes never both announce one user.
#ifndef CHAT_EXAMPLE_PRESENCE_HPP
#define CHAT_EXAMPLE_PRESENCE_HPP

#include <chat/store/sqlite_store.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace chat_app {

/// How often a process shows it is alive, and how long a silent one is taken to be alive still.
constexpr std::chrono::seconds presence_beat{1};
constexpr std::chrono::seconds presence_timeout{5};

// The store's own thin wrappers of a SQLite connection and statement (RAII, errors as StoreError).
namespace sql = chat::store::detail;

class Presence {
 public:
  using User = chat::store::User;

  /// A user whose last connection with a room open was in a process now gone.
  struct Departure {
    std::string room;
    User user;
  };
  struct Beat {
    bool was_taken_for_dead = false;  ///< this process's rows were taken: put them back
    std::vector<Departure> departed;
  };

  /// Opens the tables in the store's file (after SqliteStore made it) as process `process`.
  Presence(const std::string& path, std::string process, std::chrono::milliseconds busy_timeout)
      : process_(std::move(process)) {
    db_.open(path);
    sqlite3_busy_timeout(db_.handle(), int(busy_timeout.count()));
    db_.exec(
        "CREATE TABLE IF NOT EXISTS presence_processes (id TEXT PRIMARY KEY, seen INTEGER NOT NULL);"
        "CREATE TABLE IF NOT EXISTS presence (socket TEXT NOT NULL, room TEXT NOT NULL, user_id INTEGER NOT NULL,"
        " user_name TEXT NOT NULL, process TEXT NOT NULL, PRIMARY KEY (socket, room));"
        "CREATE INDEX IF NOT EXISTS presence_by_room ON presence (room, user_id);"
        "CREATE INDEX IF NOT EXISTS presence_by_process ON presence (process);",
        "create the presence tables");
    insert_process_.prepare(db_, "INSERT OR REPLACE INTO presence_processes (id, seen) VALUES (?, ?)");
    touch_process_.prepare(db_, "UPDATE presence_processes SET seen = ? WHERE id = ?");
    silent_processes_.prepare(db_, "SELECT id FROM presence_processes WHERE seen < ? AND id != ?");
    rows_of_process_.prepare(db_, "SELECT room, user_id, user_name FROM presence WHERE process = ?");
    delete_rows_of_process_.prepare(db_, "DELETE FROM presence WHERE process = ?");
    delete_process_.prepare(db_, "DELETE FROM presence_processes WHERE id = ?");
    is_present_.prepare(db_, "SELECT EXISTS (SELECT 1 FROM presence WHERE room = ? AND user_id = ?)");
    insert_row_.prepare(db_,
        "INSERT OR REPLACE INTO presence (socket, room, user_id, user_name, process) VALUES (?, ?, ?, ?, ?)");
    delete_row_.prepare(db_, "DELETE FROM presence WHERE socket = ? AND room = ?");
    online_.prepare(db_, "SELECT user_id, max(user_name) FROM presence WHERE room = ? GROUP BY user_id");
    rename_.prepare(db_, "UPDATE presence SET user_name = ? WHERE user_id = ?");
  }

  /// Starts this process's membership. `alone`: no other process uses the file (no --redis), so
  /// rows left by one that stopped are dropped now rather than after presence_timeout.
  void start(bool alone) {
    sql::Transaction transaction(db_);
    if (alone) db_.exec("DELETE FROM presence; DELETE FROM presence_processes;", "clear presence");
    insert_process_.bind(process_, now_ms()).run("register the process");
    transaction.commit();
  }

  /// Leaves: the rows still here are the other processes' to announce at their next beat.
  void stop() { touch_process_.bind(std::int64_t{0}, process_).run("leave"); }

  /// `socket` has `room` open; true when it is the user's first connection with it open, in
  /// any process.
  bool open(const std::string& socket, const std::string& room, const User& user) {
    sql::Transaction transaction(db_);
    const bool first = !present(room, user.id);
    insert_row_.bind(socket, room, user.id, user.name, process_).run("open a room");
    transaction.commit();
    return first;
  }

  /// `socket` closed `room`; true when it was the user's last connection with it open.
  bool close(const std::string& socket, const std::string& room, std::int64_t user) {
    sql::Transaction transaction(db_);
    delete_row_.bind(socket, room).run("close a room");
    // No row: another process took this one's rows for dead, and has announced it already.
    const bool last = sqlite3_changes(db_.handle()) > 0 && !present(room, user);
    transaction.commit();
    return last;
  }

  /// The users with `room` open, in any process, in no particular order.
  std::vector<User> online(const std::string& room) {
    std::vector<User> users;
    online_.bind(room);
    while (online_.step("list who is online")) users.push_back(User{online_.integer(0), online_.text(1)});
    return users;
  }

  void rename(std::int64_t user, const std::string& name) { rename_.bind(name, user).run("rename in presence"); }

  /// Every presence_beat: shows this process alive, and takes the rows of processes silent for
  /// presence_timeout.
  Beat beat() {
    Beat result;
    const auto now = now_ms();
    sql::Transaction transaction(db_);
    touch_process_.bind(now, process_).run("beat");
    if (sqlite3_changes(db_.handle()) == 0) {  // silent too long: another process took our rows
      result.was_taken_for_dead = true;
      insert_process_.bind(process_, now).run("register the process");
    }
    std::vector<std::string> silent;
    silent_processes_.bind(now - std::chrono::milliseconds(presence_timeout).count(), process_);
    while (silent_processes_.step("find silent processes")) silent.push_back(silent_processes_.text(0));
    std::set<std::pair<std::string, std::int64_t>> seen;
    for (const auto& process : silent) {
      std::vector<Departure> rows;
      rows_of_process_.bind(process);
      while (rows_of_process_.step("read a silent process's rows")) {
        rows.push_back({rows_of_process_.text(0), User{rows_of_process_.integer(1), rows_of_process_.text(2)}});
      }
      delete_rows_of_process_.bind(process).run("drop a silent process's rows");
      delete_process_.bind(process).run("drop a silent process");
      for (auto& row : rows) {
        if (seen.insert({row.room, row.user.id}).second) result.departed.push_back(std::move(row));
      }
    }
    // Only the users with no connection left in a live process have left.
    std::vector<Departure> departed;
    for (auto& departure : result.departed) {
      if (!present(departure.room, departure.user.id)) departed.push_back(std::move(departure));
    }
    result.departed = std::move(departed);
    transaction.commit();
    return result;
  }

 private:
  static std::int64_t now_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }

  bool present(const std::string& room, std::int64_t user) {
    is_present_.bind(room, user);
    is_present_.step("look up presence");
    const bool found = is_present_.integer(0) != 0;
    is_present_.run("look up presence");
    return found;
  }

  const std::string process_;
  sql::Database db_;
  sql::Statement insert_process_, touch_process_, silent_processes_, rows_of_process_, delete_rows_of_process_,
      delete_process_, is_present_, insert_row_, delete_row_, online_, rename_;
};

}  // namespace chat_app

#endif  // CHAT_EXAMPLE_PRESENCE_HPP
