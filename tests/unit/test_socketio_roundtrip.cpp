#include <chat/engineio/packet.hpp>
#include <chat/socketio/packet.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::socketio::Decoder;
using chat::socketio::Packet;
using chat::socketio::PacketType;
using Status = Decoder::Status;
using nlohmann::json;
using namespace std::string_literals;

namespace {

json bin(const std::string& bytes) { return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())); }

constexpr auto make = unit::make_packet;

/// The type a packet has on the wire: EVENT/ACK holding binary become BINARY_EVENT/BINARY_ACK.
PacketType wire_type(const Packet& packet) {
  if (chat::socketio::detail::contains_binary(packet.data)) {
    if (packet.type == PacketType::event) return PacketType::binary_event;
    if (packet.type == PacketType::ack) return PacketType::binary_ack;
  }
  return packet.type;
}

std::string nested_array(int depth, const json& leaf) {
  json value = leaf;
  for (int i = 0; i < depth; ++i) value = json::array({value});
  return value.dump();
}

/// Every packet here round-trips; ack ids of 16 digits have their own test case below.
std::vector<Packet> round_trip_packets() {
  const json none(json::value_t::discarded);
  std::vector<Packet> packets = {
      make(PacketType::connect, "/", std::nullopt, none),
      make(PacketType::connect, "/", std::nullopt, json::object()),
      make(PacketType::connect, "/custom", std::nullopt, {{"token", "abc"}}),
      make(PacketType::connect, "/a/b-c_d.e", std::nullopt, {{"pid", "x"}, {"offset", "y"}}),
      make(PacketType::disconnect, "/", std::nullopt, none),
      make(PacketType::disconnect, "/admin", std::nullopt, none),
      make(PacketType::event, "/", std::nullopt, json::array({"message"})),
      make(PacketType::event, "/", std::nullopt, json::parse(R"(["message",1,"2",{"3":[true]},null,-5,0.25])")),
      make(PacketType::event, "/", std::nullopt, json::array({42})),
      make(PacketType::event, "/", std::nullopt, json::array({0, "zero"})),
      make(PacketType::event, "/", std::nullopt, json::array({-3.5, "float name"})),
      make(PacketType::event, "/admin", 13, json::array({"ev", "x"})),
      make(PacketType::event, "/", 0, json::array({"with ack 0"})),
      make(PacketType::event, "/", 999999999999999ull, json::array({"15 digit id"})),
      make(PacketType::ack, "/", 0, json::array()),
      make(PacketType::ack, "/", 456, json::parse(R"([1,"2",{"3":[false]}])")),
      make(PacketType::ack, "/", 4294967296ull, json::array({"2^32"})),
      make(PacketType::connect_error, "/", std::nullopt, {{"message", "Not authorized"}, {"data", {{"a", 1}}}}),
      make(PacketType::connect_error, "/random", std::nullopt, "Invalid namespace"),
      make(PacketType::event, "/", std::nullopt,
           json::array({"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", "quote\" backslash\\ sep\x1e nul"s + '\0' + " [{"})),
      make(PacketType::event, "/", std::nullopt, json::array({"message", bin("\x01\x02\x03"), bin("\x04\x05\x06")})),
      make(PacketType::event, "/", std::nullopt,
           json::array({"nested",
                        {{"a", bin("A")}, {"b", json::array({bin("B0"), {{"c", bin(std::string("\0\xff", 2))}}})}},
                        json::array({json::array({bin("D")})}),
                        bin("")})),
      make(PacketType::event, "/", std::nullopt, json::array({7, bin("numeric name with binary")})),
      make(PacketType::event, "/admin", 77, json::array({"ns+id+binary", bin("x")})),
      make(PacketType::ack, "/", 789, json::array({bin("\x01\x02\x03"), bin("\x04\x05\x06")})),
      make(PacketType::ack, "/admin", 123456789012345ull, json::array({{{"file", bin("bytes")}}})),
      make(PacketType::event, "/", std::nullopt,
           json::array({"ten", bin("0"), bin("1"), bin("2"), bin("3"), bin("4"), bin("5"), bin("6"), bin("7"),
                        bin("8"), bin("9")})),
      make(PacketType::event, "/", std::nullopt, json::array({"depth 64", json::parse(nested_array(63, 1))})),
      make(PacketType::event, "/", std::nullopt,
           json::array({"user placeholder lookalike", {{"_placeholder", true}, {"num", 0}}})),
  };
  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += char(i);
  packets.push_back(make(PacketType::event, "/", std::nullopt, json::array({"all bytes", bin(all_bytes)})));
  return packets;
}

