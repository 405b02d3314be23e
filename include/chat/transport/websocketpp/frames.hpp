// The WebSocket frames chat sends to many connections, built once: a broadcast's frames, shared by
// every recipient, and the one-byte control packets.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP

#include <memory>  // shared_ptr, make_shared
#include <string>  // string
#include <vector>  // vector

#include <websocketpp/frame.hpp>

#include "../../engineio/packet.hpp"

namespace chat::transport {

/// Prepared frames: their header written once, RSV1 clear. A client that negotiated
/// permessage-deflate may still be sent them: RFC 7692 lets any message go uncompressed.
template <class Config>
class FrameCache {
 public:
  using MessagePtr = typename Config::message_type::ptr;

  static MessagePtr make_frame(const std::string& payload, websocketpp::frame::opcode::value opcode) {
    auto message = std::make_shared<typename Config::message_type>(typename Config::con_msg_manager_type::ptr(), opcode, payload.size());
    message->set_header(websocketpp::frame::prepare_header(
        websocketpp::frame::basic_header(opcode, payload.size(), true, false),
        websocketpp::frame::extended_header(payload.size())));
    message->set_payload(payload);
    message->set_prepared(true);
    return message;
  }

  /// The frames of a group of messages, shared by every recipient: a broadcast reaches its
  /// recipients one after the other, so the last group's frames are kept (each transport its
  /// own, so the shards of a ShardedServer share nothing mutable).
  const std::vector<MessagePtr>& frames(const std::shared_ptr<const engineio::Messages>& messages) {
    if (messages != last_messages_) {
      last_frames_.clear();
      last_frames_.push_back(messages->binary ? make_frame(messages->data, websocketpp::frame::opcode::binary)
                                              : make_frame(engineio::message_frame(messages->data), websocketpp::frame::opcode::text));
      for (const auto& attachment : messages->attachments)
        last_frames_.push_back(make_frame(attachment, websocketpp::frame::opcode::binary));
      last_messages_ = messages;
    }
    return last_frames_;
  }

  const MessagePtr& control_frame(engineio::PacketType type) {
    auto& frame = control_frames_[char(type) - '0'];
    if (!frame) frame = make_frame(engineio::control_frame(type), websocketpp::frame::opcode::text);
    return frame;
  }

 private:
  MessagePtr control_frames_[7];
  std::shared_ptr<const engineio::Messages> last_messages_;
  std::vector<MessagePtr> last_frames_;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP
