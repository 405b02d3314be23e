// chat::Options: every tunable of a server, with Node socket.io's defaults.
#ifndef CHAT_OPTIONS_HPP
#define CHAT_OPTIONS_HPP

#include <chrono>   // milliseconds
#include <cstddef>  // size_t
#include <string>   // string
#include <utility>  // move
#include <vector>   // vector

namespace chat {

/// The options of a `chat::Server`. Each setter returns the options, so they chain:
/// `chat::Options{}.ping_interval(10s).cors_allowed_origins({"*"})`.
///
/// @par Thread Safety
/// A plain value; the server copies it when constructed.
class Options {
 public:
  /// How often the server pings each client (Engine.IO pingInterval). Default 25 s.
  Options& ping_interval(std::chrono::milliseconds value) { ping_interval_ = value; return *this; }
  std::chrono::milliseconds ping_interval() const { return ping_interval_; }

  /// How long a ping may go unanswered before the client is dropped with "ping timeout".
  /// Default 20 s.
  Options& ping_timeout(std::chrono::milliseconds value) { ping_timeout_ = value; return *this; }
  std::chrono::milliseconds ping_timeout() const { return ping_timeout_; }

  /// How long a new connection may go without joining a namespace before it is closed.
  /// Default 45 s.
  Options& connect_timeout(std::chrono::milliseconds value) { connect_timeout_ = value; return *this; }
  std::chrono::milliseconds connect_timeout() const { return connect_timeout_; }

  /// How long an upgrade probe may wait for the client's `5` before it is dropped and polling
  /// goes on. Default 10 s.
  Options& upgrade_timeout(std::chrono::milliseconds value) { upgrade_timeout_ = value; return *this; }
  std::chrono::milliseconds upgrade_timeout() const { return upgrade_timeout_; }

  /// The largest message a client may send, in bytes: a WebSocket message, or a polling POST
  /// body (413 beyond it). Advertised as maxPayload. Default 1,000,000 (Node's
  /// maxHttpBufferSize).
  Options& max_payload(std::size_t bytes) { max_payload_ = bytes; return *this; }
  std::size_t max_payload() const { return max_payload_; }

  /// How many bytes may wait to be sent to one client before it is dropped as too slow
  /// (reason "transport error"). Default 16 MiB: bounded, so one stuck client cannot make the
  /// server grow without limit.
  Options& max_buffered_bytes(std::size_t bytes) { max_buffered_bytes_ = bytes; return *this; }
  std::size_t max_buffered_bytes() const { return max_buffered_bytes_; }

  /// The origins allowed to connect, as `scheme://host[:port]`, or {"*"} for any. A request
  /// (polling or WebSocket) whose Origin header is not listed gets 403; polling responses to an
  /// allowed origin carry the CORS headers. Empty (the default): no CORS headers and no Origin
  /// check, as Node's socket.io without its `cors` option.
  Options& cors_allowed_origins(std::vector<std::string> origins) { cors_allowed_origins_ = std::move(origins); return *this; }
  const std::vector<std::string>& cors_allowed_origins() const { return cors_allowed_origins_; }

  /// Whether polling clients may upgrade to WebSocket. Default true.
  Options& allow_upgrades(bool value) { allow_upgrades_ = value; return *this; }
  bool allow_upgrades() const { return allow_upgrades_; }

  /// The URL path Socket.IO is served under. Default "/socket.io/" (a trailing slash is added
  /// when missing).
  Options& path(std::string value) {
    if (value.empty() || value.front() != '/') value.insert(value.begin(), '/');
    if (value.back() != '/') value += '/';
    path_ = std::move(value);
    return *this;
  }
  const std::string& path() const { return path_; }

  /// Namespaces clients may join besides those given handlers with `of()`; "*" accepts any
  /// namespace (handled by the handlers of `of("*")` when it has some). Default: none.
  Options& namespaces(std::vector<std::string> names) { namespaces_ = std::move(names); return *this; }
  const std::vector<std::string>& namespaces() const { return namespaces_; }

  /// The directory holding the Socket.IO browser bundle (socket.io-client's `dist/`), served at
  /// `<path>socket.io.js`, `.min.js` and their `.map` files. Default: not served.
  Options& client_bundle_dir(std::string dir) { client_bundle_dir_ = std::move(dir); return *this; }
  const std::string& client_bundle_dir() const { return client_bundle_dir_; }

 private:
  std::chrono::milliseconds ping_interval_{25000};
  std::chrono::milliseconds ping_timeout_{20000};
  std::chrono::milliseconds connect_timeout_{45000};
  std::chrono::milliseconds upgrade_timeout_{10000};
  std::size_t max_payload_ = 1000000;
  std::size_t max_buffered_bytes_ = 16u << 20;
  std::vector<std::string> cors_allowed_origins_;
  bool allow_upgrades_ = true;
  std::string path_ = "/socket.io/";
  std::vector<std::string> namespaces_;
  std::string client_bundle_dir_;
};

}  // namespace chat

#endif  // CHAT_OPTIONS_HPP
