// chat::Handshake: what a client's first request told the server.
#ifndef CHAT_HANDSHAKE_HPP
#define CHAT_HANDSHAKE_HPP

#include <cstdint>      // int64_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

#include "detail/headers.hpp"

namespace chat {

/// The request that opened an Engine.IO connection: shared by every socket (namespace) of that
/// connection. Node's `socket.handshake` without `auth`, which is per socket (`Socket::auth`).
///
/// @par Thread Safety
/// Immutable once the connection is open.
struct Handshake {
  std::vector<std::pair<std::string, std::string>> headers;  ///< request headers, in order
  std::vector<std::pair<std::string, std::string>> query;    ///< decoded query parameters, in order
  std::string url;                                           ///< the request target, as sent
  std::string address;                                       ///< the peer's IP address
  std::int64_t issued_ms = 0;                                ///< when it connected (ms since the epoch)
  bool secure = false;                                       ///< whether it came over TLS (https, wss)

  /// The first value of a header, matched without regard to case; nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const {
    return detail::find_header(headers, name);
  }

  /// The first value of a query parameter; nullopt when absent.
  std::optional<std::string_view> query_param(std::string_view name) const { return detail::find_param(query, name); }
};

}  // namespace chat

#endif  // CHAT_HANDSHAKE_HPP
