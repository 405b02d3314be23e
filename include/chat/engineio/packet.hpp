// Engine.IO v4 packets and the long-polling payload framing. Sans-I/O: bytes in, bytes out.
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
  PacketType type = PacketType::message;
  std::string data;
  bool binary = false;

  friend bool operator==(const Packet& a, const Packet& b) {
    return a.type == b.type && a.data == b.data && a.binary == b.binary;
  }
};

/// The separator between packets in a polling payload (ASCII record separator).
inline constexpr char record_separator = '\x1e';

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

/// Appends an already encoded text packet (type character included) or raw binary message.
inline void append_to_payload(std::string& payload, std::string_view encoded, bool binary) {
  if (!payload.empty()) payload += record_separator;
  if (binary) {
    payload += 'b';
    payload += detail::base64_encode(encoded);
  } else {
    payload += encoded;
  }
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
