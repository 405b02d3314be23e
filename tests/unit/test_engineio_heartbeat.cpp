#include <chat/engineio/heartbeat.hpp>

#include <catch2/catch.hpp>

#include <chrono>

#include "unit_support.hpp"

using chat::engineio::Heartbeat;
using Action = Heartbeat::Action;
using std::chrono::milliseconds;

namespace {
const Heartbeat::Clock::time_point t0{std::chrono::seconds(1000)};
Heartbeat::Clock::time_point at(int ms) { return t0 + milliseconds(ms); }
}  // namespace

TEST_CASE("heartbeat: the first ping is due exactly one interval after the start", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(300), milliseconds(200), t0);
  CHECK(heartbeat.deadline() == at(300));
  CHECK_FALSE(heartbeat.awaiting_pong());
  CHECK(heartbeat.on_timer(at(0)) == Action::none);
  CHECK(heartbeat.on_timer(at(299)) == Action::none);
  CHECK(heartbeat.deadline() == at(300));
  CHECK_FALSE(heartbeat.awaiting_pong());
  CHECK(heartbeat.on_timer(at(300)) == Action::send_ping);
  CHECK(heartbeat.awaiting_pong());
  CHECK(heartbeat.deadline() == at(500));
  // The ping is not sent twice while waiting for its pong.
  CHECK(heartbeat.on_timer(at(300)) == Action::none);
  CHECK(heartbeat.on_timer(at(499)) == Action::none);
}

TEST_CASE("heartbeat: no pong within the timeout means timed_out, and it stays timed out", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(300), milliseconds(200), t0);
  REQUIRE(heartbeat.on_timer(at(300)) == Action::send_ping);
  CHECK(heartbeat.on_timer(at(499)) == Action::none);
  CHECK(heartbeat.on_timer(at(500)) == Action::timed_out);
  CHECK(heartbeat.on_timer(at(501)) == Action::timed_out);
  CHECK(heartbeat.on_timer(at(10000)) == Action::timed_out);
  CHECK(heartbeat.awaiting_pong());
}

TEST_CASE("heartbeat: a pong re-arms the interval from its arrival", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(300), milliseconds(200), t0);
  REQUIRE(heartbeat.on_timer(at(300)) == Action::send_ping);
  heartbeat.on_pong(at(350));
  CHECK_FALSE(heartbeat.awaiting_pong());
  CHECK(heartbeat.deadline() == at(650));
  // The old timeout deadline (500) no longer applies.
  CHECK(heartbeat.on_timer(at(500)) == Action::none);
  CHECK(heartbeat.on_timer(at(649)) == Action::none);
  CHECK(heartbeat.on_timer(at(650)) == Action::send_ping);
  CHECK(heartbeat.deadline() == at(850));
  // A pong at the last moment still counts.
  heartbeat.on_pong(at(849));
  CHECK(heartbeat.deadline() == at(1149));
  CHECK(heartbeat.on_timer(at(850)) == Action::none);
  CHECK(heartbeat.on_timer(at(1149)) == Action::send_ping);
}

TEST_CASE("heartbeat: three rounds of ping and pong keep the session alive", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(300), milliseconds(200), t0);
  int now = 0;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    now += 300;
    CHECK(heartbeat.on_timer(at(now - 1)) == Action::none);
    CHECK(heartbeat.on_timer(at(now)) == Action::send_ping);
    now += 50;
    heartbeat.on_pong(at(now));
    CHECK_FALSE(heartbeat.awaiting_pong());
  }
  CHECK(heartbeat.deadline() == at(now + 300));
}

TEST_CASE("heartbeat: a pong nobody asked for is ignored", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(300), milliseconds(200), t0);
  heartbeat.on_pong(at(100));
  CHECK(heartbeat.deadline() == at(300));  // not pushed to 400
  CHECK_FALSE(heartbeat.awaiting_pong());
  CHECK(heartbeat.on_timer(at(300)) == Action::send_ping);

  // A second pong for the same ping is unsolicited too.
  heartbeat.on_pong(at(320));
  CHECK(heartbeat.deadline() == at(620));
  heartbeat.on_pong(at(400));
  CHECK(heartbeat.deadline() == at(620));
  CHECK(heartbeat.on_timer(at(620)) == Action::send_ping);
  CHECK(heartbeat.on_timer(at(820)) == Action::timed_out);
}

TEST_CASE("heartbeat: a late timer sends the ping then and counts the timeout from then", "[engineio][heartbeat]") {
  Heartbeat heartbeat(milliseconds(25000), milliseconds(20000), t0);
  CHECK(heartbeat.on_timer(at(30000)) == Action::send_ping);
  CHECK(heartbeat.deadline() == at(50000));
  CHECK(heartbeat.on_timer(at(49999)) == Action::none);
  CHECK(heartbeat.on_timer(at(50000)) == Action::timed_out);
}
