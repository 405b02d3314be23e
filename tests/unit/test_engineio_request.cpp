#include <chat/detail/random_id.hpp>
#include <chat/engineio/request.hpp>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::engineio::Error;
using chat::engineio::Intent;
using chat::engineio::SessionState;
using chat::engineio::Verdict;

namespace {

std::string classify(std::string_view method, std::string_view target, bool websocket, SessionState state) {
  const auto parsed = chat::detail::parse_target(target);
  REQUIRE(parsed);
  return unit::name_of(chat::engineio::classify_request(method, *parsed, websocket, state));
}

std::string error(Error e) { return unit::name_of(e); }
std::string intent(Intent i) { return unit::name_of(i); }

}  // namespace

TEST_CASE("engine.io request: handshakes open a session on GET only", "[engineio]") {
  CHECK(classify("GET", "/socket.io/?EIO=4&transport=polling", false, SessionState::absent) ==
        intent(Intent::open_session));
  CHECK(classify("GET", "/socket.io/?EIO=4&transport=polling&t=N8hyd6w", false, SessionState::absent) ==
        intent(Intent::open_session));
  CHECK(classify("GET", "/socket.io/?transport=websocket&EIO=4", true, SessionState::absent) ==
        intent(Intent::open_session));
  for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "HEAD", "get"}) {
    INFO("method " << method);
    CHECK(classify(method, "/socket.io/?EIO=4&transport=polling", false, SessionState::absent) ==
          error(Error::bad_handshake_method));
  }
}

