// The adapter of a ShardedServer's namespaces: each shard keeps the rooms of its own sockets, and
// broadcasts, sockets_join/leave and disconnect_sockets reach the other shards by a post to
// their io threads.
#ifndef CHAT_DETAIL_SHARD_ADAPTER_HPP
#define CHAT_DETAIL_SHARD_ADAPTER_HPP

#include <cstddef>  // size_t
#include <memory>   // shared_ptr, make_shared
#include <string>   // string
#include <utility>  // move
#include <vector>   // vector

#include <asio/post.hpp>

#include "../adapter.hpp"
#include "../namespace.hpp"
#include "core.hpp"

namespace chat::detail {

/// The cores of one ShardedServer's shards, by shard index. Fixed once the shards exist.
using ShardCores = std::vector<Core*>;

/// An InMemoryAdapter that also forwards what must reach sockets of other shards. A socket
/// lives on one shard, and so do its rooms: a room spread over shards is one room per shard,
/// each holding that shard's members, so "every member once" means every shard once.
///
/// Io thread of its shard only, like every adapter; the forwarded work runs on the other
/// shards' io threads, against their own adapter of the namespace with the same name.
class ShardAdapter final : public InMemoryAdapter {
 public:
  ShardAdapter(Namespace& nsp, std::shared_ptr<const ShardCores> shards, std::size_t self)
      : InMemoryAdapter(nsp), namespace_(nsp), shards_(std::move(shards)), self_(self) {}

  void broadcast(const std::shared_ptr<const EncodedPacket>& packet, const BroadcastOptions& options) override {
    InMemoryAdapter::broadcast(packet, options);
    on_peers([packet, options](ShardAdapter& peer) {
      if (peer.namespace_.size() == 0) return;
      // A packet of its own, sharing nothing mutable: transport_cache (the prepared WebSocket
      // frames) is built and read by one io thread. The bytes are copied, not re-encoded; the
      // origin never changes `encoded` once made, so reading it from here is no race.
      auto local = std::make_shared<EncodedPacket>();
      local->encoded = packet->encoded;
      peer.InMemoryAdapter::broadcast(local, options);
    });
  }

  void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    Adapter::add_sockets(options, rooms);
    on_peers([options, rooms](ShardAdapter& peer) { peer.Adapter::add_sockets(options, rooms); });
  }

  void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    Adapter::del_sockets(options, rooms);
    on_peers([options, rooms](ShardAdapter& peer) { peer.Adapter::del_sockets(options, rooms); });
  }

  void disconnect_sockets(Namespace& nsp, const BroadcastOptions& options, bool close) override {
    Adapter::disconnect_sockets(nsp, options, close);
    on_peers([options, close](ShardAdapter& peer) {
      peer.Adapter::disconnect_sockets(peer.namespace_, options, close);
    });
  }

 private:
  /// Runs `work(adapter)` on every other shard's io thread, with that shard's adapter of this
  /// namespace. A shard where the namespace does not exist has no socket in it: nothing to do
  /// there, and nothing is created (dynamic namespaces appear per shard, on first CONNECT).
  /// Posts from one thread run in order, so a sockets_join followed by an emit to the room
  /// arrives on every shard in that order.
  template <class Work>
  void on_peers(const Work& work) {
    const std::string* name = &namespace_.name();  // fixed for the namespace's (the server's) life
    for (std::size_t shard = 0; shard < shards_->size(); ++shard) {
      if (shard == self_) continue;
      Core* core = (*shards_)[shard];
      asio::post(core->io(), [core, name, work] {
        Namespace* nsp = core->find(*name);
        if (!nsp) return;
        // Another adapter there (set_adapter_factory on that shard) means the application
        // chose its own delivery for it.
        if (auto* peer = dynamic_cast<ShardAdapter*>(&nsp->adapter())) work(*peer);
      });
    }
  }

  Namespace& namespace_;
  std::shared_ptr<const ShardCores> shards_;
  std::size_t self_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_SHARD_ADAPTER_HPP
