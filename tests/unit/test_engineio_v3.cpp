// Engine.IO v3's framing (chat/engineio/v3.hpp) and the protocol a request speaks: the byte
// layouts are those Node's engine.io parser-v3 writes and reads (its own tests' examples), and
// socket.io-client 2.x sends.
#include <chat/engineio/request.hpp>
#include <chat/engineio/v3.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::engineio::Error;
using chat::engineio::Intent;
using chat::engineio::Packet;
using chat::engineio::PacketType;
using chat::engineio::SessionState;
namespace v3 = chat::engineio::v3;

namespace {

std::string encode_text(const std::vector<v3::Record>& records) {
  const auto payload = v3::encode_payload(records, false);
  REQUIRE_FALSE(payload.binary);
  return payload.body;
}

std::string classify(std::string_view target, bool websocket, SessionState state, bool allow_eio3, int revision = 4,
                     std::string_view method = "GET") {
  const auto parsed = chat::detail::parse_target(target);
  REQUIRE(parsed);
  return unit::name_of(chat::engineio::classify_request(method, *parsed, websocket, state, {}, allow_eio3, revision));
}

}  // namespace

TEST_CASE("engine.io v3: a text payload is <length>:<record>, the length in UTF-16 units", "[engineio][v3]") {
  CHECK(encode_text({{PacketType::message, "hello", false}}) == "6:4hello");
  CHECK(encode_text({{PacketType::noop, "", false}}) == "1:6");
  CHECK(encode_text({{PacketType::open, R"({"sid":"x"})", false}, {PacketType::message, "0", false}}) ==
        R"(12:0{"sid":"x"}2:40)");
  // é is one unit in two bytes; 😀 two units (a surrogate pair) in four bytes.
  CHECK(encode_text({{PacketType::message, "\xc3\xa9", false}}) == "2:4\xc3\xa9");
  CHECK(encode_text({{PacketType::message, "\xf0\x9f\x98\x80", false}}) == "3:4\xf0\x9f\x98\x80");
  // Binary for a client that asked for base64 (b64=1): b4 and the base64.
  CHECK(v3::encode_payload({{PacketType::message, "\x01\x02\x03", true}}, false).body == "6:b4AQID");
  CHECK(v3::encode_payload({{PacketType::message, "\x01\x02\x03", true}}, false).binary == false);
  // Text only: a text payload, even for a client that takes binary.
  CHECK_FALSE(v3::encode_payload({{PacketType::message, "a", false}}, true).binary);
}

TEST_CASE("engine.io v3: a payload with binary, for a client that takes binary, is the binary format", "[engineio][v3]") {
  const auto payload = v3::encode_payload(
      {{PacketType::message, R"(51-["b",{"_placeholder":true,"num":0}])", false}, {PacketType::message, "\x01\x02", true}},
      true);
  CHECK(payload.binary);
  const std::string text = R"(451-["b",{"_placeholder":true,"num":0}])";
  // 0 (text), the length's digits as bytes (39 -> 3 9), 255, the record; 1 (binary), 3, 255, 4 and the bytes.
  const std::string expected = std::string("\x00\x03\x09\xff", 4) + text + std::string("\x01\x03\xff\x04\x01\x02", 6);
  CHECK(unit::printable(payload.body) == unit::printable(expected));
  const auto decoded = v3::decode_payload(payload.body, true);
  REQUIRE(decoded);
  CHECK(*decoded == std::vector<Packet>{{PacketType::message, text.substr(1), false},
                                        {PacketType::message, "\x01\x02", true}});
}

TEST_CASE("engine.io v3: text payloads decode record by record", "[engineio][v3]") {
  const auto packets = v3::decode_payload("6:4hello1:22:4\xc3\xa9" "3:4\xf0\x9f\x98\x80" "6:b4AQID", false);
  REQUIRE(packets);
  CHECK(*packets == std::vector<Packet>{{PacketType::message, "hello", false},
                                        {PacketType::ping, "", false},
                                        {PacketType::message, "\xc3\xa9", false},
                                        {PacketType::message, "\xf0\x9f\x98\x80", false},
                                        {PacketType::message, "\x01\x02\x03", true}});
  // A zero-length record is skipped (Node's parser skips it).
  const auto skipped = v3::decode_payload("0:1:2", false);
  REQUIRE(skipped);
  CHECK(*skipped == std::vector<Packet>{{PacketType::ping, "", false}});
}

