// What the transport asks and adds around Engine.IO's HTTP answers, from a websocketpp
// connection: the Origin policy's verdict, the host's verdict on a handshake
// (Options::allow_request), the compressed body (Options::http_compression) and the host's
// headers (Server::on_headers, on_initial_headers).
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_ENGINE_HTTP_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_ENGINE_HTTP_HPP

#include <exception>    // exception
#include <optional>     // optional, nullopt
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair, move
#include <vector>       // vector

#include "../../detail/core.hpp"
#include "../../detail/cors.hpp"
#include "../../detail/http_compression.hpp"
#include "../../detail/url.hpp"
#include "../../engineio/session.hpp"
#include "../../http.hpp"
#include "../../options.hpp"
#include "request.hpp"

namespace chat::transport {

/// The host's headers hooks (Server::on_headers, Server::on_initial_headers).
struct HeadersHooks {
  HeadersHook every;    ///< every 200 (and 101) Engine.IO response
  HeadersHook initial;  ///< the handshake's response, before `every`
};

/// The Origin policy's verdict on an Engine.IO request (see Options::cors_allowed_origins), on
/// a connection of scheme `scheme`. A custom check that throws refuses, and the error goes to
/// on_error.
template <class ConnectionPtr>
detail::OriginVerdict check_origin(detail::Core& core, const ConnectionPtr& con, const detail::Target& target,
                                   std::string_view scheme) {
  const auto& options = core.options();
  if (!options.checks_origin()) return detail::OriginVerdict::unchecked;
  auto header = [&](const char* name) -> std::optional<std::string_view> {
    const std::string& value = con->get_request_header(name);
    if (value.empty()) return std::nullopt;
    return std::string_view(value);
  };
  detail::OriginHeaders headers;
  headers.origin = con->get_request_header("Origin");
  headers.host = header("Host");
  headers.forwarded_proto = header("X-Forwarded-Proto");
  headers.forwarded_host = header("X-Forwarded-Host");
  try {
    return detail::check_origin(options, headers, scheme, [&] { return http_request(con, target, false); });
  } catch (const std::exception& e) {
    core.report_error(nullptr, std::string("cors_origin_check: ") + e.what());
    return detail::OriginVerdict::refused;
  }
}

/// Options::allow_request's refusal of a handshake, if it refuses: 403 and the Engine.IO error
/// JSON with the hook's message. A hook that throws refuses, and the error goes to on_error.
template <class ConnectionPtr>
std::optional<engineio::HttpReply> host_refusal(detail::Core& core, const ConnectionPtr& con, const detail::Target& target) {
  const auto& check = core.options().allow_request();
  if (!check) return std::nullopt;
  RequestVerdict verdict(false);
  try {
    verdict = check(http_request(con, target, false));
  } catch (const std::exception& e) {
    core.report_error(nullptr, std::string("allow_request: ") + e.what());
  }
  if (verdict.allowed) return std::nullopt;
  auto reply = engineio::HttpReply::error(engineio::Error::forbidden);
  if (!verdict.message.empty()) reply.body = engineio::error_body(engineio::Error::forbidden, verdict.message);
  return reply;
}

/// `body` in the coding the request accepts, with its Content-Encoding header set
/// (Options::http_compression). Should zlib fail, the body goes uncompressed and the error to
/// on_error.
template <class ConnectionPtr>
std::string encode_body(detail::Core& core, const ConnectionPtr& con, std::string body) {
  const auto& options = core.options();
  const auto coding = detail::response_coding(options.http_compression(), options.compression_threshold(), body.size(),
                                              con->get_request_header("Accept-Encoding"));
  if (coding == detail::ContentCoding::identity) return body;
  try {
    std::string compressed = detail::compress(body, coding);
    con->replace_header("Content-Encoding", std::string(detail::coding_name(coding)));
    return compressed;
  } catch (const std::exception& e) {
    core.report_error(nullptr, e.what());
    return body;
  }
}

/// Sets the headers the host's hooks give an Engine.IO response (`handshake`: the initial hook
/// first). An exception from a hook, or a header name websocketpp refuses, goes to on_error;
/// the response goes out with the headers set before it.
template <class ConnectionPtr>
void add_host_headers(detail::Core& core, const HeadersHooks& hooks, const ConnectionPtr& con, bool handshake) {
  if (!hooks.every && !(handshake && hooks.initial)) return;
  const auto target = detail::parse_target(con->get_resource());
  if (!target) return;
  const HttpRequest request = http_request(con, *target, false);
  std::vector<std::pair<std::string, std::string>> headers;
  try {
    if (handshake && hooks.initial) hooks.initial(headers, request);
    if (hooks.every) hooks.every(headers, request);
    for (const auto& [name, value] : headers) con->replace_header(name, value);
  } catch (const std::exception& e) {
    core.report_error(nullptr, std::string("headers hook: ") + e.what());
  }
}

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_ENGINE_HTTP_HPP
