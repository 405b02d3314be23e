// Two servers in one cluster through a real redis-server: a ShardedServer of two shards ("A")
// and a one-shard server ("B"), LocalClients on every shard, the loops on their own threads.
// The wire format against Node's own adapter and emitter is in tests/node/cluster.test.mjs.
#include <catch2/catch.hpp>

#include <chat/redis/adapter.hpp>

#include <algorithm>
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

/// A server of `shards` shards in the cluster, running on its own thread for the test.
class Member {
 public:
  Member(std::size_t shards, const std::string& url, chat::redis::AdapterOptions options = {})
      : io_(shards) {
    io_.each([this](chat::Server<>& shard) {
      shard.on_error([this](chat::Socket*, std::string_view message) {
        std::lock_guard<std::mutex> lock(mutex_);
        errors_.emplace_back(message);
      });
    });
    cluster_ = chat::redis::attach(io_, options.url(url).requests_timeout(1500ms));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~Member() {
    io_.stop();
    thread_.join();
  }

  chat::ShardedServer<>& io() { return io_; }
  chat::redis::Cluster& cluster() { return *cluster_; }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }

  /// Runs `work` on shard `index`'s io thread and waits for it.
  template <class Work>
  auto on(std::size_t index, Work work) -> decltype(work()) {
    auto task = std::make_shared<std::packaged_task<decltype(work())()>>(std::move(work));
    auto result = task->get_future();
    io_.shard(index).post([task] { (*task)(); });
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    return result.get();
  }

  /// A client of `nsp` on shard `index`, connected; its socket id.
  struct Client {
    std::shared_ptr<chat::LocalClient> local;
    std::string id;
    std::vector<Packet> seen;
  };
  Client connect(std::size_t index, const std::string& nsp = "/") {
    Client client;
    client.local = on(index, [&] {
      auto local = io_.shard(index).connect_local();
      Packet connect;
      connect.type = PacketType::connect;
      connect.nsp = nsp;
      local->send(connect);
      return local;
    });
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (client.id.empty() && std::chrono::steady_clock::now() < deadline) {
      for (auto& packet : client.local->take_received())
        if (packet.type == PacketType::connect) client.id = packet.data["sid"].get<std::string>();
      std::this_thread::sleep_for(1ms);
    }
    REQUIRE(!client.id.empty());
    return client;
  }

  /// The servers of `nsp`'s cluster, as this one counts them.
  std::size_t server_count(const std::string& nsp = "/") {
    std::promise<std::size_t> count;
    on(0, [&] { io_.shard(0).of(nsp).adapter().server_count([&](std::size_t n) { count.set_value(n); }); });
    auto result = count.get_future();
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    return result.get();
  }

 private:
  chat::ShardedServer<> io_;
  std::shared_ptr<chat::redis::Cluster> cluster_;
  std::thread thread_;
  std::mutex mutex_;
  std::vector<std::string> errors_;
};

using redis_test::eventually;

/// The events `client` got so far, after waiting for `expected` of them (10 s at most).
std::vector<chat::json> events(Member::Client& client, std::size_t expected) {
  eventually([&] {
    for (auto& packet : client.local->take_received()) client.seen.push_back(std::move(packet));
    std::size_t count = 0;
    for (const auto& packet : client.seen)
      count += packet.type == PacketType::event || packet.type == PacketType::binary_event;
    return count >= expected;
  });
  std::vector<chat::json> out;
  for (const auto& packet : client.seen)
    if (packet.type == PacketType::event || packet.type == PacketType::binary_event) out.push_back(packet.data);
  return out;
}

/// Both members see each other (NUMSUB counts both subscriptions).
void wait_for_cluster(Member& a, Member& b, std::size_t servers = 2) {
  REQUIRE(eventually([&] { return a.server_count() == servers && b.server_count() == servers; }));
}

}  // namespace

