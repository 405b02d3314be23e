#include <chat/args.hpp>
#include <chat/socketio/packet.hpp>

#include <catch2/catch.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::Args;
using chat::json;
using namespace std::string_literals;

TEST_CASE("args: of() builds an array, spreading Args and keeping JSON arrays whole", "[args]") {
  CHECK(Args::of().array() == json::array());
  CHECK(Args::of().empty());
  CHECK(Args::of(1, "two", 3.5, true, nullptr).array() == json::parse(R"([1,"two",3.5,true,null])"));

  const Args inner = Args::of(2, 3);
  CHECK(Args::of(1, inner, 4).array() == json::array({1, 2, 3, 4}));
  CHECK(Args::of(inner).array() == json::array({2, 3}));
  CHECK(Args::of(Args::of(2, 3)).array() == json::array({2, 3}));  // an rvalue Args is spread too
  CHECK(Args::of(Args()).array() == json::array());
  CHECK(Args::of(Args(), Args()).size() == 0);
  CHECK(Args::of(1, Args(), 2).array() == json::array({1, 2}));
  // Spreading is one level: an Args inside an Args was already spread when it was built.
  CHECK(Args::of(Args::of(1, Args::of(2, 3)), 4).array() == json::array({1, 2, 3, 4}));

  // A JSON array is one argument, not spread.
  CHECK(Args::of(json::array({1, 2})).array() == json::parse("[[1,2]]"));
  CHECK(Args::of(json::array()).size() == 1);
  CHECK(Args::of(json{{"a", 1}}).array() == json::parse(R"([{"a":1}])"));
  CHECK(Args::of(std::vector<int>{1, 2}).array() == json::parse("[[1,2]]"));
  CHECK(Args::of(std::string("s")).array() == json::array({"s"}));

  // The source of a spread is left intact.
  CHECK(inner.array() == json::array({2, 3}));
}

TEST_CASE("args: the json constructor wraps a non-array as a single argument", "[args]") {
  CHECK(Args(json::array({1, 2})).size() == 2);
  CHECK(Args(json::array()).empty());
  CHECK(Args(json(5)).array() == json::array({5}));
  CHECK(Args(json("x")).array() == json::array({"x"}));
  CHECK(Args(json{{"k", "v"}}).array() == json::parse(R"([{"k":"v"}])"));
  CHECK(Args(json(nullptr)).array() == json::parse("[null]"));
  CHECK(Args(json::array({json::array()})).array() == json::parse("[[]]"));
}

TEST_CASE("args: element access, iteration, equality, append", "[args]") {
  Args args = Args::of("ev", 1);
  REQUIRE(args.size() == 2);
  CHECK(args[0] == "ev");
  CHECK(args[1] == 1);
  CHECK_THROWS_AS(args[2], json::out_of_range);
  const Args& view = args;
  CHECK_THROWS_AS(view[5], json::out_of_range);
  args[1] = "changed";
  CHECK(args.array() == json::array({"ev", "changed"}));

  std::vector<json> seen(args.begin(), args.end());
  CHECK(seen == std::vector<json>{"ev", "changed"});

  args.append(Args::of(7, 8));
  args.append(json::array({9}));
  CHECK(args.array() == json::parse(R"(["ev","changed",7,8,[9]])"));

  CHECK(Args::of(1, 2) == Args::of(1, 2));
  CHECK_FALSE(Args::of(1, 2) == Args::of(2, 1));
  CHECK(Args::of(1, 2) == Args(json::array({1, 2})));

  json moved = Args::of("a", "b").array();
  CHECK(moved == json::array({"a", "b"}));
}

TEST_CASE("args: binary helpers make and read binary values", "[args]") {
  const json from_view = chat::binary(std::string_view("\x00\x01\xff", 3));
  REQUIRE(from_view.is_binary());
  CHECK(static_cast<const std::vector<std::uint8_t>&>(from_view.get_binary()) ==
        std::vector<std::uint8_t>{0x00, 0x01, 0xff});
  CHECK(unit::printable(chat::bytes_of(from_view)) == unit::printable("\x00\x01\xff"s));

  const json from_vector = chat::binary(std::vector<std::uint8_t>{1, 2, 3});
  REQUIRE(from_vector.is_binary());
  CHECK(chat::bytes_of(from_vector) == "\x01\x02\x03");

  const json empty = chat::binary(std::string_view());
  CHECK(empty.is_binary());
  CHECK(chat::bytes_of(empty).empty());

  CHECK(chat::bytes_of(json("not binary")).empty());
  CHECK(chat::bytes_of(json(42)).empty());
  CHECK(chat::bytes_of(json::array({1, 2})).empty());
  CHECK(chat::bytes_of(json()).empty());

  CHECK(chat::binary("abc") == chat::binary(std::vector<std::uint8_t>{'a', 'b', 'c'}));
}

TEST_CASE("args: binary values inside Args travel as Socket.IO attachments", "[args][socketio]") {
  const Args args = Args::of("upload", chat::binary("abc"), json{{"meta", chat::binary("\x00"s)}}, 5);
  const auto encoded =
      chat::socketio::encode(chat::socketio::PacketType::event, "/", std::nullopt, args.array());
  CHECK(unit::frame(encoded) ==
        R"(452-["upload",{"_placeholder":true,"num":0},{"meta":{"_placeholder":true,"num":1}},5])");
  CHECK(encoded.attachments == std::vector<std::string>{"abc", "\x00"s});

  chat::socketio::Decoder decoder;
  REQUIRE(decoder.feed_text(encoded.data) == chat::socketio::Decoder::Status::need_more);
  REQUIRE(decoder.feed_binary(encoded.attachments[0]) == chat::socketio::Decoder::Status::need_more);
  REQUIRE(decoder.feed_binary(encoded.attachments[1]) == chat::socketio::Decoder::Status::complete);
  const Args received(decoder.packet().data);
  CHECK(received == args);
  CHECK(chat::bytes_of(received[1]) == "abc");
  CHECK(chat::bytes_of(received[2]["meta"]) == "\x00"s);
}
