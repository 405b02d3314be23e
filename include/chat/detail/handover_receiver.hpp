// A worker process's end of its channel to the supervisor (WorkerProcesses): the connections
// the supervisor accepted and routed here arrive on it, as descriptors.
#ifndef CHAT_DETAIL_HANDOVER_RECEIVER_HPP
#define CHAT_DETAIL_HANDOVER_RECEIVER_HPP

#include <cstddef>       // size_t
#include <functional>    // function
#include <system_error>  // error_code
#include <utility>       // move

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include "descriptor_passing.hpp"
#include "native_socket.hpp"

namespace chat::detail {

/// Waits for the channel to be readable and gives each connection on it to `adopt`; says
/// `gone` once when the supervisor has closed its end (it stopped, or died). Takes at most
/// `batch` connections per turn of the loop, so that a flood of new connections does not starve
/// the sessions already open. Io thread of the io_context given only.
class HandoverReceiver {
 public:
  using Adopt = std::function<void(NativeSocket)>;
  using Gone = std::function<void()>;

  static constexpr std::size_t batch = 64;

  HandoverReceiver(asio::io_context& io, int channel, Adopt adopt, Gone gone)
      : io_(io), channel_(io, channel), adopt_(std::move(adopt)), gone_(std::move(gone)) {}

  HandoverReceiver(const HandoverReceiver&) = delete;
  HandoverReceiver& operator=(const HandoverReceiver&) = delete;

  void start() { take(); }

  /// Stops taking connections and closes the channel (the supervisor's sends then fail, and
  /// it closes what it would have handed over). Idempotent.
  void stop() {
    stopped_ = true;
    std::error_code ignored;
    channel_.close(ignored);
  }

 private:
  void wait() {
    channel_.async_wait(asio::posix::stream_descriptor::wait_read, [this](const std::error_code& ec) {
      if (stopped_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        supervisor_gone();
        return;
      }
      take();
    });
  }

  void take() {
    for (std::size_t taken = 0; taken < batch; ++taken) {
      if (stopped_) return;
      const ReceivedDescriptor received = receive_descriptor(channel_.native_handle());
      switch (received.status) {
        case ReceivedDescriptor::Status::received:
          adopt_(NativeSocket(received.ipv6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(), received.descriptor));
          break;
        case ReceivedDescriptor::Status::would_block:
          wait();
          return;
        case ReceivedDescriptor::Status::closed:
          supervisor_gone();
          return;
      }
    }
    asio::post(io_, [this] { take(); });
  }

  void supervisor_gone() {
    if (stopped_) return;
    stop();
    if (gone_) gone_();
  }

  asio::io_context& io_;
  asio::posix::stream_descriptor channel_;
  Adopt adopt_;
  Gone gone_;
  bool stopped_ = false;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_HANDOVER_RECEIVER_HPP
