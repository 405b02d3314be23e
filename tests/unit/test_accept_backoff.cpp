// The accept loops' policy after a failed accept (detail/accept_backoff.hpp): out of descriptors
// it waits, longer each time up to a bound, and reports once per episode; a failure that
// concerns one connection only is retried at once.
#include <chat/detail/accept_backoff.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <chrono>
#include <system_error>

using chat::detail::AcceptBackoff;
using namespace std::chrono_literals;

namespace {
std::error_code errno_code(int value) { return {value, std::system_category()}; }
}  // namespace

TEST_CASE("accept backoff: out of descriptors waits longer each time, up to a bound, said once", "[accept]") {
  AcceptBackoff backoff;
  auto first = backoff.failed(errno_code(EMFILE));
  CHECK(first.delay == AcceptBackoff::first_delay);
  CHECK_FALSE(first.message.empty());
  CHECK(first.message.find("accept failed") != std::string::npos);
  CHECK(first.message.find(errno_code(EMFILE).message()) != std::string::npos);
  std::chrono::milliseconds previous = first.delay;
  for (int i = 0; i < 20; ++i) {
    auto next = backoff.failed(errno_code(i % 2 ? ENFILE : ENOBUFS));
    CHECK(next.message.empty());
    CHECK(next.delay >= previous);
    CHECK(next.delay <= AcceptBackoff::max_delay);
    previous = next.delay;
  }
  CHECK(previous == AcceptBackoff::max_delay);
  CHECK(backoff.failing());

  // Accepting works again: the next failure is a new episode, reported, from the first delay.
  backoff.succeeded();
  CHECK_FALSE(backoff.failing());
  auto again = backoff.failed(errno_code(ENOMEM));
  CHECK_FALSE(again.message.empty());
  CHECK(again.delay == AcceptBackoff::first_delay);
}

TEST_CASE("accept backoff: a connection reset before it was accepted is retried at once", "[accept]") {
  AcceptBackoff backoff;
  for (int value : {ECONNABORTED, EINTR, EPROTO, EPERM}) {
    INFO(value);
    auto decision = backoff.failed(errno_code(value));
    CHECK(decision.delay == 0ms);
    CHECK(decision.message.empty());
  }
  CHECK_FALSE(backoff.failing());
}
