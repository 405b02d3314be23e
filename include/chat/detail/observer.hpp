// What a server tells an observer of itself (the Admin UI's instrumentation, chat/admin_ui.hpp):
// connections opening, upgrading and closing, the bytes of each message, sockets joining and
// leaving namespaces and rooms, events in and out. Every call is on the server's io thread.
#ifndef CHAT_DETAIL_OBSERVER_HPP
#define CHAT_DETAIL_OBSERVER_HPP

#include <cstddef>  // size_t
#include <string>   // string

#include "../fwd.hpp"

namespace chat {
namespace socketio {
struct Packet;
}  // namespace socketio

namespace detail {

class Client;

/// Learns what happens on a server, as Node's admin UI learns it from the engine's and the
/// adapters' events. The default of each call does nothing; none may throw, and none may close
/// a connection or a socket from inside the call (post that instead).
class ServerObserver {
 public:
  virtual ~ServerObserver() = default;

  /// An Engine.IO connection opened (its transport is Client::transport_name()).
  virtual void connection_opened(const Client&) {}
  /// A polling connection moved to WebSocket.
  virtual void connection_upgraded(const Client&) {}
  /// An Engine.IO connection is gone, for `reason`.
  virtual void connection_closed(const Client&, DisconnectReason) {}
  /// One Engine.IO message of `bytes` bytes came in, or went out.
  virtual void message_received(std::size_t /*bytes*/) {}
  virtual void message_sent(std::size_t /*bytes*/) {}

  /// A socket was accepted into its namespace (after the middlewares and the connect hook).
  virtual void socket_connected(Socket&) {}
  /// A connected socket left its namespace (after its disconnect hook; it has left its rooms).
  virtual void socket_disconnected(Socket&, DisconnectReason) {}
  /// A socket of namespace `nsp` entered or left a room (only actual changes).
  virtual void room_joined(const std::string& /*nsp*/, const Room&, const SocketId&) {}
  virtual void room_left(const std::string& /*nsp*/, const Room&, const SocketId&) {}
  /// A connected socket received an event, or had one written to it (broadcasts included).
  virtual void event_received(Socket&, const Event&) {}
  virtual void event_sent(Socket&, const socketio::Packet&) {}
  /// The server is stopping: timers of the observer's own must go, or the loop never ends.
  virtual void stopping() {}
};

}  // namespace detail
}  // namespace chat

#endif  // CHAT_DETAIL_OBSERVER_HPP
