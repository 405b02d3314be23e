// Engine.IO v4 packets and their framing over WebSocket and long-polling, and the content types
// of its HTTP responses: every Engine.IO byte the server writes is written here. Sans-I/O.
#ifndef CHAT_ENGINEIO_PACKET_HPP
#define CHAT_ENGINEIO_PACKET_HPP

#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <vector>       // vector

#include "../detail/base64.hpp"

namespace chat::engineio {

/// The packet types of Engine.IO v4, as their wire characters.
enum class PacketType : char {
  open = '0',
  close = '1',
  ping = '2',
  pong = '3',
  message = '4',
  upgrade = '5',
  noop = '6',
};

/// One Engine.IO packet. A binary packet is always a message; its data is the raw bytes.
struct Packet {
  PacketType type = PacketType::message;  ///< what the packet is
  std::string data;                       ///< its payload: text, or raw bytes when binary
  bool binary = false;                    ///< whether `data` is bytes (a binary message)

  /// Whether type, data and binary are equal.
  friend bool operator==(const Packet& a, const Packet& b) {
    return a.type == b.type && a.data == b.data && a.binary == b.binary;
  }
};

/// The separator between packets in a polling payload (ASCII record separator).
inline constexpr char record_separator = '\x1e';

/// The content types of Engine.IO's HTTP responses.
namespace content_type {
inline constexpr std::string_view payload = "text/plain; charset=UTF-8";  ///< a polling payload
inline constexpr std::string_view post_ok = "text/html";                  ///< the "ok" a POST gets (Node's)
inline constexpr std::string_view error = "application/json";             ///< {"code":N,"message":"..."}
inline constexpr std::string_view plain = "text/plain";                   ///< other plain answers
}  // namespace content_type

/// Engine.IO messages that leave together, in order: one message (text, or binary as the
/// msgpack parser makes them), then binary messages after it (the JSON parser's attachments). A
/// Socket.IO packet is one such group. Immutable once made, so one group is queued to every
/// session a broadcast reaches.
struct Messages {
  std::string data;                      ///< the first message, without Engine.IO's `4`
  bool binary = false;                   ///< whether the first message is binary
  std::vector<std::string> attachments;  ///< binary messages after it
  bool compress = true;                  ///< whether the transport may compress it (Node's `compress`)

  /// How many Engine.IO packets the group is.
  std::size_t count() const { return 1 + attachments.size(); }
  /// Its size in bytes as queued for polling (binary grows by a third in base64).
  std::size_t polling_bytes() const {
    std::size_t bytes = binary ? data.size() * 4 / 3 : data.size();
    for (const auto& attachment : attachments) bytes += attachment.size() * 4 / 3;
    return bytes;
  }
};

/// The WebSocket frame body of a text message: `4` and the data.
inline std::string message_frame(std::string_view data) {
  std::string frame;
  frame.reserve(data.size() + 1);
  frame += char(PacketType::message);
  frame += data;
  return frame;
}

/// The frame (or polling record) of a packet without data: `2` (ping), `6` (noop), `1` (close)...
inline std::string control_frame(PacketType type) { return std::string(1, char(type)); }

/// Decodes a WebSocket text frame, or one record of a polling payload, into a packet.
/// Returns nullopt for an empty string or an unknown type character.
inline std::optional<Packet> decode_text(std::string_view text) {
  if (text.empty()) return std::nullopt;
  const char type = text.front();
  if (type < '0' || type > '6') return std::nullopt;
  return Packet{PacketType(type), std::string(text.substr(1)), false};
}

/// Decodes a polling payload: records separated by 0x1e, a binary message written `b<base64>`.
/// Returns nullopt if any record is invalid: the whole payload is refused, as Node does.
inline std::optional<std::vector<Packet>> decode_payload(std::string_view body) {
  std::vector<Packet> packets;
  if (body.empty()) return std::nullopt;
  for (;;) {
    const std::size_t end = body.find(record_separator);
    const std::string_view record = body.substr(0, end);
    if (!record.empty() && record.front() == 'b') {
      auto bytes = detail::base64_decode(record.substr(1));
      if (!bytes) return std::nullopt;
      packets.push_back(Packet{PacketType::message, std::move(*bytes), true});
    } else {
      auto packet = decode_text(record);
      if (!packet) return std::nullopt;
      packets.push_back(std::move(*packet));
    }
    if (end == std::string_view::npos) break;
    body.remove_prefix(end + 1);
  }
  return packets;
}

/// Appends one packet to a polling payload being built (adds the separator when needed).
inline void append_to_payload(std::string& payload, const Packet& packet) {
  if (!payload.empty()) payload += record_separator;
  if (packet.binary) {
    payload += 'b';
    payload += detail::base64_encode(packet.data);
  } else {
    payload += char(packet.type);
    payload += packet.data;
  }
}

/// Appends one message (text without its `4`, or raw binary bytes) to a polling payload.
inline void append_message(std::string& payload, std::string_view data, bool binary) {
  if (!payload.empty()) payload += record_separator;
  if (binary) {
    payload += 'b';
    payload += detail::base64_encode(data);
  } else {
    payload += char(PacketType::message);
    payload += data;
  }
}

/// Appends a group of messages to a polling payload.
inline void append_messages(std::string& payload, const Messages& messages) {
  append_message(payload, messages.data, messages.binary);
  for (const auto& attachment : messages.attachments) append_message(payload, attachment, true);
}

/// Appends a packet without data (ping, noop, close) to a polling payload.
inline void append_control(std::string& payload, PacketType type) {
  if (!payload.empty()) payload += record_separator;
  payload += char(type);
}

/// Encodes a packet as a WebSocket frame body (text, or the raw bytes of a binary message).
inline std::string encode_frame(const Packet& packet) {
  if (packet.binary) return packet.data;
  std::string out;
  out.reserve(packet.data.size() + 1);
  out += char(packet.type);
  out += packet.data;
  return out;
}

}  // namespace chat::engineio

#endif  // CHAT_ENGINEIO_PACKET_HPP
