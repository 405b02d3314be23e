// The transport configurations a chat::Server is templated on, declared: naming one costs no
// websocketpp (transport/websocketpp/config.hpp and tls.hpp define them).
#ifndef CHAT_TRANSPORT_FWD_HPP
#define CHAT_TRANSPORT_FWD_HPP

namespace chat::transport {

/// Plain TCP: http:// and ws:// (transport/websocketpp/config.hpp).
struct PlainConfig;
/// TLS: https:// and wss:// (transport/websocketpp/tls.hpp; link chat::tls).
struct TlsConfig;

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_FWD_HPP
