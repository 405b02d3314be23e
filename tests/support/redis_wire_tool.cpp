// The Redis wire codec (chat/redis/detail/wire.hpp) as a line filter, so tests/node/redis_wire
// can hold it against notepack.io and @socket.io/redis-adapter themselves. One command per line,
// one answer per line: "ok <result>" or "error <message>".
//
//   decode <hex>                  notepack bytes -> JSON view
//   encode <json view>            JSON view -> notepack bytes (hex)
//   broadcast-decode <hex>        -> {uid, packet:{type,nsp,data,id?}, opts:{rooms,except,flags}}
//   broadcast-encode <json>       the same shape -> hex
//   request-decode <hex>          any request -> Node's shape {type, uid?, requestId?, ...}
//   request-encode <json>         Node's shape -> hex (JSON text or notepack, as the codec picks)
//   response-decode <kind> <hex>  kind: sockets|rooms|fetch|reply|count|done -> {type?, requestId, result}
//   response-encode <json>        {kind: sockets|rooms|fetch|done|sse|count|ack, requestId, result?}
//   channels <key> <nsp> <uid>    -> {broadcast, room (of "r1"), pattern, request, response, response_for}
//   room-of <key> <nsp> <channel> -> the room a broadcast channel names, or null
//
// The JSON view writes a binary value as {"$binary":"<hex>"} and a number JSON cannot hold as
// {"$float":"NaN"|"Infinity"|"-Infinity"}.
#include <chat/redis/detail/wire.hpp>

#include <cmath>
#include <iostream>
#include <sstream>
#include <string>

namespace {

namespace wire = chat::redis::detail;
using chat::json;

std::string to_hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  if (hex.size() % 2) throw std::invalid_argument("odd hex");
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2) out += char(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

json to_view(const json& value) {
  if (value.is_binary()) return {{"$binary", to_hex(std::string(value.get_binary().begin(), value.get_binary().end()))}};
  if (value.is_number_float() && !std::isfinite(value.get<double>())) {
    const double v = value.get<double>();
    return {{"$float", std::isnan(v) ? "NaN" : v > 0 ? "Infinity" : "-Infinity"}};
  }
  if (!value.is_structured()) return value;
  json out = value.is_array() ? json::array() : json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (value.is_array()) out.push_back(to_view(*it));
    else out[it.key()] = to_view(*it);
  }
  return out;
}

json from_view(const json& value) {
  if (value.is_object() && value.size() == 1 && value.contains("$binary")) {
    const std::string bytes = from_hex(value["$binary"].get<std::string>());
    return chat::binary(bytes);
  }
  if (value.is_object() && value.size() == 1 && value.contains("$float")) {
    const std::string name = value["$float"];
    return name == "NaN" ? std::nan("") : name == "Infinity" ? HUGE_VAL : -HUGE_VAL;
  }
  if (!value.is_structured()) return value;
  json out = value.is_array() ? json::array() : json::object();
  for (auto it = value.begin(); it != value.end(); ++it) {
    if (value.is_array()) out.push_back(from_view(*it));
    else out[it.key()] = from_view(*it);
  }
  return out;
}

json packet_view(const chat::socketio::Packet& packet) {
  json out = {{"type", static_cast<int>(packet.type)}, {"nsp", packet.nsp}, {"data", to_view(packet.data)}};
  if (packet.id) out["id"] = *packet.id;
  return out;
}

json options_view(const wire::BroadcastMessage& message) {
  return {{"rooms", message.rooms}, {"except", message.except}, {"flags", to_view(message.flags.to_json())}};
}

wire::BroadcastMessage broadcast_from_view(const json& view) {
  wire::BroadcastMessage message;
  message.uid = view.at("uid");
  message.packet.nsp = view.at("packet").value("nsp", "/");
  message.packet.data = from_view(view.at("packet").at("data"));
  const json& opts = view.at("opts");
  message.rooms = opts.value("rooms", std::vector<std::string>{});
  message.except = opts.value("except", std::vector<std::string>{});
  message.flags = wire::WireFlags::from_json(opts.value("flags", json::object()));
  return message;
}

