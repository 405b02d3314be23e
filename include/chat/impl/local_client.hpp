// Bodies of LocalClient (chat/local_client.hpp).
#ifndef CHAT_IMPL_LOCAL_CLIENT_HPP
#define CHAT_IMPL_LOCAL_CLIENT_HPP

#include "../detail/core.hpp"
#include "../detail/random_id.hpp"
#include "../local_client.hpp"

namespace chat {

CHAT_DECL LocalClient::LocalClient(detail::Core& core, Handshake handshake)
    : Client(core, std::move(handshake)), id_(detail::random_id()), received_decoder_(core.parser().decoder()) {}

CHAT_DECL void LocalClient::send(const socketio::Packet& packet) {
  const socketio::Encoded encoded = core().parser().encode(packet);
  on_message(encoded.data, encoded.binary);
  for (const auto& attachment : encoded.attachments) on_message(attachment, true);
}

CHAT_DECL std::vector<socketio::Packet> LocalClient::take_received() {
  std::lock_guard<std::mutex> lock(mutex_);
  auto received = std::move(received_);
  received_.clear();
  return received;
}

CHAT_DECL bool LocalClient::closed_by_server() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return transport_closed_;
}

CHAT_DECL void LocalClient::close_connection() { on_transport_closed(DisconnectReason::transport_close); }

CHAT_DECL void LocalClient::write(const std::shared_ptr<const OutgoingPacket>& packet) {
  const socketio::Encoded& encoded = packet->encoded();
  auto status = received_decoder_->feed(encoded.data, encoded.binary);
  for (const auto& attachment : encoded.attachments) status = received_decoder_->feed(attachment, true);
  if (status != PacketDecoder::Status::complete) return;  // the server's own parser's output
  std::lock_guard<std::mutex> lock(mutex_);
  received_.push_back(std::move(received_decoder_->packet()));
}

CHAT_DECL void LocalClient::close_transport() {
  std::lock_guard<std::mutex> lock(mutex_);
  transport_closed_ = true;
}

}  // namespace chat

#endif  // CHAT_IMPL_LOCAL_CLIENT_HPP
