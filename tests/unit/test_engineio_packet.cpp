#include <chat/engineio/packet.hpp>

#include <catch2/catch.hpp>

using chat::engineio::Packet;
using chat::engineio::PacketType;

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
    INFO("body: " << body);
    CHECK_FALSE(chat::engineio::decode_payload(body));
  }
}
