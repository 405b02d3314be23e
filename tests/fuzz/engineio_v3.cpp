// Fuzzes Engine.IO v3's framing (chat/engineio/v3.hpp): the input as a text polling payload, as a
// binary one (application/octet-stream), and as one WebSocket frame, text and binary. Checks:
//   - nothing but a decoded payload or a refusal comes out, and a decoded binary packet is
//     always a message;
//   - a decoded payload written again with encode_payload (both for a client that takes binary
//     and for one that asked for base64) decodes to the same packets, and writing those again
//     gives the same bytes (lengths in UTF-16 units agree with the decoder's reading of them);
//   - utf8_bytes_of_units reads back exactly the bytes utf16_length counted, for any record that
//     starts with a type character, as every record the server writes does;
//   - a binary WebSocket frame decodes exactly when it starts with the type byte 4, and encodes
//     back to itself; a text frame decodes as the v4 decoder does, or as `b4<base64>`.
#include <chat/engineio/v3.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using chat::engineio::Packet;
using chat::engineio::PacketType;
namespace v3 = chat::engineio::v3;

std::string describe(const std::vector<Packet>& packets) {
  std::string out;
  for (const auto& packet : packets)
    out += std::string(packet.binary ? " binary " : " ") + char(packet.type) + fuzz::printable(packet.data);
  return out;
}

std::vector<v3::Record> records_of(const std::vector<Packet>& packets) {
  std::vector<v3::Record> records;
  for (const auto& packet : packets) records.push_back({packet.type, packet.data, packet.binary});
  return records;
}

void check_round_trip(const std::vector<Packet>& packets, const std::string& what) {
  for (const bool binary_allowed : {true, false}) {
    const v3::Payload written = v3::encode_payload(records_of(packets), binary_allowed);
    bool any_binary = false;
    for (const auto& packet : packets) any_binary = any_binary || packet.binary;
    FUZZ_CHECK(written.binary == (binary_allowed && any_binary), what);
    if (packets.empty()) continue;  // nothing to write: an empty body, which a POST may not be
    const auto again = v3::decode_payload(written.body, written.binary);
    FUZZ_CHECK(again && *again == packets, what + "\nwritten " + fuzz::printable(written.body));
    const v3::Payload rewritten = v3::encode_payload(records_of(*again), binary_allowed);
    FUZZ_CHECK(rewritten.body == written.body && rewritten.binary == written.binary, what);
  }
}

void check_payload(std::string_view input, bool binary_content) {
  const auto packets = v3::decode_payload(input, binary_content);
  if (!packets) return;
  const std::string what = std::string(binary_content ? "binary " : "text ") + fuzz::printable(input) +
                           " decoded as" + describe(*packets);
  FUZZ_CHECK(!input.empty(), what);
  for (const auto& packet : *packets) FUZZ_CHECK(!packet.binary || packet.type == PacketType::message, what);
  check_round_trip(*packets, what);
}

void check_lengths(std::string_view input) {
  // A record as the server writes it: a type character, then any bytes.
  const std::string record = "4" + std::string(input);
  const std::size_t units = v3::utf16_length(record);
  const auto bytes = v3::utf8_bytes_of_units(record, units);
  FUZZ_CHECK(bytes && *bytes == record.size(), fuzz::printable(record) + " counted " + std::to_string(units));
}

void check_frames(std::string_view input) {
  const auto binary = v3::decode_binary_record(input);
  FUZZ_CHECK(binary.has_value() == (!input.empty() && input.front() == '\x04'), fuzz::printable(input));
  if (binary) {
    FUZZ_CHECK(binary->binary && binary->type == PacketType::message, fuzz::printable(input));
    FUZZ_CHECK(v3::binary_frame(binary->data, false) == input, fuzz::printable(input));
    const auto base64 = v3::decode_record(v3::binary_frame(binary->data, true));
    FUZZ_CHECK(base64 && *base64 == *binary, fuzz::printable(input));
  }
  const auto text = v3::decode_record(input);
  if (!input.empty() && input.front() == 'b') {
    if (text) FUZZ_CHECK(text->binary && input.substr(0, 2) == "b4", fuzz::printable(input));
  } else {
    FUZZ_CHECK(text == chat::engineio::decode_text(input), fuzz::printable(input));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  check_payload(input, false);
  check_payload(input, true);
  check_lengths(input);
  check_frames(input);
  return 0;
}
