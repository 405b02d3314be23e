// Helpers shared by the unit tests: readable rendering of bytes, enums and packets in failures.
#ifndef CHAT_TESTS_UNIT_SUPPORT_HPP
#define CHAT_TESTS_UNIT_SUPPORT_HPP

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chat/engineio/heartbeat.hpp>
#include <chat/engineio/packet.hpp>
#include <chat/engineio/request.hpp>
#include <chat/socketio/packet.hpp>

namespace unit {

/// A Socket.IO packet, for the codecs' tests.
inline chat::socketio::Packet make_packet(chat::socketio::PacketType type, std::string nsp,
                                          std::optional<std::uint64_t> id, nlohmann::json data) {
  chat::socketio::Packet packet;
  packet.type = type;
  packet.nsp = std::move(nsp);
  packet.id = id;
  packet.data = std::move(data);
  return packet;
}

/// Bytes as a C-like literal: printable ASCII as is, everything else as \xNN.
inline std::string printable(std::string_view bytes) {
  std::string out = "\"";
  for (unsigned char c : bytes) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

inline std::string name_of(chat::socketio::Decoder::Status status) {
  switch (status) {
    case chat::socketio::Decoder::Status::complete: return "complete";
    case chat::socketio::Decoder::Status::need_more: return "need_more";
    case chat::socketio::Decoder::Status::error: return "error";
  }
  return "?";
}

inline std::string name_of(chat::socketio::PacketType type) {
  switch (type) {
    case chat::socketio::PacketType::connect: return "CONNECT";
    case chat::socketio::PacketType::disconnect: return "DISCONNECT";
    case chat::socketio::PacketType::event: return "EVENT";
    case chat::socketio::PacketType::ack: return "ACK";
    case chat::socketio::PacketType::connect_error: return "CONNECT_ERROR";
    case chat::socketio::PacketType::binary_event: return "BINARY_EVENT";
    case chat::socketio::PacketType::binary_ack: return "BINARY_ACK";
  }
  return "?";
}

inline std::string name_of(chat::engineio::Error error) {
  return "error " + std::to_string(int(error)) + " (" + std::string(chat::engineio::error_message(error)) + ")";
}

inline std::string name_of(chat::engineio::Intent intent) {
  switch (intent) {
    case chat::engineio::Intent::open_session: return "open_session";
    case chat::engineio::Intent::poll: return "poll";
    case chat::engineio::Intent::post: return "post";
    case chat::engineio::Intent::upgrade: return "upgrade";
    case chat::engineio::Intent::close_at_once: return "close_at_once";
  }
  return "?";
}

inline std::string name_of(const chat::engineio::Verdict& verdict) {
  if (const auto* intent = std::get_if<chat::engineio::Intent>(&verdict)) return name_of(*intent);
  return name_of(std::get<chat::engineio::Error>(verdict));
}

inline std::string name_of(chat::engineio::Heartbeat::Action action) {
  switch (action) {
    case chat::engineio::Heartbeat::Action::none: return "none";
    case chat::engineio::Heartbeat::Action::send_ping: return "send_ping";
    case chat::engineio::Heartbeat::Action::timed_out: return "timed_out";
  }
  return "?";
}

/// The WebSocket text frame of an encoded Socket.IO packet (Engine.IO's `4` and the packet).
inline std::string frame(const chat::socketio::Encoded& encoded) { return chat::engineio::message_frame(encoded.data); }

/// JSON text that never throws (invalid UTF-8 is replaced), for messages and comparisons.
inline std::string dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

/// A one-line description of a decoded Socket.IO packet.
inline std::string describe(const chat::socketio::Packet& packet) {
  std::string out = name_of(packet.type) + " nsp=" + packet.nsp;
  if (packet.id) out += " id=" + std::to_string(*packet.id);
  out += packet.has_data() ? " data=" + dump(packet.data) : std::string(" no data");
  return out;
}

}  // namespace unit

namespace Catch {
template <>
struct StringMaker<chat::socketio::Decoder::Status> {
  static std::string convert(chat::socketio::Decoder::Status value) { return unit::name_of(value); }
};
template <>
struct StringMaker<chat::socketio::PacketType> {
  static std::string convert(chat::socketio::PacketType value) { return unit::name_of(value); }
};
template <>
struct StringMaker<chat::engineio::Heartbeat::Action> {
  static std::string convert(chat::engineio::Heartbeat::Action value) { return unit::name_of(value); }
};
}  // namespace Catch

#endif  // CHAT_TESTS_UNIT_SUPPORT_HPP
