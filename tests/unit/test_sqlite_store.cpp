// chat::store::SqliteStore on real files: schema, users, rooms, paging, isolation, errors.
#include <chat/store/sqlite_store.hpp>

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

using chat::store::Message;
using chat::store::RoomKind;
using chat::store::SqliteStore;
using chat::store::StoreErrc;
using chat::store::StoreError;
using chat::store::User;

namespace {

/// A fresh directory under TMPDIR, removed with everything in it at the end of the test.
struct TempDir {
  std::string path;
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/chat-store-XXXXXX";
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string file(const std::string& name) const { return path + "/" + name; }
};

StoreErrc code_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const StoreError& e) {
    INFO(e.what());
    return e.code();
  }
  FAIL("no StoreError thrown");
  return StoreErrc::failed;
}

std::vector<std::string> texts(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.text);
  return out;
}

std::vector<std::string> numbered(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) out.push_back("m" + std::to_string(i));
  return out;
}

/// Runs `body` in a child process with the rights of an ordinary user (root may write any file,
/// so a write-protected file only means something to another user). Returns the child's exit code.
int run_unprivileged(const std::function<int()>& body) {
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(90);
    _exit(body());
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return WEXITSTATUS(status);
}

}  // namespace

TEST_CASE("store: a fresh file gets the schema, and what is stored survives reopening", "[store]") {
  TempDir dir;
  const auto path = dir.file("chat.sqlite3");
  std::int64_t alice_id = 0;
  {
    SqliteStore store(path);
    CHECK(store.path() == path);
    CHECK(store.public_rooms().empty());
    const auto alice = store.create_user("alice", "secret-a");
    alice_id = alice.id;
    store.open_public_room("general");
    store.append("general", alice, "before the restart", 1000);
  }
  SqliteStore reopened(path);
  CHECK(reopened.find_user_by_secret("secret-a")->id == alice_id);
  const auto page = reopened.latest("general", 50);
  REQUIRE(page.messages.size() == 1);
  CHECK(page.messages[0].text == "before the restart");
  CHECK(page.messages[0].author.name == "alice");
  CHECK(page.messages[0].time == 1000);
  CHECK_FALSE(page.has_more);

  // The schema version is in the file's header, where another program can read it.
  sqlite3* raw = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* version = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &version, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(version) == SQLITE_ROW);
  CHECK(sqlite3_column_int(version, 0) == SqliteStore::schema_version);
  sqlite3_finalize(version);
  sqlite3_stmt* mode = nullptr;
  REQUIRE(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &mode, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(mode) == SQLITE_ROW);
  CHECK(std::string(reinterpret_cast<const char*>(sqlite3_column_text(mode, 0))) == "wal");
  sqlite3_finalize(mode);
  sqlite3_close(raw);
}

TEST_CASE("store: users have unique names without regard to case, found by name, id or secret", "[store]") {
  SqliteStore store(":memory:");
  const auto alice = store.create_user("Alice", "s1");
  const auto bob = store.create_user("bob", "s2");
  CHECK(alice.id != bob.id);
  CHECK(store.find_user_by_name("ALICE")->id == alice.id);
  CHECK(store.find_user_by_name("alice")->name == "Alice");
  CHECK(store.find_user(bob.id)->name == "bob");
  CHECK(store.find_user_by_secret("s2")->id == bob.id);
  CHECK_FALSE(store.find_user_by_secret("nope").has_value());
  CHECK_FALSE(store.find_user_by_secret("").has_value());
  CHECK_FALSE(store.find_user(999).has_value());
  CHECK_FALSE(store.find_user_by_name("carol").has_value());

  CHECK(code_of([&] { store.create_user("aLiCe", "s3"); }) == StoreErrc::name_taken);
  CHECK(code_of([&] { store.create_user("carol", "s1"); }) == StoreErrc::invalid_argument);
  CHECK(code_of([&] { store.create_user("", "s4"); }) == StoreErrc::invalid_argument);
  CHECK(code_of([&] { store.create_user("dave", ""); }) == StoreErrc::invalid_argument);

  CHECK(code_of([&] { store.rename_user(bob.id, "ALICE"); }) == StoreErrc::name_taken);
  CHECK(code_of([&] { store.rename_user(999, "zed"); }) == StoreErrc::not_found);
  CHECK(store.rename_user(bob.id, "Robert").name == "Robert");
  CHECK(store.find_user_by_name("robert")->id == bob.id);
  CHECK_FALSE(store.find_user_by_name("bob").has_value());
  // A user may change the case of their own name.
  CHECK(store.rename_user(alice.id, "alice").name == "alice");
}

