// Engine.IO v3's framing, which socket.io-client 2.x speaks (Node's `allowEIO3`), beside v4's in
// packet.hpp: the polling payloads (`<length>:<packet>` records in text, or the binary payload
// format), binary messages as `b4<base64>` for a client that asked for base64 (`b64=1`), and
// WebSocket binary frames that carry the packet type in their first byte. Sans-I/O; the packets
// themselves (types, Packet, Messages) are v4's.
// (Node's engine.io build/parser-v3, from engine.io-parser 2.2.)
#ifndef CHAT_ENGINEIO_V3_HPP
#define CHAT_ENGINEIO_V3_HPP

#include <cstddef>      // size_t
#include <optional>     // optional
#include <string>       // string, to_string
#include <string_view>  // string_view
#include <vector>       // vector

#include "../detail/base64.hpp"
#include "packet.hpp"

namespace chat::engineio::v3 {

/// The content type of a binary polling payload (a text one is content_type::payload).
inline constexpr std::string_view binary_payload_type = "application/octet-stream";

/// The most digits a record's length may have: more would describe a payload larger than any
/// server accepts (and would overflow the count).
inline constexpr std::size_t max_length_digits = 10;

/// The UTF-16 code units of the character a UTF-8 lead byte starts: two for a four-byte
/// sequence (a surrogate pair), else one.
inline std::size_t units_of_lead(unsigned char byte) { return byte >= 0xF0 && byte <= 0xF7 ? 2 : 1; }

/// How many UTF-16 code units UTF-8 `text` makes: the length a v3 text payload states for each
/// record (a JavaScript string's length). A four-byte sequence counts two; a byte that is not
/// a continuation byte counts one, so that malformed text still has a defined length.
inline std::size_t utf16_length(std::string_view text) {
  std::size_t units = 0;
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if ((byte & 0xC0) == 0x80) continue;  // a continuation byte
    units += units_of_lead(byte);
  }
  return units;
}

/// The bytes of `text`'s first `units` UTF-16 code units, counted as utf16_length counts them;
/// nullopt when `text` is shorter, or the count ends inside a character.
inline std::optional<std::size_t> utf8_bytes_of_units(std::string_view text, std::size_t units) {
  std::size_t i = 0;
  while (units > 0) {
    if (i >= text.size()) return std::nullopt;
    const auto byte = static_cast<unsigned char>(text[i]);
    const std::size_t width = units_of_lead(byte);
    if (width > units) return std::nullopt;  // half of a surrogate pair
    units -= width;
    ++i;
    while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xC0) == 0x80) ++i;
  }
  return i;
}

/// One packet of a payload being written: a view of data the caller keeps alive.
struct Record {
  PacketType type = PacketType::message;  ///< what the packet is
  std::string_view data;                  ///< its payload: text, or raw bytes when binary
  bool binary = false;  ///< a binary message: `data` holds its raw bytes
};

/// A v3 polling payload as written: text (content_type::payload) or, when it holds a binary
/// message and the client takes binary, the binary payload format (binary_payload_type).
struct Payload {
  std::string body;      ///< the response body
  bool binary = false;   ///< whether it is the binary payload format (else text)
};

/// A record as text: its type and data, or `b4` and the base64 of a binary message.
inline std::string text_record(const Record& record) {
  std::string out;
  if (record.binary) {
    out = "b4";
    out += ::chat::detail::base64_encode(record.data);
  } else {
    out += char(record.type);
    out += record.data;
  }
  return out;
}

/// Writes a polling payload. With `binary_allowed` (the client did not ask for base64) and a
/// binary message among `records`, every record goes in the binary format: a byte 0 (text) or
/// 1 (binary), the decimal digits of its length as bytes 0-9, 255, then the record (text as its
/// UTF-8 bytes, binary as the type byte 4 and the bytes). Otherwise each record is
/// `<length>:<record>`, the length counted in UTF-16 code units.
inline Payload encode_payload(const std::vector<Record>& records, bool binary_allowed) {
  bool any_binary = false;
  for (const auto& record : records) any_binary = any_binary || record.binary;
  Payload payload;
  if (binary_allowed && any_binary) {
    payload.binary = true;
    for (const auto& record : records) {
      const std::size_t length = record.data.size() + 1;
      payload.body += record.binary ? '\x01' : '\x00';
      for (const char digit : std::to_string(length)) payload.body += char(digit - '0');
      payload.body += '\xff';
      payload.body += record.binary ? '\x04' : char(record.type);
      payload.body += record.data;
    }
    return payload;
  }
  for (const auto& record : records) {
    const std::string text = text_record(record);
    payload.body += std::to_string(utf16_length(text));
    payload.body += ':';
    payload.body += text;
  }
  return payload;
}

