// The adapter of a ShardedServer's namespaces: it wraps the adapter a shard would have on its own
// (the in-memory one, or the application's) and carries to the other shards what must reach
// their sockets: broadcasts, sockets_join/leave, disconnect_sockets, fetch_sockets, all_rooms,
// broadcasts with acks, and the restores of connection state recovery. The shards are one
// server: what spans servers (server-side emits, the server count) is the wrapped adapter's
// alone, and the other shards' wrapped adapters get what they are handed with `flags.local` set
// (a cluster adapter of every shard would otherwise send a broadcast to the other servers once
// per shard).
//
// Connection state recovery: each shard's adapter keeps the sessions of the sockets it had, and
// the packets as it delivered them, with offsets of its own (a client's offsets all come from
// the shard its socket was on, in that shard's order). A client that comes back may land on any
// shard: its restore asks every shard, and the one that holds the session answers.
#ifndef CHAT_DETAIL_SHARD_ADAPTER_HPP
#define CHAT_DETAIL_SHARD_ADAPTER_HPP

#include <atomic>         // atomic
#include <cstddef>        // size_t
#include <functional>     // function
#include <iterator>       // make_move_iterator
#include <memory>         // shared_ptr, unique_ptr, make_shared
#include <mutex>          // mutex, lock_guard
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
#include <utility>        // move
#include <vector>         // vector

#include "../adapter.hpp"
#include "core.hpp"

namespace chat::detail {

class ShardAdapter;

/// The shards of one ShardedServer: each one's core, and the shard adapters of its namespaces by
/// name (how a shard finds its peers' adapter of a namespace, with no cast). Fixed in size once
/// the shards exist; each registry is locked, since namespaces may be made on any thread.
class ShardGroup {
 public:
  /// `max_queue_bytes`: Options::max_shard_queue_bytes.
  ShardGroup(std::vector<Core*> cores, std::size_t max_queue_bytes)
      : cores_(std::move(cores)), registries_(cores_.size()), max_queue_bytes_(max_queue_bytes) {}

  std::size_t size() const { return cores_.size(); }
  Core& core(std::size_t shard) const { return *cores_[shard]; }

  void add(std::size_t shard, const std::string& nsp, ShardAdapter* adapter) {
    std::lock_guard<std::mutex> lock(registries_[shard].mutex);
    registries_[shard].adapters[nsp] = adapter;
  }
  void remove(std::size_t shard, const std::string& nsp, const ShardAdapter* adapter) {
    std::lock_guard<std::mutex> lock(registries_[shard].mutex);
    const auto found = registries_[shard].adapters.find(nsp);
    if (found != registries_[shard].adapters.end() && found->second == adapter) registries_[shard].adapters.erase(found);
  }
  /// Counts `bytes` of a broadcast from shard `from` as queued for shard `shard`, or refuses
  /// them when that shard is already `max_queue_bytes` behind: the broadcast is then dropped
  /// for its clients, and the first drop of each episode goes to `from`'s on_error. Any thread.
  /// A shard with nothing queued takes a broadcast of any size; a bound of 0 is no bound.
  bool reserve(std::size_t shard, std::size_t bytes, std::size_t from) {
    Registry& registry = registries_[shard];
    const std::size_t before = registry.queued_bytes.fetch_add(bytes);
    if (max_queue_bytes_ == 0 || before == 0 || before + bytes <= max_queue_bytes_) return true;
    registry.queued_bytes.fetch_sub(bytes);
    if (!registry.dropping.exchange(true))
      cores_[from]->report_error(nullptr, "shard " + std::to_string(shard) + " is " +
                                              std::to_string(registry.queued_bytes.load()) +
                                              " bytes of broadcasts behind (max_shard_queue_bytes): dropping "
                                              "broadcasts to its clients until it catches up");
    return false;
  }
  /// The queued broadcast was delivered on `shard` (its thread). An episode of drops ends
  /// once the shard is half way back.
  void release(std::size_t shard, std::size_t bytes) {
    Registry& registry = registries_[shard];
    if (registry.queued_bytes.fetch_sub(bytes) - bytes <= max_queue_bytes_ / 2) registry.dropping.store(false);
  }