/// Decodes one encoded packet (its text message, then each attachment).
Status decode(Decoder& decoder, const chat::socketio::Encoded& encoded) {
  REQUIRE(!encoded.data.empty());
  REQUIRE_FALSE(encoded.binary);
  Status status = decoder.feed_text(encoded.data);
  for (std::size_t i = 0; i < encoded.attachments.size(); ++i) {
    INFO("attachment " << i);
    REQUIRE(status == Status::need_more);
    status = decoder.feed_binary(encoded.attachments[i]);
  }
  return status;
}

void check_same(const Packet& decoded, const Packet& original) {
  INFO("original: " << unit::describe(original));
  INFO("decoded:  " << unit::describe(decoded));
  CHECK(decoded.type == wire_type(original));
  CHECK(decoded.nsp == original.nsp);
  CHECK(decoded.id.has_value() == original.id.has_value());
  if (decoded.id && original.id) CHECK(*decoded.id == *original.id);
  CHECK(decoded.has_data() == original.has_data());
  if (original.has_data()) CHECK(unit::dump(decoded.data) == unit::dump(original.data));
  if (original.has_data()) CHECK(decoded.data == original.data);
}

}  // namespace

TEST_CASE("socket.io round trip: encode then decode gives the original packet", "[socketio]") {
  for (const auto& original : round_trip_packets()) {
    INFO("packet: " << unit::describe(original));
    const auto encoded = chat::socketio::encode(original);
    INFO("encoded: " << unit::printable(encoded.data) << " + " << encoded.attachments.size() << " attachments");
    Decoder decoder;
    REQUIRE(decode(decoder, encoded) == Status::complete);
    CHECK_FALSE(decoder.busy());
    check_same(decoder.packet(), original);
  }
}

TEST_CASE("socket.io round trip: one decoder decodes a stream of packets", "[socketio]") {
  Decoder decoder;
  for (const auto& original : round_trip_packets()) {
    INFO("packet: " << unit::describe(original));
    const auto encoded = chat::socketio::encode(original);
    REQUIRE(decode(decoder, encoded) == Status::complete);
    check_same(decoder.packet(), original);
  }
}

TEST_CASE("socket.io round trip: through an Engine.IO polling payload", "[socketio][engineio]") {
  const auto packets = round_trip_packets();
  std::string payload;
  for (const auto& original : packets) {
    const auto encoded = chat::socketio::encode(original);
    chat::engineio::append_messages(payload, encoded);
  }
  const auto records = chat::engineio::decode_payload(payload);
  // A record holding 0x1e would split; the packets above only carry it JSON-escaped.
  REQUIRE(records);
  Decoder decoder;
  std::size_t next = 0;
  for (const auto& record : *records) {
    INFO("record: " << unit::printable(record.data.substr(0, 80)));
    Status status;
    if (record.binary) {
      status = decoder.feed_binary(record.data);
    } else {
      REQUIRE(record.type == chat::engineio::PacketType::message);
      status = decoder.feed_text(record.data);
    }
    REQUIRE(status != Status::error);
    if (status == Status::complete) {
      REQUIRE(next < packets.size());
      check_same(decoder.packet(), packets[next]);
      ++next;
    }
  }
  CHECK(next == packets.size());
}

