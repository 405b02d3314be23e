// Socket.IO v5 packets: encoding with binary attachments, decoding with Node's validation rules.
// Sans-I/O. Binary values are nlohmann::json binary values anywhere in the payload; on the wire
// they become {"_placeholder":true,"num":N} plus one attachment each, numbered depth-first.
#ifndef CHAT_SOCKETIO_PACKET_HPP
#define CHAT_SOCKETIO_PACKET_HPP

#include <cstdint>      // uint64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <vector>       // vector

#include <nlohmann/json.hpp>

#include "types.hpp"

namespace chat::socketio {

namespace detail {

/// Replaces binary values by placeholders, collecting their bytes depth-first (in place).
inline void extract_binaries(nlohmann::json& value, std::vector<std::string>& attachments) {
  if (value.is_binary()) {
    const auto& bytes = value.get_binary();
    std::string raw(bytes.begin(), bytes.end());
    value = nlohmann::json{{"_placeholder", true}, {"num", attachments.size()}};
    attachments.push_back(std::move(raw));
  } else if (value.is_array() || value.is_object()) {
    for (auto& element : value) extract_binaries(element, attachments);
  }
}

inline bool contains_binary(const nlohmann::json& value) {
  if (value.is_binary()) return true;
  if (value.is_array() || value.is_object())
    for (const auto& element : value)
      if (contains_binary(element)) return true;
  return false;
}

/// Replaces placeholders by the attachments they name. False on a placeholder whose number is
/// not an attachment's (Node: "illegal attachments"), or names one a placeholder already took:
/// each would be a copy of its bytes (Node and python-socketio share one buffer), so one large
/// attachment named by every placeholder a message holds would take gigabytes. Stock clients
/// never name an attachment twice: their encoders give every binary value its own.
inline bool restore_binaries(nlohmann::json& value, std::vector<std::string>& attachments, std::vector<bool>& used) {
  if (value.is_object()) {
    const auto marker = value.find("_placeholder");
    if (marker != value.end() && marker->is_boolean() && marker->get<bool>()) {
      const auto num = value.find("num");
      if (num == value.end() || !num->is_number_unsigned()) return false;
      const auto index = num->get<std::uint64_t>();
      if (index >= attachments.size() || used[index]) return false;
      used[index] = true;
      const std::string& bytes = attachments[index];
      value = nlohmann::json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
      return true;
    }
    for (auto& element : value)
      if (!restore_binaries(element, attachments, used)) return false;
  } else if (value.is_array()) {
    for (auto& element : value)
      if (!restore_binaries(element, attachments, used)) return false;
  }
  return true;
}

/// Nesting deeper than this is refused before parsing: nlohmann's dump and our walks recurse,
/// and a megabyte of '[' must not exhaust the io thread's stack.
inline constexpr int max_nesting = 64;

/// Whether JSON `text` nests arrays and objects no deeper than `limit` (a scan, not a parse: it
/// comes first so that the parse's recursion stays bounded).
inline bool nesting_within_limit(std::string_view text, int limit = max_nesting) {
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

inline bool is_reserved_event(std::string_view name) {
  return name == "connect" || name == "connect_error" || name == "disconnect" ||
         name == "disconnecting" || name == "newListener" || name == "removeListener";
}

/// Node's isPayloadValid: what each packet type may carry.
inline bool payload_valid(PacketType type, const nlohmann::json& data) {
  switch (type) {
    case PacketType::connect:
      return data.is_discarded() || data.is_object();
    case PacketType::disconnect:
      return data.is_discarded();
    case PacketType::connect_error:
      return data.is_string() || data.is_object();
    case PacketType::event:
    case PacketType::binary_event:
      return data.is_array() && !data.empty() &&
             (data[0].is_number() || (data[0].is_string() && !is_reserved_event(data[0].get_ref<const std::string&>())));
    case PacketType::ack:
    case PacketType::binary_ack:
      return data.is_array();
  }
  return false;
}

}  // namespace detail

/// Encodes a packet as socket.io-parser does: the packet as JSON text, and its binary values as
/// attachments (an EVENT or ACK holding any is sent as BINARY_EVENT or BINARY_ACK, its binary
/// values replaced by {"_placeholder":true,"num":N}). `data` is copied only when it holds
/// binary values.
inline Encoded encode(PacketType type, std::string_view nsp, std::optional<std::uint64_t> id,
                      const nlohmann::json& data) {
  Encoded out;
  nlohmann::json placeholders;
  const nlohmann::json* body = &data;
  if ((type == PacketType::event || type == PacketType::ack) && detail::contains_binary(data)) {
    type = type == PacketType::event ? PacketType::binary_event : PacketType::binary_ack;
  }
  if (type == PacketType::binary_event || type == PacketType::binary_ack) {
    placeholders = data;
    detail::extract_binaries(placeholders, out.attachments);
    body = &placeholders;
  }
  std::string& text = out.data;
  text += char('0' + int(type));
  if (type == PacketType::binary_event || type == PacketType::binary_ack) {
    text += std::to_string(out.attachments.size());
    text += '-';
  }
  if (nsp != "/") {
    text += nsp;
    text += ',';
  }
  if (id) text += std::to_string(*id);
  if (!body->is_discarded()) text += body->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return out;
}

inline Encoded encode(const Packet& packet) { return encode(packet.type, packet.nsp, packet.id, packet.data); }

/// Decodes Socket.IO packets from Engine.IO messages, reassembling binary packets from the
/// attachments that follow them. One decoder per connection.
class Decoder {
 public:
  /// What `feed` says: a packet is complete, more messages are needed, or the input is bad.
  using Status = DecodeStatus;

