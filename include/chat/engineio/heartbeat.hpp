// The server-driven Engine.IO v4 heartbeat as a state machine: time in, actions out.
#ifndef CHAT_ENGINEIO_HEARTBEAT_HPP
#define CHAT_ENGINEIO_HEARTBEAT_HPP

#include <chrono>  // steady_clock, milliseconds

namespace chat::engineio {

/// Pings every `interval`; declares the peer dead when a ping goes `timeout` without a pong.
/// A pong re-arms the interval from the moment it arrives, as Node's engine.io does.
class Heartbeat {
 public:
  /// The clock deadlines are on.
  using Clock = std::chrono::steady_clock;

  /// What `on_timer` asks the session to do.
  enum class Action {
    none,       ///< nothing is due yet
    send_ping,  ///< send `2` now
    timed_out,  ///< no pong in time: close the session with "ping timeout"
  };

  /// A heartbeat whose first ping is due `interval` after `now`.
  Heartbeat(std::chrono::milliseconds interval, std::chrono::milliseconds timeout, Clock::time_point now)
      : interval_(interval), timeout_(timeout), deadline_(now + interval) {}

  /// When `on_timer` next has something to do.
  Clock::time_point deadline() const { return deadline_; }

  /// Whether a ping is out and unanswered.
  bool awaiting_pong() const { return awaiting_pong_; }

  /// The timer fired at `now`: what is due (a ping, a timeout, or nothing yet), with the next
  /// `deadline()` set.
  Action on_timer(Clock::time_point now) {
    if (now < deadline_) return Action::none;
    if (awaiting_pong_) return Action::timed_out;
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

 private:
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_;
  bool awaiting_pong_ = false;
};

}  // namespace chat::engineio

#endif  // CHAT_ENGINEIO_HEARTBEAT_HPP
