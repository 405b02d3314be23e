// chat::ShardedServer: one Socket.IO server on several io threads, sessions sharded over them.
#ifndef CHAT_SHARDED_SERVER_HPP
#define CHAT_SHARDED_SERVER_HPP

#include <atomic>       // atomic
#include <cstddef>      // size_t
#include <cstdint>      // uint16_t
#include <exception>    // exception_ptr
#include <memory>       // unique_ptr
#include <mutex>        // mutex
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // is_invocable_v
#include <utility>      // forward, move
#include <vector>       // vector

#include "detail/config.hpp"
#include "server.hpp"

namespace chat {

namespace detail {
class ShardRouter;
}  // namespace detail

/// A Socket.IO server spread over several io threads ("shards"), for more than one core.
///
/// Each shard is a complete `Server<Config>` with its own io thread, sessions, namespaces and
/// rooms. One acceptor (on shard 0's thread) takes every TCP connection and hands it to a shard:
/// a request naming a session (polling, or the WebSocket of an upgrade) to the shard that owns
/// it, anything else to the next shard in turn. Rooms and broadcasts work across shards: a
/// broadcast is delivered on its own shard and posted to every other one, encoded once;
/// `sockets_join`, `sockets_leave` and `disconnect_sockets` reach the sockets of every shard,
/// and `to(socket_id)` reaches that socket wherever it is.
///
/// ```cpp
/// chat::ShardedServer<> io(0, chat::Options{}.cors_allowed_origins({"*"}));  // 0: one per core
/// io.each([](chat::Server<>& shard) {
///   shard.on("message", [&shard](chat::Socket&, chat::Event& event) {
///     shard.to("lobby").emit("message", event.args());   // members on every shard
///   });
/// });
/// io.listen("127.0.0.1", 5000);
/// io.run();
/// ```
///
/// What stays per shard: `socket_ids()` and `Namespace::socket`/`size`/`for_each_socket` see
/// the shard's own sockets; `Server::session_count` counts its own sessions (this class's sums
/// them); an application's own state (counters, maps of users) is per shard unless the
/// application shares it, with its own locking. There is no back-pressure between shards: a
/// shard that falls behind queues what the others hand it (broadcasts included) until it
/// catches up.
///
/// @tparam Config the transport configuration: plain TCP only, since the router reads the
///         request line (TLS belongs in a terminating proxy in front).
///
/// @par Thread Safety
/// Every hook of a socket runs on its shard's io thread; two sockets may be served at the same
/// time by two threads, so state the hooks of several shards touch needs the application's own
/// locking. `each`, `listen` and everything a setup does must happen before `run()`. `emit`,
/// `to`, `in`, `except`, `stop` and `session_count` may be called from any thread.
///
/// @par Errors
/// The constructor throws std::invalid_argument beyond 64 shards; `listen` throws
/// std::system_error when it cannot bind; `run` rethrows an exception that escaped a shard's
/// loop, after stopping every shard. Hooks' exceptions go to each shard's `on_error`, as with a
/// Server.
template <class Config = transport::PlainConfig>
class ShardedServer {
 public:
  /// Makes `shards` shards (0: one per hardware thread, at most 64), each a Server with these
  /// options. With one shard it is a plain Server: no router, no cross-shard work.
  /// @throws std::invalid_argument for more than 64 shards (a sid names its shard in one
  ///         base64url character).
  explicit ShardedServer(std::size_t shards, Options options = Options());
  ShardedServer(const ShardedServer&) = delete;
  ShardedServer& operator=(const ShardedServer&) = delete;
  ~ShardedServer();

  /// Calls `setup(shard)`, or `setup(shard, index)`, once for each shard in order: the same code
  /// registers the hooks (and static files, HTTP hook, error hook) of every shard. Hooks that
  /// broadcast through their shard (`shard.to(room).emit(...)`, `socket.broadcast()...`) reach
  /// the sockets of all shards. Before `run()`.
  template <class Setup>
  ShardedServer& each(Setup&& setup) {
    for (std::size_t i = 0; i < shards_.size(); ++i) {
      if constexpr (std::is_invocable_v<Setup&, Server<Config>&, std::size_t>) setup(*shards_[i], i);
      else setup(*shards_[i]);
    }
    return *this;
  }

  /// How many shards (io threads) there are.
  std::size_t shard_count() const { return shards_.size(); }
  /// One shard, a complete Server: for what `each` does not cover (its io_context, `post`, a
  /// namespace to broadcast to: `shard(0).of("/admin").to(room).emit(...)` reaches every shard).
  Server<Config>& shard(std::size_t index) { return *shards_.at(index); }

  /// Emits to every socket of "/" on every shard. Any thread.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    shards_[0]->emit(event, std::forward<Values>(values)...);
  }
  /// Selects the sockets of "/", on every shard, in a room (or the socket with that id). Any
  /// thread. (From a hook, the hook's own shard is the shorter way: it saves a hop via shard 0.)
  BroadcastOperator to(Room room) { return shards_[0]->to(std::move(room)); }
  /// Another name for `to`.
  BroadcastOperator in(Room room) { return to(std::move(room)); }
  /// Selects the sockets of "/", on every shard, not in a room. Any thread.
  BroadcastOperator except(Room room) { return shards_[0]->except(std::move(room)); }

  /// Binds `host:port` (port 0: any free port) and starts accepting. Returns the bound port.
  /// @throws std::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& host, std::uint16_t port);

  /// Runs every shard, shard 0 on the calling thread and the others on threads of their own,
  /// until `stop()` and every shard has drained. Rethrows the first exception a shard's loop let
  /// out, once every shard has stopped.
  void run();

  /// Stops accepting, then stops every shard as `Server::stop` does (each client is
  /// disconnected with "server shutting down" and its connection given time to close). Any
  /// thread, a signal handler on `io_context()` included; idempotent; returns at once.
  void stop();

  /// Open Engine.IO sessions over all shards. Any thread.
  std::size_t session_count() const {
    std::size_t total = 0;
    for (const auto& shard : shards_) total += shard->session_count();
    return total;
  }

  /// The options every shard was made with.
  const Options& options() const { return shards_[0]->options(); }
  /// Shard 0's io_context, where the acceptor runs (a signal_set for Ctrl-C goes here).
  asio::io_context& io_context() { return shards_[0]->io_context(); }

 private:
  void run_shard(std::size_t index);

  std::vector<std::unique_ptr<Server<Config>>> shards_;
  std::unique_ptr<detail::ShardRouter> router_;  // destroyed before the shards' io_contexts
  std::atomic<bool> stopped_{false};
  std::mutex failure_mutex_;
  std::exception_ptr failure_;
};

#if defined(CHAT_SEPARATE_COMPILATION)
extern template class ShardedServer<transport::PlainConfig>;
#endif

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/sharded_server.hpp"
#endif

#endif  // CHAT_SHARDED_SERVER_HPP
