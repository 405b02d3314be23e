// The TLS configuration of chat's transport (https:// and wss://): chat::Server<TlsConfig> is
// given an asio::ssl::context with Server::tls_context. Needs OpenSSL (Debian: libssl-dev; CMake:
// link chat::tls).
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP

#include <memory>       // shared_ptr, make_shared
#include <string>       // string
#include <string_view>  // string_view
#include <system_error>  // system_error

#include <asio/ssl/context.hpp>
#include <websocketpp/config/asio.hpp>

#include "config.hpp"

namespace chat::transport {

/// TLS over TCP: the certificate, key and protocol settings come from the asio::ssl::context the
/// application gives the server.
struct TlsConfig final : ConfigOf<websocketpp::config::asio_tls, websocketpp::transport::asio::tls_socket::endpoint> {};

/// A TLS server's traits: https, and not routable (a ShardedServer cannot read its request
/// line: put TLS in a terminating proxy in front of one).
template <>
struct Traits<TlsConfig> {
  static constexpr bool tls = true;                    ///< connections are TLS
  static constexpr std::string_view scheme = "https";  ///< the server's own origin's scheme
  static constexpr bool routable = false;              ///< ShardedServer cannot route it
};

/// The PEM files of a TLS server (make_tls_context).
struct TlsFiles {
  std::string certificate_chain;  ///< the server's certificate, then any intermediates
  std::string private_key;        ///< the PEM file of the certificate's private key
  /// With it, every client must present a certificate this CA (bundle) signed: the TLS
  /// handshake of a client without one fails. Empty: no client certificates are asked for.
  std::string client_ca = {};  // a default: `{chain, key}` leaves it out without a warning
};

/// A server context of TLS 1.2 or later (1.0, 1.1 and SSL refused) with these files, for
/// Server::tls_context; its settings may be changed further before the server runs.
/// @throws std::system_error when a file cannot be read or the key does not match.
inline std::shared_ptr<asio::ssl::context> make_tls_context(const TlsFiles& files) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1 |
                       asio::ssl::context::single_dh_use);
  // Asio's errors name the call, not the file: said again with the file.
  auto load = [](const char* what, const std::string& file, auto&& step) {
    try {
      step();
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), std::string("chat: ") + what + " " + file);
    }
  };
  load("certificate chain", files.certificate_chain, [&] { context->use_certificate_chain_file(files.certificate_chain); });
  load("private key", files.private_key, [&] { context->use_private_key_file(files.private_key, asio::ssl::context::pem); });
  if (!files.client_ca.empty()) {
    load("client CA", files.client_ca, [&] { context->load_verify_file(files.client_ca); });
    context->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    // OpenSSL refuses to resume a session (as Node's and Python's clients do on their next
    // request) on a verifying server without a session id context.
    static const unsigned char session_context[] = "chat";
    SSL_CTX_set_session_id_context(context->native_handle(), session_context, sizeof session_context - 1);
  }
  return context;
}

}  // namespace chat::transport

#if defined(CHAT_SEPARATE_COMPILATION)
// chat/src.hpp compiles the plain server only (a program without TLS must not need OpenSSL): a
// Server<TlsConfig> is compiled in the files that include this header, from the server's template
// bodies (the rest of chat's bodies still come from chat/src.hpp).
#include "../../impl/server.hpp"
#endif

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_TLS_HPP
