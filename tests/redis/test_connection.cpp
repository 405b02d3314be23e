// The Redis connection (chat/redis/detail/connection.hpp) against a real redis-server.
#include <catch2/catch.hpp>

#include <chat/redis/adapter.hpp>
#include <chat/redis/detail/connection.hpp>

#include <asio/ip/tcp.hpp>

#include "redis_server.hpp"
#include "redis_support.hpp"

using chat::redis::detail::Connection;
using chat::redis::detail::ConnectionLimits;
using chat::redis::detail::Endpoint;
using chat::redis::detail::parse_endpoint;
using chat::redis::detail::Reply;
using redis_test::run_until;

namespace {

struct Message {
  std::string channel, pattern, payload;
};

/// A connection with its events recorded.
struct Probe {
  int ready = 0;
  std::vector<std::string> lost;
  std::vector<Message> messages;
  std::shared_ptr<Connection> connection;

  Probe(asio::io_context& io, const std::string& url, Connection::Role role, ConnectionLimits limits = {}) {
    Connection::Hooks hooks;
    hooks.on_ready = [this] { ++ready; };
    hooks.on_lost = [this](const std::string& why) { lost.push_back(why); };
    hooks.on_message = [this](const std::string& channel, const std::string& pattern, std::string payload) {
      messages.push_back({channel, pattern, std::move(payload)});
    };
    connection = Connection::create(io, parse_endpoint(url), role, std::move(hooks), limits);
    connection->start();
  }
  ~Probe() { connection->close(); }
};

/// Sends one command and waits for its reply.
Reply ask(asio::io_context& io, Connection& connection, std::vector<std::string_view> argv) {
  std::optional<Reply> reply;
  REQUIRE(connection.command(argv, [&](Reply r) { reply = std::move(r); }));
  REQUIRE(run_until(io, [&] { return reply.has_value(); }));
  return *reply;
}

}  // namespace

TEST_CASE("Redis URLs are read as redis-py and node-redis read them", "[redis][endpoint]") {
  Endpoint plain = parse_endpoint("redis://example.org");
  CHECK(plain.host == "example.org");
  CHECK(plain.port == 6379);
  CHECK(plain.db == 0);
  CHECK(plain.password.empty());

  Endpoint full = parse_endpoint("redis://alice:p%40ss@10.0.0.2:6380/3");
  CHECK(full.host == "10.0.0.2");
  CHECK(full.port == 6380);
  CHECK(full.username == "alice");
  CHECK(full.password == "p@ss");
  CHECK(full.db == 3);
  CHECK(full.describe() == "10.0.0.2:6380/3");  // never the password

  Endpoint password_only = parse_endpoint("redis://:secret@localhost/");
  CHECK(password_only.username.empty());
  CHECK(password_only.password == "secret");
  CHECK(parse_endpoint("redis://secret@localhost").password == "secret");

  Endpoint ipv6 = parse_endpoint("redis://[::1]:7000?db=2");
  CHECK(ipv6.host == "::1");
  CHECK(ipv6.port == 7000);
  CHECK(ipv6.db == 2);
  CHECK(parse_endpoint("redis://").host == "127.0.0.1");

  CHECK_THROWS_WITH(parse_endpoint("rediss://h"), Catch::Contains("TLS"));
  CHECK_THROWS_WITH(parse_endpoint("http://h"), Catch::Contains("expected redis://"));
  CHECK_THROWS_WITH(parse_endpoint("redis://h:99999"), Catch::Contains("port"));
  CHECK_THROWS_WITH(parse_endpoint("redis://h:"), Catch::Contains("port"));
  CHECK_THROWS_WITH(parse_endpoint("redis://h/x"), Catch::Contains("database"));
  CHECK_THROWS_WITH(parse_endpoint("redis://h?timeout=3"), Catch::Contains("timeout=3"));
  CHECK_THROWS_WITH(parse_endpoint("redis://[::1"), Catch::Contains("["));
}

TEST_CASE("A command connection answers in order, binary-safe", "[redis][connection]") {
  redis_test::RedisServer redis;
  asio::io_context io;
  Probe probe(io, redis.url(), Connection::Role::commands);
  REQUIRE(run_until(io, [&] { return probe.ready == 1; }));

  const std::string value("a\0b\r\n\xff", 6);
  CHECK(ask(io, *probe.connection, {"SET", "key", value}).str == "OK");
  const Reply got = ask(io, *probe.connection, {"GET", "key"});
  CHECK(got.type == Reply::Type::string);
  CHECK(got.str == value);
  CHECK(ask(io, *probe.connection, {"GET", "missing"}).type == Reply::Type::nil);
  CHECK(ask(io, *probe.connection, {"INCR", "counter"}).integer == 1);
  const Reply error = ask(io, *probe.connection, {"INCR", "key"});
  CHECK(error.is_error());

  // Many in flight at once come back in order.
  std::vector<long long> order;
  for (int i = 0; i < 100; ++i)
    REQUIRE(probe.connection->command({"INCR", "counter"}, [&](Reply r) { order.push_back(r.integer); }));
  REQUIRE(run_until(io, [&] { return order.size() == 100; }));
  for (int i = 0; i < 100; ++i) CHECK(order[i] == i + 2);
  CHECK(probe.lost.empty());
}

