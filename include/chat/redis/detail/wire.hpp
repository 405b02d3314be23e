// The messages of Node's @socket.io/redis-adapter 8.x classic format (`createAdapter`) and of
// @socket.io/redis-emitter 5.x, as values: channel names, broadcasts (notepack arrays on the
// `<key>#<nsp>#` channels) and the requests and responses of RequestType 0..9 (JSON text, but
// notepack for the broadcast with acks and its acks). Sans-I/O: the adapter publishes and
// subscribes; this only encodes and decodes. Every decoder throws WireError on a message it
// cannot read.
// (How binary values travel in JSON text: wire_values.hpp.)
#ifndef CHAT_REDIS_DETAIL_WIRE_HPP
#define CHAT_REDIS_DETAIL_WIRE_HPP

#include <chrono>       // milliseconds
#include <cstdint>      // int64_t, uint64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // decay_t, is_same_v
#include <utility>      // move
#include <variant>      // variant, visit, get_if
#include <vector>       // vector

#include <nlohmann/json.hpp>

#include "../../adapter.hpp"
#include "../../detail/random_id.hpp"
#include "../../socketio/types.hpp"
#include "../../detail/notepack.hpp"
#include "wire_values.hpp"

namespace chat::redis::detail {

/// A fresh uid or requestId, shaped as Node's uid2(6): 6 characters of the same 64-letter
/// alphabet, from the OS's random source.
inline std::string random_uid() { return chat::detail::random_id().substr(0, 6); }

// ---- channels ----

/// The channels of one namespace under one key prefix (Node's `key` option, "socket.io" by
/// default).
class Channels {
 public:
  Channels(std::string_view key, std::string_view nsp)
      : broadcast_(join(key, "#", nsp)), request_(join(key, "-request#", nsp)), response_(join(key, "-response#", nsp)) {}

  /// Broadcasts to every room, to none, or to several: `<key>#<nsp>#`.
  const std::string& broadcast() const { return broadcast_; }
  /// Broadcasts to exactly one room: `<key>#<nsp>#<room>#`.
  std::string room(std::string_view room) const { return broadcast_ + std::string(room) + "#"; }
  /// Where Node publishes a broadcast to `rooms`: the room's channel for exactly one room.
  std::string for_rooms(const std::vector<Room>& rooms) const {
    return rooms.size() == 1 ? room(rooms.front()) : broadcast_;
  }
  /// The PSUBSCRIBE pattern of every broadcast channel: `<key>#<nsp>#*`. Node puts the prefix
  /// and namespace in unescaped; a '*', '?', '[', ']' or '\' in them is escaped here so it
  /// matches itself only.
  std::string pattern() const {
    std::string out;
    for (char c : broadcast_) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
      out += c;
    }
    return out + "*";
  }
  /// Requests of every type (plain SUBSCRIBE: PUBSUB NUMSUB on it counts the servers).
  const std::string& request() const { return request_; }
  /// Responses, as Node publishes them by default.
  const std::string& response() const { return response_; }
  /// Responses for one requester: Node's publishOnSpecificResponseChannel.
  std::string response_for(std::string_view uid) const { return response_ + std::string(uid) + "#"; }

  /// The room a broadcast channel names ("" for none), or nullopt when the channel is not one
  /// of this namespace's broadcast channels. Node's onmessage reads the room from the channel
  /// before decoding, to drop messages for rooms it has no socket in.
  std::optional<std::string> room_of(std::string_view channel) const {
    if (channel.size() < broadcast_.size() || channel.substr(0, broadcast_.size()) != broadcast_) return std::nullopt;
    if (channel.size() == broadcast_.size()) return std::string();
    if (channel.back() != '#') return std::nullopt;
    return std::string(channel.substr(broadcast_.size(), channel.size() - broadcast_.size() - 1));
  }

 private:
  static std::string join(std::string_view key, std::string_view middle, std::string_view nsp) {
    return std::string(key) + std::string(middle) + std::string(nsp) + "#";
  }

  std::string broadcast_, request_, response_;
};

// ---- broadcasts ----

/// The flags a broadcast carries (Node's `opts.flags`).
struct WireFlags {
  bool is_volatile = false;                    ///< "volatile": may be dropped
  std::optional<bool> compress;                ///< "compress", when set (absent: true, as Node)
  bool local = false;                          ///< "local": never published by Node (kept if sent)
  std::optional<std::int64_t> timeout_ms;      ///< "timeout": a broadcast with acks
  json others = json::object();                ///< any other flag ("broadcast", ...), as sent

