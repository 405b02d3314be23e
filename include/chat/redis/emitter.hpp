// chat::redis::Emitter: emits into a cluster from a process that is not a server (a worker, a
// cron job), as Node's @socket.io/redis-emitter does and in its format: servers of the cluster,
// chat's and Node's, deliver to their clients.
//
// ```cpp
// chat::redis::Emitter emitter(chat::redis::EmitterOptions().url("redis://127.0.0.1:6379"));
// emitter.emit("news", "to everyone on every server");
// emitter.of("/chat").to("room-1").except("muted").emit("message", chat::json{{"text", "hi"}});
// emitter.of("/").in("room-1").sockets_join("room-2");
// emitter.flush();  // before the process ends: what was emitted has reached Redis
// ```
//
// Needs the chat::redis CMake target.
#ifndef CHAT_REDIS_EMITTER_HPP
#define CHAT_REDIS_EMITTER_HPP

#include <atomic>              // atomic
#include <chrono>              // milliseconds
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <deque>               // deque
#include <functional>          // function
#include <memory>              // shared_ptr
#include <mutex>               // mutex
#include <optional>            // optional
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // thread
#include <unordered_set>       // unordered_set
#include <utility>             // move, pair
#include <vector>              // vector

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "../args.hpp"
#include "detail/connection.hpp"
#include "detail/wire.hpp"

namespace chat::redis {

/// Where an Emitter publishes.
class EmitterOptions {
 public:
  ///@{
  /// redis://[[user]:password@]host[:port][/db] ("redis://127.0.0.1:6379").
  EmitterOptions& url(std::string value) {
    url_ = std::move(value);
    return *this;
  }
  const std::string& url() const { return url_; }
  ///@}
  ///@{
  /// The cluster's channel prefix (Node's `key`, "socket.io"): the servers' AdapterOptions::key.
  EmitterOptions& key(std::string value) {
    key_ = std::move(value);
    return *this;
  }
  const std::string& key() const { return key_; }
  ///@}
  ///@{
  /// Bytes waiting for Redis (64 MiB): past it, emits are dropped and the loss reported once.
  EmitterOptions& max_queued_bytes(std::size_t value) {
    max_queued_bytes_ = value;
    return *this;
  }
  std::size_t max_queued_bytes() const { return max_queued_bytes_; }
  ///@}
  ///@{
  /// Where problems go (Redis lost, emits dropped); stderr by default. On the emitter's thread.
  EmitterOptions& on_error(std::function<void(const std::string&)> handler) {
    on_error_ = std::move(handler);
    return *this;
  }
  const std::function<void(const std::string&)>& on_error() const { return on_error_; }
  ///@}

 private:
  std::string url_ = "redis://127.0.0.1:6379";
  std::string key_ = "socket.io";
  std::size_t max_queued_bytes_ = 64 * 1024 * 1024;
  std::function<void(const std::string&)> on_error_;
};

class Emitter;

/// Which sockets of which namespace an emit reaches; made by Emitter::of / to / except. A value:
/// each call returns a new one.
class EmitterOperator {
 public:
  /// Adds a room (or a socket id) to the selection.
  EmitterOperator to(Room room) const {
    EmitterOperator next = *this;
    next.rooms_.insert(std::move(room));
    return next;
  }
  /// Another name for `to`.
  EmitterOperator in(Room room) const { return to(std::move(room)); }
  /// Leaves out the sockets in `room`.
  EmitterOperator except(Room room) const {
    EmitterOperator next = *this;
    next.except_.insert(std::move(room));
    return next;
  }

  /// Each server skips the sockets whose transport cannot take the event at once (Node's
  /// `emitter.volatile`; see chat::BroadcastOperator::volatile_).
  EmitterOperator volatile_() const {
    EmitterOperator next = *this;
    next.is_volatile_ = true;
    return next;
  }

  /// With `false`, each server sends the event without compression (Node's emitter
  /// `compress(false)`; see chat::BroadcastOperator::compress).
  EmitterOperator compress(bool compress) const {
    EmitterOperator next = *this;
    next.compress_ = compress;
    return next;
  }

