#include <chat/detail/shard_routing.hpp>

#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::detail::peek_request;
using chat::detail::RequestPeek;
using chat::detail::shard_of_sid;
using chat::detail::shard_tag;
using Status = RequestPeek::Status;
using namespace std::string_literals;

namespace {

constexpr std::size_t limit = 16 * 1024;

std::string status_name(Status status) {
  switch (status) {
    case Status::need_more: return "need_more";
    case Status::no_sid: return "no_sid";
    case Status::sid: return "sid";
    case Status::oversize: return "oversize";
  }
  return "?";
}

}  // namespace

TEST_CASE("shard peek: a request line naming a sid, wherever it is in the query", "[shards]") {
  struct Row {
    std::string bytes;
    std::string sid;
  };
  const std::vector<Row> rows = {
      {"GET /socket.io/?EIO=4&transport=polling&sid=Babc HTTP/1.1\r\nHost: x\r\n\r\n", "Babc"},
      {"GET /socket.io/?sid=Cxyz&EIO=4&transport=polling HTTP/1.1\r\n", "Cxyz"},
      {"GET /socket.io/?EIO=4&sid=A-_9&transport=websocket HTTP/1.1\r\n", "A-_9"},
      {"POST /socket.io/?EIO=4&transport=polling&t=Pq1&sid=Bq HTTP/1.1\r\nContent-Length: 2\r\n\r\n40", "Bq"},
      // LF alone ends the line too; the headers after it never matter.
      {"GET /socket.io/?sid=B1 HTTP/1.1\nX-Sid: C2\n", "B1"},
      // Percent-decoded, as the transport looks it up; the first of two wins, as there.
      {"GET /socket.io/?sid=A%2Db HTTP/1.1\r\n", "A-b"},
      {"GET /socket.io/?sid=B1&sid=C2 HTTP/1.1\r\n", "B1"},
      // The path without its trailing slash is the Engine.IO path too (the transport's rule).
      {"GET /socket.io?EIO=4&sid=Cz HTTP/1.1\r\n", "Cz"},
      // A fragment is not part of the query.
      {"GET /socket.io/?sid=Bf#frag HTTP/1.1\r\n", "Bf"},
      // An empty sid is still a sid (unknown everywhere).
      {"GET /socket.io/?EIO=4&sid= HTTP/1.1\r\n", ""},
      // No version: still a request line (the shard refuses it as it would anyway).
      {"GET /socket.io/?sid=Ab\r\n", "Ab"},
  };
  for (const auto& row : rows) {
    INFO(unit::printable(row.bytes));
    const auto result = peek_request(row.bytes, "/socket.io/", limit);
    CHECK(status_name(result.status) == "sid");
    CHECK(result.sid == row.sid);
  }
}

TEST_CASE("shard peek: requests that name no session go anywhere", "[shards]") {
  const std::vector<std::string> rows = {
      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n",   // a handshake
      "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n",  // a WebSocket handshake
      "GET / HTTP/1.1\r\n",                                      // a static file
      "GET /hello?sid=Babc HTTP/1.1\r\n",                        // a sid outside Socket.IO's path
      "GET /socket.io/x?sid=Babc HTTP/1.1\r\n",                  // under it, but not it
      "GET /socket.io/socket.io.js HTTP/1.1\r\n",                // the client bundle
      "GET /socket.io/?SID=Babc HTTP/1.1\r\n",                   // names are case-sensitive
      "GET /socket.io/?xsid=Babc HTTP/1.1\r\n",
      "GET /socket.io/?sid=%zz HTTP/1.1\r\n",                    // a malformed escape: 400 there
      "GET http://host/socket.io/?sid=Babc HTTP/1.1\r\n",        // absolute form: 400 there
      "GET\r\n",                                                 // no target
      "\r\n",                                                    // an empty line
      "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n"s,         // a TLS hello that holds a LF
      "garbage garbage garbage\n",
  };
  for (const auto& bytes : rows) {
    INFO(unit::printable(bytes));
    const auto result = peek_request(bytes, "/socket.io/", limit);
    CHECK(status_name(result.status) == "no_sid");
    CHECK(result.sid.empty());
  }
}

TEST_CASE("shard peek: an incomplete request line waits, up to the limit", "[shards]") {
  const std::string full = "GET /socket.io/?EIO=4&transport=polling&sid=Babc HTTP/1.1\r\n";
  // Every prefix short of the LF is incomplete, even one that already holds the whole sid: the
  // sid may go on ("sid=Babc" could become "sid=Babcd").
  for (std::size_t n = 0; n + 1 < full.size(); ++n) {
    INFO(unit::printable(full.substr(0, n)));
    CHECK(status_name(peek_request(full.substr(0, n), "/socket.io/", limit).status) == "need_more");
  }
  CHECK(peek_request(full, "/socket.io/", limit).sid == "Babc");

  // No LF within the limit: oversize (any shard refuses it, as websocketpp's 16,000-byte header
  // limit would). One byte short of it: still waiting.
  const std::string long_line = "GET /socket.io/?EIO=4&pad=" + std::string(limit, 'a');
  CHECK(status_name(peek_request(long_line.substr(0, limit - 1), "/socket.io/", limit).status) == "need_more");
  CHECK(status_name(peek_request(long_line.substr(0, limit), "/socket.io/", limit).status) == "oversize");
  CHECK(status_name(peek_request(std::string(limit, '\0'), "/socket.io/", limit).status) == "oversize");
  // A long line that ends within the limit is read whole.
  const std::string padded = "GET /socket.io/?pad=" + std::string(limit - 100, 'p') + "&sid=Cend HTTP/1.1\r\n";
  REQUIRE(padded.size() < limit);
  CHECK(peek_request(padded, "/socket.io/", limit).sid == "Cend");
}

TEST_CASE("shard peek: the engine path comes from the options", "[shards]") {
  CHECK(peek_request("GET /chat/?sid=Bx HTTP/1.1\r\n", "/chat/", limit).sid == "Bx");
  CHECK(status_name(peek_request("GET /socket.io/?sid=Bx HTTP/1.1\r\n", "/chat/", limit).status) == "no_sid");
  CHECK(peek_request("GET /a%20b/?sid=Bx HTTP/1.1\r\n", "/a b/", limit).sid == "Bx");
}

TEST_CASE("shard tags: one base64url character names the shard of a sid", "[shards]") {
  for (std::size_t shard = 0; shard < chat::detail::max_shards; ++shard) {
    const std::string sid = std::string(1, shard_tag(shard)) + "randompart";
    CHECK(shard_of_sid(sid, chat::detail::max_shards) == shard);
    CHECK(shard_of_sid(sid, shard + 1) == shard);
    CHECK_FALSE(shard_of_sid(sid, shard).has_value());  // beyond the shard count
  }
  CHECK(shard_tag(0) == 'A');
  CHECK(shard_tag(26) == 'a');
  CHECK(shard_tag(63) == '_');
  for (const std::string sid : {"", "~abc", ".abc", "%41", " A", "\xc3\x81"}) {
    INFO(unit::printable(sid));
    CHECK_FALSE(shard_of_sid(sid, chat::detail::max_shards).has_value());
  }
}