TEST_CASE("A subscriber gets the messages of its channels and patterns", "[redis][connection]") {
  redis_test::RedisServer redis;
  asio::io_context io;
  Probe publisher(io, redis.url(), Connection::Role::commands);
  Probe subscriber(io, redis.url(), Connection::Role::subscriber);
  subscriber.connection->subscribe("news");
  subscriber.connection->psubscribe("room#*");
  REQUIRE(run_until(io, [&] { return publisher.ready == 1 && subscriber.ready == 1; }));
  // The subscriptions are made once the NUMSUB of the channel says so.
  REQUIRE(run_until(io, [&] {
    return ask(io, *publisher.connection, {"PUBSUB", "NUMSUB", "news"}).elements.at(1).integer == 1;
  }));

  const std::string payload("\x93\xa6uid\0", 6);
  CHECK(ask(io, *publisher.connection, {"PUBLISH", "news", payload}).integer == 1);
  CHECK(ask(io, *publisher.connection, {"PUBLISH", "room#1#", "hello"}).integer == 1);
  CHECK(ask(io, *publisher.connection, {"PUBLISH", "other", "nobody"}).integer == 0);
  REQUIRE(run_until(io, [&] { return subscriber.messages.size() == 2; }));
  CHECK(subscriber.messages[0].channel == "news");
  CHECK(subscriber.messages[0].pattern.empty());
  CHECK(subscriber.messages[0].payload == payload);
  CHECK(subscriber.messages[1].channel == "room#1#");
  CHECK(subscriber.messages[1].pattern == "room#*");
  CHECK(subscriber.messages[1].payload == "hello");

  subscriber.connection->unsubscribe("news");
  REQUIRE(run_until(io, [&] {
    return ask(io, *publisher.connection, {"PUBSUB", "NUMSUB", "news"}).elements.at(1).integer == 0;
  }));
}

TEST_CASE("A password and a database number are used", "[redis][connection]") {
  redis_test::RedisServer redis("s3cret");
  asio::io_context io;
  const std::string base = "redis://127.0.0.1:" + std::to_string(redis.port());

  SECTION("a wrong password is a clear error, retried") {
    Probe probe(io, "redis://:wrong@127.0.0.1:" + std::to_string(redis.port()), Connection::Role::commands);
    REQUIRE(run_until(io, [&] { return probe.lost.size() >= 2; }));
    CHECK_THAT(probe.lost[0], Catch::Contains("refused") && Catch::Contains("WRONGPASS"));
    CHECK(probe.ready == 0);
  }
  SECTION("the right one, and SELECT") {
    Probe in_three(io, redis.url() + "/3", Connection::Role::commands);
    Probe in_zero(io, redis.url(), Connection::Role::commands);
    REQUIRE(run_until(io, [&] { return in_three.ready == 1 && in_zero.ready == 1; }));
    CHECK(ask(io, *in_three.connection, {"SET", "where", "three"}).str == "OK");
    CHECK(ask(io, *in_three.connection, {"GET", "where"}).str == "three");
    CHECK(ask(io, *in_zero.connection, {"GET", "where"}).type == Reply::Type::nil);
  }
}

