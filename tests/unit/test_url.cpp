#include <chat/detail/url.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <vector>

#include "unit_support.hpp"

using chat::detail::parse_target;
using chat::detail::percent_decode;
using namespace std::string_literals;

namespace {
using Query = std::vector<std::pair<std::string, std::string>>;

std::string show(const Query& query) {
  std::string out;
  for (const auto& [key, value] : query) out += unit::printable(key) + "=" + unit::printable(value) + " ";
  return out;
}
}  // namespace

TEST_CASE("url percent_decode: escapes, plus as space only in queries", "[url]") {
  struct Row {
    std::string in;
    bool plus_is_space;
    std::string out;
  };
  const std::vector<Row> rows = {
      {"", false, ""},
      {"abc", false, "abc"},
      {"a%20b", false, "a b"},
      {"%41%42%43", false, "ABC"},
      {"%4a%4A", false, "JJ"},
      {"%2e%2E", false, ".."},
      {"%2F", false, "/"},
      {"%25", false, "%"},
      {"%2525", false, "%25"},  // decoded once only
      {"%C3%A9", false, "\xc3\xa9"},
      {"%ff%80", false, "\xff\x80"},
      {"%01", false, "\x01"},
      {"a+b", false, "a+b"},
      {"a+b", true, "a b"},
      {"a%2Bb", true, "a+b"},
      {"++", true, "  "},
      {"%20+", true, "  "},
  };
  for (const auto& row : rows) {
    INFO("in " << unit::printable(row.in) << (row.plus_is_space ? " (query)" : " (path)"));
    const auto out = percent_decode(row.in, row.plus_is_space);
    REQUIRE(out);
    CHECK(unit::printable(*out) == unit::printable(row.out));
  }
}

TEST_CASE("url percent_decode: table of bad escapes and encoded NUL is refused", "[url]") {
  for (const std::string& in : {"%"s, "%4"s, "a%"s, "a%4"s, "%zz"s, "%g0"s, "%0g"s, "%-1"s, "% 1"s, "%%"s, "%%41"s,
                               "%00"s, "a%00b"s, "%0"s, "%+1"s, "%\xff\xff"s, "%x41"s, "%4%41"s}) {
    for (bool plus_is_space : {false, true}) {
      INFO("in " << unit::printable(in) << (plus_is_space ? " (query)" : " (path)"));
      CHECK_FALSE(percent_decode(in, plus_is_space));
    }
  }
}

TEST_CASE("url parse_target: path and query parameters, decoded and in order", "[url]") {
  {
    const auto target = parse_target("/socket.io/?EIO=4&transport=polling&t=N8hyd6w");
    REQUIRE(target);
    CHECK(target->path == "/socket.io/");
    CHECK(show(target->query) == show({{"EIO", "4"}, {"transport", "polling"}, {"t", "N8hyd6w"}}));
    CHECK(target->param("EIO") == std::optional<std::string_view>("4"));
    CHECK(target->param("transport") == std::optional<std::string_view>("polling"));
    CHECK_FALSE(target->param("sid"));
    CHECK_FALSE(target->param("eio"));  // names are case-sensitive
  }
  struct Row {
    std::string raw;
    std::string path;
    Query query;
  };
  const std::vector<Row> rows = {
      {"/", "/", {}},
      {"/index.html", "/index.html", {}},
      {"/a%20b/c+d", "/a b/c+d", {}},
      {"/%2e%2e/x", "/../x", {}},
      {"/a%2Fb", "/a/b", {}},
      {"/?", "/", {}},
      {"/?a", "/", {{"a", ""}}},
      {"/?a=", "/", {{"a", ""}}},
      {"/?=v", "/", {{"", "v"}}},
      {"/?a=1&&b=2&", "/", {{"a", "1"}, {"b", "2"}}},
      {"/?a=1&a=2", "/", {{"a", "1"}, {"a", "2"}}},
      {"/?a=1=2", "/", {{"a", "1=2"}}},
      {"/?q=a+b%2Bc%26d", "/", {{"q", "a b+c&d"}}},
      {"/?k%20ey=v%C3%A9", "/", {{"k ey", "v\xc3\xa9"}}},
      {"/p?a=1#frag", "/p", {{"a", "1"}}},
      {"/p?a=1#frag&b=2", "/p", {{"a", "1"}}},
      {"/p?a=?b", "/p", {{"a", "?b"}}},
      {"/p?sid=abc-_DEF", "/p", {{"sid", "abc-_DEF"}}},
  };
  for (const auto& row : rows) {
    INFO("raw " << unit::printable(row.raw));
    const auto target = parse_target(row.raw);
    REQUIRE(target);
    CHECK(unit::printable(target->path) == unit::printable(row.path));
    CHECK(show(target->query) == show(row.query));
  }
  {
    const auto target = parse_target("/?a=1&a=2");
    REQUIRE(target);
    CHECK(target->param("a") == std::optional<std::string_view>("1"));  // the first value
  }
}

TEST_CASE("url parse_target: table of malformed targets is refused", "[url]") {
  const std::vector<std::string> raws = {
      "",                       // empty
      "socket.io/",             // no leading slash
      "?EIO=4",                 // query only
      "*",                      // asterisk-form
      "http://host/path",       // absolute-form
      "example.com:443",        // authority-form
      " /",                     // leading space
      "\\socket.io\\",          // backslash instead of slash
      "/a%",                    // truncated escape in the path
      "/a%2",                   //
      "/a%zz",                  // non-hex escape
      "/a%g0",                  //
      "/%00",                   // encoded NUL in the path
      "/a%00.html",             //
      "/?a=%00",                // encoded NUL in a value
      "/?%00=1",                // encoded NUL in a key
      "/?a=%4",                 // truncated escape in a value
      "/?a=%",                  //
      "/?%zz=1",                // bad escape in a key
      "/?a=1&b=%xy",            // a bad escape in a later parameter
      "/?EIO=4&transport=polling&sid=%",
  };
  for (const auto& raw : raws) {
    INFO("raw " << unit::printable(raw));
    CHECK_FALSE(parse_target(raw));
  }
}