TEST_CASE("store: public and private rooms", "[store]") {
  SqliteStore store(":memory:");
  const auto alice = store.create_user("alice", "a");
  const auto bob = store.create_user("bob", "b");
  const auto carol = store.create_user("carol", "c");

  const auto [general, created] = store.open_public_room("general");
  CHECK(created);
  CHECK(general.id == "general");
  CHECK(general.name == "general");
  CHECK(general.kind == RoomKind::public_room);
  CHECK(general.members.empty());
  CHECK_FALSE(store.open_public_room("general").second);
  store.open_public_room("books");
  std::vector<std::string> ids;
  for (const auto& room : store.public_rooms()) ids.push_back(room.id);
  CHECK(ids == std::vector<std::string>{"books", "general"});

  const auto [dm, dm_created] = store.open_private_room(bob.id, alice.id);
  CHECK(dm_created);
  CHECK(dm.id == "dm:" + std::to_string(alice.id) + ":" + std::to_string(bob.id));
  CHECK(dm.kind == RoomKind::private_room);
  CHECK(dm.name.empty());
  REQUIRE(dm.members.size() == 2);
  CHECK(dm.members[0].name == "alice");
  CHECK(dm.members[1].name == "bob");
  const auto again = store.open_private_room(alice.id, bob.id);
  CHECK_FALSE(again.second);
  CHECK(again.first.id == dm.id);
  CHECK(code_of([&] { store.open_private_room(alice.id, alice.id); }) == StoreErrc::invalid_argument);
  CHECK(code_of([&] { store.open_private_room(alice.id, 999); }) == StoreErrc::not_found);
  CHECK(code_of([&] { store.open_public_room(dm.id); }) == StoreErrc::invalid_argument);
  CHECK(store.public_rooms().size() == 2);  // private rooms are not listed as public

  CHECK(store.is_member("general", carol.id));
  CHECK(store.is_member(dm.id, alice.id));
  CHECK(store.is_member(dm.id, bob.id));
  CHECK_FALSE(store.is_member(dm.id, carol.id));
  CHECK_FALSE(store.is_member("no-such-room", alice.id));
  CHECK(store.find_room(dm.id)->members.size() == 2);
  CHECK_FALSE(store.find_room("nowhere").has_value());

  // A member's private rooms, the most recently active first; members show current names.
  const auto dm_ac = store.open_private_room(alice.id, carol.id).first;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  store.append(dm.id, alice, "old", now + 100);
  store.append(dm_ac.id, carol, "new", now + 200);
  auto mine = store.private_rooms_of(alice.id);
  REQUIRE(mine.size() == 2);
  CHECK(mine[0].id == dm_ac.id);
  CHECK(mine[1].id == dm.id);
  store.append(dm.id, bob, "newest", now + 300);
  store.rename_user(bob.id, "robert");
  mine = store.private_rooms_of(alice.id);
  CHECK(mine[0].id == dm.id);
  CHECK(mine[0].members[1].name == "robert");
  CHECK(store.private_rooms_of(bob.id).size() == 1);
  CHECK(store.private_rooms_of(999).empty());
}

