#include <chat/detail/cors.hpp>
#include <chat/engineio/request.hpp>
#include <chat/options.hpp>

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

using chat::detail::OriginHeaders;
using chat::detail::OriginVerdict;

namespace {

OriginVerdict verdict(const chat::Options& options, OriginHeaders headers, const char* scheme = "http") {
  return chat::detail::check_origin(options, headers, scheme, [] { return chat::HttpRequest{}; });
}

OriginHeaders from(std::string_view origin, std::string_view host = "chat.example:5000") {
  OriginHeaders headers;
  headers.origin = origin;
  headers.host = host;
  return headers;
}

}  // namespace

TEST_CASE("cors: no policy checks nothing", "[cors]") {
  const chat::Options options;
  CHECK_FALSE(options.checks_origin());
  CHECK(verdict(options, from("http://evil.example")) == OriginVerdict::unchecked);
}

TEST_CASE("cors: a request without an Origin is never checked", "[cors]") {
  auto options = chat::Options{}.cors_allowed_origins({"http://good.example"});
  CHECK(verdict(options, from("")) == OriginVerdict::unchecked);
  bool called = false;
  options.cors_origin_check([&](std::string_view, const chat::HttpRequest&) { return called = true; });
  CHECK(verdict(options, from("")) == OriginVerdict::unchecked);
  CHECK_FALSE(called);
}

TEST_CASE("cors: listed origins, exactly", "[cors]") {
  const auto options = chat::Options{}.cors_allowed_origins({"http://good.example", "http://other.example:8080"});
  CHECK(verdict(options, from("http://good.example")) == OriginVerdict::allowed);
  CHECK(verdict(options, from("http://other.example:8080")) == OriginVerdict::allowed);
  for (const char* origin : {"http://good.example.evil.example", "https://good.example", "http://good.example:80",
                             "http://other.example", "null", "http://chat.example:5000"}) {
    INFO(origin);
    CHECK(verdict(options, from(origin)) == OriginVerdict::refused);
  }
  CHECK(verdict(chat::Options{}.cors_allowed_origins({"*"}), from("http://any.example")) == OriginVerdict::allowed);
}

TEST_CASE("cors: the same origin, from Host or a proxy's X-Forwarded headers", "[cors]") {
  const auto options = chat::Options{}.cors_allow_same_origin(true);
  CHECK(verdict(options, from("http://chat.example:5000")) == OriginVerdict::allowed);
  CHECK(verdict(options, from("https://chat.example:5000")) == OriginVerdict::refused);
  CHECK(verdict(options, from("https://chat.example:5000"), "https") == OriginVerdict::allowed);
  CHECK(verdict(options, from("http://chat.example")) == OriginVerdict::refused);
  CHECK(verdict(options, from("http://chat.example:5000.evil")) == OriginVerdict::refused);
  OriginHeaders no_host;
  no_host.origin = "http://chat.example:5000";
  CHECK(verdict(options, no_host) == OriginVerdict::refused);

  auto proxied = from("https://chat.example", "10.0.0.5:5000");
  proxied.forwarded_proto = "https, http";
  proxied.forwarded_host = " chat.example , 10.0.0.5";
  CHECK(verdict(options, proxied) == OriginVerdict::allowed);
  proxied.forwarded_host = "other.example";
  CHECK(verdict(options, proxied) == OriginVerdict::refused);
  // A proxy that names only the scheme: the Host stays
  auto scheme_only = from("https://chat.example:5000");
  scheme_only.forwarded_proto = "https";
  CHECK(verdict(options, scheme_only) == OriginVerdict::allowed);

  // beside a list, both are allowed
  const auto both = chat::Options{}.cors_allow_same_origin(true).cors_allowed_origins({"http://cdn.example"});
  CHECK(verdict(both, from("http://cdn.example")) == OriginVerdict::allowed);
  CHECK(verdict(both, from("http://chat.example:5000")) == OriginVerdict::allowed);
  CHECK(verdict(both, from("http://evil.example")) == OriginVerdict::refused);
}

TEST_CASE("cors: a check function decides alone and sees the request", "[cors]") {
  std::vector<std::string> seen;
  auto options = chat::Options{}.cors_allowed_origins({"*"}).cors_allow_same_origin(true).cors_origin_check(
      [&](std::string_view origin, const chat::HttpRequest& request) {
        seen.push_back(std::string(origin) + " " + request.path);
        return origin == "http://good.example";
      });
  auto with_request = [&](std::string_view origin) {
    return chat::detail::check_origin(options, from(origin), "http", [] {
      chat::HttpRequest request;
      request.path = "/socket.io/";
      return request;
    });
  };
  CHECK(with_request("http://good.example") == OriginVerdict::allowed);
  CHECK(with_request("http://chat.example:5000") == OriginVerdict::refused);  // not the same-origin rule
  CHECK(seen == std::vector<std::string>{"http://good.example /socket.io/", "http://chat.example:5000 /socket.io/"});
  options.cors_origin_check([](std::string_view, const chat::HttpRequest&) -> bool { throw std::runtime_error("no"); });
  CHECK_THROWS_AS(with_request("http://good.example"), std::runtime_error);
}

