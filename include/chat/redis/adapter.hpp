// chat::redis: servers in one cluster through Redis, in the wire format of Node's
// @socket.io/redis-adapter 8 (`createAdapter`, the classic format), so chat servers and Node
// socket.io servers, and the emitters of both, share one cluster.
//
// ```cpp
// chat::Server<> io;
// auto cluster = chat::redis::attach(io, chat::redis::AdapterOptions().url("redis://127.0.0.1:6379"));
// io.listen("0.0.0.0", 3000);
// io.run();   // broadcasts, rooms, fetch_sockets, server-side emits and acks span every server
// ```
//
// Needs the chat::redis CMake target (it links hiredis: its RESP reader and command formatter;
// the connections run on the server's own io thread).
#ifndef CHAT_REDIS_ADAPTER_HPP
#define CHAT_REDIS_ADAPTER_HPP

#include <atomic>         // atomic
#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <functional>     // function
#include <memory>         // shared_ptr, unique_ptr
#include <mutex>          // mutex
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <vector>         // vector

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "../adapter.hpp"
#include "../server.hpp"
#include "../sharded_server.hpp"
#include "detail/connection.hpp"
#include "detail/wire.hpp"

namespace chat::redis {

namespace detail {
class RedisAdapter;
}

/// How the adapter reaches Redis and the other servers: Node's createAdapter options.
class AdapterOptions {
 public:
  ///@{
  /// redis://[[user]:password@]host[:port][/db] ("redis://127.0.0.1:6379").
  AdapterOptions& url(std::string value) {
    url_ = std::move(value);
    return *this;
  }
  const std::string& url() const { return url_; }
  ///@}
  ///@{
  /// The prefix of every channel (Node's `key`, "socket.io"): servers with the same key form
  /// one cluster.
  AdapterOptions& key(std::string value) {
    key_ = std::move(value);
    return *this;
  }
  const std::string& key() const { return key_; }
  ///@}
  ///@{
  /// How long a request to the other servers (fetch_sockets, all_rooms, a server-side emit's
  /// replies) waits for all of them (Node's `requestsTimeout`, 5000 ms); after it, what came.
  AdapterOptions& requests_timeout(std::chrono::milliseconds value) {
    requests_timeout_ = value;
    return *this;
  }
  std::chrono::milliseconds requests_timeout() const { return requests_timeout_; }
  ///@}
  ///@{
  /// Answer a request on the requester's own response channel instead of the shared one (Node's
  /// `publishOnSpecificResponseChannel`, off): less traffic for every server in a big cluster.
  AdapterOptions& publish_on_specific_response_channel(bool value) {
    specific_response_channel_ = value;
    return *this;
  }
  bool publish_on_specific_response_channel() const { return specific_response_channel_; }
  ///@}
  ///@{
  /// Bytes waiting to be published (64 MiB): past it, a broadcast reaches this server's clients
  /// only, and the loss is reported once per episode.
  AdapterOptions& max_queued_bytes(std::size_t value) {
    max_queued_bytes_ = value;
    return *this;
  }
  std::size_t max_queued_bytes() const { return max_queued_bytes_; }
  ///@}

 private:
  std::string url_ = "redis://127.0.0.1:6379";
  std::string key_ = "socket.io";
  std::chrono::milliseconds requests_timeout_{5000};
  bool specific_response_channel_ = false;
  std::size_t max_queued_bytes_ = 64 * 1024 * 1024;
};

/// One process's membership of a cluster: two Redis connections (one to publish and ask, one
/// subscribed) on the io thread of the server it was attached to (a ShardedServer's shard 0),
/// and what every namespace of every shard shares: one uid per namespace, one subscription, the
/// requests waiting for the other servers. Made by `attach`.
///
/// While Redis is unreachable the server goes on alone: broadcasts reach its own clients,
/// requests are answered by it alone, and both connections retry with backoff (100 ms, doubling
/// to 5 s); the loss and the return are reported once each, through the server's on_error.
/// Messages published meanwhile are lost (Redis pub/sub keeps nothing, as with Node).
///
/// @par Thread Safety
/// `connected` and `close` may be called from any thread.
class Cluster : public std::enable_shared_from_this<Cluster> {
 public:
  /// Prefer `attach`. @throws std::invalid_argument for a URL that is not redis://.
  Cluster(asio::io_context& home, AdapterOptions options);
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  /// Both connections are up (the last time the io thread looked). Any thread.
  bool connected() const { return connected_.load(); }
  /// Leaves the cluster: the connections close, what waits gets what came. Any thread.
  void close();
  /// The options the cluster was attached with.
  const AdapterOptions& options() const { return options_; }

  /// The adapter factory of a server whose io thread runs `io` (each shard's, for a
  /// ShardedServer). Connects on first use.
  AdapterFactory factory(asio::io_context& io);

 private:
  friend class detail::RedisAdapter;
  using Response = detail::Response;

