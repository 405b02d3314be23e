#include <chat/socketio/packet.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::socketio::Decoder;
using chat::socketio::PacketType;
using Status = Decoder::Status;
using nlohmann::json;
using namespace std::string_literals;

namespace {

json bin(const std::string& bytes) { return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end())); }
std::string ph(int n) { return R"({"_placeholder":true,"num":)" + std::to_string(n) + "}"; }

std::string repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

/// An EVENT whose second argument is nested `depth - 1` arrays deep: total depth `depth`.
std::string event_nested(int depth) { return R"(2["a",)" + repeat("[", depth - 1) + repeat("]", depth - 1) + "]"; }

struct Expected {
  PacketType type;
  std::string nsp;
  std::optional<std::uint64_t> id;
  std::optional<json> data;  // nullopt: no data
};

void check_packet(chat::socketio::Packet& packet, const Expected& expected) {
  INFO("decoded: " << unit::describe(packet));
  CHECK(packet.type == expected.type);
  CHECK(packet.nsp == expected.nsp);
  CHECK(packet.id == expected.id);
  if (expected.data) {
    REQUIRE(packet.has_data());
    CHECK(packet.data == *expected.data);
  } else {
    CHECK_FALSE(packet.has_data());
  }
}

}  // namespace

TEST_CASE("socket.io decode: valid text packets decode to the exact fields", "[socketio]") {
  struct Row {
    std::string text;
    Expected expected;
  };
  const std::vector<Row> rows = {
      {"0", {PacketType::connect, "/", std::nullopt, std::nullopt}},
      {R"(0{"token":"abc"})", {PacketType::connect, "/", std::nullopt, json{{"token", "abc"}}}},
      {R"(0/custom,{"token":"abc"})", {PacketType::connect, "/custom", std::nullopt, json{{"token", "abc"}}}},
      {"0/custom", {PacketType::connect, "/custom", std::nullopt, std::nullopt}},
      {"0/custom,", {PacketType::connect, "/custom", std::nullopt, std::nullopt}},
      {"0{}", {PacketType::connect, "/", std::nullopt, json::object()}},
      {"1", {PacketType::disconnect, "/", std::nullopt, std::nullopt}},
      {"1/custom,", {PacketType::disconnect, "/custom", std::nullopt, std::nullopt}},
      {"1/custom", {PacketType::disconnect, "/custom", std::nullopt, std::nullopt}},
      {R"(2["message",1,"2",{"3":[true]}])",
       {PacketType::event, "/", std::nullopt, json::parse(R"(["message",1,"2",{"3":[true]}])")}},
      {R"(2456["message-with-ack",1,"2",{"3":[false]}])",
       {PacketType::event, "/", 456, json::parse(R"(["message-with-ack",1,"2",{"3":[false]}])")}},
      {R"(2/admin,13["ev"])", {PacketType::event, "/admin", 13, json::array({"ev"})}},
      {R"(2/admin,["ev"])", {PacketType::event, "/admin", std::nullopt, json::array({"ev"})}},
      {R"(2/,["ev"])", {PacketType::event, "/", std::nullopt, json::array({"ev"})}},
      {"2[42]", {PacketType::event, "/", std::nullopt, json::array({42})}},
      {"2[-1,2]", {PacketType::event, "/", std::nullopt, json::array({-1, 2})}},
      {"2[1.5]", {PacketType::event, "/", std::nullopt, json::array({1.5})}},
      {R"(2["connected"])", {PacketType::event, "/", std::nullopt, json::array({"connected"})}},
      {R"(2["Connect"])", {PacketType::event, "/", std::nullopt, json::array({"Connect"})}},
      {R"(2[""])", {PacketType::event, "/", std::nullopt, json::array({""})}},
      {R"(2007["a"])", {PacketType::event, "/", 7, json::array({"a"})}},
      {R"(20["a"])", {PacketType::event, "/", 0, json::array({"a"})}},
      {R"(2999999999999999["a"])", {PacketType::event, "/", 999999999999999ull, json::array({"a"})}},
      {R"(2["a",{"_placeholder":true,"num":0}])",  // not binary: a placeholder stays a plain object
       {PacketType::event, "/", std::nullopt, json::parse(R"(["a",{"_placeholder":true,"num":0}])")}},
      {R"(3456[1,"2",{"3":[false]}])", {PacketType::ack, "/", 456, json::parse(R"([1,"2",{"3":[false]}])")}},
      {"31[]", {PacketType::ack, "/", 1, json::array()}},
      {"3/admin,0[]", {PacketType::ack, "/admin", 0, json::array()}},
      {R"(4{"message":"x"})", {PacketType::connect_error, "/", std::nullopt, json{{"message", "x"}}}},
      {R"(4/a,"text")", {PacketType::connect_error, "/a", std::nullopt, json("text")}},
      {"2[\"\xc3\xa9\xe2\x82\xac\"]", {PacketType::event, "/", std::nullopt, json::array({"\xc3\xa9\xe2\x82\xac"})}},
      {R"(2["\u00e9\ud83d\ude00"])", {PacketType::event, "/", std::nullopt, json::array({"\xc3\xa9\xf0\x9f\x98\x80"})}},
      {R"(2["a","\u001e"])", {PacketType::event, "/", std::nullopt, json::array({"a", "\x1e"})}},
  };
  for (const auto& row : rows) {
    INFO("text: " << unit::printable(row.text));
    Decoder decoder;
    REQUIRE(decoder.feed_text(row.text) == Status::complete);
    CHECK_FALSE(decoder.busy());
    check_packet(decoder.packet(), row.expected);
  }
}

