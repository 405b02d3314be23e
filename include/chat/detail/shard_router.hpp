// ShardedServer's front door: one acceptor that looks at each new connection's request line
// without consuming it and hands the connection to the shard owning the session it names.
#ifndef CHAT_DETAIL_SHARD_ROUTER_HPP
#define CHAT_DETAIL_SHARD_ROUTER_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <cstdint>        // uint16_t
#include <functional>     // function
#include <memory>         // shared_ptr, enable_shared_from_this
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <system_error>   // error_code, system_error
#include <unordered_set>  // unordered_set
#include <utility>        // move
#include <vector>         // vector

#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "accept_backoff.hpp"
#include "native_socket.hpp"
#include "shard_routing.hpp"

namespace chat::detail {

/// Accepts on shard 0's io_context, peeks (recv with MSG_PEEK) at each connection until its
/// request line is complete, then releases the socket to the owning shard: the one a sid's tag
/// names, else the next in turn. Why peek and not read: the shard's websocketpp connection
/// must read the request itself, from the first byte.
///
/// Why this is enough to keep a session on one shard: every plain HTTP response of the server
/// closes its connection, so each polling request, and the WebSocket of an upgrade (which
/// carries ?sid=), is a new connection that comes through here.
///
/// Io thread of the io_context given (shard 0's) only, except `listen` before it runs.
class ShardRouter {
 public:
  /// Gives a connection to a shard; runs on the router's thread and must not block.
  using HandOff = std::function<void(std::size_t shard, NativeSocket socket)>;
  /// Logs a failure of the router itself (accept out of descriptors), once per episode.
  using Report = std::function<void(std::string_view message)>;
  /// Whether a shard takes connections now (WorkerProcesses: its process is running).
  using Available = std::function<bool(std::size_t shard)>;

  /// Every request line websocketpp accepts is shorter: its whole header block may not exceed
  /// 16,000 bytes (websocketpp::http::max_header_size). Beyond this, any shard will do, and it
  /// refuses the request as a single server would.
  static constexpr std::size_t peek_limit = 16 * 1024;

  ShardRouter(asio::io_context& io, std::size_t shard_count, std::string engine_path,
              std::chrono::milliseconds handshake_timeout, HandOff hand_off, Report report)
      : io_(io),
        acceptor_(io),
        shard_count_(shard_count),
        engine_path_(std::move(engine_path)),
        handshake_timeout_(handshake_timeout),
        hand_off_(std::move(hand_off)),
        report_(std::move(report)),
        buffer_(peek_limit),
        retry_timer_(io) {}

  ShardRouter(const ShardRouter&) = delete;
  ShardRouter& operator=(const ShardRouter&) = delete;

  /// Binds `host:port` (port 0: any free port), listens as websocketpp's endpoint does
  /// (SO_REUSEADDR, the system's backlog), starts accepting; returns the bound port.
  /// @throws std::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& host, std::uint16_t port) {
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::system_error(ec, "chat: bad listen address " + host);
    const asio::ip::tcp::endpoint endpoint(address, port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      std::error_code ignored;
      acceptor_.close(ignored);
      throw std::system_error(ec, "chat: cannot listen on " + host + ":" + std::to_string(port));
    }
    protocol_ = endpoint.protocol();
    accept();
    return acceptor_.local_endpoint().port();
  }

  /// Stops accepting and closes the connections still being peeked at. Idempotent.
  void stop() {
    stopped_ = true;
    std::error_code ec;
    acceptor_.close(ec);
    retry_timer_.cancel();
    auto pending = std::move(pending_);
    pending_.clear();
    for (const auto& connection : pending) connection->close();
  }

  /// Connections accepted and not yet handed to a shard.
  std::size_t pending() const { return pending_.size(); }

  /// From now on a connection goes only to a shard `available` says yes to: one naming a
  /// session of a shard that is not available goes to the next available shard in turn (which
  /// answers "Session ID unknown", and the client connects anew), and with none available it is
  /// closed. Without it every shard is always available.
  void set_available(Available available) { available_ = std::move(available); }

  /// The descriptors this router holds: the listening socket and each connection still being
  /// peeked at (a process forked from the router's closes them: WorkerProcesses' workers).
  template <class Visit>
  void for_each_descriptor(Visit&& visit) {
    if (acceptor_.is_open()) visit(static_cast<int>(acceptor_.native_handle()));
    for (const auto& connection : pending_)
      if (connection->socket.is_open()) visit(static_cast<int>(connection->socket.native_handle()));
  }

 private:
  /// One accepted connection whose request line is not complete yet.
  struct Pending : std::enable_shared_from_this<Pending> {
    explicit Pending(asio::io_context& io) : socket(io), timer(io) {}
    void close() {
      std::error_code ec;
      timer.cancel();
      socket.close(ec);
    }
    asio::ip::tcp::socket socket;
    asio::steady_timer timer;
    std::size_t peeked = 0;          ///< bytes seen at the last peek
    unsigned idle_wakeups = 0;       ///< wake-ups in a row that brought no new byte
  };
  using PendingPtr = std::shared_ptr<Pending>;

