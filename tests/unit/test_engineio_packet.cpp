#include <chat/engineio/packet.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::engineio::Packet;
using chat::engineio::PacketType;
using namespace std::string_literals;

namespace {
std::string describe(const Packet& packet) {
  return std::string(1, char(packet.type)) + (packet.binary ? " binary " : " text ") + unit::printable(packet.data);
}
}  // namespace

namespace Catch {
template <>
struct StringMaker<Packet> {
  static std::string convert(const Packet& packet) { return describe(packet); }
};
}  // namespace Catch

TEST_CASE("engine.io payload: text and binary records round trip", "[engineio]") {
  const auto packets = chat::engineio::decode_payload("4hello\x1e" "bAQIDBA==\x1e" "2");
  REQUIRE(packets);
  REQUIRE(packets->size() == 3);
  CHECK((*packets)[0] == Packet{PacketType::message, "hello", false});
  CHECK((*packets)[1] == Packet{PacketType::message, std::string("\x01\x02\x03\x04"), true});
  CHECK((*packets)[2] == Packet{PacketType::ping, "", false});
  std::string payload;
  for (const auto& packet : *packets) chat::engineio::append_to_payload(payload, packet);
  CHECK(payload == "4hello\x1e" "bAQIDBA==\x1e" "2");
}

TEST_CASE("engine.io payload: malformed input is refused whole", "[engineio]") {
  for (const char* body : {"", "x", "4a\x1e", "\x1e", "4ok\x1e" "9", "b!!!!", "7"}) {
    INFO("body: " << unit::printable(body));
    CHECK_FALSE(chat::engineio::decode_payload(body));
  }
}

TEST_CASE("engine.io decode_text: every packet type and its data", "[engineio]") {
  struct Row {
    std::string text;
    Packet expected;
  };
  const std::vector<Row> rows = {
      {"0", {PacketType::open, "", false}},
      {"0{\"sid\":\"x\"}", {PacketType::open, "{\"sid\":\"x\"}", false}},
      {"1", {PacketType::close, "", false}},
      {"2", {PacketType::ping, "", false}},
      {"2probe", {PacketType::ping, "probe", false}},
      {"3", {PacketType::pong, "", false}},
      {"3probe", {PacketType::pong, "probe", false}},
      {"4", {PacketType::message, "", false}},
      {"4hello", {PacketType::message, "hello", false}},
      {"40/custom,{\"token\":\"abc\"}", {PacketType::message, "0/custom,{\"token\":\"abc\"}", false}},
      {"4\xc3\xa9\xe2\x82\xac", {PacketType::message, "\xc3\xa9\xe2\x82\xac", false}},
      {"4a\0b"s, {PacketType::message, "a\0b"s, false}},
      {"5", {PacketType::upgrade, "", false}},
      {"6", {PacketType::noop, "", false}},
  };
  for (const auto& row : rows) {
    INFO("text: " << unit::printable(row.text));
    const auto packet = chat::engineio::decode_text(row.text);
    REQUIRE(packet);
    CHECK(*packet == row.expected);
    CHECK(chat::engineio::encode_frame(*packet) == row.text);
  }
}

TEST_CASE("engine.io decode_text: empty text and unknown types are refused", "[engineio]") {
  for (const std::string& text : {""s, "7"s, "8hello"s, "9"s, "/"s, ":"s, "a"s, "x2"s, " 2"s, "b"s, "bAQIDBA=="s,
                                 "\x1e"s, "\0"s, "\xff"s, "-1"s}) {
    INFO("text: " << unit::printable(text));
    CHECK_FALSE(chat::engineio::decode_text(text));
  }
}

TEST_CASE("engine.io decode_payload: valid payloads decode to the exact packets", "[engineio]") {
  struct Row {
    std::string body;
    std::vector<Packet> expected;
  };
  const std::vector<Row> rows = {
      {"4hello", {{PacketType::message, "hello", false}}},
      {"4test1\x1e" "4test2\x1e" "4test3",
       {{PacketType::message, "test1", false}, {PacketType::message, "test2", false}, {PacketType::message, "test3", false}}},
      {"2", {{PacketType::ping, "", false}}},
      {"3", {{PacketType::pong, "", false}}},
      {"1", {{PacketType::close, "", false}}},
      {"6", {{PacketType::noop, "", false}}},
      {"4", {{PacketType::message, "", false}}},
      {"4\x1e" "4", {{PacketType::message, "", false}, {PacketType::message, "", false}}},
      {"bAQIDBA==", {{PacketType::message, "\x01\x02\x03\x04", true}}},
      {"bAQIDBA", {{PacketType::message, "\x01\x02\x03\x04", true}}},  // padding is optional
      {"bAA==", {{PacketType::message, "\0"s, true}}},
      {"b/w==", {{PacketType::message, "\xff", true}}},
      {"b", {{PacketType::message, "", true}}},  // an empty binary message, as Node decodes it
      {"451-[\"m\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQID",
       {{PacketType::message, "51-[\"m\",{\"_placeholder\":true,\"num\":0}]", false},
        {PacketType::message, "\x01\x02\x03", true}}},
      {"4\xe2\x82\xac\x1e" "2", {{PacketType::message, "\xe2\x82\xac", false}, {PacketType::ping, "", false}}},
  };
  for (const auto& row : rows) {
    INFO("body: " << unit::printable(row.body));
    const auto packets = chat::engineio::decode_payload(row.body);
    REQUIRE(packets);
    REQUIRE(packets->size() == row.expected.size());
    for (std::size_t i = 0; i < row.expected.size(); ++i) {
      INFO("record " << i);
      CHECK((*packets)[i] == row.expected[i]);
    }
    // Re-encoding gives the same bytes back when the body used canonical (padded) base64.
    std::string payload;
    for (const auto& packet : *packets) chat::engineio::append_to_payload(payload, packet);
    if (row.body != "bAQIDBA") {
      CHECK(unit::printable(payload) == unit::printable(row.body));
    }
  }
}