  /// Shard `shard`'s adapter of `nsp`, or nullptr (no such namespace there). Call it on that
  /// shard's thread: the adapter is used there.
  ShardAdapter* find(std::size_t shard, const std::string& nsp) const {
    std::lock_guard<std::mutex> lock(registries_[shard].mutex);
    const auto found = registries_[shard].adapters.find(nsp);
    return found == registries_[shard].adapters.end() ? nullptr : found->second;
  }

 private:
  struct Registry {
    mutable std::mutex mutex;
    std::unordered_map<std::string, ShardAdapter*> adapters;
    std::atomic<std::size_t> queued_bytes{0};  // broadcasts posted to the shard, not yet run
    std::atomic<bool> dropping{false};         // over the bound, and reported
  };
  std::vector<Core*> cores_;
  mutable std::vector<Registry> registries_;
  const std::size_t max_queue_bytes_;
};

/// A socket lives on one shard, and so do its rooms: a room spread over shards is one room per
/// shard, each holding that shard's members, so "every member once" means every shard once.
///
/// Io thread of its shard only, like every adapter; the forwarded work runs on the other
/// shards' io threads, against their own adapter of the namespace with the same name.
class ShardAdapter final : public Adapter {
 public:
  ShardAdapter(std::unique_ptr<Adapter> inner, LocalSockets& local, std::shared_ptr<ShardGroup> group,
               std::size_t self)
      : inner_(std::move(inner)), local_(local), name_(local.name()), group_(std::move(group)), self_(self) {
    group_->add(self_, name_, this);
  }
  ~ShardAdapter() override { group_->remove(self_, name_, this); }

  void add_all(const SocketId& id, const std::vector<Room>& rooms) override { inner_->add_all(id, rooms); }
  void del(const SocketId& id, const Room& room) override { inner_->del(id, room); }
  void del_all(const SocketId& id) override { inner_->del_all(id); }
  std::vector<Room> socket_rooms(const SocketId& id) const override { return inner_->socket_rooms(id); }
  std::vector<SocketId> sockets(const BroadcastOptions& options) const override { return inner_->sockets(options); }

  void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) override {
    inner_->broadcast(packet, options);
    // With connection state recovery a socket's own emits come this way (to its own room): to
    // one socket that is here, no other shard has anything to deliver or keep. (A socket of
    // another shard that joined a room named after this socket's id would miss it.)
    if (group_->core(self_).options().connection_state_recovery() && options.rooms.size() == 1 &&
        options.except.empty() && !inner_->socket_rooms(*options.rooms.begin()).empty())
      return;
    // The same packet: it is immutable, and each shard's transport builds its own frames. Its
    // encoded size (the packet's JSON tree is about as much again) counts against the
    // receiving shard's queue bound.
    const auto& encoded = packet->encoded();
    std::size_t bytes = encoded.data.size();
    for (const auto& attachment : encoded.attachments) bytes += attachment.size();
    const BroadcastOptions here = local(options);
    for (std::size_t shard = 0; shard < group_->size(); ++shard) {
      if (shard == self_ || !group_->reserve(shard, bytes, self_)) continue;
      group_->core(shard).post([group = group_, shard, name = name_, packet, options = here, bytes] {
        group->release(shard, bytes);
        ShardAdapter* peer = group->find(shard, name);
        // A shard with no socket of the namespace has no one to deliver to, but with connection
        // state recovery it keeps the packet for the sockets it lost.
        if (peer && (peer->local_.size() > 0 || group->core(shard).options().connection_state_recovery()))
          peer->inner_->broadcast(packet, options);
      });
    }
  }