  /// Emits `event` with `values` (binary values included) to the selected sockets.
  /// @throws std::invalid_argument for a name Socket.IO reserves (connect, disconnect, ...).
  template <class... Values>
  void emit(std::string_view event, Values&&... values) const {
    emit_array(Args::of(std::string(event), std::forward<Values>(values)...));
  }
  /// `emit` with the event name and its arguments in one Args.
  void emit_array(Args event_and_args) const;
  ///@{
  /// Makes the selected sockets join / leave rooms, on every server.
  void sockets_join(std::vector<Room> rooms) const;
  void sockets_join(Room room) const { sockets_join(std::vector<Room>{std::move(room)}); }
  void sockets_leave(std::vector<Room> rooms) const;
  void sockets_leave(Room room) const { sockets_leave(std::vector<Room>{std::move(room)}); }
  ///@}
  /// Disconnects the selected sockets; with `close`, their whole connections.
  void disconnect_sockets(bool close = false) const;
  /// Sends an event to every server's namespace (their server-side emit hooks). No replies: an
  /// emitter is not a server and nobody can answer it (as with Node's emitter).
  template <class... Values>
  void server_side_emit(std::string_view event, Values&&... values) const {
    server_side_emit_array(Args::of(std::string(event), std::forward<Values>(values)...));
  }
  /// `server_side_emit` with the event name and its arguments in one Args.
  void server_side_emit_array(Args event_and_args) const;

 private:
  friend class Emitter;
  EmitterOperator(Emitter& emitter, std::string nsp) : emitter_(&emitter), nsp_(std::move(nsp)) {}
  detail::Selection selection() const {
    return {std::vector<Room>(rooms_.begin(), rooms_.end()), std::vector<Room>(except_.begin(), except_.end())};
  }

  Emitter* emitter_;
  std::string nsp_;
  std::unordered_set<Room> rooms_, except_;
  bool is_volatile_ = false;
  bool compress_ = true;
};

/// Publishes into a cluster from its own thread and Redis connection. Emits made before Redis
/// answers (or while it is away) wait, up to `max_queued_bytes`, and go once it is there.
///
/// @par Thread Safety
/// Every method may be called from any thread.
///
/// @par Errors
/// The constructor throws std::invalid_argument for a URL that is not redis://; emits never
/// throw for Redis's sake (see `flush`).
class Emitter {
 public:
  /// An emitter that connects to `options.url()` in the background (and reconnects).
  /// @throws std::invalid_argument for a URL that is not redis://.
  explicit Emitter(EmitterOptions options = EmitterOptions());
  /// Flushes (5 s at most), then closes the connection.
  ~Emitter();
  Emitter(const Emitter&) = delete;
  Emitter& operator=(const Emitter&) = delete;

  /// The namespace `nsp` ("/chat"; a missing leading "/" is added).
  EmitterOperator of(std::string nsp) { return EmitterOperator(*this, nsp.empty() || nsp[0] != '/' ? "/" + nsp : nsp); }
  ///@{
  /// Selects the sockets of "/" in a room (`to`, `in`) or not in it (`except`): `of("/")`'s.
  EmitterOperator to(Room room) { return of("/").to(std::move(room)); }
  EmitterOperator in(Room room) { return of("/").in(std::move(room)); }
  EmitterOperator except(Room room) { return of("/").except(std::move(room)); }
  ///@}
  /// Emits to every socket of "/".
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    of("/").emit(event, std::forward<Values>(values)...);
  }

  /// Waits until Redis took everything emitted so far; false when `timeout` passed first (Redis
  /// unreachable, say) or some emits were dropped meanwhile.
  bool flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));
  /// Connected to Redis now.
  bool connected() const { return connected_.load(); }

 private:
  friend class EmitterOperator;
  void publish(std::string channel, std::string payload);
  void send_waiting();  // io thread
  void report(const std::string& message);
  void settle(std::size_t count, bool dropped);

  const EmitterOptions options_;
  const detail::Endpoint endpoint_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  std::shared_ptr<detail::Connection> connection_;
  std::atomic<bool> connected_{false};
  // The io thread's.
  std::deque<std::pair<std::string, std::string>> waiting_;  // channel, payload
  std::size_t waiting_bytes_ = 0;
  bool dropping_ = false, lost_ = false;
  // Settled = published to Redis (or dropped); flush waits for every emit to be settled.
  std::mutex mutex_;
  std::condition_variable settled_changed_;
  std::size_t emitted_ = 0, settled_ = 0, dropped_ = 0;
  std::thread thread_;
};

}  // namespace chat::redis

#include "impl/emitter.hpp"

#endif  // CHAT_REDIS_EMITTER_HPP
