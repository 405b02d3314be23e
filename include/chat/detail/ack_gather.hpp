// Gathers the answers of a request sent to many (a broadcast with acks, a server-side emit with
// acks): done when every expected answer came, or at the timeout with those that did. Node's
// BroadcastOperator.emit with an ack, as a class.
#ifndef CHAT_DETAIL_ACK_GATHER_HPP
#define CHAT_DETAIL_ACK_GATHER_HPP

#include <chrono>        // milliseconds
#include <cstddef>       // size_t
#include <functional>    // function
#include <memory>        // shared_ptr, enable_shared_from_this
#include <optional>      // optional
#include <system_error>  // error_code
#include <utility>       // move
#include <vector>        // vector

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "../args.hpp"
#include "../errors.hpp"
#include "../fwd.hpp"

namespace chat::detail {

/// Io thread only. The answers expected come in reports (one per server): `report(n)` adds n
/// expected answers; the gathering is complete once `reports_expected` reports came (set when
/// known) and as many answers as they announced.
class AckGather : public std::enable_shared_from_this<AckGather> {
 public:
  AckGather(asio::io_context& io, AcksCallback callback) : timer_(io), callback_(std::move(callback)) {}

  /// Arms the timeout (zero: none).
  void start(std::chrono::milliseconds timeout) {
    if (timeout.count() <= 0) return;
    timer_.expires_after(timeout);
    // As a std::function: the one handler type chat's timers share (see Core::wait). It keeps
    // the gathering alive until the timeout or finish(): those that report and answer may all
    // let go first (a cluster that gave up on a server, recipients gone), and the callback is
    // still owed.
    timer_.async_wait(std::function<void(const std::error_code&)>([self = shared_from_this()](const std::error_code& ec) {
      if (!ec) self->finish(errc::ack_timeout);
    }));
  }
  /// How many reports will come.
  void expect_reports(std::size_t reports) {
    reports_expected_ = reports;
    check();
  }
  /// One server reached `answers` recipients.
  void report(std::size_t answers) {
    ++reports_;
    answers_expected_ += answers;
    check();
  }
  /// One answer.
  void answer(Args args) {
    if (done_) return;
    answers_.push_back(std::move(args));
    check();
  }

 private:
  void check() {
    if (!done_ && reports_expected_ && reports_ >= *reports_expected_ && answers_.size() >= answers_expected_)
      finish(std::error_code());
  }
  void finish(std::error_code error) {
    if (done_) return;
    done_ = true;
    timer_.cancel();
    if (callback_) callback_(error, std::move(answers_));
  }

  asio::steady_timer timer_;
  AcksCallback callback_;
  std::optional<std::size_t> reports_expected_;
  std::size_t reports_ = 0;
  std::size_t answers_expected_ = 0;
  std::vector<Args> answers_;
  bool done_ = false;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_ACK_GATHER_HPP