/// Decodes one text record (a WebSocket text frame, or a record of a text payload): a type
/// character and data, or `b4<base64>` for a binary message. Nullopt for an unknown type, a
/// `b` record of another type, or bad base64.
inline std::optional<Packet> decode_record(std::string_view text) {
  if (!text.empty() && text.front() == 'b') {
    if (text.size() < 2 || text[1] != char(PacketType::message)) return std::nullopt;
    auto bytes = ::chat::detail::base64_decode(text.substr(2));
    if (!bytes) return std::nullopt;
    return Packet{PacketType::message, std::move(*bytes), true};
  }
  return decode_text(text);
}

/// Decodes a binary WebSocket frame, or a binary record of a binary payload: the type byte 4,
/// then the message's bytes. Nullopt for an empty frame or another type.
inline std::optional<Packet> decode_binary_record(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != '\x04') return std::nullopt;
  return Packet{PacketType::message, std::string(bytes.substr(1)), true};
}

/// Reads a record's length: decimal digits (as characters, or as bytes 0-9 in a binary
/// payload). Nullopt when there are none, too many, or another character.
inline std::optional<std::size_t> read_length(std::string_view digits, bool digit_bytes) {
  if (digits.empty() || digits.size() > max_length_digits) return std::nullopt;
  std::size_t length = 0;
  for (const char c : digits) {
    const int value = digit_bytes ? static_cast<unsigned char>(c) : c - '0';
    if (value < 0 || value > 9) return std::nullopt;
    length = length * 10 + std::size_t(value);
  }
  return length;
}

/// Decodes a text payload: `<length>:<record>` records, the length in UTF-16 code units.
inline std::optional<std::vector<Packet>> decode_text_payload(std::string_view body) {
  std::vector<Packet> packets;
  while (!body.empty()) {
    const std::size_t colon = body.find(':');
    if (colon == std::string_view::npos) return std::nullopt;
    const auto units = read_length(body.substr(0, colon), false);
    if (!units) return std::nullopt;
    body.remove_prefix(colon + 1);
    const auto bytes = utf8_bytes_of_units(body, *units);
    if (!bytes) return std::nullopt;
    // A zero-length record is skipped, as Node's parser skips it.
    if (*bytes > 0) {
      auto packet = decode_record(body.substr(0, *bytes));
      if (!packet) return std::nullopt;
      packets.push_back(std::move(*packet));
    }
    body.remove_prefix(*bytes);
  }
  return packets;
}

/// Decodes a binary payload: records as encode_payload writes them in the binary format.
inline std::optional<std::vector<Packet>> decode_binary_payload(std::string_view body) {
  std::vector<Packet> packets;
  while (!body.empty()) {
    const bool text = body.front() == '\x00';
    const std::size_t end = body.find('\xff');
    if (end == std::string_view::npos) return std::nullopt;
    const auto length = read_length(body.substr(1, end - 1), true);
    if (!length || *length == 0 || body.size() - end - 1 < *length) return std::nullopt;
    const std::string_view record = body.substr(end + 1, *length);
    auto packet = text ? decode_record(record) : decode_binary_record(record);
    if (!packet) return std::nullopt;
    packets.push_back(std::move(*packet));
    body.remove_prefix(end + 1 + *length);
  }
  return packets;
}

/// Decodes a polling payload a client POSTed: the binary payload format when it came as
/// binary_payload_type (`binary_content`), text records otherwise. Nullopt when any record is
/// malformed, or the body is empty: the whole payload is refused, and the session ends with a
/// parse error, as Node's does.
inline std::optional<std::vector<Packet>> decode_payload(std::string_view body, bool binary_content) {
  if (body.empty()) return std::nullopt;
  return binary_content ? decode_binary_payload(body) : decode_text_payload(body);
}

/// The WebSocket frame body of a binary message for a v3 client: the type byte 4 and the
/// bytes, sent as a binary frame; or, for a client that asked for base64, `b4<base64>` sent as
/// a text frame.
inline std::string binary_frame(std::string_view bytes, bool base64) {
  if (base64) return text_record(Record{PacketType::message, bytes, true});
  std::string frame;
  frame.reserve(bytes.size() + 1);
  frame += '\x04';
  frame += bytes;
  return frame;
}

}  // namespace chat::engineio::v3

#endif  // CHAT_ENGINEIO_V3_HPP
