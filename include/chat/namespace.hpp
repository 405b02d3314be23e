// chat::Namespace: a Socket.IO namespace, its handlers, its sockets and its adapter.
#ifndef CHAT_NAMESPACE_HPP
#define CHAT_NAMESPACE_HPP

// The outermost chat header included brings in the bodies (impl/core.hpp) once every
// declaration they use is complete; headers it includes on the way leave them out.
#ifndef CHAT_DECLARATIONS_OPEN
#define CHAT_DECLARATIONS_OPEN
#define CHAT_NAMESPACE_HPP_OUTERMOST
#endif

#include <functional>     // function
#include <memory>         // shared_ptr, unique_ptr
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <utility>        // forward, move

#include "adapter.hpp"
#include "args.hpp"
#include "broadcast.hpp"
#include "socket.hpp"

namespace chat {

namespace detail {
class Core;
class Client;
}

/// A namespace ("/", "/admin", ...): its hooks, its connected sockets and its adapter (rooms).
///
/// @par Thread Safety
/// Register hooks before `Server::run()` or on the io thread. `emit`, `to`, `in`, `except`
/// may be called from any thread; `socket`, `size` and `adapter` only on the io thread.
/// Hooks run on the io thread and must not block it.
class Namespace {
 public:
  Namespace(detail::Core& core, std::string name);
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }

  /// Handles one event by name. A handler that throws is reported to the server's error hook.
  Namespace& on(std::string event, EventHandler handler) {
    handlers_[std::move(event)] = std::move(handler);
    return *this;
  }
  /// Handles every event that has no handler of its own (a catch-all).
  Namespace& on_any(EventHandler handler) {
    any_handler_ = std::move(handler);
    return *this;
  }
  /// Decides on each client joining this namespace; without one, everyone is accepted.
  Namespace& on_connect(ConnectHandler handler) {
    connect_handler_ = std::move(handler);
    return *this;
  }
  /// Learns that a socket left, with Node's reason ("client namespace disconnect",
  /// "server namespace disconnect", "ping timeout", "transport close", "transport error",
  /// "parse error", "forced server close", "server shutting down").
  Namespace& on_disconnect(DisconnectHandler handler) {
    disconnect_handler_ = std::move(handler);
    return *this;
  }

  /// Emits to every socket of the namespace.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    all().emit(event, std::forward<Values>(values)...);
  }
  /// Selects the sockets in a room (or the socket with that id).
  BroadcastOperator to(Room room) { return all().to(std::move(room)); }
  BroadcastOperator in(Room room) { return to(std::move(room)); }
  /// Selects every socket except those in a room (or the socket with that id).
  BroadcastOperator except(Room room) { return all().except(std::move(room)); }
  /// Selects every socket of the namespace.
  BroadcastOperator all() { return BroadcastOperator(*this, {}); }

  /// The connected (or connecting) socket with this id, or nullptr. Io thread only.
  Socket* socket(const SocketId& id) const {
    const auto found = sockets_.find(id);
    return found == sockets_.end() ? nullptr : found->second.get();
  }
  /// How many sockets are in the namespace. Io thread only.
  std::size_t size() const { return sockets_.size(); }
  /// The namespace's adapter. Io thread only.
  Adapter& adapter() { return *adapter_; }

  /// Calls `visit(Socket&)` for every socket of the namespace. Io thread only.
  template <class Visit>
  void for_each_socket(Visit&& visit) const {
    for (const auto& entry : sockets_) visit(*entry.second);
  }

  /// Internal: the server this namespace belongs to.
  detail::Core& core() const { return core_; }

 private:
  friend class Socket;
  friend class detail::Client;
  friend class detail::Core;

  /// Adds a socket that sent CONNECT and runs the connect hook.
  void add(const std::shared_ptr<Socket>& socket);
  /// Removes a socket (after its disconnect hook).
  void remove(const Socket& socket);
  /// Runs the handler of an event, reporting exceptions.
  void dispatch(Socket& socket, Event& event);
  /// Copies the hooks of another namespace (dynamic namespaces take those of "*").
  void copy_hooks_from(const Namespace& other);

  detail::Core& core_;
  std::string name_;
  std::unordered_map<std::string, EventHandler> handlers_;
  EventHandler any_handler_;
  ConnectHandler connect_handler_;
  DisconnectHandler disconnect_handler_;
  std::unordered_map<SocketId, std::shared_ptr<Socket>> sockets_;
  std::unique_ptr<Adapter> adapter_;
};

}  // namespace chat

#ifdef CHAT_NAMESPACE_HPP_OUTERMOST
#undef CHAT_NAMESPACE_HPP_OUTERMOST
#undef CHAT_DECLARATIONS_OPEN
#include "impl/core.hpp"
#endif

#endif  // CHAT_NAMESPACE_HPP