TEST_CASE("store: history pages are ordered, complete, and never mix rooms", "[store]") {
  SqliteStore store(":memory:");
  const auto alice = store.create_user("alice", "a");
  const auto bob = store.create_user("bob", "b");
  const auto carol = store.create_user("carol", "c");
  store.open_public_room("general");
  store.open_public_room("other");
  const auto ab = store.open_private_room(alice.id, bob.id).first.id;
  const auto ac = store.open_private_room(alice.id, carol.id).first.id;

  std::int64_t last_id = 0;
  for (int i = 1; i <= 120; ++i) {
    const auto m = store.append("general", i % 2 ? alice : bob, "m" + std::to_string(i), 1000 + i);
    CHECK(m.id > last_id);  // ids grow across rooms too
    last_id = m.id;
    last_id = store.append("other", carol, "other " + std::to_string(i), 1000 + i).id;
    if (i % 10 == 0) {
      store.append(ab, alice, "to bob " + std::to_string(i), 1000 + i);
      store.append(ac, alice, "to carol " + std::to_string(i), 1000 + i);
    }
  }

  auto page = store.latest("general", 50);
  CHECK(texts(page.messages) == numbered(71, 120));
  CHECK(page.has_more);
  CHECK(page.messages.front().author.name == "alice");  // m71: odd
  CHECK(page.messages[1].author.id == bob.id);

  // Walk back to the beginning: every message exactly once, in order.
  std::vector<std::string> all = texts(page.messages);
  while (page.has_more) {
    page = store.before("general", page.messages.front().id, 50);
    const auto older = texts(page.messages);
    all.insert(all.begin(), older.begin(), older.end());
  }
  CHECK(all == numbered(1, 120));

  // Filling in after a known id: everything after it, or the newest part and has_more for a gap.
  const auto everything = store.latest("general", 1000).messages;
  REQUIRE(everything.size() == 120);
  auto missed = store.after("general", everything[109].id, 100);
  CHECK(texts(missed.messages) == numbered(111, 120));
  CHECK_FALSE(missed.has_more);
  missed = store.after("general", everything[9].id, 30);
  CHECK(texts(missed.messages) == numbered(91, 120));
  CHECK(missed.has_more);
  CHECK(store.after("general", everything.back().id, 10).messages.empty());

  // Private conversations hold only their own messages.
  const auto to_bob = texts(store.latest(ab, 100).messages);
  REQUIRE(to_bob.size() == 12);
  for (const auto& text : to_bob) CHECK(text.rfind("to bob ", 0) == 0);
  for (const auto& text : texts(store.latest(ac, 100).messages)) CHECK(text.rfind("to carol ", 0) == 0);
  for (const auto& text : texts(store.latest("other", 1000).messages)) CHECK(text.rfind("other ", 0) == 0);

  CHECK(store.latest("empty-room", 10).messages.empty());
  CHECK(code_of([&] { store.latest("general", 0); }) == StoreErrc::invalid_argument);
  CHECK(code_of([&] { store.before("general", 5, 1001); }) == StoreErrc::invalid_argument);
  CHECK(code_of([&] { store.append("nowhere", alice, "lost", 1); }) == StoreErrc::not_found);
  CHECK(code_of([&] { store.append("general", User{999, "ghost"}, "who?", 1); }) == StoreErrc::not_found);
  CHECK(store.latest("general", 1).messages[0].text == "m120");  // failed calls left nothing behind
}

TEST_CASE("store: text is stored byte for byte", "[store]") {
  SqliteStore store(":memory:");
  const auto alice = store.create_user("Zoë ✨", "a");
  store.open_public_room("general");
  const char bytes[] = "quotes ' \" and a NUL \0 inside, <script>alert(1)</script> 日本語";
  const std::string text(bytes, sizeof bytes - 1);
  store.append("general", alice, text, 1);
  const auto stored = store.latest("general", 1).messages.at(0);
  CHECK(stored.text == text);
  CHECK(stored.author.name == "Zoë ✨");
}

