// The Redis adapter's wire codec: notepack.io's MessagePack dialect and the classic
// @socket.io/redis-adapter messages. Byte-level agreement with notepack.io and the Node adapter
// themselves is checked by tests/node/redis_wire.test.mjs; these pin the bytes and the errors.
#include <chat/redis/detail/wire.hpp>

#include <catch2/catch.hpp>

#include <random>
#include <string>
#include <vector>

#include "unit_support.hpp"

namespace wire = chat::redis::detail;
using chat::json;
using wire::WireError;
using namespace std::string_literals;

namespace {

std::string hex(std::string_view bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    if (!out.empty()) out += ' ';
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return out;
}

std::string bytes(std::string_view spaced_hex) {
  std::string out;
  for (std::size_t i = 0; i < spaced_hex.size();) {
    if (spaced_hex[i] == ' ') {
      ++i;
      continue;
    }
    out += char(std::stoi(std::string(spaced_hex.substr(i, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

std::string ascii_hex(std::string_view text) { return hex(text); }

chat::socketio::Packet event(json data, std::string nsp = "/") {
  chat::socketio::Packet packet;
  packet.nsp = std::move(nsp);
  packet.data = std::move(data);
  return packet;
}

}  // namespace

// ---- notepack ----

TEST_CASE("redis wire: integers take notepack's smallest form, unsigned when not negative", "[redis][notepack]") {
  const std::vector<std::pair<json, std::string>> table = {
      {0, "00"},
      {127, "7f"},
      {128, "cc 80"},
      {255, "cc ff"},
      {256, "cd 01 00"},
      {65535, "cd ff ff"},
      {65536, "ce 00 01 00 00"},
      {4294967295u, "ce ff ff ff ff"},
      {4294967296u, "cf 00 00 00 01 00 00 00 00"},
      {json(std::int64_t(5)), "05"},
      {-1, "ff"},
      {-32, "e0"},
      {-33, "d0 df"},
      {-128, "d0 80"},
      {-129, "d1 ff 7f"},
      {-32768, "d1 80 00"},
      {-32769, "d2 ff ff 7f ff"},
      {json(std::int64_t(-2147483648LL)), "d2 80 00 00 00"},
      {json(std::int64_t(-2147483649LL)), "d3 ff ff ff ff 7f ff ff ff"},
      {json(std::uint64_t(18446744073709551615ULL)), "cf ff ff ff ff ff ff ff ff"},
  };
  for (const auto& [value, expected] : table) {
    INFO(value.dump());
    CHECK(hex(wire::to_notepack(value)) == expected);
    CHECK(wire::from_notepack(bytes(expected)) == value);
  }
}

TEST_CASE("redis wire: floats are float64 like notepack, and float32 is read", "[redis][notepack]") {
  CHECK(hex(wire::to_notepack(1.5)) == "cb 3f f8 00 00 00 00 00 00");
  CHECK(hex(wire::to_notepack(-0.1)) == "cb bf b9 99 99 99 99 99 9a");
  CHECK(wire::from_notepack(bytes("cb bf b9 99 99 99 99 99 9a")).get<double>() == -0.1);
  CHECK(wire::from_notepack(bytes("ca 3f c0 00 00")).get<double>() == 1.5);
  const json nan = wire::from_notepack(wire::to_notepack(std::nan("")));
  CHECK(std::isnan(nan.get<double>()));
}

TEST_CASE("redis wire: strings, binary, arrays and maps switch forms at notepack's bounds", "[redis][notepack]") {
  auto head = [](const json& value, std::size_t n) { return hex(wire::to_notepack(value).substr(0, n)); };
  CHECK(head(std::string(31, 'a'), 1) == "bf");
  CHECK(head(std::string(32, 'a'), 2) == "d9 20");
  CHECK(head(std::string(255, 'a'), 2) == "d9 ff");
  CHECK(head(std::string(256, 'a'), 3) == "da 01 00");
  CHECK(head(std::string(65536, 'a'), 5) == "db 00 01 00 00");
  CHECK(head(chat::binary(std::string(255, 'x')), 2) == "c4 ff");
  CHECK(head(chat::binary(std::string(256, 'x')), 3) == "c5 01 00");
  CHECK(head(chat::binary(std::string(65536, 'x')), 5) == "c6 00 01 00 00");
  CHECK(head(json(std::vector<int>(15, 1)), 1) == "9f");
  CHECK(head(json(std::vector<int>(16, 1)), 3) == "dc 00 10");
  CHECK(head(json(std::vector<int>(65536, 1)), 5) == "dd 00 01 00 00");
  json map = json::object();
  for (int i = 0; i < 16; ++i) map["k" + std::to_string(i)] = i;
  CHECK(head(map, 3) == "de 00 10");
  for (const json& value : {json(std::string(65536, 'a')), chat::binary(std::string(70000, 'x')),
                            json(std::vector<int>(65536, 1)), map}) {
    CHECK(wire::from_notepack(wire::to_notepack(value)) == value);
  }
  CHECK(hex(wire::to_notepack(json::array())) == "90");
  CHECK(hex(wire::to_notepack(json::object())) == "80");
  CHECK(hex(wire::to_notepack(nullptr)) == "c0");
  CHECK(hex(wire::to_notepack(true)) == "c3");
  CHECK(hex(wire::to_notepack(false)) == "c2");
}

TEST_CASE("redis wire: a binary value with a subtype is still a plain bin", "[redis][notepack]") {
  json value = json::binary({1, 2, 3}, 42);
  CHECK(hex(wire::to_notepack(value)) == "c4 03 01 02 03");
  const json back = wire::from_notepack(bytes("c4 03 01 02 03"));
  REQUIRE(back.is_binary());
  CHECK_FALSE(back.get_binary().has_subtype());
}

TEST_CASE("redis wire: dates arrive as Date.toJSON strings", "[redis][notepack]") {
  // 2000-06-13T00:00:00Z = 960854400 s = 0x39457980
  CHECK(wire::from_notepack(bytes("d6 ff 39 45 79 80")) == "2000-06-13T00:00:00.000Z");
  // timestamp 64: 123,000,000 ns (<<2 in the top 30 bits) and the same seconds
  const std::uint64_t packed = (std::uint64_t(123000000) << 34) | 960854400u;
  std::string ts64 = "\xd7\xff"s;
  for (int shift = 56; shift >= 0; shift -= 8) ts64 += char((packed >> shift) & 0xff);
  CHECK(wire::from_notepack(ts64) == "2000-06-13T00:00:00.123Z");
  // timestamp 96, before 1970: -1 s and 500 ms
  CHECK(wire::from_notepack(bytes("c7 0c ff 1d cd 65 00 ff ff ff ff ff ff ff ff")) == "1969-12-31T23:59:59.500Z");
  // year 275760 and beyond JavaScript's range
  CHECK(wire::date_to_json(8.64e15) == "+275760-09-13T00:00:00.000Z");
  CHECK(wire::date_to_json(-62198755200000.0) == "-000001-01-01T00:00:00.000Z");
  CHECK(wire::from_notepack(bytes("c7 0c ff 00 00 00 00 7f ff ff ff ff ff ff ff")).is_null());
  // notepack 2: Date in ms (d7 00) and undefined (d4 00 00)
  CHECK(wire::from_notepack(bytes("d7 00 00 00 00 df b7 62 9c 00")) == "2000-06-13T00:00:00.000Z");
  CHECK(wire::from_notepack(bytes("92 d4 00 00 01")) == json::array({nullptr, 1}));
}

TEST_CASE("redis wire: other exts decode as notepack does", "[redis][notepack]") {
  const json array_buffer = wire::from_notepack(bytes("c7 02 00 0a 0b"));
  REQUIRE(array_buffer.is_binary());
  CHECK(array_buffer == chat::binary("\x0a\x0b"s));
  CHECK(wire::from_notepack(bytes("d5 05 01 02")) == json::array({5, chat::binary("\x01\x02"s)}));
  CHECK(wire::from_notepack(bytes("c8 00 01 fe 09")) == json::array({-2, chat::binary("\x09"s)}));
  CHECK(wire::from_notepack(bytes("d6 00 01 02 03 04")) == json::array({0, chat::binary("\x01\x02\x03\x04"s)}));
  CHECK(wire::from_notepack(bytes("c8 00 01 ff 09")) == json::array({-1, chat::binary("\x09"s)}));
  CHECK_THROWS_AS(wire::from_notepack(bytes("c7 04 ff 00 00 00 00")), WireError);  // a timestamp must be 96-bit
}

TEST_CASE("redis wire: invalid UTF-8 is replaced as Node's Buffer.toString replaces it", "[redis][notepack]") {
  CHECK(wire::valid_utf8("h\xc3\xa9llo \xf0\x9f\x98\x80") == "h\xc3\xa9llo \xf0\x9f\x98\x80");
  CHECK(wire::valid_utf8("a\xff" "b") == "a\xef\xbf\xbd" "b");
  CHECK(wire::valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // CESU lone surrogate
  CHECK(wire::valid_utf8("\xe2\x82") == "\xef\xbf\xbd");                              // truncated: one
  CHECK(wire::valid_utf8("\xe2\x82x") == "\xef\xbf\xbdx");
  CHECK(wire::valid_utf8("\xf4\x90\x80\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(wire::valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");
  const json decoded = wire::from_notepack(bytes("82 a1 61 a2 ff fe a1 62 a3 ed a0 80"));
  CHECK_NOTHROW(decoded.dump());
  CHECK(decoded["a"] == "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST_CASE("redis wire: malformed notepack is a WireError, never a crash", "[redis][notepack]") {
  const std::string valid = wire::to_notepack(
      {{"a", json::array({1, -200, 70000, 1.5, "str", chat::binary("xyz"s), nullptr, true})}, {"b", {{"c", "d"}}}});
  for (std::size_t n = 0; n < valid.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(wire::from_notepack(valid.substr(0, n)), WireError);
  }
  CHECK_THROWS_AS(wire::from_notepack(valid + "\x00"s), WireError);  // trailing bytes
  CHECK_THROWS_AS(wire::from_notepack("\xc1"), WireError);           // never used
  CHECK_THROWS_AS(wire::from_notepack(bytes("81 01 02")), WireError);  // integer key
  CHECK_THROWS_AS(wire::from_notepack(bytes("81 c0 02")), WireError);  // nil key
  CHECK_THROWS_AS(wire::from_notepack(bytes("dd ff ff ff ff")), WireError);  // forged count
  CHECK_THROWS_AS(wire::from_notepack(bytes("df ff ff ff ff")), WireError);
  CHECK_THROWS_AS(wire::from_notepack(bytes("c6 ff ff ff ff 00")), WireError);
  CHECK_THROWS_AS(wire::from_notepack(bytes("db ff ff ff ff 00")), WireError);

  std::string deep(std::size_t(wire::max_wire_nesting), '\x91');
  deep += '\xc0';
  CHECK_THROWS_AS(wire::from_notepack(deep), WireError);
  CHECK_NOTHROW(wire::from_notepack(deep.substr(1)));  // one level less is fine
  CHECK_THROWS_AS(wire::from_notepack(std::string(100000, '\x81')), WireError);

  std::mt19937 random(12345);  // fixed seed: the same inputs every run
  for (int round = 0; round < 20000; ++round) {
    std::string input = valid;
    const int flips = 1 + int(random() % 4);
    for (int i = 0; i < flips; ++i) input[random() % input.size()] = char(random() & 0xff);
    try {
      const json value = wire::from_notepack(input);
      CHECK_NOTHROW(value.dump());
    } catch (const WireError&) {
    }
  }
}

// ---- channels ----

TEST_CASE("redis wire: channel names of a namespace", "[redis][channels]") {
  const wire::Channels root("socket.io", "/");
  CHECK(root.broadcast() == "socket.io#/#");
  CHECK(root.room("room1") == "socket.io#/#room1#");
  CHECK(root.pattern() == "socket.io#/#*");
  CHECK(root.request() == "socket.io-request#/#");
  CHECK(root.response() == "socket.io-response#/#");
  CHECK(root.response_for("aB3dE9") == "socket.io-response#/#aB3dE9#");
  CHECK(root.for_rooms({}) == "socket.io#/#");
  CHECK(root.for_rooms({"r"}) == "socket.io#/#r#");
  CHECK(root.for_rooms({"r", "s"}) == "socket.io#/#");
  CHECK(wire::Channels("my*app", "/a?[b]\\").pattern() == "my\\*app#/a\\?\\[b\\]\\\\#*");

  CHECK(root.room_of("socket.io#/#") == std::optional<std::string>(""));
  CHECK(root.room_of("socket.io#/#room1#") == std::optional<std::string>("room1"));
  CHECK(root.room_of("socket.io#/#a#b#") == std::optional<std::string>("a#b"));
  CHECK_FALSE(root.room_of("socket.io#/admin#"));
  CHECK_FALSE(root.room_of("socket.io#/#room1"));
  CHECK_FALSE(root.room_of("other#/#"));
  CHECK_FALSE(root.room_of("socket.io#"));
  CHECK(wire::Channels("socket.io", "/admin").room_of("socket.io#/admin#x#") == std::optional<std::string>("x"));
}

TEST_CASE("redis wire: uids look like uid2(6) and differ", "[redis][channels]") {
  const std::string a = wire::random_uid(), b = wire::random_uid();
  CHECK(a.size() == 6);
  CHECK(a.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
  CHECK(a != b);
}

// ---- broadcasts ----

TEST_CASE("redis wire: io.emit(\"hello\", \"world\") has the worked example's bytes", "[redis][broadcast]") {
  const auto message = wire::BroadcastMessage::from("abcdef", event({"hello", "world"}), {});
  CHECK(hex(wire::encode_broadcast(message)) ==
        "93 a6 61 62 63 64 65 66 83 a4 74 79 70 65 02 a4 64 61 74 61 92 a5 68 65 6c 6c 6f a5 77 6f 72 6c 64 "
        "a3 6e 73 70 a1 2f 83 a5 72 6f 6f 6d 73 90 a6 65 78 63 65 70 74 90 a5 66 6c 61 67 73 80");
}

TEST_CASE("redis wire: a volatile broadcast to one room with binary", "[redis][broadcast]") {
  chat::BroadcastOptions options;
  options.rooms = {"room1"};
  options.except = {"room2"};
  auto message = wire::BroadcastMessage::from("abcdef", event({"x", chat::binary("\x01\x02\x03"s)}), options);
  message.flags.is_volatile = true;
  message.packet.type = chat::socketio::PacketType::binary_event;  // still published as 2
  const std::string encoded = wire::encode_broadcast(message);
  const std::string expected_packet = "83 " + ascii_hex("\xa4type") + " 02 " + ascii_hex("\xa4" "data") +
                                      " 92 a1 78 c4 03 01 02 03 " + ascii_hex("\xa3nsp\xa1/");
  const std::string expected_opts = "83 " + ascii_hex("\xa5rooms") + " 91 " + ascii_hex("\xa5room1") + " " +
                                    ascii_hex("\xa6" "except") + " 91 " + ascii_hex("\xa5room2") + " " +
                                    ascii_hex("\xa5" "flags") + " 81 " + ascii_hex("\xa8volatile") + " c3";
  CHECK(hex(encoded) == "93 " + ascii_hex("\xa6" "abcdef") + " " + expected_packet + " " + expected_opts);
  CHECK(wire::Channels("socket.io", "/").for_rooms(message.rooms) == "socket.io#/#room1#");

  const auto back = wire::decode_broadcast(encoded);
  CHECK(back.uid == "abcdef");
  CHECK(back.packet.type == chat::socketio::PacketType::event);
  CHECK(back.packet.nsp == "/");
  CHECK(back.packet.data == json::array({"x", chat::binary("\x01\x02\x03"s)}));
  CHECK(back.rooms == std::vector<std::string>{"room1"});
  CHECK(back.except == std::vector<std::string>{"room2"});
  CHECK(back.flags.is_volatile);
  CHECK_FALSE(back.flags.compress);
  const chat::BroadcastOptions options_back = back.options();
  CHECK(options_back.rooms == options.rooms);
  CHECK(options_back.except == options.except);
}

TEST_CASE("redis wire: flags both ways", "[redis][broadcast]") {
  chat::BroadcastOptions options;
  options.flags.local = true;
  options.flags.timeout = std::chrono::milliseconds(2500);
  auto message = wire::BroadcastMessage::from("u", event({"e"}, "/admin"), options);
  message.flags.compress = false;
  message.flags.others["broadcast"] = true;
  const auto back = wire::decode_broadcast(wire::encode_broadcast(message));
  CHECK(back.packet.nsp == "/admin");
  CHECK(back.flags.local);
  CHECK(back.flags.timeout_ms == std::optional<std::int64_t>(2500));
  CHECK(back.flags.compress == std::optional<bool>(false));
  CHECK(back.flags.others == json{{"broadcast", true}});
  CHECK(back.options().flags.timeout == std::chrono::milliseconds(2500));
  CHECK(back.options().flags.local);
  CHECK_FALSE(back.options().flags.is_volatile);
  // A volatile broadcast says so to the other servers, which deliver it as volatile.
  options.flags.is_volatile = true;
  const auto sent = wire::decode_broadcast(wire::encode_broadcast(wire::BroadcastMessage::from("u", event({"e"}, "/"), options)));
  CHECK(sent.flags.is_volatile);
  CHECK(sent.options().flags.is_volatile);
  // Compression: absent means true (Node's engine.io default); compress(false) crosses as false.
  CHECK_FALSE(sent.flags.compress.has_value());
  CHECK(sent.options().flags.compress);
  CHECK_FALSE(back.options().flags.compress);
  options.flags.compress = false;
  const auto uncompressed =
      wire::decode_broadcast(wire::encode_broadcast(wire::BroadcastMessage::from("u", event({"e"}, "/"), options)));
  CHECK(uncompressed.flags.compress == std::optional<bool>(false));
  CHECK_FALSE(uncompressed.options().flags.compress);
}

TEST_CASE("redis wire: broadcasts as the emitter and old peers write them", "[redis][broadcast]") {
  // The emitter: uid "emitter", opts in the order {rooms, flags, except}, no nsp means "/".
  wire::NotepackWriter writer;
  writer.array(3);
  writer.string("emitter");
  writer.value({{"type", 5}, {"data", {"ev", 1}}});
  writer.map(3);
  writer.string("rooms");
  writer.value(json::array({"r"}));
  writer.string("flags");
  writer.value({{"compress", true}});
  writer.string("except");
  writer.value(json::array());
  const auto message = wire::decode_broadcast(writer.bytes());
  CHECK(message.uid == "emitter");
  CHECK(message.packet.nsp == "/");
  CHECK(message.packet.data == json::array({"ev", 1}));
  CHECK(message.flags.compress == std::optional<bool>(true));
  CHECK(message.rooms == std::vector<std::string>{"r"});
  // No flags at all (undefined in Node), numeric rooms.
  const auto bare = wire::decode_broadcast(wire::to_notepack(
      json::array({"u", {{"type", 2}, {"data", {"ev"}}, {"nsp", "/"}, {"id", 7}}, {{"rooms", {5}}}})));
  CHECK(bare.flags.to_json() == json::object());
  CHECK(bare.rooms == std::vector<std::string>{"5"});
  CHECK(bare.packet.id == std::optional<std::uint64_t>(7));
}

TEST_CASE("redis wire: malformed broadcasts are WireErrors", "[redis][broadcast]") {
  const json packet = {{"type", 2}, {"data", {"ev"}}, {"nsp", "/"}};
  const json opts = {{"rooms", json::array()}, {"except", json::array()}, {"flags", json::object()}};
  const std::vector<json> bad = {
      json::object(),
      json::array({"u", packet}),
      json::array({"u", packet, opts, 4}),
      json::array({1, packet, opts}),
      json::array({"u", "packet", opts}),
      json::array({"u", {{"type", 3}, {"data", {"ev"}}}, opts}),
      json::array({"u", {{"data", {"ev"}}}, opts}),
      json::array({"u", {{"type", 2}, {"data", "ev"}}, opts}),
      json::array({"u", {{"type", 2}, {"data", json::array()}}, opts}),
      json::array({"u", {{"type", 2}, {"data", {1}}}, opts}),
      json::array({"u", {{"type", 2}, {"data", {"ev"}}, {"nsp", 1}}, opts}),
      json::array({"u", {{"type", 2}, {"data", {"ev"}}, {"id", -1}}, opts}),
      json::array({"u", packet, "opts"}),
      json::array({"u", packet, {{"rooms", "r"}}}),
      json::array({"u", packet, {{"rooms", {true}}}}),
      json::array({"u", packet, {{"except", {1.5}}}}),
      json::array({"u", packet, {{"flags", {{"volatile", "yes"}}}}}),
      json::array({"u", packet, {{"flags", {{"timeout", "1000"}}}}}),
      json::array({"u", packet, {{"flags", 1}}}),
  };
  for (const auto& message : bad) {
    INFO(message.dump());
    CHECK_THROWS_AS(wire::decode_broadcast(wire::to_notepack(message)), WireError);
  }
  CHECK_THROWS_AS(wire::decode_broadcast(""), WireError);
  CHECK_THROWS_AS(wire::encode_broadcast({"u", event(json::array()), {}, {}, {}}), WireError);
  auto ack = event({"x"});
  ack.type = chat::socketio::PacketType::ack;
  CHECK_THROWS_AS(wire::encode_broadcast({"u", ack, {}, {}, {}}), WireError);
}

// ---- requests ----

TEST_CASE("redis wire: every request type survives encoding, JSON but for the broadcast", "[redis][requests]") {
  const wire::Selection opts{{"a", "b"}, {"c"}};
  auto broadcast_message = wire::BroadcastMessage::from("u1", event({"ev", chat::binary("\x00\xff"s)}), {});
  broadcast_message.rooms = {"a"};
  broadcast_message.flags.timeout_ms = 5000;
  const std::vector<wire::Request> requests = {
      wire::SocketsRequest{"u1", "r1", {"a"}},
      wire::AllRoomsRequest{"u1", "r2"},
      wire::RemoteJoinRequest{{"u1", opts, {"x", "y"}, ""}},
      wire::RemoteLeaveRequest{{"", opts, {"x"}, ""}},
      wire::RemoteDisconnectRequest{"u1", opts, true, ""},
      wire::FetchSocketsRequest{"u1", "r5", opts},
      wire::ServerSideEmitRequest{"u1", "", json::array({"ping", 1, {{"k", chat::binary("\x01"s)}}})},
      wire::ServerSideEmitRequest{"u1", "r6", json::array({"ping"})},
      wire::BroadcastRequest{"r7", broadcast_message},
  };
  for (const auto& request : requests) {
    const std::string encoded = wire::encode_request(request);
    const auto type = wire::type_of(request);
    INFO("type " << int(type) << ": " << unit::printable(encoded));
    CHECK((encoded.front() == '{') == (type != wire::RequestType::broadcast));
    const wire::Request back = wire::decode_request(encoded);
    REQUIRE(back.index() == request.index());
    CHECK(wire::encode_request(back) == encoded);
  }
  // The exact text of one, as Node's JSON.parse reads it.
  CHECK(json::parse(wire::encode_request(requests[5])) ==
        json::parse(R"({"uid":"u1","requestId":"r5","type":5,"opts":{"rooms":["a","b"],"except":["c"]}})"));
  CHECK(json::parse(wire::encode_request(requests[6]))["data"][2] ==
        json::parse(R"({"k":{"type":"Buffer","data":[1]}})"));
  const auto sse = std::get<wire::ServerSideEmitRequest>(wire::decode_request(wire::encode_request(requests[6])));
  CHECK(sse.data[2]["k"] == chat::binary("\x01"s));
  CHECK(sse.request_id.empty());
  const auto broadcast = std::get<wire::BroadcastRequest>(wire::decode_request(wire::encode_request(requests[8])));
  CHECK(broadcast.request_id == "r7");
  CHECK(broadcast.message.uid == "u1");
  CHECK(broadcast.message.flags.timeout_ms == std::optional<std::int64_t>(5000));
  CHECK(broadcast.message.packet.data == json::array({"ev", chat::binary("\x00\xff"s)}));
  CHECK(broadcast.message.rooms == std::vector<std::string>{"a"});
  broadcast_message.flags.timeout_ms.reset();
  CHECK_THROWS_AS(wire::encode_request(wire::BroadcastRequest{"r7", broadcast_message}), WireError);
}

TEST_CASE("redis wire: requests as Node and the emitter send them", "[redis][requests]") {
  const auto join = wire::decode_request(R"({"type":2,"opts":{"rooms":["r"],"except":[]},"rooms":["new"]})");
  REQUIRE(std::holds_alternative<wire::RemoteJoinRequest>(join));
  CHECK(std::get<wire::RemoteJoinRequest>(join).uid.empty());
  CHECK(std::get<wire::RemoteJoinRequest>(join).rooms == std::vector<std::string>{"new"});
  CHECK(std::get<wire::RemoteJoinRequest>(join).opts.options().rooms == std::unordered_set<std::string>{"r"});

  const auto disconnect = wire::decode_request(R"({"type":4,"opts":{"rooms":[],"except":["x"]},"close":false})");
  REQUIRE(std::holds_alternative<wire::RemoteDisconnectRequest>(disconnect));
  CHECK(std::get<wire::RemoteDisconnectRequest>(disconnect).opts.except == std::vector<std::string>{"x"});
  CHECK_FALSE(std::get<wire::RemoteDisconnectRequest>(disconnect).close);

  const auto emit = wire::decode_request(R"({"uid":"emitter","type":6,"data":["ev",{"type":"Buffer","data":[104,105]},{"type":"Buffer","data":[300]}]})");
  const auto& sse = std::get<wire::ServerSideEmitRequest>(emit);
  CHECK(sse.uid == "emitter");
  CHECK(sse.data[1] == chat::binary("hi"s));
  CHECK(sse.data[2].is_object());  // not bytes: stays what Node's handlers see

  // 7.x one-socket forms
  const auto leave = std::get<wire::RemoteLeaveRequest>(
      wire::decode_request(R"({"uid":"old","requestId":"q","type":3,"sid":"S","room":"R"})"));
  CHECK(leave.opts.rooms == std::vector<std::string>{"S"});
  CHECK(leave.rooms == std::vector<std::string>{"R"});
  CHECK(leave.request_id == "q");
  const auto kick = std::get<wire::RemoteDisconnectRequest>(
      wire::decode_request(R"({"uid":"old","requestId":"q","type":4,"sid":"S","close":true})"));
  CHECK(kick.opts.rooms == std::vector<std::string>{"S"});
  CHECK(kick.close);

  // JSON with invalid UTF-8 is read as Node reads msg.toString()
  const auto rooms = std::get<wire::SocketsRequest>(wire::decode_request("{\"type\":0,\"requestId\":\"r\",\"rooms\":[\"\xff\"]}"));
  CHECK(rooms.rooms == std::vector<std::string>{"\xef\xbf\xbd"});
}

TEST_CASE("redis wire: malformed requests are WireErrors", "[redis][requests]") {
  const std::vector<std::string> bad = {
      "",
      "{",
      "[1]",
      "{}",
      R"({"type":"1","requestId":"r"})",
      R"({"type":1})",
      R"({"type":1,"requestId":5})",
      R"({"type":8,"requestId":"r"})",
      R"({"type":10,"requestId":"r"})",
      R"({"type":-1})",
      R"({"type":0,"requestId":"r","rooms":"a"})",
      R"({"type":2,"opts":{"rooms":[]}})",
      R"({"type":2,"opts":[],"rooms":[]})",
      R"({"type":3,"sid":"S"})",
      R"({"type":4,"opts":{},"close":"yes"})",
      R"({"type":5,"requestId":"r"})",
      R"({"type":6,"data":"ev"})",
      R"({"type":6,"data":[]})",
      R"({"type":6,"data":["ev"],"requestId":7})",
      R"({"type":7,"requestId":"r","packet":{"type":2,"data":["e"]}})",
      R"({"type":7,"requestId":"r","opts":{}})",
      R"({"uid":1,"type":1,"requestId":"r"})",
      "\xc1",
      wire::to_notepack({{"type", 7}, {"requestId", "r"}, {"packet", {{"type", 2}, {"data", {"e"}}}}, {"opts", 1}}),
      "{\"type\":6,\"data\":[\"\\ud800\"]}",
  };
  for (const auto& request : bad) {
    INFO(unit::printable(request));
    CHECK_THROWS_AS(wire::decode_request(request), WireError);
  }
  std::string deep = "{\"type\":6,\"data\":[\"e\",";
  for (int i = 0; i < wire::max_wire_nesting; ++i) deep += "[";
  CHECK_THROWS_AS(wire::decode_request(deep), WireError);
}

// ---- responses ----

TEST_CASE("redis wire: responses of every type", "[redis][responses]") {
  auto sockets = wire::decode_response(wire::encode_sockets_response("r0", {"s1", "s2"}));
  CHECK(sockets.request_id == "r0");
  CHECK_FALSE(sockets.type);
  CHECK(wire::read_socket_ids(sockets) == std::vector<std::string>{"s1", "s2"});

  auto rooms = wire::decode_response(wire::encode_all_rooms_response("r1", {"a", "s1"}));
  CHECK(wire::read_rooms(rooms) == std::vector<std::string>{"a", "s1"});

  CHECK(wire::encode_done_response("r2") == R"({"requestId":"r2"})");

  auto reply = wire::decode_response(wire::encode_server_side_emit_response("r6", json{{"ok", chat::binary("b"s)}}));
  CHECK(reply.type == std::optional<wire::RequestType>(wire::RequestType::server_side_emit));
  CHECK(wire::read_reply(reply) == std::optional<json>(json{{"ok", chat::binary("b"s)}}));
  auto no_reply = wire::decode_response(wire::encode_server_side_emit_response("r6", std::nullopt));
  CHECK_FALSE(wire::read_reply(no_reply));

  const std::string count_text = wire::encode_client_count_response("r7", 3);
  CHECK(json::parse(count_text) == json::parse(R"({"type":8,"requestId":"r7","clientCount":3})"));
  auto count = wire::decode_response(count_text);
  CHECK(count.type == std::optional<wire::RequestType>(wire::RequestType::broadcast_client_count));
  CHECK(wire::read_client_count(count) == 3);

  const std::string ack_bytes = wire::encode_broadcast_ack_response("r7", json::array({chat::binary("\x01"s)}));
  CHECK(ack_bytes.front() != '{');
  CHECK(wire::from_notepack(ack_bytes) ==
        json{{"type", 9}, {"requestId", "r7"}, {"packet", json::array({chat::binary("\x01"s)})}});
  auto ack = wire::decode_response(ack_bytes);
  CHECK(ack.type == std::optional<wire::RequestType>(wire::RequestType::broadcast_ack));
  CHECK(wire::read_reply(ack) == std::optional<json>(json::array({chat::binary("\x01"s)})));
  CHECK_FALSE(wire::read_reply(wire::decode_response(wire::encode_broadcast_ack_response("r7", std::nullopt))));
}

TEST_CASE("redis wire: fetched sockets carry Node's handshake both ways", "[redis][responses]") {
  chat::SocketInfo socket;
  socket.id = "abcdefghijklmnopqrst";
  socket.handshake.headers = {{"Host", "example.org"}, {"Origin", "https://a.example"}, {"Cookie", "a=1"},
                              {"cookie", "b=2"}, {"Accept", "x"}, {"accept", "y"}, {"Set-Cookie", "c=3"}};
  socket.handshake.query = {{"EIO", "4"}, {"transport", "polling"}, {"t", "1"}, {"t", "2"}};
  socket.handshake.url = "/socket.io/?EIO=4&transport=polling&t=1&t=2";
  socket.handshake.address = "127.0.0.1";
  socket.handshake.issued_ms = 960854400123;
  socket.auth = {{"token", "x"}};
  socket.rooms = {"abcdefghijklmnopqrst", "room"};
  socket.data = {{"name", "ann"}, {"avatar", chat::binary("\x89PNG"s)}};

  const std::string text = wire::encode_fetch_response("r5", {socket});
  const json node = json::parse(text);
  const json& handshake = node["sockets"][0]["handshake"];
  CHECK(handshake["headers"] == json{{"host", "example.org"}, {"origin", "https://a.example"}, {"cookie", "a=1; b=2"},
                                     {"accept", "x, y"}, {"set-cookie", {"c=3"}}});
  CHECK(handshake["query"] == json{{"EIO", "4"}, {"transport", "polling"}, {"t", "2"}});
  CHECK(handshake["time"] == "Tue Jun 13 2000 00:00:00 GMT+0000 (Coordinated Universal Time)");
  CHECK(handshake["xdomain"] == true);
  CHECK(handshake["secure"] == false);
  CHECK(handshake["issued"] == 960854400123);
  CHECK(handshake["auth"] == json{{"token", "x"}});
  CHECK(node["sockets"][0]["data"]["avatar"] == json{{"type", "Buffer"}, {"data", {0x89, 'P', 'N', 'G'}}});

  const auto back = wire::read_fetched_sockets(wire::decode_response(text));
  REQUIRE(back.size() == 1);
  CHECK(back[0].id == socket.id);
  CHECK(back[0].rooms == socket.rooms);
  CHECK(back[0].data == socket.data);
  CHECK(back[0].auth == socket.auth);
  CHECK(back[0].handshake.url == socket.handshake.url);
  CHECK(back[0].handshake.address == "127.0.0.1");
  CHECK(back[0].handshake.issued_ms == 960854400123);
  CHECK(back[0].handshake.header("cookie") == std::optional<std::string_view>("a=1; b=2"));
  CHECK(back[0].handshake.header("set-cookie") == std::optional<std::string_view>("c=3"));
  CHECK(back[0].handshake.query_param("t") == std::optional<std::string_view>("2"));

  CHECK(wire::date_string(-1) == "Wed Dec 31 1969 23:59:59 GMT+0000 (Coordinated Universal Time)");
  CHECK(wire::date_string(-100000000000000) == "Thu Feb 15 -1199 14:13:20 GMT+0000 (Coordinated Universal Time)");
}

TEST_CASE("redis wire: malformed responses are WireErrors", "[redis][responses]") {
  CHECK_THROWS_AS(wire::decode_response(R"({"sockets":[]})"), WireError);
  CHECK_THROWS_AS(wire::decode_response(R"({"requestId":"r","type":12})"), WireError);
  CHECK_THROWS_AS(wire::decode_response(R"([])"), WireError);
  CHECK_THROWS_AS(wire::decode_response(""), WireError);
  CHECK_THROWS_AS(wire::read_client_count(wire::decode_response(R"({"requestId":"r","type":8,"clientCount":-1})")), WireError);
  CHECK_THROWS_AS(wire::read_rooms(wire::decode_response(R"({"requestId":"r"})")), WireError);
  CHECK_THROWS_AS(wire::read_socket_ids(wire::decode_response(R"({"requestId":"r","sockets":[{}]})")), WireError);
  for (const char* sockets : {R"([1])", R"([{}])", R"([{"id":1}])", R"([{"id":"s","rooms":"r"}])",
                              R"([{"id":"s","handshake":[]}])", R"([{"id":"s","handshake":{"headers":{"a":1}}}])",
                              R"([{"id":"s","handshake":{"query":"q"}}])", R"([{"id":"s","handshake":{"issued":"x"}}])"}) {
    INFO(sockets);
    const auto response = wire::decode_response(std::string(R"({"requestId":"r","sockets":)") + sockets + "}");
    CHECK_THROWS_AS(wire::read_fetched_sockets(response), WireError);
  }
}