json selection_view(const wire::Selection& opts) { return {{"rooms", opts.rooms}, {"except", opts.except}}; }

wire::Selection selection_from_view(const json& view) {
  return {view.at("opts").value("rooms", std::vector<std::string>{}), view.at("opts").value("except", std::vector<std::string>{})};
}

json request_view(const wire::Request& request) {
  json out = {{"type", static_cast<int>(wire::type_of(request))}};
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, wire::BroadcastRequest>) {
          out["uid"] = r.message.uid;
          out["requestId"] = r.request_id;
          out["packet"] = packet_view(r.message.packet);
          out["opts"] = options_view(r.message);
        } else {
          if (!r.uid.empty()) out["uid"] = r.uid;
          if (!r.request_id.empty()) out["requestId"] = r.request_id;
          if constexpr (std::is_same_v<T, wire::SocketsRequest>) out["rooms"] = r.rooms;
          if constexpr (std::is_base_of_v<wire::RoomsRequest, T>) {
            out["opts"] = selection_view(r.opts);
            out["rooms"] = r.rooms;
          }
          if constexpr (std::is_same_v<T, wire::RemoteDisconnectRequest>) {
            out["opts"] = selection_view(r.opts);
            out["close"] = r.close;
          }
          if constexpr (std::is_same_v<T, wire::FetchSocketsRequest>) out["opts"] = selection_view(r.opts);
          if constexpr (std::is_same_v<T, wire::ServerSideEmitRequest>) out["data"] = to_view(r.data);
        }
      },
      request);
  return out;
}

wire::Request request_from_view(const json& view) {
  const std::string uid = view.value("uid", ""), id = view.value("requestId", "");
  switch (view.at("type").get<int>()) {
    case 0: return wire::SocketsRequest{uid, id, view.at("rooms")};
    case 1: return wire::AllRoomsRequest{uid, id};
    case 2: return wire::RemoteJoinRequest{{uid, selection_from_view(view), view.at("rooms"), id}};
    case 3: return wire::RemoteLeaveRequest{{uid, selection_from_view(view), view.at("rooms"), id}};
    case 4: return wire::RemoteDisconnectRequest{uid, selection_from_view(view), view.value("close", false), id};
    case 5: return wire::FetchSocketsRequest{uid, id, selection_from_view(view)};
    case 6: return wire::ServerSideEmitRequest{uid, id, from_view(view.at("data"))};
    case 7: return wire::BroadcastRequest{id, broadcast_from_view(view)};
    default: throw std::invalid_argument("no such request type");
  }
}

json pairs_view(const std::vector<std::pair<std::string, std::string>>& pairs) {
  json out = json::array();
  for (const auto& [name, value] : pairs) out.push_back({name, value});
  return out;
}

std::vector<std::pair<std::string, std::string>> pairs_from_view(const json& view) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& pair : view) out.emplace_back(pair.at(0), pair.at(1));
  return out;
}

json socket_view(const chat::SocketInfo& socket) {
  return {{"id", socket.id},
          {"handshake",
           {{"headers", pairs_view(socket.handshake.headers)},
            {"query", pairs_view(socket.handshake.query)},
            {"url", socket.handshake.url},
            {"address", socket.handshake.address},
            {"issued", socket.handshake.issued_ms}}},
          {"auth", to_view(socket.auth)},
          {"rooms", socket.rooms},
          {"data", to_view(socket.data)}};
}

chat::SocketInfo socket_from_view(const json& view) {
  chat::SocketInfo socket;
  socket.id = view.at("id");
  const json& handshake = view.at("handshake");
  socket.handshake.headers = pairs_from_view(handshake.at("headers"));
  socket.handshake.query = pairs_from_view(handshake.at("query"));
  socket.handshake.url = handshake.at("url");
  socket.handshake.address = handshake.at("address");
  socket.handshake.issued_ms = handshake.at("issued");
  socket.auth = from_view(view.at("auth"));
  socket.rooms = view.at("rooms").get<std::vector<std::string>>();
  socket.data = from_view(view.at("data"));
  return socket;
}