TEST_CASE("store: concurrent writers from several threads lose nothing", "[store]") {
  TempDir dir;
  SqliteStore store(dir.file("chat.sqlite3"));
  store.open_public_room("general");
  std::vector<User> users;
  for (int t = 0; t < 4; ++t) users.push_back(store.create_user("user" + std::to_string(t), "s" + std::to_string(t)));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&store, &users, t] {
      for (int i = 0; i < 100; ++i) store.append("general", users[t], std::to_string(t) + ":" + std::to_string(i), i);
    });
  }
  for (auto& thread : threads) thread.join();
  const auto all = store.latest("general", 1000).messages;
  REQUIRE(all.size() == 400);
  std::vector<int> next(4, 0);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) CHECK(all[i].id > all[i - 1].id);
    const int t = int(all[i].author.id - users[0].id);
    REQUIRE(t >= 0);
    REQUIRE(t < 4);
    CHECK(all[i].text == std::to_string(t) + ":" + std::to_string(next[t]++));  // each writer's order kept
  }
}

TEST_CASE("store: unusable files give a clear error", "[store]") {
  TempDir dir;

  SECTION("a file that is not a database") {
    const auto path = dir.file("garbage.sqlite3");
    std::ofstream(path) << std::string(4096, 'x');
    try {
      SqliteStore store(path);
      FAIL("opened a corrupt file");
    } catch (const StoreError& e) {
      CHECK(e.code() == StoreErrc::corrupt);
      CHECK_THAT(e.what(), Catch::Contains(path) && Catch::Contains("not a database"));
    }
  }

  SECTION("a SQLite database of another program") {
    const auto path = dir.file("other.sqlite3");
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "CREATE TABLE t (x)", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    CHECK(code_of([&] { SqliteStore store(path); }) == StoreErrc::incompatible);
  }

  SECTION("a store written by a newer version") {
    const auto path = dir.file("newer.sqlite3");
    { SqliteStore store(path); }
    sqlite3* raw = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &raw) == SQLITE_OK);
    REQUIRE(sqlite3_exec(raw, "PRAGMA user_version = 99", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(raw);
    try {
      SqliteStore store(path);
      FAIL("opened a newer schema");
    } catch (const StoreError& e) {
      CHECK(e.code() == StoreErrc::incompatible);
      CHECK_THAT(e.what(), Catch::Contains("schema version 99"));
    }
  }

  SECTION("a directory that does not exist") {
    CHECK(code_of([&] { SqliteStore store(dir.file("missing/chat.sqlite3")); }) == StoreErrc::cannot_open);
  }

  SECTION("a read-only file") {
    const auto path = dir.file("read-only.sqlite3");
    {
      SqliteStore store(path);
      store.open_public_room("general");
    }
    std::remove((path + "-wal").c_str());
    std::remove((path + "-shm").c_str());
    REQUIRE(chmod(dir.path.c_str(), 0755) == 0);  // the unprivileged child may enter the directory
    REQUIRE(chmod(path.c_str(), 0444) == 0);
    const int result = run_unprivileged([&] {
      try {
        SqliteStore store(path);
        return 1;  // opened for writing: wrong
      } catch (const StoreError& e) {
        const std::string what = e.what();
        if (e.code() != StoreErrc::read_only) return 2;
        return what.find(path) != std::string::npos && what.find("read-only") != std::string::npos ? 0 : 3;
      } catch (...) {
        return 4;
      }
    });
    CHECK(result == 0);  // 1: opened; 2: another code; 3: the message names neither file nor cause
  }
}

TEST_CASE("store: a file locked by another connection fails after the busy timeout, then works again", "[store]") {
  TempDir dir;
  const auto path = dir.file("locked.sqlite3");
  SqliteStore store(path, std::chrono::milliseconds(50));
  const auto alice = store.create_user("alice", "a");
  store.open_public_room("general");

  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK);
  try {
    store.append("general", alice, "while locked", 1);
    FAIL("stored through an exclusive lock");
  } catch (const StoreError& e) {
    CHECK(e.code() == StoreErrc::failed);
    CHECK_THAT(e.what(), Catch::Contains("locked"));
  }
  REQUIRE(sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);

  store.append("general", alice, "after the lock", 2);
  CHECK(texts(store.latest("general", 10).messages) == std::vector<std::string>{"after the lock"});
}
