#include <chat/socketio/packet.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::socketio::PacketType;
using nlohmann::json;
using namespace std::string_literals;

namespace {
json bin(const std::string& bytes) { return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())); }
const std::string ph0 = R"({"_placeholder":true,"num":0})";
const std::string ph1 = R"({"_placeholder":true,"num":1})";
}  // namespace

TEST_CASE("socket.io encode: exact texts of the official test-suite", "[socketio]") {
  struct Row {
    PacketType type;
    std::string nsp;
    std::optional<std::uint64_t> id;
    json data;
    std::string text;
    std::vector<std::string> attachments;
  };
  const json none(json::value_t::discarded);
  const std::vector<Row> rows = {
      {PacketType::connect, "/", std::nullopt, {{"sid", "abc"}}, R"(40{"sid":"abc"})", {}},
      {PacketType::connect, "/custom", std::nullopt, {{"sid", "x"}}, R"(40/custom,{"sid":"x"})", {}},
      {PacketType::event, "/", std::nullopt, json::array({"auth", json::object()}), R"(42["auth",{}])", {}},
      {PacketType::event, "/custom", std::nullopt, json::array({"auth", {{"token", "abc"}}}),
       R"(42/custom,["auth",{"token":"abc"}])", {}},
      {PacketType::connect_error, "/random", std::nullopt, {{"message", "Invalid namespace"}},
       R"(44/random,{"message":"Invalid namespace"})", {}},
      {PacketType::event, "/", std::nullopt, json::parse(R"(["message-back",1,"2",{"3":[true]}])"),
       R"(42["message-back",1,"2",{"3":[true]}])", {}},
      {PacketType::event, "/", std::nullopt, json::array({"message", bin("\x01\x02\x03"), bin("\x04\x05\x06")}),
       "452-[\"message\"," + ph0 + "," + ph1 + "]", {"\x01\x02\x03", "\x04\x05\x06"}},
      {PacketType::ack, "/", 456, json::parse(R"([1,"2",{"3":[false]}])"), R"(43456[1,"2",{"3":[false]}])", {}},
      {PacketType::ack, "/", 789, json::array({bin("\x01\x02\x03"), bin("\x04\x05\x06")}),
       "462-789[" + ph0 + "," + ph1 + "]", {"\x01\x02\x03", "\x04\x05\x06"}},
      {PacketType::disconnect, "/", std::nullopt, none, "41", {}},
      {PacketType::disconnect, "/admin", std::nullopt, none, "41/admin,", {}},
      {PacketType::connect, "/", std::nullopt, none, "40", {}},
      {PacketType::event, "/admin", 13, json::array({"ev"}), R"(42/admin,13["ev"])", {}},
      {PacketType::event, "/admin", 13, json::array({"ev", bin("z")}), "451-/admin,13[\"ev\"," + ph0 + "]", {"z"}},
      {PacketType::ack, "/admin", 13, json::array(), "43/admin,13[]", {}},
      {PacketType::ack, "/", 0, json::array(), "430[]", {}},
      {PacketType::ack, "/", 9007199254740991ull, json::array({1}), "439007199254740991[1]", {}},
      {PacketType::event, "/", std::nullopt, json::array({42, "x"}), R"(42[42,"x"])", {}},
      {PacketType::event, "/", std::nullopt, json::array({"\xc3\xa9\xe2\x82\xac"}), "42[\"\xc3\xa9\xe2\x82\xac\"]", {}},
      {PacketType::event, "/", std::nullopt, json::array({"a\nb\"c\\\x1e"}), R"(42["a\nb\"c\\\u001e"])", {}},
      {PacketType::event, "/", std::nullopt, json::array({"e", bin("")}), "451-[\"e\"," + ph0 + "]", {""}},
      {PacketType::connect_error, "/", std::nullopt, "Not authorized", R"(44"Not authorized")", {}},
  };
  for (const auto& row : rows) {
    INFO("expected " << unit::printable(row.text));
    const auto encoded = chat::socketio::encode(row.type, row.nsp, row.id, row.data);
    CHECK(unit::printable(unit::frame(encoded)) == unit::printable(row.text));
    CHECK(encoded.attachments == row.attachments);

    chat::socketio::Packet packet;
    packet.type = row.type;
    packet.nsp = row.nsp;
    packet.id = row.id;
    packet.data = row.data;
    const auto via_packet = chat::socketio::encode(packet);
    CHECK(via_packet.data == encoded.data);
    CHECK(via_packet.attachments == encoded.attachments);
    // encode leaves the caller's data, binary values included, untouched.
    CHECK(unit::dump(packet.data) == unit::dump(row.data));
    CHECK(packet.data.is_discarded() == row.data.is_discarded());
  }
}