TEST_CASE("cluster: broadcasts reach every shard of every server once", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(2, redis.url()), b(1, redis.url());
  wait_for_cluster(a, b);
  auto a0 = a.connect(0), a1 = a.connect(1), b0 = b.connect(0);

  a.io().emit("hello", 1);
  b.on(0, [&] { b.io().shard(0).to(a1.id).emit("direct", "to a1"); });
  a.on(1, [&] { a.io().shard(1).of("/").to(b0.id).emit("binary", chat::binary(std::string("\x00\x01\xff", 3))); });
  b.io().emit("marker");
  // Each once; in no particular order between servers (each server's own come first).
  const auto sorted = [](std::vector<chat::json> events) {
    std::sort(events.begin(), events.end());
    return events;
  };
  CHECK(sorted(events(a0, 2)) == sorted({{"hello", 1}, {"marker"}}));
  CHECK(sorted(events(a1, 3)) == sorted({{"hello", 1}, {"direct", "to a1"}, {"marker"}}));
  const auto seen = sorted(events(b0, 3));
  REQUIRE(seen.size() == 3);
  CHECK(seen[0][0] == "binary");
  CHECK(chat::bytes_of(seen[0][1]) == std::string("\x00\x01\xff", 3));
  CHECK(seen[1] == chat::json{"hello", 1});
  CHECK(seen[2] == chat::json{"marker"});
  a.io().emit("last");
  CHECK(events(a0, 3).size() == 3);  // nothing more came meanwhile: no duplicate
  CHECK(events(b0, 4).size() == 4);
}

TEST_CASE("cluster: rooms, sockets_join, fetch_sockets and all_rooms span the servers", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(2, redis.url()), b(1, redis.url());
  wait_for_cluster(a, b);
  auto a0 = a.connect(0), a1 = a.connect(1), b0 = b.connect(0);

  // Joined from A: B's socket and A's shard-1 socket join "team"; the emit after it finds them.
  a.io().to(a1.id).to(b0.id).sockets_join("team");
  REQUIRE(eventually([&] {
    std::promise<std::vector<chat::SocketInfo>> found;
    b.on(0, [&] { b.io().shard(0).to("team").fetch_sockets([&](auto s) { found.set_value(std::move(s)); }); });
    return found.get_future().get().size() == 2;
  }));
  b.io().to("team").emit("team");
  a.io().except("team").emit("not team");
  CHECK(events(a1, 1) == std::vector<chat::json>{{"team"}});
  CHECK(events(b0, 1) == std::vector<chat::json>{{"team"}});
  CHECK(events(a0, 1) == std::vector<chat::json>{{"not team"}});

  // A socket's data and rooms, seen from the other server.
  std::promise<std::vector<chat::SocketInfo>> found;
  a.on(0, [&] { a.io().shard(0).of("/").all().fetch_sockets([&](auto s) { found.set_value(std::move(s)); }); });
  auto sockets = found.get_future().get();
  REQUIRE(sockets.size() == 3);
  const auto of_b = std::find_if(sockets.begin(), sockets.end(), [&](const auto& s) { return s.id == b0.id; });
  REQUIRE(of_b != sockets.end());
  std::vector<chat::Room> rooms = of_b->rooms;
  std::sort(rooms.begin(), rooms.end());
  CHECK(rooms == std::vector<chat::Room>{std::min(b0.id, std::string("team")), std::max(b0.id, std::string("team"))});

  std::promise<std::vector<chat::Room>> all;
  b.on(0, [&] { b.io().shard(0).of("/").adapter().all_rooms({}, [&](auto r) { all.set_value(std::move(r)); }); });
  auto every = all.get_future().get();
  std::sort(every.begin(), every.end());
  std::vector<chat::Room> expected{a0.id, a1.id, b0.id, "team"};
  std::sort(expected.begin(), expected.end());
  CHECK(every == expected);

  // Leaving and disconnecting, from B.
  b.io().to(a1.id).sockets_leave("team");
  b.io().to("team").emit("team again");
  CHECK(events(b0, 2).back() == chat::json{"team again"});
  b.io().to(a0.id).disconnect_sockets();
  REQUIRE(eventually([&] {
    for (auto& packet : a0.local->take_received()) a0.seen.push_back(std::move(packet));
    return std::any_of(a0.seen.begin(), a0.seen.end(), [](const Packet& p) { return p.type == PacketType::disconnect; });
  }));
  a.io().emit("after");
  CHECK(events(a1, 2).back() == chat::json{"after"});
  CHECK(events(b0, 3).back() == chat::json{"after"});
}

