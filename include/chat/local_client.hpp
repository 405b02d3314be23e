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
#include "detail/core.hpp"
#include "handshake.hpp"
#include "namespace.hpp"
#include "socketio/packet.hpp"

namespace chat {

/// A client connected to a server in process: Socket.IO packets go in through `send` and every
/// packet the server writes to it is decoded and kept until `take_received`. Each packet goes
/// through the same encoder and decoder as on the wire.
///
/// @par Thread Safety
/// `send` and `close` must run on the server's io thread (use `Server::post`);
/// `take_received` and `closed` may be called from any thread.
class LocalClient final : public detail::Client {
 public:
  LocalClient(detail::Core& core, Handshake handshake) : Client(core, std::move(handshake)) {}

  /// Feeds one packet as if the client had sent it.
  void send(const socketio::Packet& packet) {
    const socketio::Encoded encoded = socketio::encode(packet);
    on_message(std::string_view(encoded.text).substr(1), false);
    for (const auto& attachment : encoded.attachments) on_message(attachment, true);
  }

  /// The packets received since the last call, decoded.
  std::vector<socketio::Packet> take_received() {
    std::lock_guard<std::mutex> lock(mutex_);
    auto received = std::move(received_);
    received_.clear();
    return received;
  }

  /// Whether the server closed the connection (or `close` was called).
  bool closed_by_server() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return transport_closed_;
  }

  /// Drops the connection as a client going away would ("transport close").
  void close_connection() { on_transport_closed("transport close"); }

  void write(const std::shared_ptr<const EncodedPacket>& packet) override {
    socketio::Decoder decoder;
    auto status = decoder.feed_text(std::string_view(packet->encoded.text).substr(1));
    for (const auto& attachment : packet->encoded.attachments) status = decoder.feed_binary(attachment);
    if (status != socketio::Decoder::Status::complete) return;  // our own encoder's output
    std::lock_guard<std::mutex> lock(mutex_);
    received_.push_back(std::move(decoder.packet()));
  }

 protected:
  void close_transport() override {
    std::lock_guard<std::mutex> lock(mutex_);
    transport_closed_ = true;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<socketio::Packet> received_;
  bool transport_closed_ = false;
};

}  // namespace chat

#endif  // CHAT_LOCAL_CLIENT_HPP
