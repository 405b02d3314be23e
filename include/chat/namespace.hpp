// chat::Namespace: a Socket.IO namespace, its hooks and middlewares, its sockets and its adapter.
#ifndef CHAT_NAMESPACE_HPP
#define CHAT_NAMESPACE_HPP

#include <chrono>         // milliseconds
#include <cstddef>        // size_t
#include <cstdint>        // uint64_t
#include <functional>     // function
#include <memory>         // shared_ptr, unique_ptr
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <utility>        // forward, move
#include <vector>         // vector

#include "adapter.hpp"
#include "args.hpp"
#include "detail/config.hpp"
#include "fwd.hpp"
#include "middleware.hpp"

namespace chat {

namespace detail {
class Core;
class Client;
class ParentAdapter;
struct PacketChain;
CHAT_DECL void run_packet_chain(const std::shared_ptr<PacketChain>& chain);
}  // namespace detail

/// A namespace ("/", "/admin", ...): its hooks, its connected sockets and its adapter (rooms).
///
/// @par Thread Safety
/// Register hooks and middlewares before `Server::run()` or on the io thread. `emit`, `to`,
/// `in`, `except`, `all` and `server_side_emit` may be called from any thread; `socket`,
/// `size`, `for_each_socket` and `adapter` only on the io thread. Hooks run on the io thread
/// and must not block it.
class Namespace : private LocalSockets {
 public:
  /// Made by the server (Server::of). A parent namespace (`is_parent`) has no sockets of its
  /// own: its adapter acts on its children.
  Namespace(detail::Core& core, std::string name, bool is_parent = false);
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;
  ~Namespace();

  const std::string& name() const override { return name_; }

  /// Handles one event by name. A handler that throws is reported to the server's error hook.
  Namespace& on(std::string event, EventHandler handler) {
    handlers_[std::move(event)] = std::move(handler);
    return *this;
  }
  /// Handles every event that has no handler of its own (a catch-all, Flask-SocketIO's "*"
  /// event; Node's `socket.onAny` listeners are Socket::on_any).
  Namespace& on_any(EventHandler handler) {
    any_handler_ = std::move(handler);
    return *this;
  }
  /// Decides on each client joining this namespace, after the middlewares; without one,
  /// everyone the middlewares let through is accepted.
  Namespace& on_connect(ConnectHandler handler) {
    connect_handler_ = std::move(handler);
    return *this;
  }
  /// Learns that a socket left, and why (DisconnectReason, Node's spellings through to_string).
  Namespace& on_disconnect(DisconnectHandler handler) {
    disconnect_handler_ = std::move(handler);
    return *this;
  }
  /// Adds a middleware every client joining this namespace goes through, in the order added,
  /// before the connect hook (Node's `namespace.use`). One that calls `next.fail(message,
  /// data)` refuses the client with CONNECT_ERROR {"message","data"}.
  Namespace& use(ConnectMiddleware middleware) {
    middlewares_.push_back(std::move(middleware));
    return *this;
  }
  /// Handles the events other servers of a cluster send with `server_side_emit`.
  Namespace& on_server_side_emit(ServerSideHandler handler) {
    server_side_handler_ = std::move(handler);
    return *this;
  }

  /// Emits to every socket of the namespace.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    emit_array(std::move(Args::of(std::string(event), std::forward<Values>(values)...)).array());
  }
  /// Emits an event given as one JSON array: the event name followed by its arguments.
  void emit_array(json event_and_args);
  ///@{
  /// Selects the sockets in a room (or the socket with that id); `in` is another name for it.
  BroadcastOperator to(Room room);
  BroadcastOperator in(Room room);
  ///@}
  /// Selects every socket except those in a room (or the socket with that id).
  BroadcastOperator except(Room room);
  /// Selects every socket of the namespace.
  BroadcastOperator all();

  /// Sends an event to this namespace on every other server of the cluster (their
  /// `on_server_side_emit` hooks), through the adapter (Node's serverSideEmit). With the
  /// in-memory adapter there is no other server.
  template <class... Values>
  void server_side_emit(std::string_view event, Values&&... values) {
    server_side_emit_array(std::move(Args::of(std::string(event), std::forward<Values>(values)...)));
  }
  /// `server_side_emit` with the event name and its arguments in one Args.
  void server_side_emit_array(Args event_and_args);
  /// Sends an event to the other servers and gathers their answers: `callback` gets one per
  /// server, or errc::ack_timeout with those that came within `timeout` (Node's
  /// serverSideEmitWithAck). On the io thread.
  void server_side_emit_with_ack(Args event_and_args, AcksCallback callback, std::chrono::milliseconds timeout);

