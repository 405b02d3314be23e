// The adapter of one namespace of a server in a Redis cluster: the in-memory adapter for this
// server's sockets, and for what spans servers the messages of Node's @socket.io/redis-adapter,
// sent and answered through the Cluster. Included by chat/redis/adapter.hpp, after Cluster.
#ifndef CHAT_REDIS_DETAIL_REDIS_ADAPTER_HPP
#define CHAT_REDIS_DETAIL_REDIS_ADAPTER_HPP

#include <algorithm>  // sort, unique
#include <memory>   // shared_ptr, make_shared
#include <string>   // string
#include <utility>  // move
#include <vector>   // vector

#include <asio/post.hpp>

#include "../../adapter.hpp"
#include "wire.hpp"

namespace chat::redis::detail {

/// Io thread of its server (shard) only, like every adapter. What this server does for a
/// request another server sent is done through `entry()`, the namespace's adapter as the server
/// uses it (on a ShardedServer it reaches every shard), with flags.local set.
class RedisAdapter final : public InMemoryAdapter {
 public:
  RedisAdapter(LocalSockets& local, std::shared_ptr<Cluster> cluster, asio::io_context& io)
      : InMemoryAdapter(local), cluster_(std::move(cluster)), io_(io), nsp_(local.name()),
        channels_(cluster_->options().key(), nsp_), uid_(cluster_->join(this, nsp_, io)) {}
  ~RedisAdapter() override { cluster_->leave(this, nsp_); }

  LocalSockets& sockets() { return local(); }

  /// The server stops: the cluster's connections close (they would keep its loop running).
  void close() override { cluster_->close(); }
  const std::string& uid() const { return uid_; }

  void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) override {
    if (!options.flags.local) {
      BroadcastMessage message = BroadcastMessage::from(uid_, packet->packet(), options);
      cluster_->publish(channels_.for_rooms(message.rooms), encode_broadcast(message));
    }
    InMemoryAdapter::broadcast(packet, options);
  }

