// What chat reads from a websocketpp connection's request (its headers, the peer's address, the
// Handshake and HttpRequest values the layers above see), and the answer to a handshake the
// admission limits refuse.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_REQUEST_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_REQUEST_HPP

#include <chrono>        // system_clock, milliseconds
#include <string>        // string
#include <system_error>  // error_code
#include <utility>       // pair
#include <vector>        // vector

#include <asio/ip/address.hpp>
#include <websocketpp/http/constants.hpp>

#include "../../detail/admission.hpp"
#include "../../detail/cors.hpp"
#include "../../detail/url.hpp"
#include "../../engineio/request.hpp"
#include "../../engineio/packet.hpp"
#include "../../handshake.hpp"
#include "../../http.hpp"
#include "../../options.hpp"

namespace chat::transport {

/// The request's headers, in order.
template <class ConnectionPtr>
std::vector<std::pair<std::string, std::string>> request_headers(const ConnectionPtr& con) {
  const auto& sent = con->get_request().get_headers();
  std::vector<std::pair<std::string, std::string>> headers;
  // Kept for the session's life: exactly as many slots as headers (growth by doubling left up
  // to 40% of them empty, a few hundred bytes of every idle connection).
  headers.reserve(sent.size());
  for (const auto& header : sent) headers.emplace_back(header.first, header.second);
  return headers;
}

/// The peer's IP address ("1.2.3.4" rather than "::ffff:1.2.3.4"), or "" if unknown.
template <class ConnectionPtr>
std::string remote_address(const ConnectionPtr& con) {
  std::error_code ec;
  const auto remote = con->get_raw_socket().remote_endpoint(ec);
  if (ec) return {};
  auto address = remote.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address.to_string();
}

template <class ConnectionPtr>
Handshake make_handshake(const ConnectionPtr& con, const detail::Target& target) {
  Handshake handshake;
  handshake.headers = request_headers(con);
  handshake.query = target.query;
  handshake.url = con->get_resource();
  handshake.address = remote_address(con);
  handshake.issued_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::now().time_since_epoch()).count();
  return handshake;
}

template <class ConnectionPtr>
HttpRequest http_request(const ConnectionPtr& con, const detail::Target& target, bool with_body) {
  HttpRequest request;
  request.method = con->get_request().get_method();
  request.target = con->get_resource();
  request.path = target.path;
  request.query = target.query;
  request.headers = request_headers(con);
  if (with_body) request.body = con->get_request_body();
  request.remote_address = remote_address(con);
  return request;
}

/// Answers a refused handshake (polling, or the HTTP refusal of a WebSocket): the refusal's
/// status, `Retry-After` when it has one, and the Engine.IO error JSON with code 4.
template <class ConnectionPtr>
void refuse_handshake(const ConnectionPtr& con, const detail::Refusal& refusal, const Options& options) {
  con->set_status(websocketpp::http::status_code::value(refusal.status()));
  con->replace_header("Connection", "close");
  con->replace_header("Content-Type", std::string(engineio::content_type::error));
  if (refusal.retry_after.count() > 0) con->replace_header("Retry-After", std::to_string(refusal.retry_after.count()));
  if (con->cors_allowed)
    for (const auto& [name, value] : detail::cors_headers(options, con->get_request_header("Origin")))
      con->replace_header(name, value);
  con->set_body(engineio::error_body(engineio::Error::forbidden, refusal.message()));
}

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_REQUEST_HPP