TEST_CASE("options: transports", "[cors]") {
  chat::Options options;
  CHECK((options.polling_allowed() && options.websocket_allowed()));
  options.transports({"websocket"});
  CHECK((!options.polling_allowed() && options.websocket_allowed()));
  options.transports({"polling", "websocket"});
  CHECK((options.polling_allowed() && options.websocket_allowed()));
  CHECK_THROWS_AS(options.transports({}), std::invalid_argument);
  CHECK_THROWS_WITH(options.transports({"polling", "webtransport"}), Catch::Contains("webtransport"));
  CHECK((options.polling_allowed() && options.websocket_allowed()));  // unchanged by a refused call
}

TEST_CASE("engine.io request: a transport left out is unknown, as in Node", "[engineio]") {
  using chat::engineio::AllowedTransports;
  using chat::engineio::Error;
  using chat::engineio::Intent;
  using chat::engineio::SessionState;
  auto classify = [](std::string_view target, bool websocket, SessionState state, AllowedTransports allowed) {
    const auto parsed = chat::detail::parse_target(target);
    REQUIRE(parsed);
    return chat::engineio::classify_request("GET", *parsed, websocket, state, allowed);
  };
  const AllowedTransports websocket_only{false, true};
  const AllowedTransports polling_only{true, false};
  CHECK(std::get<Error>(classify("/socket.io/?EIO=4&transport=polling", false, SessionState::absent, websocket_only)) ==
        Error::unknown_transport);
  CHECK(std::get<Intent>(classify("/socket.io/?EIO=4&transport=websocket", true, SessionState::absent, websocket_only)) ==
        Intent::open_session);
  CHECK(std::get<Error>(classify("/socket.io/?EIO=4&transport=websocket", true, SessionState::absent, polling_only)) ==
        Error::unknown_transport);
  CHECK(std::get<Error>(classify("/socket.io/?EIO=4&transport=websocket&sid=abc", true, SessionState::polling,
                                 polling_only)) == Error::unknown_transport);
  CHECK(std::get<Intent>(classify("/socket.io/?EIO=4&transport=polling&sid=abc", false, SessionState::polling,
                                  polling_only)) == Intent::poll);
}

namespace {

std::string header_of(const chat::detail::HeaderList& headers, std::string_view name) {
  std::string found;
  for (const auto& [key, value] : headers)
    if (key == name) found += (found.empty() ? "" : "|") + value;
  return found;
}

}  // namespace

TEST_CASE("cors: the headers of an allowed origin's response", "[cors]") {
  chat::Options options;
  auto headers = chat::detail::cors_headers(options, "http://good.example");
  CHECK(header_of(headers, "Access-Control-Allow-Origin") == "http://good.example");
  CHECK(header_of(headers, "Access-Control-Allow-Credentials") == "true");
  CHECK(header_of(headers, "Access-Control-Expose-Headers").empty());
  CHECK(header_of(headers, "Vary") == "Origin");
  options.cors_credentials(false).cors_exposed_headers({"X-A", "X-B"});
  headers = chat::detail::cors_headers(options, "http://good.example");
  CHECK(header_of(headers, "Access-Control-Allow-Credentials").empty());
  CHECK(header_of(headers, "Access-Control-Expose-Headers") == "X-A,X-B");
}

TEST_CASE("cors: a preflight's headers, as npm cors makes them", "[cors]") {
  chat::Options options;
  auto headers = chat::detail::preflight_headers(options, "x-token, x-other");
  CHECK(header_of(headers, "Access-Control-Allow-Methods") == "GET,POST,OPTIONS");
  // No list: the requested headers are echoed, and the answer varies with them.
  CHECK(header_of(headers, "Access-Control-Allow-Headers") == "x-token, x-other");
  CHECK(header_of(headers, "Vary") == "Access-Control-Request-Headers");
  CHECK(header_of(headers, "Access-Control-Max-Age").empty());
  CHECK(header_of(chat::detail::preflight_headers(options, ""), "Access-Control-Allow-Headers").empty());

  options.cors_methods({"GET", "POST"}).cors_allowed_headers({"X-A"}).cors_max_age(std::chrono::seconds(600));
  headers = chat::detail::preflight_headers(options, "x-token");
  CHECK(header_of(headers, "Access-Control-Allow-Methods") == "GET,POST");
  CHECK(header_of(headers, "Access-Control-Allow-Headers") == "X-A");
  CHECK(header_of(headers, "Vary").empty());
  CHECK(header_of(headers, "Access-Control-Max-Age") == "600");
}