json decode_response_view(const std::string& kind, std::string_view bytes) {
  const wire::Response response = wire::decode_response(bytes);
  json out = {{"requestId", response.request_id}};
  if (response.type) out["type"] = static_cast<int>(*response.type);
  if (kind == "sockets") out["result"] = wire::read_socket_ids(response);
  else if (kind == "rooms") out["result"] = wire::read_rooms(response);
  else if (kind == "done") out["result"] = nullptr;
  else if (kind == "count") out["result"] = wire::read_client_count(response);
  else if (kind == "reply") out["result"] = wire::read_reply(response) ? to_view(*wire::read_reply(response)) : json("$none");
  else if (kind == "fetch") {
    out["result"] = json::array();
    for (const auto& socket : wire::read_fetched_sockets(response)) out["result"].push_back(socket_view(socket));
  } else throw std::invalid_argument("no such response kind");
  return out;
}

std::string encode_response_view(const json& view) {
  const std::string kind = view.at("kind"), id = view.at("requestId");
  auto reply = [&]() -> std::optional<json> {
    if (!view.contains("result")) return std::nullopt;
    return from_view(view["result"]);
  };
  if (kind == "sockets") return wire::encode_sockets_response(id, view.at("result"));
  if (kind == "rooms") return wire::encode_all_rooms_response(id, view.at("result"));
  if (kind == "done") return wire::encode_done_response(id);
  if (kind == "sse") return wire::encode_server_side_emit_response(id, reply());
  if (kind == "count") return wire::encode_client_count_response(id, view.at("result").get<std::size_t>());
  if (kind == "ack") return wire::encode_broadcast_ack_response(id, reply());
  if (kind == "fetch") {
    std::vector<chat::SocketInfo> sockets;
    for (const auto& socket : view.at("result")) sockets.push_back(socket_from_view(socket));
    return wire::encode_fetch_response(id, sockets);
  }
  throw std::invalid_argument("no such response kind");
}

std::string answer(const std::string& command, std::istringstream& rest) {
  std::string argument;
  std::getline(rest >> std::ws, argument);
  if (command == "decode") return to_view(wire::from_notepack(from_hex(argument))).dump();
  if (command == "encode") return to_hex(wire::to_notepack(from_view(json::parse(argument))));
  if (command == "broadcast-decode") {
    const auto message = wire::decode_broadcast(from_hex(argument));
    return json{{"uid", message.uid}, {"packet", packet_view(message.packet)}, {"opts", options_view(message)}}.dump();
  }
  if (command == "broadcast-encode") return to_hex(wire::encode_broadcast(broadcast_from_view(json::parse(argument))));
  if (command == "request-decode") return request_view(wire::decode_request(from_hex(argument))).dump();
  if (command == "request-encode") return to_hex(wire::encode_request(request_from_view(json::parse(argument))));
  if (command == "response-decode") {
    std::istringstream parts(argument);
    std::string kind, hex;
    parts >> kind >> hex;
    return decode_response_view(kind, from_hex(hex)).dump();
  }
  if (command == "response-encode") return to_hex(encode_response_view(json::parse(argument)));
  if (command == "channels") {
    std::istringstream parts(argument);
    std::string key, nsp, uid;
    parts >> key >> nsp >> uid;
    const wire::Channels channels(key, nsp);
    return json{{"broadcast", channels.broadcast()}, {"room", channels.room("r1")}, {"pattern", channels.pattern()},
                {"request", channels.request()}, {"response", channels.response()},
                {"response_for", channels.response_for(uid)}}
        .dump();
  }
  if (command == "room-of") {
    std::istringstream parts(argument);
    std::string key, nsp, channel;
    parts >> key >> nsp >> channel;
    const auto room = wire::Channels(key, nsp).room_of(channel);
    return room ? json(*room).dump() : "null";
  }
  throw std::invalid_argument("unknown command " + command);
}

}  // namespace

int main() {
  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    try {
      const std::string result = answer(command, in);  // before "ok": it may throw
      std::cout << "ok " << result << "\n";
    } catch (const wire::WireError& error) {
      std::cout << "error " << error.what() << "\n";
    } catch (const std::exception& error) {
      std::cout << "bad-command " << error.what() << "\n";  // a mistake in the test, not the codec
    }
    std::cout.flush();
  }
}