  void broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options,
                          ClientCount on_client_count, std::function<void(Args)> on_ack) override {
    // This server's count first (the Adapter contract), then every other server's.
    InMemoryAdapter::broadcast_with_ack(packet, options, on_client_count, on_ack);
    if (options.flags.local) return;
    BroadcastRequest request{random_uid(), BroadcastMessage::from(uid_, packet->packet(), options)};
    // Node's requester keeps waiting for answers for the broadcast's timeout.
    const auto timeout = options.flags.timeout.count() > 0 ? options.flags.timeout : cluster_->options().requests_timeout();
    if (!request.message.flags.timeout_ms) request.message.flags.timeout_ms = timeout.count();
    cluster_->await(nsp_, request.request_id, timeout,
                    [io = &io_, on_client_count, on_ack](const Response& response) {
                      if (response.type == RequestType::broadcast_client_count) {
                        asio::post(*io, [on_client_count, clients = read_client_count(response)] { on_client_count(clients); });
                      } else if (response.type == RequestType::broadcast_ack) {
                        Args answer;
                        if (auto ack = read_reply(response)) answer.append(std::move(*ack));
                        asio::post(*io, [on_ack, answer = std::move(answer)]() mutable { on_ack(std::move(answer)); });
                      }
                    });
    cluster_->publish(channels_.request(), encode_request(request));
  }

  void server_count(std::function<void(std::size_t)> done) override {
    cluster_->count_servers(nsp_, [io = &io_, done = std::move(done)](std::size_t servers) {
      asio::post(*io, [done, servers] { done(servers); });
    });
  }

  void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    // Done here at once, and this server skips its own request when Redis echoes it (Node's
    // ClusterAdapter does the same; its classic adapter waits for the echo).
    InMemoryAdapter::add_sockets(options, rooms);
    if (!options.flags.local) publish_request(RemoteJoinRequest{{uid_, Selection::from(options), rooms, {}}});
  }
  void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    InMemoryAdapter::del_sockets(options, rooms);
    if (!options.flags.local) publish_request(RemoteLeaveRequest{{uid_, Selection::from(options), rooms, {}}});
  }
  void disconnect_sockets(const BroadcastOptions& options, bool close) override {
    if (!options.flags.local) publish_request(RemoteDisconnectRequest{uid_, Selection::from(options), close, {}});
    InMemoryAdapter::disconnect_sockets(options, close);
  }

  void fetch_sockets(const BroadcastOptions& options, std::function<void(std::vector<SocketInfo>)> done) override {
    if (options.flags.local) return InMemoryAdapter::fetch_sockets(options, std::move(done));
    auto found = std::make_shared<std::vector<SocketInfo>>();
    InMemoryAdapter::fetch_sockets(options, [&found](std::vector<SocketInfo> sockets) { *found = std::move(sockets); });
    const std::string request_id = random_uid();
    ask(request_id, encode_request(FetchSocketsRequest{uid_, request_id, Selection::from(options)}),
        [found](const Response& response) {
          for (auto& socket : read_fetched_sockets(response)) found->push_back(std::move(socket));
        },
        [found, done = std::move(done)] { done(std::move(*found)); });
  }

  void all_rooms(BroadcastFlags flags, std::function<void(std::vector<Room>)> done) override {
    if (flags.local) return InMemoryAdapter::all_rooms(flags, std::move(done));
    auto found = std::make_shared<std::vector<Room>>();
    InMemoryAdapter::all_rooms(flags, [&found](std::vector<Room> rooms) { *found = std::move(rooms); });
    const std::string request_id = random_uid();
    ask(request_id, encode_request(AllRoomsRequest{uid_, request_id}),
        [found](const Response& response) {
          for (auto& room : read_rooms(response)) found->push_back(std::move(room));
        },
        [found, done = std::move(done)] {
          std::sort(found->begin(), found->end());
          found->erase(std::unique(found->begin(), found->end()), found->end());
          done(std::move(*found));
        });
  }

  void server_side_emit(const Args& event_and_args, ClientCount on_server_count,
                        std::function<void(Args)> on_reply) override {
    ServerSideEmitRequest request{uid_, on_reply ? random_uid() : std::string(), event_and_args.array()};
    if (!on_reply) {
      // Node counts no servers for an emit without replies; neither does anything wait for it.
      cluster_->publish(channels_.request(), encode_request(request));
      return on_server_count(0);
    }
    const std::string request_id = request.request_id;
    cluster_->ask(
        nsp_, request_id, encode_request(request), cluster_->options().requests_timeout(),
        [io = &io_, on_server_count](std::size_t servers) { asio::post(*io, [on_server_count, servers] { on_server_count(servers); }); },
        [io = &io_, on_reply](const Response& response) {
          if (response.type != RequestType::server_side_emit) return;
          Args answer;
          if (auto reply = read_reply(response)) answer.append(std::move(*reply));
          asio::post(*io, [on_reply, answer = std::move(answer)]() mutable { on_reply(std::move(answer)); });
        },
        [] {});
  }

 private:
  template <class Request>
  void publish_request(Request request) {
    cluster_->publish(channels_.request(), encode_request(request));
  }

  /// Asks the other servers; `gather` runs on the home thread for each response, `done` back on
  /// this adapter's thread once all came or the time is up.
  void ask(const std::string& request_id, std::string payload, std::function<void(const Response&)> gather,
           std::function<void()> done) {
    cluster_->ask(nsp_, request_id, std::move(payload), cluster_->options().requests_timeout(),
                  [](std::size_t) {}, std::move(gather),
                  [io = &io_, done = std::move(done)] { asio::post(*io, done); });
  }

  std::shared_ptr<Cluster> cluster_;
  asio::io_context& io_;
  const std::string nsp_;
  const Channels channels_;
  const std::string uid_;
};

}  // namespace chat::redis::detail

#endif  // CHAT_REDIS_DETAIL_REDIS_ADAPTER_HPP
