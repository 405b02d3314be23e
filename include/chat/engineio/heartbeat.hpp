// The Engine.IO heartbeat as a state machine: time in, actions out. v4's server pings and waits
// for the pong; v3's client pings and the server answers (Heartbeat::Direction).
#ifndef CHAT_ENGINEIO_HEARTBEAT_HPP
#define CHAT_ENGINEIO_HEARTBEAT_HPP

#include <chrono>  // steady_clock, milliseconds

namespace chat::engineio {

/// Pings every `interval`; declares the peer dead when a ping goes `timeout` without a pong.
/// A pong re-arms the interval from the moment it arrives, as Node's engine.io does. With
/// Direction::client_pings (Engine.IO v3) it never pings: the peer is dead when no ping came
/// for `interval` + `timeout`, and each ping (on_client_ping) starts that wait again.
class Heartbeat {
 public:
  /// The clock deadlines are on.
  using Clock = std::chrono::steady_clock;

  /// Who pings.
  enum class Direction {
    server_pings,  ///< Engine.IO v4
    client_pings,  ///< Engine.IO v3: the server answers each ping with a pong
  };

  /// What `on_timer` asks the session to do.
  enum class Action {
    none,       ///< nothing is due yet
    send_ping,  ///< send `2` now
    timed_out,  ///< no pong in time: close the session with "ping timeout"
  };

  /// A heartbeat whose first ping is due `interval` after `now` (with Direction::client_pings:
  /// whose peer is dead unless it pings within `interval` + `timeout`).
  Heartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds timeout, Clock::time_point now,
            Direction direction = Direction::server_pings)
      : interval_(interval),
        timeout_(timeout),
        deadline_(direction == Direction::client_pings ? now + interval + timeout : now + interval),
        direction_(direction) {}

  /// Who pings.
  Direction direction() const { return direction_; }

  /// When `on_timer` next has something to do.
  Clock::time_point deadline() const { return deadline_; }

  /// Whether a ping is out and unanswered.
  bool awaiting_pong() const { return awaiting_pong_; }

  /// The timer fired at `now`: what is due (a ping, a timeout, or nothing yet), with the next
  /// `deadline()` set.
  Action on_timer(Clock::time_point now) {
    if (now < deadline_) return Action::none;
    if (awaiting_pong_ || direction_ == Direction::client_pings) return Action::timed_out;
    awaiting_pong_ = true;
    deadline_ = now + timeout_;
    return Action::send_ping;
  }

  /// A pong arrived. A pong nobody asked for is ignored (the client may answer late).
  void on_pong(Clock::time_point now) {
    if (!awaiting_pong_) return;
    awaiting_pong_ = false;
    deadline_ = now + interval_;
  }

  /// The client pinged (Direction::client_pings): it is alive for `interval` + `timeout` more.
  void on_client_ping(Clock::time_point now) { deadline_ = now + interval_ + timeout_; }

 private:
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_;
  Direction direction_;
  bool awaiting_pong_ = false;
};

}  // namespace chat::engineio

#endif  // CHAT_ENGINEIO_HEARTBEAT_HPP