TEST_CASE("engine.io v3: a malformed payload is refused whole", "[engineio][v3]") {
  for (const std::string bad : {"", "4hello", "6:4hell", "x:4", ":4", "5:4hello2", "1:9", "1:b", "3:b2A", "5:b4!!!",
                                "2:4\xf0\x9f\x98\x80", "12345678901:4", "1:21", "-1:4"}) {
    INFO(unit::printable(bad));
    CHECK_FALSE(v3::decode_payload(bad, false));
  }
  for (const std::string& bad : {std::string("\x00\x02", 2), std::string("\x00\x02\xff" "4", 3),
                                std::string("\x00\x0a\xff" "4a", 5), std::string("\x01\x02\xff\x02\x01", 5),
                                std::string("\x00\xff", 2), std::string("\x00\x00\xff", 3)}) {
    INFO(unit::printable(bad));
    CHECK_FALSE(v3::decode_payload(bad, true));
  }
}

TEST_CASE("engine.io v3: WebSocket binary messages carry their type byte, or go as b4 base64", "[engineio][v3]") {
  CHECK(v3::binary_frame("\x01\x02\x03", false) == "\x04\x01\x02\x03");
  CHECK(v3::binary_frame("\x01\x02\x03", true) == "b4AQID");
  const auto typed = v3::decode_binary_record("\x04\xff");
  REQUIRE(typed);
  CHECK(*typed == Packet{PacketType::message, "\xff", true});
  CHECK_FALSE(v3::decode_binary_record(""));
  CHECK_FALSE(v3::decode_binary_record("\x02"));
  const auto text = v3::decode_record("b4AQID");
  REQUIRE(text);
  CHECK(*text == Packet{PacketType::message, "\x01\x02\x03", true});
  CHECK(v3::decode_record("2probe") == Packet{PacketType::ping, "probe", false});
}

TEST_CASE("engine.io v3: the protocol of a request is EIO=4 or else 3, as Node reads it", "[engineio][v3]") {
  auto protocol = [](std::string_view target) {
    const auto parsed = chat::detail::parse_target(target);
    REQUIRE(parsed);
    return chat::engineio::protocol_of(*parsed);
  };
  CHECK(protocol("/socket.io/?EIO=4&transport=polling").revision == 4);
  CHECK(protocol("/socket.io/?EIO=3&transport=polling").revision == 3);
  CHECK(protocol("/socket.io/?transport=polling").revision == 3);
  CHECK(protocol("/socket.io/?EIO=5&transport=polling").revision == 3);
  CHECK(protocol("/socket.io/?EIO=3&transport=polling&b64=1").base64);
  CHECK_FALSE(protocol("/socket.io/?EIO=3&transport=polling").base64);
  CHECK_FALSE(protocol("/socket.io/?EIO=4&transport=polling&b64=1").base64);  // v4 has no b64
}

TEST_CASE("engine.io v3: handshakes of protocol 3 open a session only with allow_eio3", "[engineio][v3]") {
  const auto absent = SessionState::absent;
  const std::string unsupported = unit::name_of(Error::unsupported_protocol_version);
  const std::string open = unit::name_of(Intent::open_session);
  CHECK(classify("/socket.io/?EIO=3&transport=polling", false, absent, false) == unsupported);
  CHECK(classify("/socket.io/?EIO=3&transport=polling", false, absent, true) == open);
  CHECK(classify("/socket.io/?EIO=3&transport=websocket", true, absent, true) == open);
  CHECK(classify("/socket.io/?transport=polling", false, absent, true) == open);  // Node: no EIO is 3
  CHECK(classify("/socket.io/?EIO=4&transport=polling", false, absent, true) == open);
  // A request on a session must speak its protocol.
  const std::string bad = unit::name_of(Error::bad_request);
  CHECK(classify("/socket.io/?EIO=3&transport=polling&sid=a", false, SessionState::polling, true, 3) ==
        unit::name_of(Intent::poll));
  CHECK(classify("/socket.io/?EIO=4&transport=polling&sid=a", false, SessionState::polling, true, 3) == bad);
  CHECK(classify("/socket.io/?EIO=3&transport=polling&sid=a", false, SessionState::polling, true, 4) == bad);
  CHECK(classify("/socket.io/?EIO=3&transport=websocket&sid=a", true, SessionState::polling, true, 3) ==
        unit::name_of(Intent::upgrade));
  CHECK(classify("/socket.io/?EIO=4&transport=websocket&sid=a", true, SessionState::polling, true, 3) == bad);
}
