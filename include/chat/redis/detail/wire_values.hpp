// The values inside the Redis adapter's JSON messages, as Node writes and reads them: JSON text
// (payloads, with Buffers), typed fields, handshakes and the sockets of a fetch response.
//
// JSON text carries no binary: Node's JSON.stringify writes a Buffer as
// {"type":"Buffer","data":[bytes]}. Encoders here write binary values that way; decoders turn
// exactly that shape (those two keys, bytes 0..255) back into binary, so a C++ server reads the
// binary a C++ server sent. (A Node server does not: its handlers get the object.)
#ifndef CHAT_REDIS_DETAIL_WIRE_VALUES_HPP
#define CHAT_REDIS_DETAIL_WIRE_VALUES_HPP

#include <cmath>        // fabs, isfinite
#include <cstdint>      // int64_t, uint8_t, uint64_t
#include <cstdio>       // snprintf
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move, pair
#include <vector>       // vector

#include <nlohmann/json.hpp>

#include "../../adapter.hpp"
#include "../../handshake.hpp"
#include "../../socketio/packet.hpp"
#include "../../detail/notepack.hpp"

namespace chat::redis::detail {

using json = nlohmann::json;

// ---- notepack, as the cluster's messages use it (chat/detail/notepack.hpp) ----

/// A message from another server that cannot be read: malformed, truncated, nested too deeply,
/// or not the shape its type requires. The adapter drops such a message (Node ignores a request
/// it cannot parse; a broadcast it cannot decode throws inside its listener). The notepack
/// codec's own error, so one catch covers what the codec and the message readers refuse.
using WireError = ::chat::detail::NotepackError;

/// How deeply a message may nest. The socket.io parser's bound on a payload, plus the envelope a
/// cluster message wraps around it (a fetch response: object > sockets > socket > data).
inline constexpr int max_wire_nesting = socketio::detail::max_nesting + 4;

using ::chat::detail::civil_from_days;
using ::chat::detail::CivilDate;
using ::chat::detail::date_to_json;
using ::chat::detail::NotepackWriter;
using ::chat::detail::to_notepack;
using ::chat::detail::valid_utf8;

/// One notepack value from a cluster message (nesting max_wire_nesting levels at most).
inline json from_notepack(std::string_view bytes) { return ::chat::detail::from_notepack(bytes, max_wire_nesting); }

// ---- JSON text ----

/// `value` with binary values as Node's JSON.stringify writes a Buffer.
inline json buffers_to_json(const json& value) {
  if (value.is_binary()) {
    json bytes = json::array();
    for (std::uint8_t b : value.get_binary()) bytes.push_back(b);
    return {{"type", "Buffer"}, {"data", std::move(bytes)}};
  }
  if (!value.is_structured()) return value;
  json out = value.is_array() ? json::array() : json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (value.is_array()) out.push_back(buffers_to_json(*it));
    else out[it.key()] = buffers_to_json(*it);
  }
  return out;
}

/// Turns every {"type":"Buffer","data":[bytes]} inside `value` into a binary value.
inline void revive_buffers(json& value) {
  if (!value.is_structured()) return;
  if (value.is_object() && value.size() == 2 && value.contains("data") && value["data"].is_array() &&
      value.contains("type") && value["type"] == "Buffer") {
    json::binary_t::container_type bytes;
    for (const auto& b : value["data"])
      if (b.is_number_unsigned() && b.get<std::uint64_t>() <= 255) bytes.push_back(static_cast<std::uint8_t>(b.get<std::uint64_t>()));
    if (bytes.size() == value["data"].size()) {
      value = json::binary(std::move(bytes));
      return;
    }
  }
  for (auto& child : value) revive_buffers(child);
}

/// A number of milliseconds (a JavaScript number: integral or not).
inline std::int64_t milliseconds_from(const json& value, const char* what) {
  if (value.is_number_integer()) return value.get<std::int64_t>();
  if (value.is_number_float() && std::isfinite(value.get<double>()) && std::fabs(value.get<double>()) < 9.2e18)
    return static_cast<std::int64_t>(value.get<double>());
  throw WireError(std::string("wire: ") + what + " is not a number");
}

/// JSON text as Node's JSON.stringify would write it for the same value (invalid UTF-8 in a
/// string is replaced, not thrown on).
inline std::string to_json_text(const json& value) {
  return buffers_to_json(value).dump(-1, ' ', false, json::error_handler_t::replace);
}

/// A request or response as Node reads it: JSON when the first byte is '{', notepack otherwise.
/// JSON text is read as Node's msg.toString() does (invalid UTF-8 replaced); it must nest no
/// deeper than max_wire_nesting. A lone surrogate escape ("\ud800"), which JSON.parse takes and
/// nlohmann does not, makes it unreadable.
inline json decode_payload(std::string_view payload) {
  if (payload.empty()) throw WireError("wire: empty message");
  if (payload.front() != '{') return from_notepack(payload);
  const std::string text = valid_utf8(payload);
  if (!socketio::detail::nesting_within_limit(text, max_wire_nesting)) throw WireError("wire: JSON nested too deeply");
  json value = json::parse(text, nullptr, false);
  if (value.is_discarded()) throw WireError("wire: malformed JSON");
  revive_buffers(value);
  return value;
}

// ---- reading fields ----

inline const json* field(const json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

inline std::string string_field(const json& object, const char* name, bool required) {
  const json* value = field(object, name);
  if (!value) {
    if (required) throw WireError(std::string("wire: no \"") + name + "\"");
    return {};
  }
  if (!value->is_string()) throw WireError(std::string("wire: \"") + name + "\" is not a string");
  return value->get<std::string>();
}

inline const json& object_field(const json& object, const char* name) {
  const json* value = field(object, name);
  if (!value || !value->is_object()) throw WireError(std::string("wire: \"") + name + "\" is not an object");
  return *value;
}

/// A room: a string, or an integer (a Node socket may join(5); Node's hasRoom reads it back).
inline Room room_from(const json& value) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_number_integer()) return value.dump();
  throw WireError("wire: a room is neither a string nor an integer");
}

