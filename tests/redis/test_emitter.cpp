// chat::redis::Emitter against a chat server in a cluster, through a real redis-server. The
// same emits reaching a Node server are in tests/node/cluster.test.mjs.
#include <catch2/catch.hpp>

#include <chat/redis/adapter.hpp>
#include <chat/redis/emitter.hpp>

#include <chrono>
#include <future>
#include <mutex>
#include <thread>

#include "redis_server.hpp"
#include "redis_support.hpp"

namespace {

using chat::socketio::Packet;
using chat::socketio::PacketType;
using namespace std::chrono_literals;

using redis_test::eventually;

/// A chat server in the cluster, on its own thread, with clients on "/" and "/chat".
struct Served {
  explicit Served(const std::string& url) {
    server.of("/chat").on_server_side_emit([this](const std::string& event, const chat::Args& args,
                                                  const std::function<void(chat::Args)>&) {
      std::lock_guard<std::mutex> lock(mutex);
      server_side.push_back(chat::json::array({event, args.array()}));
    });
    cluster = chat::redis::attach(server, chat::redis::AdapterOptions().url(url));
    thread = std::thread([this] { server.run(); });
  }
  ~Served() {
    server.stop();
    thread.join();
  }
  /// A client of `nsp`, connected; its socket id in `id`.
  std::shared_ptr<chat::LocalClient> connect(const std::string& nsp, std::string* id = nullptr) {
    std::promise<std::shared_ptr<chat::LocalClient>> made;
    server.post([&] {
      auto client = server.connect_local();
      Packet connect;
      connect.type = PacketType::connect;
      connect.nsp = nsp;
      client->send(connect);
      made.set_value(client);
    });
    auto client = made.get_future().get();
    REQUIRE(eventually([&] {
      for (auto& packet : client->take_received())
        if (packet.type == PacketType::connect) {
          if (id) *id = packet.data["sid"].get<std::string>();
          return true;
        }
      return false;
    }));
    return client;
  }

  chat::Server<> server;
  std::shared_ptr<chat::redis::Cluster> cluster;
  std::thread thread;
  std::mutex mutex;
  std::vector<chat::json> server_side;
};

std::vector<chat::json> events(const std::shared_ptr<chat::LocalClient>& client, std::vector<chat::json>& seen,
                               std::size_t expected) {
  eventually([&] {
    for (auto& packet : client->take_received())
      if (packet.type == PacketType::event || packet.type == PacketType::binary_event) seen.push_back(packet.data);
      else if (packet.type == PacketType::disconnect) seen.push_back("(disconnected)");
    return seen.size() >= expected;
  });
  return seen;
}

}  // namespace

TEST_CASE("emitter: emits, rooms, joins and disconnects reach a server's clients", "[redis][emitter]") {
  redis_test::RedisServer redis;
  Served served(redis.url());
  std::string one_id;
  auto one = served.connect("/chat", &one_id);
  auto two = served.connect("/chat");
  auto root = served.connect("/");
  REQUIRE(redis_test::subscribed(redis.url(), "socket.io-request#/chat#"));  // heard from now on

  chat::redis::Emitter emitter(chat::redis::EmitterOptions().url(redis.url()));
  emitter.emit("to-root", 1);
  emitter.of("chat").emit("to-chat", chat::json{{"nested", {1, 2}}}, chat::binary(std::string("\x00\xff", 2)));
  emitter.of("/chat").to(one_id).emit("to-one");
  emitter.of("/chat").in(one_id).sockets_join("team");
  emitter.of("/chat").to("team").emit("to-team");
  emitter.of("/chat").except("team").emit("not-team");
  emitter.of("/chat").server_side_emit("hello", "servers");
  REQUIRE(emitter.flush());

  std::vector<chat::json> root_seen, one_seen, two_seen;
  CHECK(events(root, root_seen, 1) == std::vector<chat::json>{{"to-root", 1}});
  const auto got = events(one, one_seen, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0][0] == "to-chat");
  CHECK(got[0][1] == chat::json{{"nested", {1, 2}}});
  CHECK(chat::bytes_of(got[0][2]) == std::string("\x00\xff", 2));
  CHECK(got[1] == chat::json{"to-one"});
  CHECK(got[2] == chat::json{"to-team"});
  const auto other = events(two, two_seen, 2);
  REQUIRE(other.size() == 2);
  CHECK(other[0][0] == "to-chat");
  CHECK(other[1] == chat::json{"not-team"});
  REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> lock(served.mutex);
    return served.server_side.size() == 1;
  }));
  CHECK(served.server_side[0] == chat::json::array({"hello", {"servers"}}));

  emitter.of("/chat").in("team").disconnect_sockets();
  REQUIRE(emitter.flush());
  CHECK(events(one, one_seen, 4).back() == "(disconnected)");

  CHECK_THROWS_WITH(emitter.emit("disconnect"), Catch::Contains("reserved"));
  CHECK_THROWS_WITH(emitter.of("/").emit("connect"), Catch::Contains("reserved"));
}

TEST_CASE("emitter: emits wait while Redis is away and go when it comes", "[redis][emitter]") {
  redis_test::RedisServer redis;
  redis.stop();
  std::vector<std::string> problems;
  std::mutex mutex;
  chat::redis::Emitter emitter(chat::redis::EmitterOptions().url(redis.url()).on_error([&](const std::string& p) {
    std::lock_guard<std::mutex> lock(mutex);
    problems.push_back(p);
  }));
  for (int i = 0; i < 10; ++i) emitter.emit("waiting", i);
  CHECK_FALSE(emitter.flush(300ms));
  CHECK_FALSE(emitter.connected());

  redis.start();
  Served served(redis.url());
  auto client = served.connect("/");
  REQUIRE(redis_test::subscribed(redis.url(), "socket.io-request#/#"));
  // The emitter reconnects by itself (backoff up to 5 s) and sends what waited, in order.
  REQUIRE(emitter.flush(10s));
  emitter.emit("after");
  REQUIRE(emitter.flush());
  // What waited reached Redis; whether before the server subscribed depends on the backoff.
  // What the client got is in order, "after" last.
  std::vector<chat::json> seen;
  REQUIRE(eventually([&] { return events(client, seen, 0).size() > 0 && seen.back() == chat::json{"after"}; }));
  for (std::size_t i = 1; i + 1 < seen.size(); ++i) CHECK(seen[i][1].get<int>() == seen[i - 1][1].get<int>() + 1);
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(problems.size() == 2);  // lost once (however many attempts), back once
}

TEST_CASE("emitter: a bad URL is refused at once", "[redis][emitter]") {
  CHECK_THROWS_AS(chat::redis::Emitter(chat::redis::EmitterOptions().url("rediss://h")), std::invalid_argument);
  CHECK_THROWS_AS(chat::redis::Emitter(chat::redis::EmitterOptions().url("redis://h:0")), std::invalid_argument);
}