  void broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options,
                          ClientCount on_client_count, std::function<void(Args)> on_ack) override {
    // The shards are one server: their counts are summed into one report. The wrapped adapter's
    // first report is this shard's; the others it gives are other servers', passed on as they are.
    auto total = std::make_shared<Total>(group_->size(), on_client_count);
    auto first = std::make_shared<bool>(true);
    inner_->broadcast_with_ack(
        packet, options,
        [total, first, on_client_count](std::size_t clients) {
          if (*first) total->add(clients);
          else on_client_count(clients);
          *first = false;
        },
        on_ack);
    Core& origin = group_->core(self_);
    ask_peers(
        [packet, options = local(options), &origin, on_ack](ShardAdapter& peer, std::function<void(std::size_t)> reply) {
          peer.inner_->broadcast_with_ack(packet, options, std::move(reply), [&origin, on_ack](Args answer) {
            origin.post([on_ack, answer = std::move(answer)]() mutable { on_ack(std::move(answer)); });
          });
        },
        [total](std::size_t clients) { total->add(clients); }, std::size_t(0));
  }

  void server_count(std::function<void(std::size_t)> done) override { inner_->server_count(std::move(done)); }

  void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    inner_->add_sockets(options, rooms);
    on_peers([options = local(options), rooms](ShardAdapter& peer) { peer.inner_->add_sockets(options, rooms); });
  }

  void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override {
    inner_->del_sockets(options, rooms);
    on_peers([options = local(options), rooms](ShardAdapter& peer) { peer.inner_->del_sockets(options, rooms); });
  }

  void disconnect_sockets(const BroadcastOptions& options, bool close) override {
    inner_->disconnect_sockets(options, close);
    on_peers([options = local(options), close](ShardAdapter& peer) { peer.inner_->disconnect_sockets(options, close); });
  }

  void fetch_sockets(const BroadcastOptions& options, std::function<void(std::vector<SocketInfo>)> done) override {
    auto found = std::make_shared<Gathered<SocketInfo>>(group_->size(), std::move(done));
    inner_->fetch_sockets(options, [found](std::vector<SocketInfo> sockets) { found->add(std::move(sockets)); });
    ask_peers(
        [options = local(options)](ShardAdapter& peer, std::function<void(std::vector<SocketInfo>)> reply) {
          peer.inner_->fetch_sockets(options, std::move(reply));
        },
        [found](std::vector<SocketInfo> sockets) { found->add(std::move(sockets)); }, std::vector<SocketInfo>());
  }

  void all_rooms(BroadcastFlags flags, std::function<void(std::vector<Room>)> done) override {
    auto found = std::make_shared<Gathered<Room>>(group_->size(), [done = std::move(done)](std::vector<Room> rooms) {
      // A room with members on several shards is one room.
      std::unordered_set<Room> unique(std::make_move_iterator(rooms.begin()), std::make_move_iterator(rooms.end()));
      done(std::vector<Room>(unique.begin(), unique.end()));
    });
    inner_->all_rooms(flags, [found](std::vector<Room> rooms) { found->add(std::move(rooms)); });
    flags.local = true;
    ask_peers([flags](ShardAdapter& peer, std::function<void(std::vector<Room>)> reply) {
      peer.inner_->all_rooms(flags, std::move(reply));
    }, [found](std::vector<Room> rooms) { found->add(std::move(rooms)); }, std::vector<Room>());
  }

  void server_side_emit(const Args& event_and_args, ClientCount on_server_count,
                        std::function<void(Args)> on_reply) override {
    inner_->server_side_emit(event_and_args, std::move(on_server_count), std::move(on_reply));
  }
  void persist_session(const PersistedSession& session) override { inner_->persist_session(session); }
  void close() override { inner_->close(); }
  void restore_session(const std::string& pid, const std::string& offset,
                       std::function<void(std::optional<PersistedSession>)> done) override {
    // Every shard is asked (each first closes a socket of that pid it still holds, so that its
    // session is kept); the one session found is the answer, once all have answered.
    auto found = std::make_shared<Gathered<PersistedSession>>(
        group_->size(), [done = std::move(done)](std::vector<PersistedSession> sessions) {
          if (sessions.empty()) done(std::nullopt);
          else done(std::move(sessions.front()));
        });
    auto one = [](std::optional<PersistedSession> session) {
      std::vector<PersistedSession> sessions;
      if (session) sessions.push_back(std::move(*session));
      return sessions;
    };
    inner_->restore_session(pid, offset, [found, one](std::optional<PersistedSession> session) { found->add(one(std::move(session))); });
    ask_peers(
        [pid, offset, one](ShardAdapter& peer, std::function<void(std::vector<PersistedSession>)> reply) {
          peer.local_.release_session(pid);
          peer.inner_->restore_session(pid, offset, [reply = std::move(reply), one](std::optional<PersistedSession> session) {
            reply(one(std::move(session)));
          });
        },
        [found](std::vector<PersistedSession> sessions) { found->add(std::move(sessions)); }, std::vector<PersistedSession>());
  }

 private:
  /// The sum of one count per shard, reported once all are in.
  struct Total {
    Total(std::size_t expected, ClientCount done) : expected(expected), done(std::move(done)) {}
    void add(std::size_t clients) {
      sum += clients;
      if (++received == expected) done(sum);
    }
    std::size_t expected, received = 0, sum = 0;
    ClientCount done;
  };
  /// What every shard found (sockets, rooms), handed over once all are in.
  template <class Item>
  struct Gathered {
    Gathered(std::size_t expected, std::function<void(std::vector<Item>)> done)
        : expected(expected), done(std::move(done)) {}
    void add(std::vector<Item> items) {
      for (auto& item : items) all.push_back(std::move(item));
      if (++received == expected) done(std::move(all));
    }
    std::size_t expected, received = 0;
    std::vector<Item> all;
    std::function<void(std::vector<Item>)> done;
  };

  /// The options as the other shards get them: for their sockets only.
  static BroadcastOptions local(BroadcastOptions options) {
    options.flags.local = true;
    return options;
  }

  /// Runs `work(adapter)` on every other shard's io thread, with that shard's adapter of this
  /// namespace (never dropped: joins, leaves and disconnects are few and small; broadcasts,
  /// which a flood makes many, go through the bounded queue above). A shard where the namespace does not exist has no socket in it: nothing to do
  /// there, and nothing is created (dynamic namespaces appear per shard, on first CONNECT).
  /// Posts from one thread run in order, so a sockets_join followed by an emit to the room
  /// arrives on every shard in that order.
  template <class Work>
  void on_peers(const Work& work) {
    for (std::size_t shard = 0; shard < group_->size(); ++shard) {
      if (shard == self_) continue;
      group_->core(shard).post([group = group_, shard, name = name_, work] {
        if (ShardAdapter* peer = group->find(shard, name)) work(*peer);
      });
    }
  }

  /// Asks every other shard with `ask(adapter, reply)` and brings each reply back to this
  /// shard's thread, for `receive`; a shard without the namespace replies `nothing`.
  template <class Ask, class Receive, class Reply>
  void ask_peers(const Ask& ask, const Receive& receive, const Reply& nothing) {
    Core& origin = group_->core(self_);
    for (std::size_t shard = 0; shard < group_->size(); ++shard) {
      if (shard == self_) continue;
      group_->core(shard).post([group = group_, shard, name = name_, ask, receive, nothing, &origin] {
        auto back = [&origin, receive](Reply reply) {
          origin.post([receive, reply = std::move(reply)]() mutable { receive(std::move(reply)); });
        };
        if (ShardAdapter* peer = group->find(shard, name)) ask(*peer, back);
        else back(nothing);
      });
    }
  }

  std::unique_ptr<Adapter> inner_;
  LocalSockets& local_;
  const std::string name_;
  std::shared_ptr<ShardGroup> group_;
  std::size_t self_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_SHARD_ADAPTER_HPP
