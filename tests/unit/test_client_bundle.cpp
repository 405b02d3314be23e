// The client bundle directory is checked as a server starts: a directory that cannot serve
// socket.io.js is one line through on_error, naming the directory and the fix.
#include <chat/chat.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

/// A fresh directory under the temporary directory, removed at the end.
class ScratchDir {
 public:
  ScratchDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("chat_unit_bundle_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// What the shards' on_error said while a ShardedServer listened once and stopped.
std::vector<std::string> errors_at_start(chat::ShardedServer<>& io) {
  std::mutex mutex;
  std::vector<std::string> errors;
  io.each([&](chat::Server<>& server) {
    server.on_error([&](chat::Socket*, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex);
      errors.emplace_back(message);
    });
  });
  io.listen("127.0.0.1", 0);
  io.stop();
  io.run();
  return errors;
}

/// What on_error said while a server with `options` listened once and stopped.
std::vector<std::string> errors_at_start(const chat::Options& options) {
  chat::Server<> io(options);
  std::vector<std::string> errors;
  io.on_error([&](chat::Socket*, std::string_view message) { errors.emplace_back(message); });
  io.listen("127.0.0.1", 0);
  io.stop();
  io.run();
  return errors;
}

}  // namespace

TEST_CASE("client bundle: a missing directory is one line at start, naming it and the fix", "[client_bundle]") {
  ScratchDir scratch;
  const std::string missing = (scratch.path() / "nowhere").string();
  const auto errors = errors_at_start(chat::Options{}.client_bundle_dir(missing));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("no directory " + missing));
  CHECK_THAT(errors[0], Catch::Contains("/socket.io/socket.io.js answers 404"));
  CHECK_THAT(errors[0], Catch::Contains("io is not defined"));
  CHECK_THAT(errors[0], Catch::Contains("Options::client_bundle_dir"));
}

TEST_CASE("client bundle: a directory without socket.io.js is one line at start", "[client_bundle]") {
  ScratchDir scratch;
  std::ofstream(scratch.path() / "socket.io.min.js") << "var io=1;";
  const auto errors = errors_at_start(chat::Options{}.client_bundle_dir(scratch.path().string()).path("/io"));
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("no socket.io.js in " + scratch.path().string()));
  CHECK_THAT(errors[0], Catch::Contains("/io/socket.io.js answers 404"));
}

TEST_CASE("client bundle: a directory with socket.io.js, or none asked for, says nothing", "[client_bundle]") {
  ScratchDir scratch;
  std::ofstream(scratch.path() / "socket.io.js") << "var io = 1;";
  CHECK(errors_at_start(chat::Options{}.client_bundle_dir(scratch.path().string())).empty());
  CHECK(errors_at_start(chat::Options{}.client_bundle_dir("")).empty());
}

TEST_CASE("client bundle: a sharded server says it once, not once a shard", "[client_bundle][shards]") {
  ScratchDir scratch;
  chat::ShardedServer<> io(3, chat::Options{}.client_bundle_dir((scratch.path() / "nowhere").string()));
  const auto errors = errors_at_start(io);
  REQUIRE(errors.size() == 1);
  CHECK_THAT(errors[0], Catch::Contains("no directory"));
}
