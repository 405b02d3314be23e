// Fuzzes the msgpack parser's decoder (chat/msgpack_parser.hpp) with one Engine.IO binary message,
// what a hostile client of a server with MsgpackParser sends, and checks what it decodes:
//   - nothing escapes feed() (no exception, no stack overflow on deep nesting, no bad_alloc from
//     a forged length); the same bytes as a text message are an error (the format is binary);
//   - a complete packet obeys socket.io-msgpack-parser's and Node's rules for its type (restated
//     here), is never a BINARY_* type, and nests no deeper than a JSON packet may;
//   - decode, encode, decode gives the same packet, and encoding it again the same bytes.
//
// Input: the message's bytes, as they are (tests/fuzz/corpus/msgpack_decoder holds packets
// socket.io-msgpack-parser wrote).
#include <chat/msgpack_parser.hpp>
#include <chat/socketio/packet.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "packet_check.hpp"

namespace {

using chat::socketio::Encoded;
using chat::socketio::Packet;
using Type = chat::socketio::PacketType;
using Status = chat::socketio::DecodeStatus;
using nlohmann::json;

std::string text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string describe(const Packet& packet) {
  return "type=" + std::to_string(static_cast<int>(packet.type)) + " nsp=" + fuzz::printable(packet.nsp) +
         " id=" + (packet.id ? std::to_string(*packet.id) : std::string("none")) +
         " data=" + (packet.has_data() ? text(packet.data) : "none");
}

void check_packet_rules(const Packet& packet) {
  const std::string what = describe(packet);
  const json& data = packet.data;
  FUZZ_CHECK(fuzz::depth(data) <= chat::socketio::detail::max_nesting, what);
  switch (packet.type) {
    case Type::connect:
      FUZZ_CHECK(!packet.has_data() || data.is_object(), what);
      break;
    case Type::disconnect:
      FUZZ_CHECK(!packet.has_data(), what);
      break;
    case Type::connect_error:
      FUZZ_CHECK(data.is_string() || data.is_object(), what);
      break;
    case Type::event:
      fuzz::check_event_data(data, what);
      break;
    case Type::ack:
      FUZZ_CHECK(data.is_array() && packet.id, what);
      break;
    case Type::binary_event:
    case Type::binary_ack:
      FUZZ_CHECK(false, "a binary packet type from the msgpack format: " + what);
  }
}

void check_round_trip(const chat::Parser& parser, const Packet& packet) {
  const Encoded encoded = parser.encode(packet);
  const std::string what = describe(packet) + "\nre-encoded " + fuzz::printable(encoded.data);
  FUZZ_CHECK(encoded.binary && encoded.attachments.empty(), what);
  const auto decoder = parser.decoder();
  FUZZ_CHECK(decoder->feed(encoded.data, true) == Status::complete, "the re-encoded packet does not decode: " + what);
  const Packet& again = decoder->packet();
  FUZZ_CHECK(again.type == packet.type && again.nsp == packet.nsp && again.id == packet.id, what);
  FUZZ_CHECK(again.has_data() == packet.has_data(), what);
  // As text: NaN is not equal to itself, and both dump as null.
  FUZZ_CHECK(!packet.has_data() || text(again.data) == text(packet.data), what + "\ndecoded as " + describe(again));
  const Encoded twice = parser.encode(again);
  FUZZ_CHECK(twice.data == encoded.data, what + "\nencoded again as " + fuzz::printable(twice.data));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const chat::Parser& parser = *chat::MsgpackParser::shared();
  const std::string_view message = fuzz::as_text(data, size);
  FUZZ_CHECK(parser.decoder()->feed(message, false) == Status::error, "a text message decoded: " + fuzz::printable(message));
  const auto decoder = parser.decoder();
  if (decoder->feed(message, true) == Status::complete) {
    const Packet packet = decoder->packet();
    check_packet_rules(packet);
    check_round_trip(parser, packet);
  }
  return 0;
}
