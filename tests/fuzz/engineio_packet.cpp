// Fuzzes Engine.IO's packet decoding (chat/engineio/packet.hpp): the input as one WebSocket text
// frame, and as one polling payload. Checks:
//   - a frame decodes when it starts with a type character, and encodes back to itself;
//   - a payload decodes to one packet per record (records split at 0x1e) or is refused whole,
//     exactly when a record is empty, has no known type, or is "b" with bad base64;
//   - a decoded payload, written again with append_to_payload (or, for its messages, with
//     append_message), decodes to the same packets, and writing those gives the same bytes
//     (one normalisation at most: base64 padding).
#include <chat/engineio/packet.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using chat::engineio::Packet;
using chat::engineio::PacketType;

std::string describe(const std::vector<Packet>& packets) {
  std::string out;
  for (const auto& packet : packets)
    out += std::string(packet.binary ? " binary " : " ") + char(packet.type) + fuzz::printable(packet.data);
  return out;
}

std::string payload_of(const std::vector<Packet>& packets) {
  std::string payload;
  for (const auto& packet : packets) chat::engineio::append_to_payload(payload, packet);
  return payload;
}

bool valid_record(std::string_view record) {
  if (record.empty()) return false;
  if (record.front() == 'b') return chat::detail::base64_decode(record.substr(1)).has_value();
  return record.front() >= '0' && record.front() <= '6';
}

void check_frame(std::string_view input) {
  const auto packet = chat::engineio::decode_text(input);
  const bool typed = !input.empty() && input.front() >= '0' && input.front() <= '6';
  FUZZ_CHECK(packet.has_value() == typed, fuzz::printable(input));
  if (!packet) return;
  FUZZ_CHECK(!packet->binary && char(packet->type) == input.front() && packet->data == input.substr(1),
             fuzz::printable(input));
  FUZZ_CHECK(chat::engineio::encode_frame(*packet) == input, fuzz::printable(input));
  // A binary message goes over WebSocket as its bytes, untouched.
  const Packet binary{PacketType::message, std::string(input), true};
  FUZZ_CHECK(chat::engineio::encode_frame(binary) == input, fuzz::printable(input));
}

void check_payload(std::string_view input) {
  const auto packets = chat::engineio::decode_payload(input);
  std::vector<std::string_view> records;
  for (std::string_view rest = input;;) {
    const std::size_t end = rest.find('\x1e');
    records.push_back(rest.substr(0, end));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  bool all_valid = !input.empty();
  for (const auto record : records) all_valid = all_valid && valid_record(record);
  FUZZ_CHECK(packets.has_value() == all_valid, fuzz::printable(input));
  if (!packets) return;
  const std::string what = fuzz::printable(input) + " decoded as" + describe(*packets);
  FUZZ_CHECK(packets->size() == records.size(), what);
  for (std::size_t i = 0; i < records.size(); ++i) {
    const Packet& packet = (*packets)[i];
    FUZZ_CHECK(packet.binary == (records[i].front() == 'b'), what);
    FUZZ_CHECK(!packet.binary || packet.type == PacketType::message, what);
    if (!packet.binary) FUZZ_CHECK(records[i] == char(packet.type) + packet.data, what);
  }

  const std::string written = payload_of(*packets);
  const auto again = chat::engineio::decode_payload(written);
  FUZZ_CHECK(again && *again == *packets, what + "\nwritten " + fuzz::printable(written));
  FUZZ_CHECK(payload_of(*again) == written, what + "\nwritten " + fuzz::printable(written));

  // The messages of the payload as the server writes them (append_message, append_messages).
  std::string by_message;
  std::vector<Packet> messages;
  for (const auto& packet : *packets) {
    if (packet.type != PacketType::message) continue;
    chat::engineio::append_message(by_message, packet.data, packet.binary);
    messages.push_back(packet);
  }
  if (!messages.empty()) {
    FUZZ_CHECK(by_message == payload_of(messages), what);
    chat::engineio::Messages group;
    group.data = messages.front().data;
    group.binary = messages.front().binary;
    bool attachments_binary = true;
    for (std::size_t i = 1; i < messages.size(); ++i) {
      group.attachments.push_back(messages[i].data);
      attachments_binary = attachments_binary && messages[i].binary;
    }
    if (attachments_binary) {
      std::string grouped;
      chat::engineio::append_messages(grouped, group);
      FUZZ_CHECK(grouped == by_message, what);
      FUZZ_CHECK(group.count() == messages.size(), what);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  check_frame(input);
  check_payload(input);
  return 0;
}