  void accept() {
    auto connection = std::make_shared<Pending>(io_);
    acceptor_.async_accept(connection->socket, [this, connection](const std::error_code& ec) {
      if (stopped_ || ec == asio::error::operation_aborted) return;
      if (ec) {
        const auto decision = backoff_.failed(ec);
        if (!decision.message.empty() && report_) report_(decision.message);
        retry_timer_.expires_after(decision.delay);
        retry_timer_.async_wait([this](const std::error_code& error) {
          if (!error && !stopped_) accept();
        });
        return;
      }
      backoff_.succeeded();
      accept();
      start(connection);
    });
  }

  void start(const PendingPtr& connection) {
    std::error_code ec;
    connection->socket.non_blocking(true, ec);  // the peeks below must never block the loop
    if (ec) {
      connection->close();
      return;
    }
    pending_.insert(connection);
    // websocketpp's open-handshake timeout, which the connection would have had from a single
    // server: a client that never completes its request line is closed, as there.
    connection->timer.expires_after(handshake_timeout_);
    connection->timer.async_wait([this, weak = std::weak_ptr<Pending>(connection)](const std::error_code& error) {
      auto self = weak.lock();
      if (error || !self || !pending_.count(self)) return;
      pending_.erase(self);
      self->close();
    });
    peek(connection);
  }

  void wait(const PendingPtr& connection) {
    connection->socket.async_wait(asio::socket_base::wait_read, [this, connection](const std::error_code& ec) {
      if (!pending_.count(connection)) return;  // stopped or timed out meanwhile
      if (ec) {
        drop(connection);
        return;
      }
      peek(connection);
    });
  }

  void peek(const PendingPtr& connection) {
    std::error_code ec;
    const std::size_t size =
        connection->socket.receive(asio::buffer(buffer_), asio::socket_base::message_peek, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      wait(connection);
      return;
    }
    if (ec) {  // reset, or closed before a whole request line (eof)
      drop(connection);
      return;
    }
    const RequestPeek result = peek_request(std::string_view(buffer_.data(), size), engine_path_, peek_limit);
    switch (result.status) {
      case RequestPeek::Status::need_more:
        // Asio's epoll reactor is edge-triggered: a wait completes when new bytes arrive, so
        // bytes peeked and left in place do not wake it again (at most one stale wake-up). A
        // level-triggered reactor would wake at once, again and again: after a few wake-ups
        // without progress, look again on a short timer instead.
        connection->idle_wakeups = size == connection->peeked ? connection->idle_wakeups + 1 : 0;
        connection->peeked = size;
        if (connection->idle_wakeups > 4) {
          poll_later(connection);
          return;
        }
        wait(connection);
        return;
      case RequestPeek::Status::sid:
        route(connection, shard_of_sid(result.sid, shard_count_));
        return;
      case RequestPeek::Status::no_sid:
      case RequestPeek::Status::oversize:
        route(connection, std::nullopt);
        return;
    }
  }

  void poll_later(const PendingPtr& connection) {
    auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(10));
    timer->async_wait([this, connection, timer](const std::error_code& ec) {
      if (!ec && pending_.count(connection)) peek(connection);
    });
  }

  /// Hands the connection to `shard`, or, with none named, to the next shard in turn (a new
  /// session, a static file, a sid with no valid tag: that shard answers "Session ID unknown").
  void route(const PendingPtr& connection, std::optional<std::size_t> shard) {
    pending_.erase(connection);
    connection->timer.cancel();
    std::error_code ec;
    const auto handle = connection->socket.release(ec);
    if (ec) {
      connection->close();
      return;
    }
    NativeSocket socket(protocol_, handle);
    if (available_ && !(shard && available_(*shard))) {
      shard.reset();
      for (std::size_t tried = 0; tried < shard_count_ && !shard; ++tried) {
        const std::size_t candidate = next_shard_++ % shard_count_;
        if (available_(candidate)) shard = candidate;
      }
      if (!shard) return;  // no shard takes connections now: `socket` closes
    }
    const std::size_t target = shard ? *shard : next_shard_++ % shard_count_;
    hand_off_(target, std::move(socket));
  }

  void drop(const PendingPtr& connection) {
    pending_.erase(connection);
    connection->close();
  }

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp protocol_ = asio::ip::tcp::v4();
  std::size_t shard_count_;
  std::string engine_path_;
  std::chrono::milliseconds handshake_timeout_;
  HandOff hand_off_;
  Report report_;
  Available available_;
  AcceptBackoff backoff_;
  std::vector<char> buffer_;  // one for all: each peek is parsed before the next one
  asio::steady_timer retry_timer_;
  std::unordered_set<PendingPtr> pending_;
  std::size_t next_shard_ = 0;
  bool stopped_ = false;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_SHARD_ROUTER_HPP
