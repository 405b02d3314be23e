// chat::DisconnectReason: why a socket or an Engine.IO session ended, with Node's spellings.
#ifndef CHAT_REASON_HPP
#define CHAT_REASON_HPP

#include <string_view>  // string_view

namespace chat {

/// Why a socket left its namespace, or an Engine.IO session ended. `to_string` gives Node
/// socket.io's spelling, which the disconnect hooks receive.
enum class DisconnectReason {
  client_namespace_disconnect,  ///< the client left the namespace (DISCONNECT packet)
  server_namespace_disconnect,  ///< the server called Socket::disconnect()
  ping_timeout,                 ///< the client stopped answering pings
  transport_close,              ///< the client closed the connection (or sent Engine.IO close)
  transport_error,              ///< the connection failed, or the client could not keep up
  parse_error,                  ///< the client sent something the protocol forbids
  forced_close,                 ///< no namespace was joined within connect_timeout
  forced_server_close,          ///< the server closed the whole connection (disconnect(true))
  server_shutting_down,         ///< Server::stop()
};

/// Node's spelling of a reason ("ping timeout", "transport close", ...).
constexpr std::string_view to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::client_namespace_disconnect: return "client namespace disconnect";
    case DisconnectReason::server_namespace_disconnect: return "server namespace disconnect";
    case DisconnectReason::ping_timeout: return "ping timeout";
    case DisconnectReason::transport_close: return "transport close";
    case DisconnectReason::transport_error: return "transport error";
    case DisconnectReason::parse_error: return "parse error";
    case DisconnectReason::forced_close: return "forced close";
    case DisconnectReason::forced_server_close: return "forced server close";
    case DisconnectReason::server_shutting_down: return "server shutting down";
  }
  return "transport error";
}

/// Every reason, for tables that must cover them all (the Python mapping, tests).
inline constexpr DisconnectReason all_disconnect_reasons[] = {
    DisconnectReason::client_namespace_disconnect, DisconnectReason::server_namespace_disconnect,
    DisconnectReason::ping_timeout,                DisconnectReason::transport_close,
    DisconnectReason::transport_error,             DisconnectReason::parse_error,
    DisconnectReason::forced_close,                DisconnectReason::forced_server_close,
    DisconnectReason::server_shutting_down,
};

}  // namespace chat

#endif  // CHAT_REASON_HPP
