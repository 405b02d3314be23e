// Socket.IO v5 packets as values: what every parser encodes and decodes.
#ifndef CHAT_SOCKETIO_TYPES_HPP
#define CHAT_SOCKETIO_TYPES_HPP

#include <cstdint>   // uint64_t
#include <optional>  // optional
#include <string>    // string

#include <nlohmann/json.hpp>

#include "../engineio/packet.hpp"

namespace chat::socketio {

enum class PacketType : int {
  connect = 0,
  disconnect = 1,
  event = 2,
  ack = 3,
  connect_error = 4,
  binary_event = 5,
  binary_ack = 6,
};

/// One Socket.IO packet. `data` is discarded (is_discarded()) when the packet carries none.
struct Packet {
  PacketType type = PacketType::event;  ///< what the packet is
  std::string nsp = "/";                ///< the namespace it belongs to
  std::optional<std::uint64_t> id;      ///< the ack id, when an ack is asked for or given
  nlohmann::json data = nlohmann::json(nlohmann::json::value_t::discarded);  ///< its payload

  /// Whether the packet carries data.
  bool has_data() const { return !data.is_discarded(); }
};

/// An encoded packet: the Engine.IO messages that carry it (for the JSON format, a text
/// message then one binary message per attachment).
using Encoded = engineio::Messages;

/// What a decoder says after each message it is fed.
enum class DecodeStatus {
  complete,   ///< a packet is ready
  need_more,  ///< a binary packet is waiting for attachments
  error,      ///< malformed input: the protocol requires closing the connection
};

}  // namespace chat::socketio

#endif  // CHAT_SOCKETIO_TYPES_HPP