/// An array of rooms; a missing one is empty (Node: new Set(undefined)).
inline std::vector<Room> rooms_field(const json& object, const char* name) {
  std::vector<Room> rooms;
  const json* value = field(object, name);
  if (!value || value->is_null()) return rooms;
  if (!value->is_array()) throw WireError(std::string("wire: \"") + name + "\" is not an array");
  for (const auto& room : *value) rooms.push_back(room_from(room));
  return rooms;
}

// ---- handshakes and fetched sockets ----

/// Node's `new Date() + ""` for a time in ms, in UTC: "Tue Jun 13 2000 00:00:00 GMT+0000
/// (Coordinated Universal Time)" (the handshake's `time`).
inline std::string date_string(std::int64_t time_ms) {
  static constexpr const char* weekdays[] = {"Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"};  // 1970-01-01: Thursday
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::int64_t days = (time_ms >= 0 ? time_ms : time_ms - 86399999) / 86400000;
  const std::int64_t in_day = time_ms - days * 86400000;
  const CivilDate date = civil_from_days(days);
  char text[96];
  std::snprintf(text, sizeof text, "%s %s %02d %s%04lld %02d:%02d:%02d GMT+0000 (Coordinated Universal Time)",
                weekdays[((days % 7) + 7) % 7], months[date.month - 1], date.day, date.year < 0 ? "-" : "",
                static_cast<long long>(date.year < 0 ? -date.year : date.year), int(in_day / 3600000),
                int(in_day / 60000 % 60), int(in_day / 1000 % 60));
  return text;
}

/// Node's socket.handshake for a socket of this server. Node's http parser lowercases header
/// names and joins repeated ones (cookie with "; ", set-cookie as an array, others with ", ");
/// `secure` is false: Handshake does not say whether the connection was TLS.
inline json handshake_to_wire(const Handshake& handshake, const json& auth) {
  json headers = json::object();
  for (const auto& [name, value] : handshake.headers) {
    std::string key = name;
    for (char& c : key) c = (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
    auto it = headers.find(key);
    if (key == "set-cookie") {
      if (it == headers.end()) headers[key] = json::array();
      headers[key].push_back(value);
    } else if (it == headers.end()) {
      headers[key] = value;
    } else {
      it->get_ref<std::string&>() += (key == "cookie" ? "; " : ", ") + value;
    }
  }
  json query = json::object();
  for (const auto& [name, value] : handshake.query) query[name] = value;  // Node keeps the last
  const auto origin = headers.find("origin");
  const bool cross_domain = origin != headers.end() && origin->is_string() && !origin->get_ref<const std::string&>().empty();
  return {{"headers", std::move(headers)},
          {"time", date_string(handshake.issued_ms)},
          {"address", handshake.address},
          {"xdomain", cross_domain},
          {"secure", false},
          {"issued", handshake.issued_ms},
          {"url", handshake.url},
          {"query", std::move(query)},
          {"auth", auth.is_null() ? json::object() : auth}};
}

/// Name/value pairs from a Node object of strings (an array value gives one pair per element).
inline std::vector<std::pair<std::string, std::string>> pairs_from(const json& object, const char* what) {
  std::vector<std::pair<std::string, std::string>> out;
  if (object.is_null()) return out;
  if (!object.is_object()) throw WireError(std::string("wire: the handshake's ") + what + " is not an object");
  for (const auto& [name, value] : object.items()) {
    const json values = value.is_array() ? value : json::array({value});
    for (const auto& one : values) {
      if (!one.is_string()) throw WireError(std::string("wire: a value in the handshake's ") + what + " is not a string");
      out.emplace_back(name, one.get<std::string>());
    }
  }
  return out;
}

/// A Node handshake back into a Handshake and the socket's auth. `time`, `xdomain` and `secure`
/// are not kept: the first two follow from `issued` and the headers, Handshake has no place
/// for the third.
inline Handshake handshake_from_wire(const json& handshake, json& auth) {
  if (!handshake.is_object()) throw WireError("wire: the handshake is not an object");
  Handshake out;
  out.headers = pairs_from(handshake.value("headers", json()), "headers");
  out.query = pairs_from(handshake.value("query", json()), "query");
  out.url = string_field(handshake, "url", false);
  out.address = string_field(handshake, "address", false);
  if (const json* issued = field(handshake, "issued"); issued && !issued->is_null()) {
    out.issued_ms = milliseconds_from(*issued, "the handshake's issued");
  }
  const json* given = field(handshake, "auth");
  auth = given && !given->is_null() ? *given : json::object();
  return out;
}

/// A socket as a fetch response describes it: {id, handshake, rooms, data}.
inline json socket_to_wire(const SocketInfo& socket) {
  return {{"id", socket.id},
          {"handshake", handshake_to_wire(socket.handshake, socket.auth)},
          {"rooms", socket.rooms},
          {"data", socket.data}};
}

inline SocketInfo socket_from_wire(const json& socket) {
  if (!socket.is_object()) throw WireError("wire: a fetched socket is not an object");
  SocketInfo out;
  out.id = string_field(socket, "id", true);
  out.handshake = handshake_from_wire(socket.value("handshake", json::object()), out.auth);
  out.rooms = rooms_field(socket, "rooms");
  out.data = socket.value("data", json());
  return out;
}

}  // namespace chat::redis::detail

#endif  // CHAT_REDIS_DETAIL_WIRE_VALUES_HPP
