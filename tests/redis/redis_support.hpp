// What the Redis tests share: running an io_context until something happened.
#ifndef CHAT_TESTS_REDIS_SUPPORT_HPP
#define CHAT_TESTS_REDIS_SUPPORT_HPP

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <asio/io_context.hpp>

#include <chat/redis/detail/connection.hpp>

namespace redis_test {

/// Runs `io` until `done()` or `limit` has passed; returns `done()`. The limit bounds a test that
/// fails, it never decides a pass.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.restart();
    io.run_one_for(std::chrono::milliseconds(10));
  }
  return done();
}

/// Waits (10 s at most, a guard for a test that fails, never a pass condition) until `done()`,
/// looking every 5 ms, for what other threads (servers' io threads) do.
inline bool eventually(const std::function<bool()>& done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

/// Waits (10 s at most) until `servers` connections subscribe to `channel` (PUBSUB NUMSUB): a
/// server's subscriptions are made, so what is published next reaches it.
inline bool subscribed(const std::string& url, const std::string& channel, long long servers = 1) {
  asio::io_context io;
  auto probe = chat::redis::detail::Connection::create(io, chat::redis::detail::parse_endpoint(url),
                                                       chat::redis::detail::Connection::Role::commands, {});
  probe->start();
  long long seen = -1;
  bool asking = false;
  const bool done = run_until(io, [&] {
    if (seen == servers) return true;
    if (!asking && probe->ready())
      asking = probe->command({"PUBSUB", "NUMSUB", channel}, [&](chat::redis::detail::Reply reply) {
        asking = false;
        if (reply.elements.size() == 2) seen = reply.elements[1].integer;
      });
    return false;
  });
  probe->close();
  return done;
}

}  // namespace redis_test

#endif  // CHAT_TESTS_REDIS_SUPPORT_HPP
