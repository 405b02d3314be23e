// chat::LocalClient: an in-process client connection, with no network and no Engine.IO, for
// tests (what Flask-SocketIO's test client is to Flask-SocketIO).
#ifndef CHAT_LOCAL_CLIENT_HPP
#define CHAT_LOCAL_CLIENT_HPP

#include <memory>       // shared_ptr
#include <mutex>        // mutex, lock_guard
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include "adapter.hpp"
#include "detail/client.hpp"
#include "detail/config.hpp"
#include "handshake.hpp"
#include "socketio/types.hpp"

namespace chat {

/// A client connected to a server in process: Socket.IO packets go in through `send` and every
/// packet the server writes to it is decoded and kept until `take_received`. Each packet goes
/// through the server's parser both ways, as on the wire.
///
/// @par Thread Safety
/// `send` and `close_connection` must run on the server's io thread (use `Server::post`);
/// `take_received` and `closed_by_server` may be called from any thread.
class LocalClient final : public detail::Client {
 public:
  /// A client of the server whose core is `core`, with `handshake` as its request
  /// (Server::connect_local makes these).
  LocalClient(detail::Core& core, Handshake handshake);

  /// Feeds one packet as if the client had sent it.
  void send(const socketio::Packet& packet);

  /// The packets received since the last call, decoded.
  std::vector<socketio::Packet> take_received();

  /// Whether the server closed the connection (or `close_connection` was called).
  bool closed_by_server() const;

  /// Drops the connection as a client going away would ("transport close").
  void close_connection();

  /// Decodes what the server writes and keeps it for `take_received`.
  void write(const std::shared_ptr<const OutgoingPacket>& packet) override;
  /// Always: nothing queues between the server and an in-process client.
  bool writable() const override { return !closed_by_server(); }
  /// A fresh random id, as an Engine.IO session's.
  const std::string& connection_id() const override { return id_; }
  /// "local".
  std::string_view transport_name() const override { return "local"; }

 protected:
  /// The server closes the connection: `closed_by_server()` becomes true.
  void close_transport() override;

 private:
  std::string id_;
  std::unique_ptr<PacketDecoder> received_decoder_;  // io thread only
  mutable std::mutex mutex_;
  std::vector<socketio::Packet> received_;
  bool transport_closed_ = false;
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/local_client.hpp"
#endif

#endif  // CHAT_LOCAL_CLIENT_HPP
