// chat::MsgpackParser: socket.io-msgpack-parser's format. The bytes Node's encoder writes (pinned
// here from socket.io-msgpack-parser 3.0.2) decode; what the parser encodes decodes back; bad
// input, deep nesting included, is an error and never a crash. Agreement with the real client is
// checked by tests/node/msgpack.test.mjs and tests/python/test_msgpack.py.
#include <chat/msgpack_parser.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::MsgpackParser;
using chat::PacketDecoder;
using chat::socketio::Packet;
using chat::socketio::PacketType;
using nlohmann::json;
using Status = PacketDecoder::Status;
using namespace std::string_literals;

namespace {

std::string bytes(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size();) {
    if (hex[i] == ' ') {
      ++i;
      continue;
    }
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

json bin(std::vector<std::uint8_t> data) { return json::binary(std::move(data)); }

constexpr auto make = unit::make_packet;

/// Feeds one binary message to a fresh decoder.
Status decode(std::string_view message, Packet* out = nullptr, bool binary = true) {
  auto decoder = MsgpackParser().decoder();
  const Status status = decoder->feed(message, binary);
  if (status == Status::complete && out) *out = decoder->packet();
  return status;
}

Packet round_trip(const Packet& packet) {
  const auto encoded = MsgpackParser().encode(packet);
  REQUIRE(encoded.binary);
  REQUIRE(encoded.attachments.empty());
  Packet back;
  REQUIRE(decode(encoded.data, &back) == Status::complete);
  return back;
}

/// `levels` arrays, one inside the other, around 1.
json nested_arrays(int levels) {
  json value = 1;
  for (int i = 0; i < levels; ++i) value = json::array({std::move(value)});
  return value;
}

}  // namespace

TEST_CASE("msgpack parser: what socket.io-msgpack-parser writes decodes", "[msgpack]") {
  Packet packet;
  // A client's emit("hi", Buffer [1, 2]): its `options` key and `id: undefined` (d4 00 00) too.
  REQUIRE(decode(bytes("85 a4 74 79 70 65 02 a4 64 61 74 61 92 a2 68 69 c4 02 01 02 a7 6f 70 74 69 6f 6e 73 81 a8 63 "
                       "6f 6d 70 72 65 73 73 c3 a2 69 64 d4 00 00 a3 6e 73 70 a1 2f"),
                 &packet) == Status::complete);
  CHECK(packet.type == PacketType::event);
  CHECK(packet.nsp == "/");
  CHECK_FALSE(packet.id);
  CHECK(packet.data == json::array({"hi", bin({1, 2})}));

  // CONNECT to /chat without auth: data undefined.
  REQUIRE(decode(bytes("83 a4 74 79 70 65 00 a3 6e 73 70 a5 2f 63 68 61 74 a4 64 61 74 61 d4 00 00"), &packet) ==
          Status::complete);
  CHECK(packet.type == PacketType::connect);
  CHECK(packet.nsp == "/chat");
  CHECK_FALSE(packet.has_data());

  // An ack with id 7 and nested maps, a negative integer and a float.
  REQUIRE(decode(bytes("84 a4 74 79 70 65 03 a4 64 61 74 61 91 81 a1 61 81 a1 62 93 01 ff cb 3f f8 00 00 00 00 00 00 "
                       "a2 69 64 07 a3 6e 73 70 a1 2f"),
                 &packet) == Status::complete);
  CHECK(packet.type == PacketType::ack);
  CHECK(packet.id == std::optional<std::uint64_t>(7));
  CHECK(packet.data == json::parse(R"([{"a":{"b":[1,-1,1.5]}}])"));
}

TEST_CASE("msgpack parser: a packet is one binary message, binary values inline", "[msgpack]") {
  const Packet packet = make(PacketType::event, "/", std::nullopt, json::array({"file", bin({0, 255, 128})}));
  const auto encoded = MsgpackParser().encode(packet);
  CHECK(encoded.binary);
  CHECK(encoded.attachments.empty());
  // {type: 2, data: ["file", <bin 00 ff 80>], nsp: "/"}, as Node's server writes it (its key order
  // differs; no reader depends on it).
  CHECK(encoded.data == bytes("83 a4 74 79 70 65 02 a4 64 61 74 61 92 a4 66 69 6c 65 c4 03 00 ff 80 a3 6e 73 70 a1 2f"));
}

TEST_CASE("msgpack parser: packets round trip", "[msgpack]") {
  const json nested = json::parse(R"({"user":{"name":"é","tags":["a","b"],"deep":{"x":[1,2,{"y":null}]}},"n":-5})");
  const std::vector<Packet> packets = {
      make(PacketType::connect, "/", std::nullopt, json(json::value_t::discarded)),
      make(PacketType::connect, "/admin", std::nullopt, json{{"token", "secret"}}),
      make(PacketType::disconnect, "/admin", std::nullopt, json(json::value_t::discarded)),
      make(PacketType::event, "/", std::nullopt, json::array({"message", 1, 2.5, true, nullptr, "text"})),
      make(PacketType::event, "/", 12, json::array({"nested", nested})),
      make(PacketType::event, "/", std::nullopt, json::array({"bin", bin({}), json{{"inner", bin({1, 2, 3})}}})),
      make(PacketType::ack, "/chat", 0, json::array()),
      make(PacketType::ack, "/", 4294967296ULL, json::array({bin({9}), nested})),
      make(PacketType::connect_error, "/private", std::nullopt, json{{"message", "Not authorized"}}),
      make(PacketType::connect_error, "/", std::nullopt, "plain text"),
  };
  for (const Packet& packet : packets) {
    INFO(packet.data.dump(-1, ' ', false, json::error_handler_t::replace));
    const Packet back = round_trip(packet);
    CHECK(back.type == packet.type);
    CHECK(back.nsp == packet.nsp);
    CHECK(back.id == packet.id);
    CHECK(back.has_data() == packet.has_data());
    if (packet.has_data()) CHECK(back.data == packet.data);
  }
}

TEST_CASE("msgpack parser: binary packet types are written as events and acks", "[msgpack]") {
  const Packet event = round_trip(make(PacketType::binary_event, "/", std::nullopt, json::array({"x", bin({1})})));
  CHECK(event.type == PacketType::event);
  const Packet ack = round_trip(make(PacketType::binary_ack, "/", 3, json::array({bin({1})})));
  CHECK(ack.type == PacketType::ack);
  CHECK(ack.id == std::optional<std::uint64_t>(3));
}

TEST_CASE("msgpack parser: ack ids start at 1 (python-socketio drops id 0)", "[msgpack]") {
  CHECK(MsgpackParser().first_ack_id() == 1);
  CHECK(chat::JsonParser().first_ack_id() == 0);
}

TEST_CASE("msgpack parser: python-socketio's packets decode (nil data, no id)", "[msgpack]") {
  // msgpack.dumps({'type': 0, 'data': None, 'nsp': '/'})
  Packet packet;
  REQUIRE(decode(bytes("83 a4 74 79 70 65 00 a4 64 61 74 61 c0 a3 6e 73 70 a1 2f"), &packet) == Status::complete);
  CHECK(packet.type == PacketType::connect);
  CHECK_FALSE(packet.has_data());
}

TEST_CASE("msgpack parser: bad input is an error", "[msgpack]") {
  auto packet_with = [](const json& fields) {
    chat::detail::NotepackWriter writer;
    writer.value(fields);
    return writer.take();
  };
  const std::string valid = packet_with({{"type", 2}, {"nsp", "/"}, {"data", {"ev", 1}}});
  REQUIRE(decode(valid) == Status::complete);
  CHECK(decode(valid, nullptr, false) == Status::error);  // text: the format is binary only
  for (std::size_t n = 0; n < valid.size(); ++n) {
    INFO("truncated to " << n);
    CHECK(decode(valid.substr(0, n)) == Status::error);
  }
  CHECK(decode(valid + "\xc0"s) == Status::error);  // trailing bytes
  CHECK(decode("\xc1") == Status::error);
  CHECK(decode(bytes("93 02 a1 2f 90")) == Status::error);  // an array, not a map
  CHECK(decode(bytes("dd ff ff ff ff")) == Status::error);  // a forged count
  CHECK(decode(bytes("df ff ff ff ff")) == Status::error);

  const std::vector<json> bad = {
      {{"nsp", "/"}, {"data", {"ev"}}},                                     // no type
      {{"type", 5}, {"nsp", "/"}, {"data", {"ev"}}},                        // BINARY_EVENT: not in this format
      {{"type", -1}, {"nsp", "/"}, {"data", {"ev"}}},                       // negative type
      {{"type", 2.5}, {"nsp", "/"}, {"data", {"ev"}}},                      // not an integer
      {{"type", "2"}, {"nsp", "/"}, {"data", {"ev"}}},                      // a string
      {{"type", 2}, {"data", {"ev"}}},                                      // no nsp
      {{"type", 2}, {"nsp", 1}, {"data", {"ev"}}},                          // nsp not a string
      {{"type", 2}, {"nsp", "/"}},                                          // an event without data
      {{"type", 2}, {"nsp", "/"}, {"data", json::array()}},                 // without a name
      {{"type", 2}, {"nsp", "/"}, {"data", {"connect"}}},                   // a reserved name
      {{"type", 2}, {"nsp", "/"}, {"data", "ev"}},                          // data not an array
      {{"type", 2}, {"nsp", "/"}, {"data", {"ev"}}, {"id", -1}},            // negative id
      {{"type", 2}, {"nsp", "/"}, {"data", {"ev"}}, {"id", 1.5}},           // fractional id
      {{"type", 3}, {"nsp", "/"}, {"data", json::array()}},                 // an ack without an id
      {{"type", 0}, {"nsp", "/"}, {"data", {1, 2}}},                        // CONNECT with an array
      {{"type", 1}, {"nsp", "/"}, {"data", {{"a", 1}}}},                    // DISCONNECT with data
      {{"type", 4}, {"nsp", "/"}, {"data", 3}},                             // CONNECT_ERROR with a number
  };
  for (const json& fields : bad) {
    INFO(fields.dump());
    CHECK(decode(packet_with(fields)) == Status::error);
  }
}

TEST_CASE("msgpack parser: nesting is bounded as for JSON packets, without deep recursion", "[msgpack]") {
  const int limit = chat::socketio::detail::max_nesting;
  auto event_with = [](const json& argument) {
    chat::detail::NotepackWriter writer;
    writer.value(json{{"type", 2}, {"nsp", "/"}, {"data", {"deep", argument}}});
    return writer.take();
  };
  // data is one level: its argument may nest limit - 1 more, as a JSON packet's may.
  CHECK(decode(event_with(nested_arrays(limit - 1))) == Status::complete);
  CHECK(decode(event_with(nested_arrays(limit))) == Status::error);
  // A hostile client's megabyte of fixarray-of-one headers: refused, not a stack overflow.
  const std::string prefix = bytes("83 a4 74 79 70 65 02 a3 6e 73 70 a1 2f a4 64 61 74 61 92 a4 64 65 65 70");
  CHECK(decode(prefix + std::string(1 << 20, '\x91') + "\x01") == Status::error);
  // The same through maps: {"a": {"a": ...}}.
  std::string maps = prefix;
  for (int i = 0; i < 100000; ++i) maps += bytes("81 a1 61");
  CHECK(decode(maps + "\x01") == Status::error);
}

TEST_CASE("msgpack parser: a decoder reads packet after packet", "[msgpack]") {
  MsgpackParser parser;
  auto decoder = parser.decoder();
  for (int i = 0; i < 3; ++i) {
    const auto encoded = parser.encode(make(PacketType::event, "/", i, json::array({"n", i})));
    REQUIRE(decoder->feed(encoded.data, true) == Status::complete);
    CHECK(decoder->packet().data == json::array({"n", i}));
    CHECK(decoder->packet().id == std::optional<std::uint64_t>(i));
  }
  CHECK(decoder->feed("\xc1", true) == Status::error);
}