TEST_CASE("cluster: server-side emits and broadcasts with acks gather every server's answers", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(2, redis.url()), b(1, redis.url());
  b.io().each([](chat::Server<>& shard) {
    shard.of("/").on_server_side_emit([](const std::string& event, chat::Args args, std::function<void(chat::Args)> reply) {
      if (reply) reply(chat::Args::of("B got " + event, args[0]));
    });
  });
  wait_for_cluster(a, b);
  auto a0 = a.connect(0), a1 = a.connect(1), b0 = b.connect(0);

  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> replied;
  a.io().shard(0).of("/").server_side_emit_with_ack(
      chat::Args::of("ping", 7), [&](std::error_code e, std::vector<chat::Args> r) { replied.set_value({e, std::move(r)}); },
      5s);
  auto [error, replies] = replied.get_future().get();
  CHECK_FALSE(error);
  REQUIRE(replies.size() == 1);
  CHECK(replies[0][0] == "B got ping");  // only the first argument crosses, as with Node

  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> answered;
  b.on(0, [&] {
    b.io().shard(0).of("/").all().emit_with_ack("question", chat::Args(), [&](std::error_code e, std::vector<chat::Args> r) {
      answered.set_value({e, std::move(r)});
    }, 5s);
  });
  std::vector<std::pair<Member*, Member::Client*>> everyone{{&a, &a0}, {&a, &a1}, {&b, &b0}};
  for (std::size_t i = 0; i < everyone.size(); ++i) {
    auto& [member, client] = everyone[i];
    Packet question;
    REQUIRE(eventually([&] {
      for (auto& packet : client->local->take_received())
        if (packet.type == PacketType::event) question = packet;
      return question.id.has_value();
    }));
    Packet ack;
    ack.type = PacketType::ack;
    ack.id = question.id;
    ack.data = chat::json::array({"answer " + std::to_string(i)});
    const std::size_t shard = client == &a1 ? 1 : 0;
    member->on(shard, [&] { client->local->send(ack); });
  }
  auto [ack_error, answers] = answered.get_future().get();
  CHECK_FALSE(ack_error);
  std::vector<std::string> from;
  for (const auto& args : answers) from.push_back(args[0].get<std::string>());
  std::sort(from.begin(), from.end());
  CHECK(from == std::vector<std::string>{"answer 0", "answer 1", "answer 2"});
}

TEST_CASE("cluster: Redis going away and coming back", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(1, redis.url()), b(1, redis.url());
  wait_for_cluster(a, b);
  auto a0 = a.connect(0), b0 = b.connect(0);

  redis.stop();
  REQUIRE(eventually([&] { return !a.cluster().connected() && !b.cluster().connected(); }));
  // Alone meanwhile: local delivery goes on, requests are answered from here.
  for (int i = 0; i < 20; ++i) a.io().emit("alone", i);
  CHECK(events(a0, 20).size() == 20);
  CHECK(a.server_count() == 1);
  std::promise<std::size_t> fetched;
  a.on(0, [&] { a.io().shard(0).of("/").all().fetch_sockets([&](auto s) { fetched.set_value(s.size()); }); });
  CHECK(fetched.get_future().get() == 1);

  redis.start();
  REQUIRE(eventually([&] { return a.cluster().connected() && b.cluster().connected(); }));
  wait_for_cluster(a, b);
  a.io().emit("together");
  CHECK(events(b0, 1) == std::vector<chat::json>{{"together"}});
  // The loss and the return, once each, however many broadcasts went out alone.
  const auto errors = a.errors();
  INFO(chat::json(errors).dump(1));
  CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) { return e.rfind("redis: lost", 0) == 0; }) == 1);
  CHECK(std::count_if(errors.begin(), errors.end(), [](const std::string& e) { return e.find("is back; this server") != std::string::npos; }) == 1);
}