  static WireFlags from(const BroadcastFlags& flags) {
    WireFlags out;
    out.local = flags.local;
    out.is_volatile = flags.is_volatile;
    if (!flags.compress) out.compress = false;
    if (flags.timeout.count() > 0) out.timeout_ms = flags.timeout.count();
    return out;
  }
  BroadcastFlags broadcast_flags() const {
    BroadcastFlags out;
    out.local = local;
    out.is_volatile = is_volatile;
    out.compress = compress.value_or(true);
    out.timeout = std::chrono::milliseconds(timeout_ms.value_or(0));
    return out;
  }
  json to_json() const {
    json out = others;
    if (is_volatile) out["volatile"] = true;
    if (compress) out["compress"] = *compress;
    if (local) out["local"] = true;
    if (timeout_ms) out["timeout"] = *timeout_ms;
    return out;
  }
  static WireFlags from_json(const json& flags) {
    if (!flags.is_object()) throw WireError("wire: \"flags\" is not an object");
    WireFlags out;
    for (const auto& [key, value] : flags.items()) {
      if (key == "volatile" || key == "local" || key == "compress") {
        if (!value.is_boolean()) throw WireError("wire: flag \"" + key + "\" is not a boolean");
        if (key == "volatile") out.is_volatile = value.get<bool>();
        else if (key == "local") out.local = value.get<bool>();
        else out.compress = value.get<bool>();
      } else if (key == "timeout") {
        out.timeout_ms = milliseconds_from(value, "flag \"timeout\"");
      } else {
        out.others[key] = value;
      }
    }
    return out;
  }
};

/// A broadcast from one server to the others: `[uid, {type:2, data, nsp}, {rooms, except, flags}]`.
struct BroadcastMessage {
  std::string uid;           ///< the sending adapter's ("emitter" from an emitter)
  socketio::Packet packet;   ///< an event: data = [event, ...args], binary values as json binary
  std::vector<Room> rooms;
  std::vector<Room> except;
  WireFlags flags;

  static BroadcastMessage from(std::string uid, socketio::Packet packet, const BroadcastOptions& options) {
    return {std::move(uid), std::move(packet), std::vector<Room>(options.rooms.begin(), options.rooms.end()),
            std::vector<Room>(options.except.begin(), options.except.end()), WireFlags::from(options.flags)};
  }
  BroadcastOptions options() const {
    BroadcastOptions out;
    out.rooms.insert(rooms.begin(), rooms.end());
    out.except.insert(except.begin(), except.end());
    out.flags = flags.broadcast_flags();
    return out;
  }
};

/// Writes `{type:2, data, nsp}` in Node's key order. Always type 2, binary or not: Node's parser
/// makes a BINARY_EVENT of it on the way out, and would write a type 5 as "5undefined-". The
/// packet's id is not sent: every server numbers the acks of its own sockets.
inline void write_packet(NotepackWriter& writer, const socketio::Packet& packet) {
  if (packet.type != socketio::PacketType::event && packet.type != socketio::PacketType::binary_event)
    throw WireError("wire: only events are broadcast");
  if (!packet.data.is_array() || packet.data.empty()) throw WireError("wire: an event needs [name, ...args]");
  writer.map(3);
  writer.string("type");
  writer.unsigned_integer(2);
  writer.string("data");
  writer.value(packet.data);
  writer.string("nsp");
  writer.string(packet.nsp);
}

/// Writes `{rooms, except, flags}` in the adapter's key order.
inline void write_options(NotepackWriter& writer, const BroadcastMessage& message) {
  writer.map(3);
  writer.string("rooms");
  writer.value(json(message.rooms));
  writer.string("except");
  writer.value(json(message.except));
  writer.string("flags");
  writer.value(message.flags.to_json());
}

inline socketio::Packet read_packet(const json& packet) {
  if (!packet.is_object()) throw WireError("wire: the packet is not an object");
  const json* type = field(packet, "type");
  if (!type || !type->is_number_integer() || (*type != 2 && *type != 5))
    throw WireError("wire: the packet is not an event");
  socketio::Packet out;
  out.type = socketio::PacketType::event;  // the local encoder makes it binary if need be
  const json* nsp = field(packet, "nsp");
  if (nsp && !nsp->is_null()) out.nsp = string_field(packet, "nsp", true);
  const json* data = field(packet, "data");
  if (!data || !data->is_array() || data->empty() || !data->front().is_string())
    throw WireError("wire: the packet's data is not [event, ...args]");
  out.data = *data;
  if (const json* id = field(packet, "id"); id && !id->is_null()) {
    if (!id->is_number_unsigned()) throw WireError("wire: the packet's id is not an unsigned integer");
    out.id = id->get<std::uint64_t>();
  }
  return out;
}

