// The TLS configuration of chat's transport (https:// and wss://): chat::Server<TlsConfig> is
// given an asio::ssl::context with Server::tls_context. Needs OpenSSL (Debian: libssl-dev; CMake:
// link chat::tls).
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP

#include <string_view>  // string_view

#include <asio/ssl/context.hpp>
#include <websocketpp/config/asio.hpp>

#include "config.hpp"

namespace chat::transport {

/// TLS over TCP: the certificate, key and protocol settings come from the asio::ssl::context the
/// application gives the server.
struct TlsConfig final : ConfigOf<websocketpp::config::asio_tls, websocketpp::transport::asio::tls_socket::endpoint> {};

template <>
struct Traits<TlsConfig> {
  static constexpr bool tls = true;
  static constexpr std::string_view scheme = "https";
  static constexpr bool routable = false;
};

}  // namespace chat::transport

#if defined(CHAT_SEPARATE_COMPILATION)
// chat/src.hpp compiles the plain server only (a program without TLS must not need OpenSSL): a
// Server<TlsConfig> is compiled in the files that include this header, from the server's template
// bodies (the rest of chat's bodies still come from chat/src.hpp).
#include "../../impl/server.hpp"
#endif

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP
