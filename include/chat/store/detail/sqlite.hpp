// Thin RAII owners of a sqlite3 connection and its prepared statements, turning SQLite's result
// codes into StoreError. Not thread-safe: SqliteStore serialises every use.
#ifndef CHAT_STORE_DETAIL_SQLITE_HPP
#define CHAT_STORE_DETAIL_SQLITE_HPP

#include <sqlite3.h>

#include <cstdint>      // int64_t
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // exchange

#include <chat/store/store_error.hpp>

namespace chat::store::detail {

/// The StoreErrc of a SQLite result code (primary or extended).
inline StoreErrc classify(int rc) {
  if (rc == SQLITE_CONSTRAINT_UNIQUE) return StoreErrc::name_taken;  // users.name is the only unique key inserted blindly
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) return StoreErrc::not_found;
  switch (rc & 0xff) {
    case SQLITE_READONLY: return StoreErrc::read_only;
    case SQLITE_CANTOPEN:
    case SQLITE_PERM: return StoreErrc::cannot_open;
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT: return StoreErrc::corrupt;
    default: return StoreErrc::failed;
  }
}

[[noreturn]] inline void throw_error(sqlite3* db, int rc, const std::string& path, std::string_view doing) {
  std::string what = "chat store " + path + ": " + std::string(doing) + ": ";
  what += db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  throw StoreError(classify(db ? sqlite3_extended_errcode(db) : rc), what);
}

/// One open connection.
class Database {
 public:
  Database() = default;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database() { sqlite3_close_v2(db_); }

  void open(const std::string& path) {
    // NOMUTEX: the store's own mutex already serialises every call on this connection.
    const int rc = sqlite3_open_v2(path.c_str(), &db_,
                                   SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
    path_ = path;
    if (rc != SQLITE_OK) {
      const std::string message = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
      sqlite3_close_v2(std::exchange(db_, nullptr));
      throw StoreError(classify(rc) == StoreErrc::failed ? StoreErrc::cannot_open : classify(rc),
                       "chat store " + path + ": cannot open: " + message);
    }
    sqlite3_extended_result_codes(db_, 1);
  }

  /// Runs statements that return no rows.
  void exec(const char* sql, std::string_view doing) {
    const int rc = sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) fail(rc, doing);
  }

  [[noreturn]] void fail(int rc, std::string_view doing) const { throw_error(db_, rc, path_, doing); }

  sqlite3* handle() const noexcept { return db_; }
  const std::string& path() const noexcept { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

/// One prepared statement, reused: bind, step through the rows, and it resets itself on the
/// next bind so a statement that threw midway is clean again.
class Statement {
 public:
  Statement() = default;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { sqlite3_finalize(stmt_); }

  void prepare(Database& db, std::string_view sql) {
    db_ = &db;
    const int rc = sqlite3_prepare_v3(db.handle(), sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt_, nullptr);
    if (rc != SQLITE_OK) db.fail(rc, "prepare");
  }

  /// Starts a new execution with these parameters (1-based, in order).
  template <typename... Values>
  Statement& bind(const Values&... values) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    int index = 0;
    (bind_one(++index, values), ...);
    return *this;
  }

  /// Advances to the next row; false when there is none. `doing` names the call in errors.
  bool step(std::string_view doing) {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) {
      sqlite3_reset(stmt_);
      return false;
    }
    sqlite3_reset(stmt_);
    db_->fail(rc, doing);
  }

  /// Runs a statement that returns no rows.
  void run(std::string_view doing) {
    while (step(doing)) {
    }
  }

  std::int64_t integer(int column) const { return sqlite3_column_int64(stmt_, column); }
  std::string text(int column) const {
    const auto* bytes = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, column));
    return bytes ? std::string(bytes, std::size_t(sqlite3_column_bytes(stmt_, column))) : std::string();
  }

 private:
  void bind_one(int index, std::int64_t value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind_one(int index, int value) { check(sqlite3_bind_int64(stmt_, index, value)); }
  void bind_one(int index, std::string_view value) {
    check(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
  }
  void bind_one(int index, const std::string& value) { bind_one(index, std::string_view(value)); }
  void bind_one(int index, const char* value) { bind_one(index, std::string_view(value)); }
  void check(int rc) const {
    if (rc != SQLITE_OK) db_->fail(rc, "bind");
  }

  Database* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

/// Commits on commit(), rolls back when left by an exception.
class Transaction {
 public:
  explicit Transaction(Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE", "begin"); }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction() {
    if (!done_) sqlite3_exec(db_.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  }
  void commit() {
    db_.exec("COMMIT", "commit");
    done_ = true;
  }

 private:
  Database& db_;
  bool done_ = false;
};

}  // namespace chat::store::detail

#endif  // CHAT_STORE_DETAIL_SQLITE_HPP
