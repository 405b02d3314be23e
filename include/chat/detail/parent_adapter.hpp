// The adapter of a parent namespace (Server::of(matcher)): it has no sockets of its own, and
// what is asked of it is asked of each child namespace's adapter, as Node's
// ParentBroadcastAdapter does for broadcasts. On a ShardedServer the shard adapter wraps it, as
// any namespace's: each shard's parent then asks its own children, through their adapters
// without the shard layer (which would hand the request to the other shards a second time).
#ifndef CHAT_DETAIL_PARENT_ADAPTER_HPP
#define CHAT_DETAIL_PARENT_ADAPTER_HPP

#include <cstddef>     // size_t
#include <functional>  // function
#include <memory>      // make_shared, shared_ptr
#include <vector>      // vector

#include "../adapter.hpp"
#include "../namespace.hpp"

namespace chat::detail {

/// Io thread only, as every adapter. Each child gets the packet encoded for its own name (a
/// packet names its namespace on the wire).
class ParentAdapter final : public InMemoryAdapter {
 public:
  explicit ParentAdapter(Namespace& parent) : InMemoryAdapter(static_cast<LocalSockets&>(parent)), parent_(parent) {}

  void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) override {
    for (Namespace* child : children()) child->own_adapter_->broadcast(for_child(*child, *packet), options);
  }
  /// Refused where it is asked (BroadcastOperator::emit_with_ack throws): a parent has no
  /// answers to gather. An adapter must not throw, so here it reaches no one.
  void broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>&, const BroadcastOptions&,
                          ClientCount on_client_count, std::function<void(Args)>) override {
    on_client_count(0);
  }
  void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    for (Namespace* child : children()) child->own_adapter_->add_sockets(options, rooms);
  }
  void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    for (Namespace* child : children()) child->own_adapter_->del_sockets(options, rooms);
  }
  void disconnect_sockets(const BroadcastOptions& options, bool close) override {
    for (Namespace* child : children()) child->own_adapter_->disconnect_sockets(options, close);
  }
  void fetch_sockets(const BroadcastOptions& options, std::function<void(std::vector<SocketInfo>)> done) override {
    const std::vector<Namespace*> targets = children();
    if (targets.empty()) return done({});
    struct Gathered {
      std::size_t waiting;
      std::vector<SocketInfo> sockets;
      std::function<void(std::vector<SocketInfo>)> done;
    };
    auto gathered = std::make_shared<Gathered>(Gathered{targets.size(), {}, std::move(done)});
    for (Namespace* child : targets) {
      child->own_adapter_->fetch_sockets(options, [gathered](std::vector<SocketInfo> found) {
        for (auto& socket : found) gathered->sockets.push_back(std::move(socket));
        if (--gathered->waiting == 0) gathered->done(std::move(gathered->sockets));
      });
    }
  }

 private:
  /// A copy: a child may go (cleanup_empty_child_namespaces) while a request walks them.
  std::vector<Namespace*> children() const { return parent_.children_; }

  static std::shared_ptr<const OutgoingPacket> for_child(Namespace& child, const OutgoingPacket& packet) {
    socketio::Packet copy = packet.packet();
    copy.nsp = child.name();
    return std::make_shared<const OutgoingPacket>(std::move(copy), child.core().parser(), packet.flags());
  }

  Namespace& parent_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_PARENT_ADAPTER_HPP
