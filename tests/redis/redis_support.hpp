// What the Redis tests share: running an io_context until something happened.
#ifndef CHAT_TESTS_REDIS_SUPPORT_HPP
#define CHAT_TESTS_REDIS_SUPPORT_HPP

#include <chrono>
#include <functional>

#include <asio/io_context.hpp>

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

}  // namespace redis_test

#endif  // CHAT_TESTS_REDIS_SUPPORT_HPP
