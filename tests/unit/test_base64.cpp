#include <chat/detail/base64.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::detail::base64_decode;
using chat::detail::base64_encode;
using namespace std::string_literals;

TEST_CASE("base64: RFC 4648 test vectors encode and decode", "[engineio][base64]") {
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
      {"\x01\x02\x03\x04", "AQIDBA=="},
      {"\xff\xfe\xfd", "//79"},
      {"\xfb\xff", "+/8="},
      {"\0"s, "AA=="},
      {"\0\0\0"s, "AAAA"},
  };
  for (const auto& [bytes, text] : vectors) {
    INFO("bytes " << unit::printable(bytes) << " text " << text);
    CHECK(base64_encode(bytes) == text);
    const auto decoded = base64_decode(text);
    REQUIRE(decoded);
    CHECK(unit::printable(*decoded) == unit::printable(bytes));
  }
}

TEST_CASE("base64: padding is optional when decoding", "[engineio][base64]") {
  CHECK(base64_decode("Zg") == std::optional<std::string>("f"));
  CHECK(base64_decode("Zm8") == std::optional<std::string>("fo"));
  CHECK(base64_decode("AQIDBA") == std::optional<std::string>("\x01\x02\x03\x04"));
  CHECK(base64_decode("Zg=") == std::optional<std::string>("f"));
}

TEST_CASE("base64: table of invalid input is refused", "[engineio][base64]") {
  for (const std::string& text : {"Z"s, "Zm9vY"s, "Zm9vY="s, "Zm9vY==="s, "!!!!"s, "Zm 9v"s, "Zm9v\n"s, "Zm-_"s,
                                 "Zg=a"s, "Z=g="s, "=Zg="s, "Zm9v\0"s, "Zm9v\xff"s, "\xc3\xa9\xc3\xa9"s, "Zm.v"s}) {
    INFO("text " << unit::printable(text));
    CHECK_FALSE(base64_decode(text));
  }
}

TEST_CASE("base64: every byte value and every length up to 64 round trip", "[engineio][base64]") {
  std::string all;
  for (int i = 0; i < 256; ++i) all += char(i);
  CHECK(base64_decode(base64_encode(all)) == std::optional<std::string>(all));
  for (std::size_t length = 0; length <= 64; ++length) {
    INFO("length " << length);
    const std::string bytes = all.substr(256 - length);
    const std::string text = base64_encode(bytes);
    CHECK(text.size() == (length + 2) / 3 * 4);
    CHECK(base64_decode(text) == std::optional<std::string>(bytes));
  }
}