/// Reads `{rooms, except, flags}` (any key order; a missing one empty) into `message`.
inline void read_options(const json& options, BroadcastMessage& message) {
  if (!options.is_object()) throw WireError("wire: the broadcast options are not an object");
  message.rooms = rooms_field(options, "rooms");
  message.except = rooms_field(options, "except");
  const json* flags = field(options, "flags");
  if (flags && !flags->is_null()) message.flags = WireFlags::from_json(*flags);
}

inline std::string encode_broadcast(const BroadcastMessage& message) {
  NotepackWriter writer;
  writer.array(3);
  writer.string(message.uid);
  write_packet(writer, message.packet);
  write_options(writer, message);
  return writer.take();
}

inline BroadcastMessage decode_broadcast(std::string_view bytes) {
  const json message = from_notepack(bytes);
  if (!message.is_array() || message.size() != 3) throw WireError("wire: a broadcast is not [uid, packet, opts]");
  BroadcastMessage out;
  if (!message[0].is_string()) throw WireError("wire: the broadcast's uid is not a string");
  out.uid = message[0].get<std::string>();
  out.packet = read_packet(message[1]);
  read_options(message[2], out);
  return out;
}

// ---- requests ----

enum class RequestType : int {
  sockets = 0,             ///< ids of the sockets in rooms (sent by 7.x nodes only)
  all_rooms = 1,
  remote_join = 2,
  remote_leave = 3,
  remote_disconnect = 4,
  remote_fetch = 5,
  server_side_emit = 6,
  broadcast = 7,           ///< a broadcast with acks
  broadcast_client_count = 8,
  broadcast_ack = 9,
};

/// Which sockets a request selects (Node's `opts`): all of the namespace's when `rooms` is empty.
struct Selection {
  std::vector<Room> rooms;
  std::vector<Room> except;

  static Selection from(const BroadcastOptions& options) {
    return {std::vector<Room>(options.rooms.begin(), options.rooms.end()),
            std::vector<Room>(options.except.begin(), options.except.end())};
  }
  BroadcastOptions options() const {
    BroadcastOptions out;
    out.rooms.insert(rooms.begin(), rooms.end());
    out.except.insert(except.begin(), except.end());
    return out;
  }
};

// An empty `uid` is absent: the emitter sends join/leave/disconnect without one.

struct SocketsRequest {
  std::string uid, request_id;
  std::vector<Room> rooms;
};
struct AllRoomsRequest {
  std::string uid, request_id;
};
/// Join or leave: the selected sockets join/leave `rooms`. A `request_id` comes only with the
/// 7.x one-socket form ({sid, room}, read as opts.rooms = [sid]), which wants {requestId} back
/// from the server that has the socket.
struct RoomsRequest {
  std::string uid;
  Selection opts;
  std::vector<Room> rooms;
  std::string request_id;
};
struct RemoteJoinRequest : RoomsRequest {};
struct RemoteLeaveRequest : RoomsRequest {};
struct RemoteDisconnectRequest {
  std::string uid;
  Selection opts;
  bool close = false;      ///< the whole connection, not only the namespace
  std::string request_id;  ///< 7.x one-socket form only, as for RoomsRequest
};
struct FetchSocketsRequest {
  std::string uid, request_id;
  Selection opts;
};
struct ServerSideEmitRequest {
  std::string uid;
  std::string request_id;  ///< empty: the sender wants no reply
  json data = json::array();  ///< [event, ...args]
};
/// A broadcast with acks (notepack): every server answers a client count, then each ack.
struct BroadcastRequest {
  std::string request_id;
  BroadcastMessage message;  ///< message.uid is the request's uid; flags.timeout_ms is set
};

using Request = std::variant<SocketsRequest, AllRoomsRequest, RemoteJoinRequest, RemoteLeaveRequest,
                             RemoteDisconnectRequest, FetchSocketsRequest, ServerSideEmitRequest, BroadcastRequest>;

/// The wire type of a request: the variant's alternatives are in RequestType order.
inline RequestType type_of(const Request& request) { return static_cast<RequestType>(request.index()); }

inline json selection_json(const Selection& opts) { return {{"rooms", opts.rooms}, {"except", opts.except}}; }

inline Selection read_selection(const json& request) {
  const json& opts = object_field(request, "opts");
  return {rooms_field(opts, "rooms"), rooms_field(opts, "except")};
}