TEST_CASE("socket.io encode: binaries nested in objects and arrays are numbered depth-first", "[socketio]") {
  // Object keys are visited in nlohmann's (sorted) order: "a" before "b", "b" before "c".
  const json data = json::array({"ev",
                                 {{"a", bin("A")}, {"b", json::array({bin("B0"), {{"c", bin("C")}}})}},
                                 json::array({json::array({bin("D")})}),
                                 bin("E")});
  const auto encoded = chat::socketio::encode(PacketType::event, "/", std::nullopt, data);
  CHECK(unit::frame(encoded) ==
        R"(455-["ev",{"a":{"_placeholder":true,"num":0},"b":[{"_placeholder":true,"num":1},{"c":{"_placeholder":true,"num":2}}]},[[{"_placeholder":true,"num":3}]],{"_placeholder":true,"num":4}])");
  CHECK(encoded.attachments == std::vector<std::string>{"A", "B0", "C", "D", "E"});
}

TEST_CASE("socket.io encode: EVENT and ACK switch to the binary types only when holding binary", "[socketio]") {
  CHECK(unit::frame(chat::socketio::encode(PacketType::event, "/", std::nullopt, json::array({"a", 1}))) == R"(42["a",1])");
  CHECK(unit::frame(chat::socketio::encode(PacketType::event, "/", std::nullopt, json::array({"a", bin("x")}))).substr(0, 4) ==
        "451-");
  CHECK(unit::frame(chat::socketio::encode(PacketType::ack, "/", 1, json::array({1}))) == "431[1]");
  CHECK(unit::frame(chat::socketio::encode(PacketType::ack, "/", 1, json::array({bin("x")}))).substr(0, 4) == "461-");
  // A binary deep inside still switches the type.
  CHECK(unit::frame(chat::socketio::encode(PacketType::event, "/", std::nullopt,
                                           json::array({"a", {{"k", json::array({json::array({bin("x")})})}}}))) ==
        R"(451-["a",{"k":[[{"_placeholder":true,"num":0}]]}])");
}

TEST_CASE("socket.io encode: ten and more attachments are counted in decimal", "[socketio]") {
  json data = json::array({"many"});
  for (int i = 0; i < 12; ++i) data.push_back(bin(std::string(1, char('a' + i))));
  const auto encoded = chat::socketio::encode(PacketType::event, "/", std::nullopt, data);
  CHECK(unit::frame(encoded).substr(0, 5) == "4512-");
  REQUIRE(encoded.attachments.size() == 12);
  for (int i = 0; i < 12; ++i) CHECK(encoded.attachments[std::size_t(i)] == std::string(1, char('a' + i)));
  CHECK(unit::frame(encoded).find(R"({"_placeholder":true,"num":11}])") != std::string::npos);
}

TEST_CASE("socket.io encode: invalid UTF-8 in a string does not throw and is replaced", "[socketio]") {
  const json data = json::array({"ev", "a\xff" "b", "\xc3"});
  chat::socketio::Encoded encoded;
  REQUIRE_NOTHROW(encoded = chat::socketio::encode(PacketType::event, "/", std::nullopt, data));
  CHECK(unit::printable(unit::frame(encoded)) == unit::printable("42[\"ev\",\"a\xef\xbf\xbd" "b\",\"\xef\xbf\xbd\"]"));
}