  /// The connected (or connecting) socket with this id, or nullptr. Io thread only.
  Socket* socket(const SocketId& id) const;
  /// How many sockets are in the namespace (a parent: in its children). Io thread only.
  std::size_t size() const override {
    std::size_t count = sockets_.size();
    for (const Namespace* child : children_) count += child->size();
    return count;
  }
  /// The namespace's adapter. Io thread only.
  Adapter& adapter() override { return *adapter_; }

  /// A parent namespace's children (Server::of(matcher)): the names of the namespaces it has
  /// made and that still exist, in the order made (Node's `parentNamespace.children`). Io
  /// thread only.
  std::vector<std::string> children() const {
    std::vector<std::string> names;
    for (const Namespace* child : children_) names.push_back(child->name());
    return names;
  }

  /// Calls `visit(Socket&)` for every socket of the namespace. Io thread only.
  template <class Visit>
  void for_each_socket(Visit&& visit) const {
    for (const auto& entry : sockets_) visit(*entry.second);
  }

 private:
  friend class Socket;
  friend class BroadcastOperator;
  friend class detail::Client;
  friend class detail::Core;
  friend void detail::run_packet_chain(const std::shared_ptr<detail::PacketChain>& chain);
  friend class detail::ParentAdapter;

  /// Adds a socket that sent CONNECT: runs the middlewares, then the connect hook. A
  /// recovered socket rejoins `rooms` first, and skips the middlewares when the options say so.
  void add(const std::shared_ptr<Socket>& socket, const std::vector<Room>& rooms = {});
  /// Whether `socket` is the one registered under its id (a recovered socket may have replaced
  /// an old one with the same id).
  bool owns(const Socket& socket) const;
  void run_middlewares(const std::shared_ptr<Socket>& socket, std::size_t index);
  void run_connect_hook(const std::shared_ptr<Socket>& socket);
  /// Removes a socket (after its disconnect hook).
  void remove(const Socket& socket);
  /// Runs the handler of an event, reporting exceptions.
  void dispatch(Socket& socket, Event& event);
  /// Copies the hooks of another namespace (dynamic namespaces take those of "*").
  void copy_hooks_from(const Namespace& other);
  /// The server this namespace belongs to.
  detail::Core& core() const { return core_; }

  // ---- LocalSockets, for the adapter ----
  const Parser& parser() const override;
  void deliver(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet) override;
  void deliver_to_all(const std::shared_ptr<const OutgoingPacket>& packet) override;
  bool deliver_expecting_ack(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet,
                             std::chrono::milliseconds timeout, std::function<void(Args)> on_ack) override;
  std::uint64_t next_ack_id() override { return next_ack_id_++; }
  void disconnect(const SocketId& id, bool close) override;
  std::optional<SocketInfo> describe(const SocketId& id) const override;
  void receive_server_side_emit(Args event_and_args, std::function<void(Args)> reply) override;
  void report_error(std::string_view message) override;
  void release_session(const std::string& pid) override;
  void room_joined(const SocketId& id, const Room& room) override;
  void room_left(const SocketId& id, const Room& room) override;

  detail::Core& core_;
  std::string name_;
  std::unordered_map<std::string, EventHandler> handlers_;
  EventHandler any_handler_;
  ConnectHandler connect_handler_;
  DisconnectHandler disconnect_handler_;
  ServerSideHandler server_side_handler_;
  std::vector<ConnectMiddleware> middlewares_;
  std::unordered_map<SocketId, std::shared_ptr<Socket>> sockets_;
  std::unordered_map<std::string, Socket*> by_pid_;  // connection state recovery only
  std::unique_ptr<Adapter> adapter_;  // the server's: through it a request reaches every shard
  std::uint64_t next_ack_id_ = 0;  // one counter for every ack of the namespace, as Node's (from first_ack_id)
  Adapter* own_adapter_ = nullptr;    // adapter_, or what a ShardedServer's shard adapter wraps
  bool is_parent_;
  Namespace* parent_ = nullptr;       // the parent namespace whose matcher made this one
  std::vector<Namespace*> children_;  // a parent's: the namespaces it made (io thread)
  bool dynamic_ = false;              // made for a client (by a parent or "*"): may be cleaned up
  std::size_t restoring_ = 0;         // clients waiting for their session: not cleaned up meanwhile
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/namespace.hpp"
#endif

#endif  // CHAT_NAMESPACE_HPP