/// The bytes to publish on the request channel: JSON text, or notepack for a BroadcastRequest.
inline std::string encode_request(const Request& request) {
  if (const auto* broadcast = std::get_if<BroadcastRequest>(&request)) {
    // Node's receivers stop awaiting the acks after flags.timeout; without one they never would.
    if (!broadcast->message.flags.timeout_ms) throw WireError("wire: a broadcast with acks needs flags.timeout");
    NotepackWriter writer;
    writer.map(5);
    writer.string("uid");
    writer.string(broadcast->message.uid);
    writer.string("requestId");
    writer.string(broadcast->request_id);
    writer.string("type");
    writer.unsigned_integer(7);
    writer.string("packet");
    write_packet(writer, broadcast->message.packet);
    writer.string("opts");
    write_options(writer, broadcast->message);
    return writer.take();
  }
  json out = {{"type", static_cast<int>(type_of(request))}};
  auto common = [&out](const std::string& uid, const std::string& request_id) {
    if (!uid.empty()) out["uid"] = uid;
    if (!request_id.empty()) out["requestId"] = request_id;
  };
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (!std::is_same_v<T, BroadcastRequest>) common(r.uid, r.request_id);
        if constexpr (std::is_same_v<T, SocketsRequest>) {
          out["rooms"] = r.rooms;
        } else if constexpr (std::is_same_v<T, RemoteJoinRequest> || std::is_same_v<T, RemoteLeaveRequest>) {
          out["opts"] = selection_json(r.opts);
          out["rooms"] = r.rooms;
        } else if constexpr (std::is_same_v<T, RemoteDisconnectRequest>) {
          out["opts"] = selection_json(r.opts);
          out["close"] = r.close;
        } else if constexpr (std::is_same_v<T, FetchSocketsRequest>) {
          out["opts"] = selection_json(r.opts);
        } else if constexpr (std::is_same_v<T, ServerSideEmitRequest>) {
          out["data"] = r.data;
        }
      },
      request);
  return to_json_text(out);
}

/// The 7.x one-socket join/leave/disconnect: {sid, room | close, requestId}.
inline void read_legacy_target(const json& request, Selection& opts, std::string& request_id) {
  opts.rooms = {string_field(request, "sid", true)};
  request_id = string_field(request, "requestId", true);
}

inline Request decode_request(std::string_view payload) {
  const json request = decode_payload(payload);
  if (!request.is_object()) throw WireError("wire: a request is not an object");
  const json* type = field(request, "type");
  if (!type || !type->is_number_integer()) throw WireError("wire: a request without a type");
  const std::string uid = string_field(request, "uid", false);
  const bool modern = field(request, "opts") != nullptr;
  switch (type->get<std::int64_t>()) {
    case 0: return SocketsRequest{uid, string_field(request, "requestId", true), rooms_field(request, "rooms")};
    case 1: return AllRoomsRequest{uid, string_field(request, "requestId", true)};
    case 2:
    case 3: {
      RoomsRequest rooms{uid, {}, {}, {}};
      if (modern) {
        rooms.opts = read_selection(request);
        if (const json* list = field(request, "rooms"); !list || !list->is_array())
          throw WireError("wire: a join/leave without rooms");
        rooms.rooms = rooms_field(request, "rooms");
      } else {
        read_legacy_target(request, rooms.opts, rooms.request_id);
        rooms.rooms = {string_field(request, "room", true)};
      }
      if (*type == 2) return RemoteJoinRequest{std::move(rooms)};
      return RemoteLeaveRequest{std::move(rooms)};
    }
    case 4: {
      RemoteDisconnectRequest out{uid, {}, false, {}};
      if (modern) out.opts = read_selection(request);
      else read_legacy_target(request, out.opts, out.request_id);
      if (const json* close = field(request, "close"); close && !close->is_null()) {
        if (!close->is_boolean()) throw WireError("wire: \"close\" is not a boolean");
        out.close = close->get<bool>();
      }
      return out;
    }
    case 5: return FetchSocketsRequest{uid, string_field(request, "requestId", true), read_selection(request)};
    case 6: {
      const json* data = field(request, "data");
      if (!data || !data->is_array() || data->empty() || !data->front().is_string())
        throw WireError("wire: a server-side emit's data is not [event, ...args]");
      return ServerSideEmitRequest{uid, string_field(request, "requestId", false), *data};
    }
    case 7: {
      BroadcastRequest out{string_field(request, "requestId", true), {}};
      out.message.uid = uid;
      out.message.packet = read_packet(object_field(request, "packet"));
      read_options(object_field(request, "opts"), out.message);
      return out;
    }
    default: throw WireError("wire: unknown request type " + type->dump());
  }
}

