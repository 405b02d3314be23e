// What an accept loop does after a failed accept. Out of descriptors (EMFILE, ENFILE) or kernel
// memory (ENOBUFS, ENOMEM), the listening socket stays readable while the connection waits in the
// backlog, so accepting again at once fails again at once: a loop that retries immediately (as
// websocketpp's does) burns a core and starves everything else on its thread. This one waits,
// longer each time up to a bound, and says so once per episode. Sans-I/O: the caller owns the
// timer and the log.
#ifndef CHAT_DETAIL_ACCEPT_BACKOFF_HPP
#define CHAT_DETAIL_ACCEPT_BACKOFF_HPP

#include <algorithm>     // min
#include <cerrno>        // ECONNABORTED, EINTR, EPROTO, EPERM
#include <chrono>        // milliseconds
#include <string>        // string
#include <system_error>  // error_code, system_category

namespace chat::detail {

class AcceptBackoff {
 public:
  static constexpr std::chrono::milliseconds first_delay{10};
  static constexpr std::chrono::milliseconds max_delay{500};

  /// What to do after a failed accept.
  struct Decision {
    std::chrono::milliseconds delay{0};  ///< wait this long before accepting again (0: at once)
    std::string message;                 ///< the first failure of an episode: what to log, once
  };

  /// A failure that concerns one connection only (it was reset before it was accepted, a
  /// signal, a firewall's refusal) is retried at once; any other means the process or the
  /// system is out of something, and waits.
  Decision failed(const std::error_code& ec) {
    Decision decision;
    if (concerns_one_connection(ec)) return decision;
    delay_ = failing_ ? std::min(delay_ * 2, max_delay) : first_delay;
    decision.delay = delay_;
    if (!failing_) {
      decision.message = "accept failed: " + ec.message() + "; retrying every " +
                         std::to_string(first_delay.count()) + " to " + std::to_string(max_delay.count()) +
                         " ms until it succeeds (said once until then)";
    }
    failing_ = true;
    return decision;
  }

  /// An accept succeeded: the next failure starts a new episode.
  void succeeded() { failing_ = false; }

  bool failing() const { return failing_; }

  static bool concerns_one_connection(const std::error_code& ec) {
    if (ec.category() != std::system_category()) return false;
    switch (ec.value()) {
      case ECONNABORTED:
      case EINTR:
      case EPROTO:
      case EPERM:
        return true;
      default:
        return false;
    }
  }

 private:
  bool failing_ = false;
  std::chrono::milliseconds delay_{0};
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_ACCEPT_BACKOFF_HPP