TEST_CASE("socket.io round trip: through Engine.IO WebSocket frames", "[socketio][engineio]") {
  Decoder decoder;
  for (const auto& original : round_trip_packets()) {
    INFO("packet: " << unit::describe(original));
    const auto encoded = chat::socketio::encode(original);
    const auto text_frame = chat::engineio::decode_text(unit::frame(encoded));
    REQUIRE(text_frame);
    REQUIRE(text_frame->type == chat::engineio::PacketType::message);
    Status status = decoder.feed_text(text_frame->data);
    for (const auto& attachment : encoded.attachments) {
      REQUIRE(status == Status::need_more);
      const std::string frame =
          chat::engineio::encode_frame(chat::engineio::Packet{chat::engineio::PacketType::message, attachment, true});
      CHECK(frame == attachment);
      status = decoder.feed_binary(frame);
    }
    REQUIRE(status == Status::complete);
    check_same(decoder.packet(), original);
  }
}

TEST_CASE("socket.io round trip: decode then encode reproduces the official test-suite texts", "[socketio]") {
  const std::string ph0 = R"({"_placeholder":true,"num":0})";
  const std::string ph1 = R"({"_placeholder":true,"num":1})";
  for (const std::string& text :
       {R"(42["message",1,"2",{"3":[true]}])"s, "452-[\"message\"," + ph0 + "," + ph1 + "]",
        R"(42456["message-with-ack",1,"2",{"3":[false]}])"s, "452-789[\"message-with-ack\"," + ph0 + "," + ph1 + "]",
        R"(40/custom,{"token":"abc"})"s, "40"s, "41/custom,"s, R"(43456[1,"2",{"3":[false]}])"s,
        "462-789[" + ph0 + "," + ph1 + "]", R"(42/admin,13["ev"])"s}) {
    INFO("text: " << text);
    Decoder decoder;
    Status status = decoder.feed_text(std::string_view(text).substr(1));
    if (status == Status::need_more) status = decoder.feed_binary("\x01\x02\x03\x04");
    if (status == Status::need_more) status = decoder.feed_binary("\x05");
    REQUIRE(status == Status::complete);
    const auto encoded = chat::socketio::encode(decoder.packet());
    CHECK(unit::frame(encoded) == text);
    if (!encoded.attachments.empty()) {
      CHECK(encoded.attachments == std::vector<std::string>{"\x01\x02\x03\x04", "\x05"});
    }
  }
}

TEST_CASE("socket.io round trip: ack ids up to 2^53-1, including 16-digit ones", "[socketio]") {
  // JavaScript integers are exact up to 2^53-1 = 9007199254740991, which has 16 digits.
  const std::vector<std::uint64_t> ids = {0,
                                          1,
                                          9,
                                          10,
                                          4294967296ull,       // 2^32
                                          999999999999999ull,  // 15 digits
                                          1000000000000000ull,  // 16 digits
                                          4503599627370496ull,  // 2^52
                                          9007199254740990ull,
                                          9007199254740991ull};  // 2^53-1
  for (const auto id : ids) {
    for (const auto& original : {make(PacketType::event, "/", id, json::array({"ev"})),
                                 make(PacketType::ack, "/", id, json::array()),
                                 make(PacketType::event, "/admin", id, json::array({"ev", bin("b")})),
                                 make(PacketType::ack, "/admin", id, json::array({bin("b")}))}) {
      INFO("packet: " << unit::describe(original));
      const auto encoded = chat::socketio::encode(original);
      INFO("encoded: " << unit::printable(encoded.data));
      CHECK(encoded.data.find(std::to_string(id) + "[") != std::string::npos);
      Decoder decoder;
      Status status = decoder.feed_text(encoded.data);
      for (const auto& attachment : encoded.attachments) {
        if (status != Status::need_more) break;
        status = decoder.feed_binary(attachment);
      }
      CHECK(status == Status::complete);
      if (status == Status::complete) check_same(decoder.packet(), original);
    }
  }
}