// ---- responses ----

/// A response as received. Answers to types 6, 8 and 9 say their type; answers to 0, 1, 5 and
/// the 7.x one-socket forms do not: read them by the type of the request `request_id` names.
struct Response {
  std::optional<RequestType> type;
  std::string request_id;
  json body;  ///< the whole message, for the readers below
};

inline Response decode_response(std::string_view payload) {
  Response out;
  out.body = decode_payload(payload);
  if (!out.body.is_object()) throw WireError("wire: a response is not an object");
  out.request_id = string_field(out.body, "requestId", true);
  if (const json* type = field(out.body, "type"); type && !type->is_null()) {
    if (!type->is_number_integer() || *type < 0 || *type > 9) throw WireError("wire: a response's type is not 0..9");
    out.type = static_cast<RequestType>(type->get<int>());
  }
  return out;
}

/// SOCKETS: the socket ids.
inline std::vector<SocketId> read_socket_ids(const Response& response) {
  if (!response.body.contains("sockets")) throw WireError("wire: a response without sockets");
  return rooms_field(response.body, "sockets");
}
/// ALL_ROOMS: the rooms.
inline std::vector<Room> read_rooms(const Response& response) {
  if (!response.body.contains("rooms")) throw WireError("wire: a response without rooms");
  return rooms_field(response.body, "rooms");
}
/// REMOTE_FETCH: the sockets.
inline std::vector<SocketInfo> read_fetched_sockets(const Response& response) {
  const json* sockets = field(response.body, "sockets");
  if (!sockets || !sockets->is_array()) throw WireError("wire: a response without sockets");
  std::vector<SocketInfo> out;
  for (const auto& socket : *sockets) out.push_back(socket_from_wire(socket));
  return out;
}
/// SERVER_SIDE_EMIT's reply ("data") or BROADCAST_ACK's ack ("packet"): the first argument the
/// remote callback got; nullopt when it got none (Node's undefined, which drops the key).
inline std::optional<json> read_reply(const Response& response) {
  const json* value = field(response.body, response.type == RequestType::broadcast_ack ? "packet" : "data");
  if (!value) return std::nullopt;
  return *value;
}
/// BROADCAST_CLIENT_COUNT: how many clients the broadcast reached on that server.
inline std::size_t read_client_count(const Response& response) {
  const json* count = field(response.body, "clientCount");
  if (!count || !count->is_number_unsigned()) throw WireError("wire: a client count that is not a count");
  return count->get<std::size_t>();
}

inline std::string encode_sockets_response(std::string_view request_id, const std::vector<SocketId>& ids) {
  return to_json_text({{"requestId", request_id}, {"sockets", ids}});
}
inline std::string encode_all_rooms_response(std::string_view request_id, const std::vector<Room>& rooms) {
  return to_json_text({{"requestId", request_id}, {"rooms", rooms}});
}
inline std::string encode_fetch_response(std::string_view request_id, const std::vector<SocketInfo>& sockets) {
  json list = json::array();
  for (const auto& socket : sockets) list.push_back(socket_to_wire(socket));
  return to_json_text({{"requestId", request_id}, {"sockets", std::move(list)}});
}
/// The answer to a 7.x one-socket join/leave/disconnect, from the server that had the socket.
inline std::string encode_done_response(std::string_view request_id) {
  return to_json_text({{"requestId", request_id}});
}
/// Always on the generic response channel (Node ignores publishOnSpecificResponseChannel here).
inline std::string encode_server_side_emit_response(std::string_view request_id, const std::optional<json>& reply) {
  json out = {{"type", static_cast<int>(RequestType::server_side_emit)}, {"requestId", request_id}};
  if (reply) out["data"] = *reply;
  return to_json_text(out);
}
inline std::string encode_client_count_response(std::string_view request_id, std::size_t clients) {
  return to_json_text(
      {{"type", static_cast<int>(RequestType::broadcast_client_count)}, {"requestId", request_id}, {"clientCount", clients}});
}
/// notepack, as Node sends it: the ack may carry binary.
inline std::string encode_broadcast_ack_response(std::string_view request_id, const std::optional<json>& ack) {
  NotepackWriter writer;
  writer.map(ack ? 3 : 2);
  writer.string("type");
  writer.unsigned_integer(static_cast<unsigned>(RequestType::broadcast_ack));
  writer.string("requestId");
  writer.string(request_id);
  if (ack) {
    writer.string("packet");
    writer.value(*ack);
  }
  return writer.take();
}

}  // namespace chat::redis::detail

#endif  // CHAT_REDIS_DETAIL_WIRE_HPP