TEST_CASE("socket.io decode: table of malformed text packets is refused", "[socketio]") {
  const std::vector<std::string> texts = {
      // empty, bad or unknown type
      "", "7", "8", "9", "7[\"a\"]", "a", "abc", "-", "/", " 2[\"a\"]", "{}", "[\"a\"]", "\xff", "\0"s, "\x1e",
      // CONNECT: object or nothing
      "0[1]", "0[]", R"(0"x")", "0null", "0true", "0 1", "0{", R"(0{"token":})", R"(0/custom,[1])",
      R"(0/custom,"x")", "01", "01{}",
      // DISCONNECT: nothing at all
      "1{}", "1[]", R"(1"x")", "1null", "1/custom,{}", R"(1/custom,["a"])", "11", "1 ",
      // EVENT: non-empty array, first element a number or non-reserved string
      "2", "2{}", "2[]", R"(2abc["x"])", "2abc", R"(2"x")", "2null", "21", "2/custom,", "2/custom", "2[{}]",
      R"(2[{"a":1},"x"])", "2[[]]", R"(2[["a"]])", "2[null]", "2[true]", "2[false]",
      R"(2["connect"])", R"(2["connect_error"])", R"(2["disconnect"])", R"(2["disconnecting"])",
      R"(2["newListener"])", R"(2["removeListener"])", R"(2/admin,["disconnect"])", R"(212["connect",1])",
      // truncated or trailing JSON
      R"(2["a")", R"(2["a",)", "2[", R"(2["a)", R"(2["a\)", R"(2["a"]])", R"(2["a"]x)", R"(2["a"],)",
      R"(2["a"][])", R"(0{"token":"abc")", R"(31[1)", R"(2["a",{"b":])", R"(2["a",1.])", R"(2["a",01])",
      R"(2['a'])", R"(2["a",undefined])", R"(2["a",NaN])",
      // ack ids are digits only
      R"(2-1["a"])", R"(2+1["a"])", R"(21a["a"])", R"(21.5["a"])", R"(2 1["a"])", R"(21e3["a"])",
      R"(2 ["a"] 1)", "2\xef\xbc\x91[\"a\"]", R"(2/admin,x1["a"])", R"(2/admin,-1["a"])",
      R"(299999999999999999999["a"])",  // far beyond 2^53 and uint64
      // ACK: an id and an array
      "3[]", R"(3["a"])", "3", "31{}", R"(31"x")", "31", "31null", "3/admin,[]", "3/admin,", "311", "31 ",
      // CONNECT_ERROR: a string or an object
      "4", "4[1]", "41", "4null", "4true", "4/a,", "41{}",
      // BINARY_EVENT / BINARY_ACK headers
      "5", "5-", R"(5-["a"])", R"(5-1-["a"])", R"(511-["a"])", R"(512-["a"])", R"(5100-["a"])",
      R"(5a-["a"])", R"(51x-["a"])", R"(5+1-["a"])", R"(5 1-["a"])", R"(5-1["a"])", R"(51["a"])",
      R"(51.0-["a"])", R"(5١-["a"])", "51-", "51-{}", "51-[]", "51-null", R"(51-["connect",)" + ph(0) + "]",
      R"(51-[)" + ph(0) + "]", R"(51-/admin,)", R"(5)" + std::string(16, '1') + R"(-["a"])",
      R"(51-["a")", "6", "6-", "61-", "61-[" + ph(0) + "]", "61-1{}", R"(61-1"x")", R"(61-/admin,[)" + ph(0) + "]",
      R"(611-1[)" + ph(0) + "]",
      // nesting beyond the limit (64), and absurd nesting
      event_nested(65), event_nested(1000), "2" + repeat("[", 1000), "2" + repeat("[", 100000),
      "0" + repeat("{\"a\":", 65) + "1" + repeat("}", 65), "0" + repeat("{\"a\":", 1000),
      R"(2["a",)" + repeat(R"({"k":)", 64) + "1" + repeat("}", 64) + "]",
  };
  for (const auto& text : texts) {
    INFO("text: " << (text.size() > 200 ? unit::printable(text.substr(0, 200)) + "... (" +
                                              std::to_string(text.size()) + " bytes)"
                                        : unit::printable(text)));
    Decoder decoder;
    Status status = Status::complete;
    REQUIRE_NOTHROW(status = decoder.feed_text(text));
    CHECK(status == Status::error);
    CHECK_FALSE(decoder.busy());
  }
}

TEST_CASE("socket.io decode: nesting up to 64 is accepted, 65 refused, brackets in strings do not count",
          "[socketio]") {
  {
    Decoder decoder;
    CHECK(decoder.feed_text(event_nested(64)) == Status::complete);
    CHECK(decoder.packet().data.dump() == R"(["a",)" + repeat("[", 63) + repeat("]", 63) + "]");
  }
  {
    Decoder decoder;
    CHECK(decoder.feed_text(event_nested(65)) == Status::error);
  }
  {
    // 1 (outer array) + 63 objects = 64
    Decoder decoder;
    CHECK(decoder.feed_text(R"(2["a",)" + repeat(R"({"k":)", 63) + "1" + repeat("}", 63) + "]") == Status::complete);
  }
  {
    Decoder decoder;
    const std::string brackets = repeat("[", 1000) + repeat("{", 1000);
    REQUIRE(decoder.feed_text(R"(2["a",")" + brackets + R"("])") == Status::complete);
    CHECK(decoder.packet().data == json::array({"a", brackets}));
  }
  {
    // An escaped quote does not end the string; an escaped backslash before the quote does.
    Decoder decoder;
    const std::string inside = R"(\"[[[[)" + repeat("[", 100);
    REQUIRE(decoder.feed_text(R"(2["a",")" + inside + R"("])") == Status::complete);
    CHECK(decoder.packet().data[1] == "\"" + repeat("[", 104));
  }
  {
    Decoder decoder;
    CHECK(decoder.feed_text(R"(2["a\\",)" + repeat("[", 65) + repeat("]", 65) + "]") == Status::error);
  }
}

TEST_CASE("socket.io decode: invalid UTF-8 inside strings does not crash", "[socketio]") {
  const std::vector<std::string> texts = {
      "2[\"\xff\"]",                   // never valid in UTF-8
      "2[\"a\xc3\"]",                  // truncated two-byte sequence
      "2[\"\xe2\x82\"]",               // truncated three-byte sequence
      "2[\"\xc0\xaf\"]",               // overlong '/'
      "2[\"\xed\xa0\x80\"]",           // encoded surrogate
      "2[\"\xf4\x90\x80\x80\"]",       // beyond U+10FFFF
      "2[\"\x80\"]",                   // lone continuation byte
      R"(2["\ud800"])",                // lone high surrogate escape
      R"(2["\udc00"])",                // lone low surrogate escape
      R"(2["\u12"])",                  // truncated escape
      R"(2["\x41"])",                  // not a JSON escape
      "2[\"ev\",\"\xfe\xfe\xfe\"]",    //
      "0{\"\xff\":1}",                 // invalid UTF-8 in a key
      "2[\"a\0b\"]"s,                  // raw control character in a string
      "2[\"a\nb\"]",                   //
      "2\xff[\"a\"]",                  //
      "0/\xff,{}",                     // in the namespace
  };
  for (const auto& text : texts) {
    INFO("text: " << unit::printable(text));
    Decoder decoder;
    Status status = Status::error;
    REQUIRE_NOTHROW(status = decoder.feed_text(text));
    CHECK((status == Status::error || status == Status::complete));
    if (status == Status::complete) {
      // Whatever was accepted must encode again without throwing.
      CHECK_NOTHROW(chat::socketio::encode(decoder.packet()));
    }
    // The decoder is still usable afterwards.
    Decoder next;
    CHECK(next.feed_text(R"(2["ok"])") == Status::complete);
  }
}

TEST_CASE("socket.io decode: binary packets wait for every attachment", "[socketio]") {
  Decoder decoder;
  REQUIRE(decoder.feed_text(R"(52-["message",)" + ph(0) + "," + ph(1) + "]") == Status::need_more);
  CHECK(decoder.busy());
  REQUIRE(decoder.feed_binary("\x01\x02\x03") == Status::need_more);
  CHECK(decoder.busy());
  REQUIRE(decoder.feed_binary("\x04\x05\x06") == Status::complete);
  CHECK_FALSE(decoder.busy());
  check_packet(decoder.packet(), {PacketType::binary_event, "/", std::nullopt,
                                  json::array({"message", bin("\x01\x02\x03"), bin("\x04\x05\x06")})});

  // The same decoder goes on with the next packet.
  REQUIRE(decoder.feed_text(R"(52-789["message-with-ack",)" + ph(0) + "," + ph(1) + "]") == Status::need_more);
  REQUIRE(decoder.feed_binary("A") == Status::need_more);
  REQUIRE(decoder.feed_binary(""s) == Status::complete);
  check_packet(decoder.packet(),
               {PacketType::binary_event, "/", 789, json::array({"message-with-ack", bin("A"), bin("")})});

  REQUIRE(decoder.feed_text(R"(2["text"])") == Status::complete);
  check_packet(decoder.packet(), {PacketType::event, "/", std::nullopt, json::array({"text"})});
}

TEST_CASE("socket.io decode: valid binary packets restore placeholders wherever they are", "[socketio]") {
  struct Row {
    std::string text;
    std::vector<std::string> attachments;
    Expected expected;
  };
  const std::vector<Row> rows = {
      {R"(51-["a",)" + ph(0) + "]", {"\x00\xff"s}, {PacketType::binary_event, "/", std::nullopt, json::array({"a", bin("\x00\xff"s)})}},
      {R"(51-/admin,13["a",)" + ph(0) + "]", {"x"}, {PacketType::binary_event, "/admin", 13, json::array({"a", bin("x")})}},
      {"61-1[" + ph(0) + "]", {"x"}, {PacketType::binary_ack, "/", 1, json::array({bin("x")})}},
      {"62-/admin,7[" + ph(1) + "," + ph(0) + "]", {"zero", "one"},
       {PacketType::binary_ack, "/admin", 7, json::array({bin("one"), bin("zero")})}},
      {R"(52-["a",{"k":[)" + ph(1) + "]}," + ph(0) + "]", {"0", "1"},
       {PacketType::binary_event, "/", std::nullopt,
        json::array({"a", {{"k", json::array({bin("1")})}}, bin("0")})}},
      {R"(52-["a",)" + ph(0) + "]", {"used", "unused"},  // an attachment nobody names
       {PacketType::binary_event, "/", std::nullopt, json::array({"a", bin("used")})}},
      {R"(51-["a",{"_placeholder":false,"num":0},)" + ph(0) + "]", {"x"},
       {PacketType::binary_event, "/", std::nullopt,
        json::array({"a", {{"_placeholder", false}, {"num", 0}}, bin("x")})}},
      {R"(51-[7,)" + ph(0) + "]", {"x"}, {PacketType::binary_event, "/", std::nullopt, json::array({7, bin("x")})}},
      {R"(510-["ten",)" + ph(0) + "," + ph(1) + "," + ph(2) + "," + ph(3) + "," + ph(4) + "," + ph(5) + "," +
           ph(6) + "," + ph(7) + "," + ph(8) + "," + ph(9) + "]",
       {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"},
       {PacketType::binary_event, "/", std::nullopt,
        json::array({"ten", bin("0"), bin("1"), bin("2"), bin("3"), bin("4"), bin("5"), bin("6"), bin("7"), bin("8"),
                     bin("9")})}},
  };
  for (const auto& row : rows) {
    INFO("text: " << unit::printable(row.text));
    Decoder decoder;
    Status status = decoder.feed_text(row.text);
    for (std::size_t i = 0; i < row.attachments.size(); ++i) {
      INFO("attachment " << i);
      REQUIRE(status == Status::need_more);
      CHECK(decoder.busy());
      status = decoder.feed_binary(row.attachments[i]);
    }
    REQUIRE(status == Status::complete);
    CHECK_FALSE(decoder.busy());
    check_packet(decoder.packet(), row.expected);
  }
}

TEST_CASE("socket.io decode: table of bad placeholders is refused", "[socketio]") {
  struct Row {
    std::string text;
    std::vector<std::string> attachments;
  };
  const std::vector<Row> rows = {
      {R"(51-["a",{"_placeholder":true,"num":1}])", {"x"}},    // out of range
      {R"(52-["a",{"_placeholder":true,"num":2}])", {"x", "y"}},
      {R"(51-["a",{"_placeholder":true,"num":100}])", {"x"}},
      {R"(51-["a",{"_placeholder":true,"num":18446744073709551615}])", {"x"}},
      {R"(51-["a",{"_placeholder":true,"num":-1}])", {"x"}},   // negative
      {R"(51-["a",{"_placeholder":true,"num":"0"}])", {"x"}},  // a string
      {R"(51-["a",{"_placeholder":true,"num":null}])", {"x"}},
      {R"(51-["a",{"_placeholder":true,"num":[0]}])", {"x"}},
      {R"(51-["a",{"_placeholder":true}])", {"x"}},            // no num
      {R"(50-["a",{"_placeholder":true,"num":0}])", {}},       // no attachments at all
      {R"(51-["a",{"x":[{"_placeholder":true,"num":1}]}])", {"x"}},  // nested, out of range
      {R"(61-1[{"_placeholder":true,"num":5}])", {"x"}},
      {R"(51-/admin,1["a",{"_placeholder":true,"num":1}])", {"x"}},
      {R"(51-["a",)" + ph(0) + "," + ph(0) + "]", {"same"}},  // one attachment named twice
      {R"(52-["a",{"k":)" + ph(1) + "}," + ph(1) + "]", {"x", "y"}},
  };
  for (const auto& row : rows) {
    INFO("text: " << unit::printable(row.text));
    Decoder decoder;
    Status status = decoder.feed_text(row.text);
    for (std::size_t i = 0; i < row.attachments.size(); ++i) {
      INFO("attachment " << i);
      REQUIRE(status == Status::need_more);
      status = decoder.feed_binary(row.attachments[i]);
    }
    CHECK(status == Status::error);
    CHECK_FALSE(decoder.busy());
  }
}

TEST_CASE("socket.io decode: an attachment fills one placeholder, never many", "[socketio]") {
  // Each placeholder would get its own copy of the bytes: one attachment named by every
  // placeholder a message can hold would decode to max_payload times thousands of bytes. Node
  // and python-socketio share one buffer instead, and no stock client names an attachment twice
  // (their encoders give every binary value its own).
  std::string text = R"(51-["a")";
  for (int i = 0; i < 1000; ++i) text += "," + ph(0);
  text += "]";
  Decoder decoder;
  REQUIRE(decoder.feed_text(text) == Status::need_more);
  CHECK(decoder.feed_binary(std::string(64 * 1024, 'x')) == Status::error);
  CHECK_FALSE(decoder.busy());
}

TEST_CASE("socket.io decode: an attachment with no binary packet pending is an error", "[socketio]") {
  SECTION("fresh decoder") {
    Decoder decoder;
    CHECK(decoder.feed_binary("\x01\x02") == Status::error);
    CHECK(decoder.feed_binary(""s) == Status::error);
  }
  SECTION("after a text packet") {
    Decoder decoder;
    REQUIRE(decoder.feed_text(R"(2["a"])") == Status::complete);
    CHECK(decoder.feed_binary("x") == Status::error);
  }
  SECTION("one attachment too many") {
    Decoder decoder;
    REQUIRE(decoder.feed_text(R"(51-["a",)" + ph(0) + "]") == Status::need_more);
    REQUIRE(decoder.feed_binary("x") == Status::complete);
    CHECK(decoder.feed_binary("y") == Status::error);
  }
  SECTION("after a refused binary header") {
    Decoder decoder;
    REQUIRE(decoder.feed_text(R"(511-["a"])") == Status::error);
    CHECK(decoder.feed_binary("x") == Status::error);
  }
}

TEST_CASE("socket.io decode: text arriving while attachments are pending is an error", "[socketio]") {
  for (const std::string& next : {R"(2["b"])"s, R"(51-["b",)" + ph(0) + "]", "0"s, "1"s, ""s, "x"s}) {
    INFO("next text: " << unit::printable(next));
    Decoder decoder;
    REQUIRE(decoder.feed_text(R"(52-["a",)" + ph(0) + "," + ph(1) + "]") == Status::need_more);
    REQUIRE(decoder.feed_binary("first") == Status::need_more);
    CHECK(decoder.feed_text(next) == Status::error);
  }
}

TEST_CASE("socket.io decode: 16-digit ack ids up to 2^53-1 are accepted", "[socketio]") {
  struct Row {
    std::string text;
    Expected expected;
  };
  const std::vector<Row> rows = {
      {R"(21000000000000000["a"])", {PacketType::event, "/", 1000000000000000ull, json::array({"a"})}},
      {R"(2/admin,9007199254740991["a"])", {PacketType::event, "/admin", 9007199254740991ull, json::array({"a"})}},
      {R"(39007199254740991[])", {PacketType::ack, "/", 9007199254740991ull, json::array()}},
      {"61-9007199254740991[" + ph(0) + "]", {PacketType::binary_ack, "/", 9007199254740991ull, json::array({bin("x")})}},
  };
  for (const auto& row : rows) {
    INFO("text: " << unit::printable(row.text));
    Decoder decoder;
    Status status = decoder.feed_text(row.text);
    if (status == Status::need_more) status = decoder.feed_binary("x");
    CHECK(status == Status::complete);
    if (status == Status::complete) check_packet(decoder.packet(), row.expected);
  }
}
