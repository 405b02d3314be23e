// The Socket.IO side of one Engine.IO connection: decoding, the namespaces joined, the connect
// timeout. A transport derives from it and supplies `write` and `close_transport` (an
// in-process client does too: LocalClient).
#ifndef CHAT_DETAIL_CLIENT_HPP
#define CHAT_DETAIL_CLIENT_HPP

#include <memory>         // shared_ptr, unique_ptr, enable_shared_from_this
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set

#include "../adapter.hpp"
#include "../fwd.hpp"
#include "config.hpp"
#include "../handshake.hpp"
#include "../parser.hpp"
#include "../reason.hpp"

namespace chat::detail {

class Core;
struct ConnectTimer;

class Client : public std::enable_shared_from_this<Client> {
 public:
  virtual ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Handshake& handshake() const { return handshake_; }
  Core& core() const { return core_; }

  /// The Engine.IO connection is open: start waiting for a CONNECT.
  void on_open();
  /// One Engine.IO message arrived (text without its `4`, or binary bytes).
  void on_message(std::string_view data, bool binary);
  /// The transport is gone: every socket disconnects with `reason`.
  void on_transport_closed(DisconnectReason reason);

  /// Closes the connection from the server side: sockets disconnect with `reason`, then the
  /// transport closes.
  void close(DisconnectReason reason);
  /// Disconnects every socket (each client socket sees "io server disconnect"), then closes.
  void disconnect_all();
  /// Forgets the socket of a namespace (it disconnected on its own).
  void remove_socket(const std::string& nsp);
  bool closed() const { return closed_; }
  /// Whether the server chose to close (disconnect_all): queued packets should still be
  /// delivered, where a dead or misbehaving peer's are dropped.
  bool closing_gracefully() const { return closing_gracefully_; }
  /// Whether the client speaks Socket.IO v2 (an Engine.IO v3 connection, Options::allow_eio3):
  /// it is in the main namespace without a CONNECT, names another namespace's auth as a query
  /// in its CONNECT, and is answered CONNECT without a payload.
  bool speaks_v2() const { return engine_sid_.has_value(); }

  /// The Engine.IO session's id (Node's `socket.conn.id`).
  virtual const std::string& connection_id() const = 0;
  /// "polling" or "websocket": what carries the connection now ("local" in process).
  virtual std::string_view transport_name() const = 0;

  /// Sends a packet over the transport.
  virtual void write(const std::shared_ptr<const OutgoingPacket>& packet) = 0;
  /// Whether a packet written now would leave at once rather than wait in a queue (Node's
  /// `transport.writable`): volatile packets are written only then.
  virtual bool writable() const = 0;

 protected:
  /// `v2_engine_sid`: the Engine.IO sid of a Socket.IO v2 client (see speaks_v2), whose socket
  /// ids are made of it as Node makes them (the sid in the main namespace, `/nsp#sid` in others).
  Client(Core& core, Handshake handshake, std::optional<std::string> v2_engine_sid = std::nullopt);
  /// Closes the transport; it must not call back into this object synchronously.
  virtual void close_transport() = 0;

 private:
  void handle(socketio::Packet& packet);
  void on_connect_packet(socketio::Packet& packet);
  /// Makes the socket of a CONNECT: a fresh one, or the one `session` gives back.
  void join(Namespace& nsp, const std::string& name, json auth, std::optional<PersistedSession> session);
  std::shared_ptr<Socket> find(const std::string& nsp) const;
  /// A Socket.IO v2 CONNECT names its namespace with the auth as a query ("/nsp?token=1"):
  /// splits it into the name and an object of the query's parameters. False when it is no path.
  static bool split_v2_namespace(socketio::Packet& packet);

  Core& core_;
  Handshake handshake_;
  std::optional<std::string> engine_sid_;  // Socket.IO v2 clients only
  std::unique_ptr<PacketDecoder> decoder_;
  std::unordered_map<std::string, std::shared_ptr<Socket>> sockets_;
  std::unordered_set<std::string> recovering_;  // namespaces whose CONNECT awaits restore_session
  std::unique_ptr<ConnectTimer> connect_timer_;  // an asio timer, kept out of this header
  bool joined_any_ = false;
  bool closed_ = false;
  bool closing_gracefully_ = false;
};

}  // namespace chat::detail

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "../impl/client.hpp"
#endif

#endif  // CHAT_DETAIL_CLIENT_HPP