TEST_CASE("engine.io request: table of verdicts in Node's order", "[engineio]") {
  struct Row {
    const char* method;
    const char* target;
    bool websocket;
    SessionState state;
    Verdict expected;
  };
  const auto absent = SessionState::absent;
  const auto polling = SessionState::polling;
  const auto upgrading = SessionState::upgrading;
  const auto ws = SessionState::websocket;
  const std::vector<Row> rows = {
      // transport first
      {"GET", "/socket.io/?EIO=4", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=abc", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=Polling", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=webtransport", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=flashsocket", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/", false, absent, Error::unknown_transport},  // both missing: transport wins
      {"GET", "/socket.io/?EIO=abc&transport=abc", false, absent, Error::unknown_transport},
      {"POST", "/socket.io/?transport=abc", false, absent, Error::unknown_transport},
      {"GET", "/socket.io/?EIO=4&transport=abc&sid=x", false, polling, Error::unknown_transport},
      // a handshake's protocol version (a missing EIO counts as v3), checked after its method
      // and transport; requests on an existing session are not asked for it
      {"GET", "/socket.io/?transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=3&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=abc&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=5&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=04&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=3&transport=websocket", true, absent, Error::unsupported_protocol_version},
      {"POST", "/socket.io/?EIO=3&transport=polling", false, absent, Error::bad_handshake_method},
      {"GET", "/socket.io/?EIO=3&transport=polling&sid=x", false, absent, Error::unknown_sid},
      {"GET", "/socket.io/?transport=polling&sid=x", false, polling, Intent::poll},
      {"GET", "/socket.io/?EIO=4&transport=websocket", false, absent, Error::bad_request},
      // then transport=websocket on a request that is not a WebSocket handshake (and vice versa)
      {"GET", "/socket.io/?EIO=4&transport=websocket", false, absent, Error::bad_request},
      {"GET", "/socket.io/?EIO=4&transport=polling", true, absent, Error::bad_request},
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", false, polling, Error::bad_request},
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", false, absent, Error::unknown_sid},
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=x", true, polling, Error::bad_request},
      // then the sid
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=nope", false, absent, Error::unknown_sid},
      {"POST", "/socket.io/?EIO=4&transport=polling&sid=nope", false, absent, Error::unknown_sid},
      {"PUT", "/socket.io/?EIO=4&transport=polling&sid=nope", false, absent, Error::unknown_sid},
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=nope", true, absent, Error::unknown_sid},
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=", false, absent, Error::unknown_sid},
      // polling requests on a session, per state
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=x", false, polling, Intent::poll},
      {"POST", "/socket.io/?EIO=4&transport=polling&sid=x", false, polling, Intent::post},
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=x", false, upgrading, Intent::poll},
      {"POST", "/socket.io/?EIO=4&transport=polling&sid=x", false, upgrading, Intent::post},
      {"GET", "/socket.io/?EIO=4&transport=polling&sid=x", false, ws, Error::bad_request},
      {"POST", "/socket.io/?EIO=4&transport=polling&sid=x", false, ws, Error::bad_request},
      {"PUT", "/socket.io/?EIO=4&transport=polling&sid=x", false, polling, Error::bad_request},
      {"DELETE", "/socket.io/?EIO=4&transport=polling&sid=x", false, polling, Error::bad_request},
      // WebSocket requests carrying a sid: only a polling session with no probe may upgrade; a
      // later one is accepted and closed at once, as Node does
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", true, polling, Intent::upgrade},
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", true, upgrading, Intent::close_at_once},
      {"GET", "/socket.io/?EIO=4&transport=websocket&sid=x", true, ws, Intent::close_at_once},
      // handshakes
      {"GET", "/socket.io/?EIO=4&transport=polling", false, absent, Intent::open_session},
      {"GET", "/socket.io/?EIO=4&transport=websocket", true, absent, Intent::open_session},
      {"POST", "/socket.io/?EIO=4&transport=polling", false, absent, Error::bad_handshake_method},
      {"PUT", "/socket.io/?EIO=4&transport=polling", false, absent, Error::bad_handshake_method},
      // the first value of a repeated parameter counts; unknown parameters are ignored
      {"GET", "/socket.io/?EIO=4&transport=polling&transport=abc", false, absent, Intent::open_session},
      {"GET", "/socket.io/?EIO=3&EIO=4&transport=polling", false, absent, Error::unsupported_protocol_version},
      {"GET", "/socket.io/?EIO=4&transport=polling&b64=1&foo=bar", false, absent, Intent::open_session},
      // parameters are percent-decoded before they are compared
      {"GET", "/socket.io/?EIO=%34&transport=pol%6Cing", false, absent, Intent::open_session},
  };
  for (const auto& row : rows) {
    INFO(row.method << " " << row.target << (row.websocket ? " (websocket)" : "") << " state "
                    << int(row.state));
    CHECK(classify(row.method, row.target, row.websocket, row.state) == unit::name_of(row.expected));
  }
}

TEST_CASE("engine.io request: error bodies and statuses match Node's JSON", "[engineio]") {
  struct Row {
    Error error;
    const char* body;
    int status;
  };
  const std::vector<Row> rows = {
      {Error::unknown_transport, R"({"code":0,"message":"Transport unknown"})", 400},
      {Error::unknown_sid, R"({"code":1,"message":"Session ID unknown"})", 400},
      {Error::bad_handshake_method, R"({"code":2,"message":"Bad handshake method"})", 400},
      {Error::bad_request, R"({"code":3,"message":"Bad request"})", 400},
      {Error::forbidden, R"({"code":4,"message":"Forbidden"})", 403},
      {Error::unsupported_protocol_version, R"({"code":5,"message":"Unsupported protocol version"})", 400},
  };
  for (const auto& row : rows) {
    INFO("code " << int(row.error));
    CHECK(chat::engineio::error_body(row.error) == row.body);
    CHECK(chat::engineio::error_status(row.error) == row.status);
    const auto parsed = nlohmann::json::parse(chat::engineio::error_body(row.error));
    CHECK(parsed.size() == 2);
    CHECK(parsed["code"] == int(row.error));
  }
}

TEST_CASE("engine.io open packet: exactly sid, upgrades, pingInterval, pingTimeout, maxPayload", "[engineio]") {
  using std::chrono::milliseconds;
  const std::string data =
      chat::engineio::open_packet_data("aB3_-x", true, milliseconds(25000), milliseconds(20000), 1000000);
  CHECK(data ==
        R"({"sid":"aB3_-x","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000})");
  const auto json = nlohmann::json::parse(data);
  REQUIRE(json.is_object());
  CHECK(json.size() == 5);
  for (const char* key : {"sid", "upgrades", "pingInterval", "pingTimeout", "maxPayload"}) {
    INFO("key " << key);
    CHECK(json.contains(key));
  }
  CHECK(json["sid"] == "aB3_-x");
  CHECK(json["pingInterval"].is_number_unsigned());
  CHECK(json["pingTimeout"].is_number_unsigned());
  CHECK(json["maxPayload"].is_number_unsigned());

  const std::string websocket_only =
      chat::engineio::open_packet_data("s", false, milliseconds(300), milliseconds(200), 1000000);
  CHECK(websocket_only == R"({"sid":"s","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000})");
  const auto parsed = nlohmann::json::parse(websocket_only);
  CHECK(parsed.size() == 5);
  CHECK(parsed["upgrades"] == nlohmann::json::array());

  const std::string big = chat::engineio::open_packet_data("s", true, milliseconds(0), milliseconds(1),
                                                           std::size_t(100) * 1024 * 1024);
  CHECK(big == R"({"sid":"s","upgrades":["websocket"],"pingInterval":0,"pingTimeout":1,"maxPayload":104857600})");
}

TEST_CASE("engine.io sid: random_id gives 20 base64url characters, never repeating", "[engineio]") {
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = chat::detail::random_id();
    INFO("id " << id);
    REQUIRE(id.size() == 20);
    CHECK(id.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 2000);
  // The sid goes into the open packet unescaped: base64url needs no JSON escaping.
  const auto data = chat::engineio::open_packet_data(chat::detail::random_id(), true, std::chrono::milliseconds(1),
                                                     std::chrono::milliseconds(1), 1);
  CHECK(nlohmann::json::parse(data)["sid"].get<std::string>().size() == 20);
}
