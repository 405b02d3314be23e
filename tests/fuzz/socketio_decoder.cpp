// Fuzzes the Socket.IO decoder (chat/socketio/packet.hpp, through chat::JsonParser as a server
// uses it) with the Engine.IO messages of one connection, and checks what it decodes:
//   - the status follows the protocol: an attachment nobody announced, or text while attachments
//     are awaited, is an error; need_more only while a binary packet waits for attachments;
//   - a complete packet obeys Node's rules for its type (checked here independently), nests no
//     deeper than max_nesting, carries binary values only when it is a binary type and no
//     placeholder is left in it;
//   - decoded binary values hold no more bytes than the attachments fed for the packet (a
//     placeholder must not copy an attachment over and over);
//   - decode, encode, decode gives the same packet, and encoding it again the same messages.
// After an error the connection would be closed: the harness goes on with a fresh decoder.
//
// Input: an Engine.IO polling payload: records separated by 0x1e; "4<text>" is a text message,
// "b<base64>" a binary one ('b' then raw bytes when not base64, so any bytes can be reached);
// any other record is a text message as it is.
#include <chat/detail/base64.hpp>
#include <chat/parser.hpp>
#include <chat/socketio/packet.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "packet_check.hpp"

namespace {

using chat::socketio::Encoded;
using chat::socketio::Packet;
using Type = chat::socketio::PacketType;
using Status = chat::socketio::DecodeStatus;
using nlohmann::json;

struct Message {
  std::string bytes;
  bool binary;
};

std::vector<Message> split(std::string_view input) {
  std::vector<Message> messages;
  for (;;) {
    const std::size_t end = input.find('\x1e');
    const std::string_view record = input.substr(0, end);
    if (!record.empty() && record.front() == 'b') {
      auto decoded = chat::detail::base64_decode(record.substr(1));
      messages.push_back({decoded ? std::move(*decoded) : std::string(record.substr(1)), true});
    } else if (!record.empty() && record.front() == '4') {
      messages.push_back({std::string(record.substr(1)), false});
    } else {
      messages.push_back({std::string(record), false});
    }
    if (end == std::string_view::npos) break;
    input.remove_prefix(end + 1);
  }
  return messages;
}

const char* name_of(Type type) {
  switch (type) {
    case Type::connect: return "CONNECT";
    case Type::disconnect: return "DISCONNECT";
    case Type::event: return "EVENT";
    case Type::ack: return "ACK";
    case Type::connect_error: return "CONNECT_ERROR";
    case Type::binary_event: return "BINARY_EVENT";
    case Type::binary_ack: return "BINARY_ACK";
  }
  return "?";
}

std::string describe(const Packet& packet) {
  std::string out = name_of(packet.type);
  out += " nsp=" + fuzz::printable(packet.nsp);
  out += " id=" + (packet.id ? std::to_string(*packet.id) : std::string("none"));
  out += " data=" + (packet.has_data() ? packet.data.dump(-1, ' ', false, json::error_handler_t::replace) : "none");
  return out;
}

bool is_binary_type(Type type) { return type == Type::binary_event || type == Type::binary_ack; }

/// The bytes of every binary value in `value`, summed.
std::size_t binary_bytes(const json& value) {
  if (value.is_binary()) return value.get_binary().size();
  std::size_t total = 0;
  if (value.is_array() || value.is_object())
    for (const auto& element : value) total += binary_bytes(element);
  return total;
}

bool holds_binary(const json& value) {
  if (value.is_binary()) return true;
  if (value.is_array() || value.is_object())
    for (const auto& element : value)
      if (holds_binary(element)) return true;
  return false;
}

/// An object socket.io-parser would take for a placeholder ({"_placeholder":true,...}).
bool holds_placeholder(const json& value) {
  if (value.is_object()) {
    const auto marker = value.find("_placeholder");
    if (marker != value.end() && marker->is_boolean() && marker->get<bool>()) return true;
  }
  if (value.is_array() || value.is_object())
    for (const auto& element : value)
      if (holds_placeholder(element)) return true;
  return false;
}

/// Node's socket.io-parser rules for what each packet type carries, restated.
void check_packet_rules(const Packet& packet) {
  const std::string what = describe(packet);
  FUZZ_CHECK(!packet.nsp.empty() && packet.nsp.front() == '/', what);
  FUZZ_CHECK(packet.nsp.find(',') == std::string::npos, what);
  FUZZ_CHECK(!packet.id || *packet.id <= chat::socketio::Decoder::max_safe_integer, what);
  const json& data = packet.data;
  // Deeper data is refused before parsing: walking or dumping it recurses.
  FUZZ_CHECK(fuzz::depth(data) <= chat::socketio::detail::max_nesting, what);
  switch (packet.type) {
    case Type::connect:
      FUZZ_CHECK(!packet.has_data() || data.is_object(), what);
      FUZZ_CHECK(!packet.id, what);
      break;
    case Type::disconnect:
      FUZZ_CHECK(!packet.has_data() && !packet.id, what);
      break;
    case Type::connect_error:
      FUZZ_CHECK(data.is_string() || data.is_object(), what);
      FUZZ_CHECK(!packet.id, what);
      break;
    case Type::event:
    case Type::binary_event:
      fuzz::check_event_data(data, what);
      break;
    case Type::ack:
    case Type::binary_ack:
      FUZZ_CHECK(data.is_array() && packet.id, what);
      break;
  }
  if (is_binary_type(packet.type)) {
    FUZZ_CHECK(!holds_placeholder(data), "a placeholder left in " + what);
  } else {
    FUZZ_CHECK(!holds_binary(data), "binary values in a text packet: " + what);
  }
}

std::string describe(const Encoded& encoded) {
  std::string out = fuzz::printable(encoded.data);
  for (const auto& attachment : encoded.attachments) out += " + " + fuzz::printable(attachment);
  return out;
}

/// Feeds `encoded` to a fresh decoder: it must give back exactly one complete packet.
Packet decode_again(const chat::Parser& parser, const Encoded& encoded) {
  const auto decoder = parser.decoder();
  FUZZ_CHECK(!encoded.binary, describe(encoded));
  Status status = decoder->feed(encoded.data, false);
  for (const auto& attachment : encoded.attachments) {
    FUZZ_CHECK(status == Status::need_more, "the re-encoded packet " + describe(encoded) + " stopped early");
    status = decoder->feed(attachment, true);
  }
  FUZZ_CHECK(status == Status::complete, "the re-encoded packet does not decode: " + describe(encoded));
  return std::move(decoder->packet());
}

void check_round_trip(const chat::Parser& parser, const Packet& packet) {
  const Encoded encoded = parser.encode(packet);
  const Packet again = decode_again(parser, encoded);
  const std::string what = describe(packet) + "\nre-encoded " + describe(encoded) + "\ndecoded as " + describe(again);
  FUZZ_CHECK(again.type == packet.type, what);
  FUZZ_CHECK(again.nsp == packet.nsp, what);
  FUZZ_CHECK(again.id == packet.id, what);
  FUZZ_CHECK(again.has_data() == packet.has_data(), what);
  FUZZ_CHECK(!packet.has_data() || again.data == packet.data, what);
  // The encoding is canonical: a packet that came back encodes to the same messages.
  const Encoded twice = parser.encode(again);
  FUZZ_CHECK(twice.data == encoded.data && twice.attachments == encoded.attachments,
             what + "\nencoded again as " + describe(twice));
  FUZZ_CHECK(encoded.attachments.size() <= chat::socketio::Decoder::max_attachments, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const chat::Parser& parser = *chat::JsonParser::shared();
  auto decoder = parser.decoder();
  bool awaiting = false;              // a binary packet waits for attachments
  std::size_t attachment_bytes = 0;   // fed for the packet being reassembled
  for (const Message& message : split(fuzz::as_text(data, size))) {
    const Status status = decoder->feed(message.bytes, message.binary);
    const std::string what = (message.binary ? "binary " : "text ") + fuzz::printable(message.bytes);
    if (message.binary && !awaiting) FUZZ_CHECK(status == Status::error, "an attachment nobody announced: " + what);
    if (!message.binary && awaiting) FUZZ_CHECK(status == Status::error, "text amid attachments: " + what);
    if (!message.binary) attachment_bytes = 0;
    else attachment_bytes += message.bytes.size();
    switch (status) {
      case Status::error:
        decoder = parser.decoder();  // the server closes the connection: a new one starts clean
        awaiting = false;
        break;
      case Status::need_more:
        FUZZ_CHECK(message.binary || is_binary_type(decoder->packet().type), what);
        awaiting = true;
        break;
      case Status::complete: {
        awaiting = false;
        Packet& packet = decoder->packet();
        FUZZ_CHECK(!message.binary || is_binary_type(packet.type), what);
        check_packet_rules(packet);
        FUZZ_CHECK(binary_bytes(packet.data) <= attachment_bytes,
                   "binary values of " + std::to_string(binary_bytes(packet.data)) + " bytes from attachments of " +
                       std::to_string(attachment_bytes) + ": " + describe(packet));
        check_round_trip(parser, packet);
        break;
      }
    }
  }
  return 0;
}