TEST_CASE("engine.io decode_payload: table of malformed payloads", "[engineio]") {
  const std::vector<std::string> bodies = {
      "",                                // empty body
      "\x1e",                            // only a separator: two empty records
      "\x1e\x1e",                        // only separators
      "4a\x1e",                          // trailing separator: an empty last record
      "\x1e" "4a",                       // leading separator: an empty first record
      "4a\x1e\x1e" "4b",                 // an empty record in the middle
      "x",                               // unknown type
      "7",                               // type out of range
      "9",                               //
      "/",                               // just below '0'
      ":",                               // just above '9'
      "4ok\x1e" "9",                     // one bad record refuses all
      "4ok\x1e" "4ok\x1e" "x",           // the last record bad
      "x\x1e" "4ok",                     // the first record bad
      "b!!!!",                           // not base64
      "bA",                              // impossible base64 length (1 mod 4)
      "bAQIDB",                          // impossible base64 length (5 chars)
      "bAQ=I",                           // padding in the middle
      "bAQ ID",                          // space inside base64
      "bAQ\nID",                         // newline inside base64
      "b-_8=",                           // base64url alphabet is not base64
      "4ok\x1e" "b#",                    // bad binary record after a good one
      "B" "AQID",                        // upper-case B is not a binary marker
      "\xff",                            // a non-ASCII type byte
      "\0" "4a"s,                        // NUL type byte
      " 4a",                             // leading space
  };
  for (const auto& body : bodies) {
    INFO("body: " << unit::printable(body));
    CHECK_FALSE(chat::engineio::decode_payload(body));
  }
}

TEST_CASE("engine.io append_to_payload: separators, binary as b+base64, messages and control packets", "[engineio]") {
  std::string payload;
  chat::engineio::append_to_payload(payload, Packet{PacketType::open, "{\"sid\":\"a\"}", false});
  CHECK(payload == "0{\"sid\":\"a\"}");
  chat::engineio::append_to_payload(payload, Packet{PacketType::message, "\x01\x02\x03\x04", true});
  CHECK(payload == "0{\"sid\":\"a\"}\x1e" "bAQIDBA==");
  chat::engineio::append_to_payload(payload, Packet{PacketType::noop, "", false});
  CHECK(payload == "0{\"sid\":\"a\"}\x1e" "bAQIDBA==\x1e" "6");

  std::string encoded;
  chat::engineio::append_message(encoded, "2[\"a\"]", false);
  chat::engineio::append_message(encoded, "\xff\x00\x10"s, true);
  chat::engineio::append_message(encoded, "", true);
  chat::engineio::append_control(encoded, PacketType::ping);
  CHECK(unit::printable(encoded) == unit::printable("42[\"a\"]\x1e" "b/wAQ\x1e" "b\x1e" "2"));

  // A binary packet's type field does not matter: binary is always a message on the wire.
  std::string binary_only;
  chat::engineio::append_to_payload(binary_only, Packet{PacketType::message, "", true});
  CHECK(binary_only == "b");
  const auto decoded = chat::engineio::decode_payload(binary_only);
  REQUIRE(decoded);
  REQUIRE(decoded->size() == 1);
  CHECK((*decoded)[0] == Packet{PacketType::message, "", true});
}

TEST_CASE("engine.io encode_frame: type character plus data, binary as raw bytes", "[engineio]") {
  CHECK(chat::engineio::encode_frame(Packet{PacketType::message, "hello", false}) == "4hello");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::ping, "", false}) == "2");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::pong, "probe", false}) == "3probe");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::noop, "", false}) == "6");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::close, "", false}) == "1");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::upgrade, "", false}) == "5");
  // Engine.IO v4 binary WebSocket frames carry no type byte (v3 prepended 0x04).
  CHECK(chat::engineio::encode_frame(Packet{PacketType::message, "\x01\x02\x03\x04", true}) == "\x01\x02\x03\x04");
  CHECK(chat::engineio::encode_frame(Packet{PacketType::message, "\0\xff"s, true}) == "\0\xff"s);
  CHECK(chat::engineio::encode_frame(Packet{PacketType::message, "", true}).empty());
}

TEST_CASE("engine.io payload: every byte value survives the b+base64 round trip", "[engineio]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  for (std::size_t length : {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(4),
                             std::size_t(255), std::size_t(256)}) {
    INFO("length " << length);
    const std::string bytes = all.substr(0, length);
    std::string payload;
    chat::engineio::append_to_payload(payload, Packet{PacketType::message, "x", false});
    chat::engineio::append_to_payload(payload, Packet{PacketType::message, bytes, true});
    const auto packets = chat::engineio::decode_payload(payload);
    REQUIRE(packets);
    REQUIRE(packets->size() == 2);
    CHECK((*packets)[0] == Packet{PacketType::message, "x", false});
    CHECK((*packets)[1] == Packet{PacketType::message, bytes, true});
  }
}