  /// Node's socket.io-parser refuses more attachments than this per packet.
  static constexpr std::uint64_t max_attachments = 10;
  /// The largest integer a JavaScript number holds exactly (ack ids, attachment counts).
  static constexpr std::uint64_t max_safe_integer = (std::uint64_t(1) << 53) - 1;

  /// Feeds one Engine.IO message: the packet's text, or one of its attachments.
  Status feed(std::string_view message, bool binary) { return binary ? feed_binary(message) : feed_text(message); }

  /// Feeds the text of an Engine.IO message (without the leading `4`).
  Status feed_text(std::string_view text) {
    if (awaiting_ > 0) return Status::error;  // a text message in the middle of attachments
    packet_ = Packet{};
    if (text.empty()) return Status::error;
    const char type_char = text[0];
    if (type_char < '0' || type_char > '6') return Status::error;
    packet_.type = PacketType(type_char - '0');
    std::size_t i = 1;

    std::uint64_t attachments = 0;
    const bool binary = packet_.type == PacketType::binary_event || packet_.type == PacketType::binary_ack;
    if (binary) {
      const std::size_t dash = text.find('-', i);
      if (dash == std::string_view::npos || dash == i) return Status::error;
      if (!parse_number(text.substr(i, dash - i), attachments)) return Status::error;
      if (attachments > max_attachments) return Status::error;
      i = dash + 1;
    }
    if (i < text.size() && text[i] == '/') {
      const std::size_t comma = text.find(',', i);
      const std::size_t end = comma == std::string_view::npos ? text.size() : comma;
      packet_.nsp.assign(text.substr(i, end - i));
      i = comma == std::string_view::npos ? text.size() : comma + 1;
    }
    std::size_t digits = i;
    while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9') ++digits;
    if (digits > i) {
      std::uint64_t id = 0;
      if (!parse_number(text.substr(i, digits - i), id)) return Status::error;
      packet_.id = id;
      i = digits;
    }
    if (i < text.size()) {
      const std::string_view json_text = text.substr(i);
      if (!detail::nesting_within_limit(json_text)) return Status::error;
      packet_.data = nlohmann::json::parse(json_text, nullptr, false);
      if (packet_.data.is_discarded()) return Status::error;
    }
    if (!detail::payload_valid(packet_.type, packet_.data)) return Status::error;
    if (packet_.id && packet_.type != PacketType::event && packet_.type != PacketType::binary_event &&
        packet_.type != PacketType::ack && packet_.type != PacketType::binary_ack)
      return Status::error;
    if ((packet_.type == PacketType::ack || packet_.type == PacketType::binary_ack) && !packet_.id)
      return Status::error;
    if (binary && attachments > 0) {
      awaiting_ = attachments;
      buffers_.clear();
      return Status::need_more;
    }
    if (binary) return finish_binary();
    return Status::complete;
  }

  /// Feeds one binary Engine.IO message: the next attachment of the pending binary packet.
  Status feed_binary(std::string_view bytes) {
    if (awaiting_ == 0) return Status::error;  // an attachment nobody announced
    buffers_.emplace_back(bytes);
    if (--awaiting_ > 0) return Status::need_more;
    return finish_binary();
  }

  /// Whether a binary packet is waiting for attachments.
  bool busy() const { return awaiting_ > 0; }

  /// The packet decoded by the last call that returned `complete`.
  Packet& packet() { return packet_; }

 private:
  static bool parse_number(std::string_view digits, std::uint64_t& out) {
    if (digits.empty() || digits.size() > 16) return false;
    out = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      out = out * 10 + std::uint64_t(c - '0');
    }
    return out <= max_safe_integer;  // beyond 2^53-1 a JavaScript peer cannot hold the number
  }

  Status finish_binary() {
    std::vector<bool> used(buffers_.size());
    const bool ok = detail::restore_binaries(packet_.data, buffers_, used);
    buffers_.clear();
    return ok ? Status::complete : Status::error;
  }

  Packet packet_;
  std::uint64_t awaiting_ = 0;
  std::vector<std::string> buffers_;
};

}  // namespace chat::socketio

#endif  // CHAT_SOCKETIO_PACKET_HPP