  /// What a namespace's adapters share; the registry part is locked (adapters come and go on
  /// their shards' threads), the rest is the home thread's.
  struct Member {
    detail::RedisAdapter* adapter;
    asio::io_context* io;
  };
  struct Node {
    std::string uid;
    std::vector<Member> members;  // locked by registry_mutex_
  };
  /// A request waiting for the other servers' responses (home thread).
  struct Pending {
    explicit Pending(asio::io_context& io) : timer(io) {}
    std::string nsp;
    std::size_t expected = 0, received = 0;
    std::function<void(const Response&)> on_response;
    std::function<void()> on_done;  // all came, or the time is up
    asio::steady_timer timer;
  };

  void start();
  bool on_home() const { return home_.get_executor().running_in_this_thread(); }
  void on_home(std::function<void()> work);
  void report(const std::string& message);

  // ---- for the adapters (their own threads) ----
  std::string join(detail::RedisAdapter* adapter, const std::string& nsp, asio::io_context& io);
  void leave(detail::RedisAdapter* adapter, const std::string& nsp);
  /// Publishes, from any thread; false (nothing sent) while Redis is away or past the bound.
  void publish(std::string channel, std::string payload);
  /// Asks every other server: `on_response` for each response, then `on_done` once all came
  /// or at `timeout`; both on the home thread. With no other server, `on_done` at once.
  /// `expect(servers)` learns how many are asked (0 when none, before anything is sent).
  void ask(const std::string& nsp, std::string request_id, std::string payload, std::chrono::milliseconds timeout,
           std::function<void(std::size_t servers)> expect, std::function<void(const Response&)> on_response,
           std::function<void()> on_done);
  /// Waits `timeout` for responses to a request already published (a broadcast with acks).
  void await(const std::string& nsp, std::string request_id, std::chrono::milliseconds timeout,
             std::function<void(const Response&)> on_response);
  /// PUBSUB NUMSUB of the namespace's request channel, this server included (1 when Redis is
  /// away).
  void count_servers(const std::string& nsp, std::function<void(std::size_t)> done);

  // ---- home thread ----
  void subscribe(const std::string& nsp, const std::string& uid);
  void unsubscribe(const std::string& nsp);
  void receive(const std::string& channel, const std::string& pattern, std::string payload);
  void receive_broadcast(const std::string& nsp, const std::string& payload);
  void receive_request(const std::string& nsp, const std::string& payload);
  void receive_response(const std::string& payload);
  void finish(const std::string& request_id);
  /// Runs `work(adapter)` on the thread of one adapter of `nsp` (the namespace's entry: its
  /// adapter() reaches every shard); nothing when the namespace has none here.
  void on_entry(const std::string& nsp, std::function<void(detail::RedisAdapter&)> work);
  void respond(const std::string& nsp, const std::string& requester, std::string payload);
  void connection_lost(const std::string& why);
  void connection_ready();

  asio::io_context& home_;
  const AdapterOptions options_;
  const detail::Endpoint endpoint_;
  std::shared_ptr<detail::Connection> publisher_, subscriber_;
  std::atomic<bool> connected_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> home_gone_{false};        // the home io_context is being destroyed
  std::atomic<std::size_t> queued_bytes_{0};  // posted to the home thread, not yet handed to Redis
  bool dropping_ = false;                     // home thread: over the bound or Redis away, reported

  mutable std::mutex registry_mutex_;
  std::unordered_map<std::string, Node> nodes_;  // by namespace

  // Home thread only.
  std::unordered_map<std::string, std::string> pattern_nsp_, channel_nsp_;
  std::unordered_map<std::string, std::string> uids_;  // by namespace
  std::size_t malformed_ = 0;                          // messages dropped as not Node's format
  std::unordered_map<std::string, std::unique_ptr<Pending>> pending_;
  bool outage_ = false;  // reported, not yet back
};

/// Puts `server` in the cluster: every namespace's adapter (present and future) is a Redis
/// adapter. Before `run()`. Returns the membership, to keep or close.
/// @throws std::invalid_argument for a URL that is not redis:// (rediss:// included: no TLS).
template <class Config>
std::shared_ptr<Cluster> attach(Server<Config>& server, AdapterOptions options = AdapterOptions()) {
  auto cluster = std::make_shared<Cluster>(server.io_context(), std::move(options));
  server.set_adapter_factory(cluster->factory(server.io_context()));
  return cluster;
}

/// The same for a ShardedServer: one membership for the process, its connections on shard 0,
/// every shard's namespaces in it; a broadcast reaches every shard of every process once.
template <class Config>
std::shared_ptr<Cluster> attach(ShardedServer<Config>& server, AdapterOptions options = AdapterOptions()) {
  auto cluster = std::make_shared<Cluster>(server.shard(0).io_context(), std::move(options));
  server.each([&cluster](Server<Config>& shard) { shard.set_adapter_factory(cluster->factory(shard.io_context())); });
  return cluster;
}

/// Connects to the Redis at `url` and asks it for a PONG, on the calling thread.
/// @throws std::invalid_argument for a bad URL, std::runtime_error (saying why) when Redis does
///         not answer within `timeout`: for a host to fail at start rather than run alone.
void ping(const std::string& url, std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

}  // namespace chat::redis

#include "detail/redis_adapter.hpp"
#include "impl/cluster.hpp"

#endif  // CHAT_REDIS_ADAPTER_HPP
