// chat::Adapter: where rooms live and how a broadcast finds its recipients. The in-memory
// adapter is the default; a cluster adapter (Redis, ...) implements the same interface and
// plugs in through `Server::set_adapter_factory` without touching sessions or transports.
#ifndef CHAT_ADAPTER_HPP
#define CHAT_ADAPTER_HPP

// The outermost chat header included brings in the bodies (impl/core.hpp) once every
// declaration they use is complete; headers it includes on the way leave them out.
#ifndef CHAT_DECLARATIONS_OPEN
#define CHAT_DECLARATIONS_OPEN
#define CHAT_ADAPTER_HPP_OUTERMOST
#endif

#include <memory>         // shared_ptr
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
#include <vector>         // vector

#include "socketio/packet.hpp"

namespace chat {

class Namespace;

using SocketId = std::string;
using Room = std::string;

/// A packet encoded once for every recipient of a broadcast.
struct EncodedPacket {
  socketio::Encoded encoded;
  /// Per-transport cache of the frames built from `encoded` (for WebSocket, one prepared frame
  /// per Engine.IO message, shared by every recipient). Touched only on the io thread.
  mutable std::shared_ptr<void> transport_cache;
};

/// Who a broadcast reaches: sockets in any of `rooms` (every socket of the namespace when
/// empty), minus sockets in any of `except`.
struct BroadcastOptions {
  std::unordered_set<Room> rooms;
  std::unordered_set<Room> except;
};

/// The room registry and broadcaster of one namespace (Node's socket.io-adapter).
///
/// @par Thread Safety
/// Called only on the server's io thread.
class Adapter {
 public:
  virtual ~Adapter() = default;

  /// Adds a socket to rooms.
  virtual void add_all(const SocketId& id, const std::vector<Room>& rooms) = 0;
  /// Removes a socket from one room.
  virtual void del(const SocketId& id, const Room& room) = 0;
  /// Removes a socket from every room (it disconnected).
  virtual void del_all(const SocketId& id) = 0;
  /// Delivers `packet` to every local socket the options select.
  virtual void broadcast(const std::shared_ptr<const EncodedPacket>& packet, const BroadcastOptions& options) = 0;
  /// The rooms a socket is in.
  virtual std::vector<Room> socket_rooms(const SocketId& id) const = 0;
  /// The ids of the sockets the options select.
  virtual std::vector<SocketId> sockets(const BroadcastOptions& options) const = 0;

  /// Makes the sockets the options select join `rooms` (Node's addSockets). The default acts on
  /// the sockets this adapter holds, through `sockets` and `add_all`; an adapter that spans
  /// several servers also reaches theirs.
  virtual void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms);
  /// Makes the sockets the options select leave `rooms` (Node's delSockets). The default acts
  /// on the sockets this adapter holds, through `sockets` and `del`.
  virtual void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms);
  /// Disconnects the sockets of `nsp` the options select; with `close`, their whole connections
  /// (Node's disconnectSockets). The default acts on the sockets of `nsp` this adapter holds.
  virtual void disconnect_sockets(Namespace& nsp, const BroadcastOptions& options, bool close);
};

/// The default adapter: rooms in two hash maps, broadcasts delivered in process.
class InMemoryAdapter : public Adapter {
 public:
  explicit InMemoryAdapter(Namespace& nsp) : nsp_(nsp) {}

  void add_all(const SocketId& id, const std::vector<Room>& rooms) override;
  void del(const SocketId& id, const Room& room) override;
  void del_all(const SocketId& id) override;
  void broadcast(const std::shared_ptr<const EncodedPacket>& packet, const BroadcastOptions& options) override;
  std::vector<Room> socket_rooms(const SocketId& id) const override;
  std::vector<SocketId> sockets(const BroadcastOptions& options) const override;

 private:
  /// Calls `visit(id)` once for each socket the options select.
  template <class Visit>
  void for_each_selected(const BroadcastOptions& options, Visit&& visit) const;

  Namespace& nsp_;
  std::unordered_map<Room, std::unordered_set<SocketId>> rooms_;
  std::unordered_map<SocketId, std::unordered_set<Room>> sids_;
};

}  // namespace chat

#ifdef CHAT_ADAPTER_HPP_OUTERMOST
#undef CHAT_ADAPTER_HPP_OUTERMOST
#undef CHAT_DECLARATIONS_OPEN
#include "impl/core.hpp"
#endif

#endif  // CHAT_ADAPTER_HPP