TEST_CASE("A lost connection fails what waits, comes back and subscribes again", "[redis][connection]") {
  redis_test::RedisServer redis;
  asio::io_context io;
  ConnectionLimits quick;
  quick.first_retry = std::chrono::milliseconds(20);
  quick.last_retry = std::chrono::milliseconds(200);
  Probe publisher(io, redis.url(), Connection::Role::commands, quick);
  Probe subscriber(io, redis.url(), Connection::Role::subscriber, quick);
  subscriber.connection->psubscribe("chan*");
  REQUIRE(run_until(io, [&] { return publisher.ready == 1 && subscriber.ready == 1; }));

  // A command that cannot be answered: BLPOP waits on the server until it dies.
  std::optional<Reply> pending;
  REQUIRE(publisher.connection->command({"BLPOP", "nothing", "0"}, [&](Reply r) { pending = std::move(r); }));
  run_until(io, [] { return false; }, std::chrono::milliseconds(50));  // the BLPOP reaches the server
  redis.stop();
  REQUIRE(run_until(io, [&] { return pending.has_value() && subscriber.lost.size() == 1; }));
  CHECK(pending->is_error());
  CHECK_THAT(pending->str, Catch::Contains("connection lost"));
  CHECK(!publisher.connection->ready());
  CHECK_FALSE(publisher.connection->command({"PING"}, [](Reply) {}));  // refused while down

  // Down for a while: the attempts fail quietly (each reported to on_lost, the caller's to log once).
  REQUIRE(run_until(io, [&] { return subscriber.lost.size() >= 3; }));
  redis.start();
  REQUIRE(run_until(io, [&] { return publisher.ready == 2 && subscriber.ready == 2; }));
  REQUIRE(run_until(io, [&] {
    const Reply numsub = ask(io, *publisher.connection, {"PUBSUB", "NUMPAT"});
    return numsub.integer == 1;
  }));
  CHECK(ask(io, *publisher.connection, {"PUBLISH", "chan1", "again"}).integer == 1);
  REQUIRE(run_until(io, [&] { return subscriber.messages.size() == 1; }));
  CHECK(subscriber.messages[0].payload == "again");
}

TEST_CASE("Nothing listening, or something that is not Redis, is retried with a deadline", "[redis][connection]") {
  asio::io_context io;
  ConnectionLimits quick;
  quick.connect_timeout = std::chrono::milliseconds(200);
  quick.first_retry = std::chrono::milliseconds(20);
  quick.last_retry = std::chrono::milliseconds(100);

  SECTION("a closed port") {
    const auto port = redis_test::free_port();
    Probe probe(io, "redis://127.0.0.1:" + std::to_string(port), Connection::Role::commands, quick);
    REQUIRE(run_until(io, [&] { return probe.lost.size() >= 2; }));
    CHECK_THAT(probe.lost[0], Catch::Contains("cannot connect to 127.0.0.1:" + std::to_string(port)));
  }
  SECTION("a listener that never answers") {
    asio::ip::tcp::acceptor silent(io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    const auto port = silent.local_endpoint().port();
    Probe probe(io, "redis://127.0.0.1:" + std::to_string(port), Connection::Role::commands, quick);
    REQUIRE(run_until(io, [&] { return probe.lost.size() >= 2; }));
    CHECK_THAT(probe.lost[0], Catch::Contains("no answer within 200 ms"));
    CHECK(probe.ready == 0);
  }
  SECTION("a name that does not resolve") {
    Probe probe(io, "redis://no-such-host.invalid:6379", Connection::Role::commands, quick);
    REQUIRE(run_until(io, [&] { return !probe.lost.empty(); }));
    CHECK_THAT(probe.lost[0], Catch::Contains("cannot resolve no-such-host.invalid"));
  }
}

TEST_CASE("What is not yet written to Redis is bounded", "[redis][connection]") {
  redis_test::RedisServer redis;
  asio::io_context io;
  ConnectionLimits small;
  small.max_unwritten_bytes = 1000;
  Probe probe(io, redis.url(), Connection::Role::commands, small);
  REQUIRE(run_until(io, [&] { return probe.ready == 1; }));
  const std::string big(800, 'x');
  int answered = 0;
  // The first is being written, the second waits behind it, the third is over the bound.
  CHECK(probe.connection->command({"SET", "a", big}, [&](Reply) { ++answered; }));
  CHECK(probe.connection->command({"SET", "b", big}, [&](Reply) { ++answered; }));
  CHECK_FALSE(probe.connection->command({"SET", "c", big}, [&](Reply) { ++answered; }));
  REQUIRE(run_until(io, [&] { return answered == 2; }));
  CHECK(probe.connection->command({"SET", "c", big}, [&](Reply) { ++answered; }));  // room again
  REQUIRE(run_until(io, [&] { return answered == 3; }));
}

TEST_CASE("ping says whether a Redis answers, and why not", "[redis][connection]") {
  redis_test::RedisServer redis("pw");
  CHECK_NOTHROW(chat::redis::ping("redis://:pw@127.0.0.1:" + std::to_string(redis.port())));
  CHECK_THROWS_WITH(chat::redis::ping("redis://:bad@127.0.0.1:" + std::to_string(redis.port())),
                    Catch::Contains("does not answer") && Catch::Contains("WRONGPASS"));
  const auto closed = redis_test::free_port();
  CHECK_THROWS_WITH(chat::redis::ping("redis://127.0.0.1:" + std::to_string(closed), std::chrono::milliseconds(500)),
                    Catch::Contains("refused"));
  CHECK_THROWS_AS(chat::redis::ping("redis://h:0"), std::invalid_argument);
}