TEST_CASE("cluster: a server that never answers delays a request by the timeout only", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(1, redis.url());
  auto a0 = a.connect(0);
  // A silent member: subscribed to the request channel (so counted), answering nothing.
  asio::io_context io;
  auto silent = chat::redis::detail::Connection::create(io, chat::redis::detail::parse_endpoint(redis.url()),
                                                        chat::redis::detail::Connection::Role::subscriber, {});
  silent->subscribe("socket.io-request#/#");
  silent->start();
  REQUIRE(redis_test::run_until(io, [&] { return silent->ready(); }));
  REQUIRE(eventually([&] { return a.server_count() == 2; }));

  std::promise<std::vector<chat::SocketInfo>> found;
  a.on(0, [&] { a.io().shard(0).of("/").all().fetch_sockets([&](auto s) { found.set_value(std::move(s)); }); });
  auto result = found.get_future();
  REQUIRE(result.wait_for(10s) == std::future_status::ready);  // requests_timeout is 1.5 s here
  CHECK(result.get().size() == 1);  // what came: this server's
  const auto errors = a.errors();
  CHECK(std::any_of(errors.begin(), errors.end(), [](const std::string& e) {
    return e.find("0 of 1 servers answered") != std::string::npos;
  }));

  // Waiting longer than requests_timeout: the cluster gives up on the silent server first, and
  // the callback still comes, at the emit's own timeout, saying so.
  using Outcome = std::pair<std::error_code, std::vector<chat::Args>>;
  std::promise<Outcome> replied;
  a.on(0, [&] {
    a.io().shard(0).of("/").server_side_emit_with_ack(chat::Args::of("ping"), [&](std::error_code e, std::vector<chat::Args> r) {
      replied.set_value({e, std::move(r)});
    }, 3s);
  });
  auto replies = replied.get_future();
  REQUIRE(replies.wait_for(10s) == std::future_status::ready);
  CHECK(replies.get() == Outcome{chat::errc::ack_timeout, {}});
  silent->close();
}

TEST_CASE("cluster: messages that are not Node's format are dropped and reported", "[redis][cluster]") {
  redis_test::RedisServer redis;
  Member a(2, redis.url());
  auto a0 = a.connect(0), a1 = a.connect(1);
  REQUIRE(eventually([&] { return a.server_count() == 1; }));
  asio::io_context io;
  auto publisher = chat::redis::detail::Connection::create(io, chat::redis::detail::parse_endpoint(redis.url()),
                                                           chat::redis::detail::Connection::Role::commands, {});
  publisher->start();
  REQUIRE(redis_test::run_until(io, [&] { return publisher->ready(); }));
  const std::vector<std::pair<std::string, std::string>> junk{
      {"socket.io#/#", ""},
      {"socket.io#/#", "\x93\xa1x"},                       // truncated
      {"socket.io#/#", std::string("\xdd\xff\xff\xff\xff", 5)},  // an array of 4 G elements, announced
      {"socket.io#/#room#", "{\"not\":\"msgpack\"}"},
      {"socket.io-request#/#", "{\"type\":99}"},
      {"socket.io-request#/#", "[1,2,3]"},
      {"socket.io-request#/#", "{\"type\":5,\"opts\":7}"},
      {"socket.io-response#/#", "{}"},
  };
  int published = 0;
  for (const auto& [channel, payload] : junk)
    REQUIRE(publisher->command({"PUBLISH", channel, payload}, [&](chat::redis::detail::Reply) { ++published; }));
  REQUIRE(redis_test::run_until(io, [&] { return published == int(junk.size()); }));
  a.io().emit("still here");
  CHECK(events(a0, 1) == std::vector<chat::json>{{"still here"}});
  CHECK(events(a1, 1) == std::vector<chat::json>{{"still here"}});
  // The emit reached a's own sockets without Redis: the junk is reported once a's subscriber
  // has read it, maybe later.
  const auto reported = [&] {
    const auto errors = a.errors();
    return std::count_if(errors.begin(), errors.end(),
                         [](const std::string& e) { return e.find("not Node's format") != std::string::npos; });
  };
  REQUIRE(eventually([&] { return reported() > 0; }));
  CHECK(reported() == 1);  // the first, then one in a thousand
  publisher->close();
}
