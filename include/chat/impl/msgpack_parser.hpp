// Bodies of MsgpackParser (chat/msgpack_parser.hpp).
#ifndef CHAT_IMPL_MSGPACK_PARSER_HPP
#define CHAT_IMPL_MSGPACK_PARSER_HPP

#include <memory>   // make_shared, make_unique
#include <utility>  // move

#include "../detail/notepack.hpp"
#include "../msgpack_parser.hpp"
#include "../socketio/packet.hpp"

namespace chat {

namespace detail {

/// How deeply a msgpack packet may nest: the map around the packet, then its data as deep as a
/// JSON packet's data may be (socketio::detail::max_nesting brackets), then the scalars inside.
inline constexpr int max_msgpack_packet_nesting = socketio::detail::max_nesting + 2;

/// Reads socket.io-msgpack-parser's packets: one binary message, one packet.
class MsgpackDecoder final : public PacketDecoder {
 public:
  Status feed(std::string_view message, bool binary) override {
    if (!binary) return Status::error;  // the format sends every packet as binary
    try {
      json map = from_notepack(message, max_msgpack_packet_nesting);
      return read(map) ? Status::complete : Status::error;
    } catch (const NotepackError&) {
      return Status::error;
    }
  }
  socketio::Packet& packet() override { return packet_; }

 private:
  /// socket.io-msgpack-parser's checkPacket, then Node's checks on the payload. A missing key, a
  /// nil and notepack's undefined (which the codec reads as null) all mean "absent": Node's
  /// client writes `id: undefined` into the map, python-socketio writes `data: None`.
  bool read(json& map) {
    if (!map.is_object()) return false;
    const auto type = map.find("type");
    if (type == map.end() || !type->is_number_integer()) return false;
    const auto type_number = type->get<std::int64_t>();
    if (type_number < 0 || type_number > static_cast<int>(socketio::PacketType::connect_error)) return false;
    const auto nsp = map.find("nsp");
    if (nsp == map.end() || !nsp->is_string()) return false;

    socketio::Packet packet;
    packet.type = static_cast<socketio::PacketType>(type_number);
    packet.nsp = std::move(nsp->get_ref<std::string&>());
    const auto data = map.find("data");
    if (data != map.end() && !data->is_null()) packet.data = std::move(*data);
    const auto id = map.find("id");
    if (id != map.end() && !id->is_null()) {
      if (!id->is_number_unsigned()) return false;  // negative or not an integer
      packet.id = id->get<std::uint64_t>();
    }
    if (!socketio::detail::payload_valid(packet.type, packet.data)) return false;
    if (packet.type == socketio::PacketType::ack && !packet.id) return false;
    packet_ = std::move(packet);
    return true;
  }

  socketio::Packet packet_;
};

}  // namespace detail

CHAT_DECL socketio::Encoded MsgpackParser::encode(const socketio::Packet& packet) const {
  using socketio::PacketType;
  // No binary packet types here: binary values travel inline, in an event or ack like any other.
  PacketType type = packet.type;
  if (type == PacketType::binary_event) type = PacketType::event;
  if (type == PacketType::binary_ack) type = PacketType::ack;
  detail::NotepackWriter writer;
  writer.map(2 + (packet.has_data() ? 1 : 0) + (packet.id ? 1 : 0));
  writer.string("type");
  writer.integer(static_cast<int>(type));
  if (packet.has_data()) {
    writer.string("data");
    writer.value(packet.data);
  }
  if (packet.id) {
    writer.string("id");
    writer.unsigned_integer(*packet.id);
  }
  writer.string("nsp");
  writer.string(packet.nsp);
  socketio::Encoded encoded;
  encoded.data = writer.take();
  encoded.binary = true;
  return encoded;
}

CHAT_DECL std::unique_ptr<PacketDecoder> MsgpackParser::decoder() const {
  return std::make_unique<detail::MsgpackDecoder>();
}

CHAT_DECL const std::shared_ptr<const Parser>& MsgpackParser::shared() {
  static const std::shared_ptr<const Parser> instance = std::make_shared<MsgpackParser>();
  return instance;
}

}  // namespace chat

#endif  // CHAT_IMPL_MSGPACK_PARSER_HPP
