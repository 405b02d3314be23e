// The WebSocket frames chat sends to many connections, built once: a broadcast's frames, shared by
// every recipient, and the one-byte control packets.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP

#include <memory>  // shared_ptr, make_shared
#include <string>  // string
#include <vector>  // vector

#include <websocketpp/frame.hpp>

#include "../../engineio/packet.hpp"
#include "../../engineio/request.hpp"
#include "../../engineio/v3.hpp"

namespace chat::transport {

/// How a session's WebSocket carries binary messages.
enum class BinaryFraming {
  raw,        ///< Engine.IO v4: a binary frame of the bytes
  v3_typed,   ///< Engine.IO v3: a binary frame of the type byte 4 and the bytes
  v3_base64,  ///< Engine.IO v3 with `b64`: a text frame `b4<base64>`
};

/// The framing a session's WebSocket uses, from the protocol it speaks.
inline BinaryFraming binary_framing(const engineio::Protocol& protocol) {
  if (!protocol.legacy()) return BinaryFraming::raw;
  return protocol.base64 ? BinaryFraming::v3_base64 : BinaryFraming::v3_typed;
}

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
  /// recipients one after the other, so the last group's frames are kept, for each framing
  /// (each transport its own, so the shards of a ShardedServer share nothing mutable).
  const std::vector<MessagePtr>& frames(const std::shared_ptr<const engineio::Messages>& messages,
                                        BinaryFraming framing = BinaryFraming::raw) {
    Slot& slot = slots_[static_cast<int>(framing)];
    if (messages != slot.messages) {
      slot.frames.clear();
      slot.frames.push_back(messages->binary ? binary_frame(messages->data, framing)
                                             : make_frame(engineio::message_frame(messages->data), websocketpp::frame::opcode::text));
      for (const auto& attachment : messages->attachments) slot.frames.push_back(binary_frame(attachment, framing));
      slot.messages = messages;
    }
    return slot.frames;
  }

  const MessagePtr& control_frame(engineio::PacketType type) {
    auto& frame = control_frames_[char(type) - '0'];
    if (!frame) frame = make_frame(engineio::control_frame(type), websocketpp::frame::opcode::text);
    return frame;
  }

 private:
  /// The last group's frames in one framing.
  struct Slot {
    std::shared_ptr<const engineio::Messages> messages;
    std::vector<MessagePtr> frames;
  };

  static MessagePtr binary_frame(const std::string& bytes, BinaryFraming framing) {
    switch (framing) {
      case BinaryFraming::raw: break;
      case BinaryFraming::v3_typed:
        return make_frame(engineio::v3::binary_frame(bytes, false), websocketpp::frame::opcode::binary);
      case BinaryFraming::v3_base64:
        return make_frame(engineio::v3::binary_frame(bytes, true), websocketpp::frame::opcode::text);
    }
    return make_frame(bytes, websocketpp::frame::opcode::binary);
  }

  MessagePtr control_frames_[7];
  Slot slots_[3];
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_FRAMES_HPP
