// chat::Options: every tunable of a server, with Node socket.io's defaults.
#ifndef CHAT_OPTIONS_HPP
#define CHAT_OPTIONS_HPP

#include <chrono>       // milliseconds
#include <cstddef>      // size_t
#include <functional>   // function
#include <memory>       // shared_ptr
#include <optional>     // optional
#include <stdexcept>    // invalid_argument
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include "http.hpp"

namespace chat {

class Parser;

/// Decides whether a request that carries an Origin header may reach Socket.IO: `origin` is the
/// header, `request` the whole request (its body empty). See `Options::cors_origin_check`.
using OriginCheck = std::function<bool(std::string_view origin, const HttpRequest& request)>;

/// What an `Options::allow_request` hook says of a handshake: allowed, or refused with a message.
/// A hook may return a bool (true: allowed; false: refused with "Forbidden").
struct RequestVerdict {
  /// `true` allows; `false` refuses with "Forbidden".
  RequestVerdict(bool allowed = true) : allowed(allowed) {}  // NOLINT(google-explicit-constructor): a hook returns a bool
  /// A refusal whose error JSON says `message` (Node's allowRequest callback error).
  static RequestVerdict refuse(std::string message) {
    RequestVerdict verdict(false);
    verdict.message = std::move(message);
    return verdict;
  }
  bool allowed;         ///< whether the handshake goes on
  std::string message;  ///< a refusal's message; "" says "Forbidden"
};

/// Decides on a handshake request before its session exists (see `Options::allow_request`):
/// `request` is the raw request (method, target, path, query, headers, remote address; no body).
using RequestCheck = std::function<RequestVerdict(const HttpRequest& request)>;

/// The cookie a handshake sets to the new session's id (Node's `cookie` option): the header is
/// `Set-Cookie: <name>=<sid>; <attributes>`. Load balancers use it to keep a client's requests
/// on one server.
struct SessionCookie {
  std::string name = "io";  ///< the cookie's name (Node's default "io")
  std::string attributes = "Path=/; HttpOnly; SameSite=Lax";  ///< as they go after the value
};

/// How many handshakes one client address may make (Options::handshake_rate_per_ip): `burst`
/// at once, then `per_second` on average (a token bucket). `per_second` 0: no limit.
struct HandshakeRate {
  double per_second = 0;  ///< handshakes a second, on average; 0: no limit
  std::size_t burst = 0;  ///< handshakes at once (the bucket's size)
};

/// Connection state recovery (Node's `connectionStateRecovery`, socket.io 4.6+): a client that
/// loses its connection and comes back within `max_disconnection_duration` gets its socket id,
/// rooms and `data()` back, and every event it missed meanwhile. See
/// `Options::connection_state_recovery`.
struct ConnectionStateRecovery {
  /// How long a lost socket's session, and the packets it may have missed, are kept. Node's
  /// default: 2 minutes.
  std::chrono::milliseconds max_disconnection_duration{120000};
  /// Whether a recovered socket skips the namespace's middlewares (`Namespace::use`); its
  /// connect hook runs either way (`Socket::recovered()` tells it). Node's default: true.
  bool skip_middlewares = true;
  /// The most bytes (encoded) of packets one namespace keeps for recovery. Past it the oldest
  /// are dropped before their time, and a client whose last event was dropped gets a fresh
  /// session, as if the window had passed. 0: no bound but the window. Default 64 MiB.
  std::size_t max_kept_bytes = 64u << 20;
};

/// The options of a `chat::Server`. Each setter returns the options, so they chain:
/// `chat::Options{}.ping_interval(10s).cors_allowed_origins({"*"})`.
///
/// @par Thread Safety
/// A plain value; the server copies it when constructed.
class Options {
 public:
  ///@{
  /// How often the server pings each client (Engine.IO pingInterval). Default 25 s.
  Options& ping_interval(std::chrono::milliseconds value) { ping_interval_ = value; return *this; }
  std::chrono::milliseconds ping_interval() const { return ping_interval_; }
  ///@}

  ///@{
  /// How long a ping may go unanswered before the client is dropped with "ping timeout".
  /// Default 20 s.
  Options& ping_timeout(std::chrono::milliseconds value) { ping_timeout_ = value; return *this; }
  std::chrono::milliseconds ping_timeout() const { return ping_timeout_; }
  ///@}

  ///@{
  /// How long a new connection may go without joining a namespace before it is closed.
  /// Default 45 s.
  Options& connect_timeout(std::chrono::milliseconds value) { connect_timeout_ = value; return *this; }
  std::chrono::milliseconds connect_timeout() const { return connect_timeout_; }
  ///@}

  ///@{
  /// Added to the ping interval the server tells clients (not to the one it pings at), so a
  /// client waits that much longer for a ping before it gives up on the server
  /// (python-engineio's `ping_interval=(interval, grace)`). Default 0.
  Options& ping_interval_grace(std::chrono::milliseconds value) { ping_interval_grace_ = value; return *this; }
  std::chrono::milliseconds ping_interval_grace() const { return ping_interval_grace_; }
  ///@}

  ///@{
  /// How long an upgrade probe may wait for the client's `5` before it is dropped and polling
  /// goes on. Default 10 s.
  Options& upgrade_timeout(std::chrono::milliseconds value) { upgrade_timeout_ = value; return *this; }
  std::chrono::milliseconds upgrade_timeout() const { return upgrade_timeout_; }
  ///@}

  ///@{
  /// How long a new TCP connection may take to send its whole HTTP request (a WebSocket: to
  /// complete its opening handshake) before it is closed, so that slow or silent connections
  /// (slowloris) do not hold descriptors. Default 5 s (websocketpp's).
  Options& handshake_timeout(std::chrono::milliseconds value) { handshake_timeout_ = value; return *this; }
  std::chrono::milliseconds handshake_timeout() const { return handshake_timeout_; }
  ///@}

  ///@{
  /// The largest message a client may send, in bytes: a WebSocket message, or a polling POST
  /// body (413 beyond it). Advertised as maxPayload. Default 1,000,000 (Node's
  /// maxHttpBufferSize).
  Options& max_payload(std::size_t bytes) { max_payload_ = bytes; return *this; }
  std::size_t max_payload() const { return max_payload_; }
  ///@}

  ///@{
  /// How many bytes may wait to be sent to one client before it is dropped as too slow
  /// (reason "transport error"). Default 16 MiB: bounded, so one stuck client cannot make the
  /// server grow without limit.
  Options& max_buffered_bytes(std::size_t bytes) { max_buffered_bytes_ = bytes; return *this; }
  std::size_t max_buffered_bytes() const { return max_buffered_bytes_; }
  ///@}

  ///@{
  /// A ShardedServer: the bytes of broadcasts one shard may have waiting for it to deliver
  /// (the others hand it their broadcasts). Past it, broadcasts to that shard are dropped, and
  /// its clients miss them, until it is half way back; the first drop of each episode goes to
  /// on_error. Joins, leaves, disconnects and acks between shards are never dropped. A shard
  /// with nothing waiting takes a broadcast of any size. 0: no limit. Default 64 MiB: four
  /// times max_buffered_bytes, about a second of the fastest fan-out measured on one core
  /// (docs/benchmarks.md), so only a shard stalled for longer drops anything.
  Options& max_shard_queue_bytes(std::size_t bytes) { max_shard_queue_bytes_ = bytes; return *this; }
  std::size_t max_shard_queue_bytes() const { return max_shard_queue_bytes_; }
  ///@}

  ///@{
  /// The most acknowledgements the server awaits from one socket at once (emits with an ack
  /// callback the client has not answered). Past it an emit with an ack sends nothing and its
  /// callback gets errc::too_many_pending_acks at once; a broadcast with acks leaves that
  /// socket out. Answers still awaited from a broadcast with acks whose timeout has passed do
  /// not count. 0: no limit. Default 10,000: a client that leaves that many unanswered is
  /// broken or hostile, and each costs a callback and its captures (a few hundred bytes).
  Options& max_pending_acks(std::size_t acks) { max_pending_acks_ = acks; return *this; }
  std::size_t max_pending_acks() const { return max_pending_acks_; }
  ///@}

  ///@{
  /// The most Engine.IO sessions the server holds at once (a ShardedServer: across its
  /// shards). A handshake past it is refused, polling and WebSocket alike, with 503 and the
  /// Engine.IO error JSON `{"code":4,"message":"Server is at its connection limit"}`; clients
  /// retry as after any failed connection. 0: no limit. Default 100,000 (about 1 GB of idle
  /// sessions; see the README's table of limits).
  Options& max_connections(std::size_t sessions) { max_connections_ = sessions; return *this; }
  std::size_t max_connections() const { return max_connections_; }
  ///@}

  ///@{
  /// The most sessions one client address may hold at once; a handshake past it gets 429 and
  /// `{"code":4,"message":"Too many sessions from this address"}`. 0 (the default): no limit.
  /// For a server that clients reach directly: behind a proxy every client has the proxy's
  /// address, unless `trusted_proxies` names it.
  Options& max_sessions_per_ip(std::size_t sessions) { max_sessions_per_ip_ = sessions; return *this; }
  std::size_t max_sessions_per_ip() const { return max_sessions_per_ip_; }
  ///@}

  ///@{
  /// How many handshakes one client address may make: `burst` at once, then `per_second`.
  /// Each handshake attempted spends one, admitted or not; past it the handshake gets 429,
  /// a `Retry-After` header and `{"code":4,"message":"Too many handshakes from this address"}`.
  /// Default: no limit. Throws std::invalid_argument for a negative rate or a rate with no burst.
  Options& handshake_rate_per_ip(double per_second, std::size_t burst) {
    if (per_second < 0 || (per_second > 0 && burst == 0))
      throw std::invalid_argument("chat::Options::handshake_rate_per_ip: the rate must be positive with a burst of at least 1 (or 0: no limit)");
    handshake_rate_per_ip_ = HandshakeRate{per_second, burst};
    return *this;
  }
  const HandshakeRate& handshake_rate_per_ip() const { return handshake_rate_per_ip_; }
  ///@}

  ///@{
  /// The proxies whose X-Forwarded-For header tells a client's address for the per-address
  /// limits above: addresses ("10.0.0.1", "::1") or networks ("10.0.0.0/8"). A request from one
  /// of them counts against the first address in X-Forwarded-For, read from the right, that is
  /// not itself a trusted proxy. Default: none (the header is never believed: any client can
  /// write it). Checked when the server is made: std::invalid_argument for an entry that is
  /// neither an address nor a network.
  Options& trusted_proxies(std::vector<std::string> proxies) { trusted_proxies_ = std::move(proxies); return *this; }
  const std::vector<std::string>& trusted_proxies() const { return trusted_proxies_; }
  ///@}

  ///@{
  /// Which web pages may connect (an Engine.IO request from a browser carries its page's
  /// Origin). A request whose Origin the policy refuses gets 403 and the Engine.IO error JSON,
  /// over polling and WebSocket alike; an Engine.IO response to an allowed Origin carries the
  /// CORS headers. A request without an Origin header (not from a browser) is never refused.
  ///
  /// The policy: `cors_origin_check` when set, which alone decides; otherwise the Origin must
  /// be listed in `cors_allowed_origins` (`{"*"}`: any) or, with `cors_allow_same_origin`, be
  /// the server's own. With none of the three (the default) there is no check and no CORS
  /// header, as in Node's socket.io without its `cors` option.
  ///
  /// Origins are compared as the browser sends them: `scheme://host[:port]`.
  Options& cors_allowed_origins(std::vector<std::string> origins) { cors_allowed_origins_ = std::move(origins); return *this; }
  const std::vector<std::string>& cors_allowed_origins() const { return cors_allowed_origins_; }
  ///@}

  ///@{
  /// Allows the server's own origin: `http://` followed by the request's Host header (or the
  /// scheme and host a proxy names in X-Forwarded-Proto and X-Forwarded-Host). Alone, it makes
  /// the same-origin policy that keeps a page of another site from connecting with the
  /// browser's cookies (Flask-SocketIO's default). Default false.
  Options& cors_allow_same_origin(bool value) { cors_allow_same_origin_ = value; return *this; }
  bool cors_allow_same_origin() const { return cors_allow_same_origin_; }
  ///@}

  ///@{
  /// A function that decides, for each Engine.IO request with an Origin header, whether it may
  /// connect (replacing the list and the same-origin rule). It runs on the io thread, once per
  /// request, and must not block; an exception it throws refuses the request and goes to
  /// `on_error`. Default: none.
  Options& cors_origin_check(OriginCheck check) { cors_origin_check_ = std::move(check); return *this; }
  const OriginCheck& cors_origin_check() const { return cors_origin_check_; }
  ///@}

  ///@{
  /// Whether CORS responses say `Access-Control-Allow-Credentials: true`, letting pages of
  /// allowed origins send cookies. Default true (as python-engineio; Node's default is false).
  Options& cors_credentials(bool value) { cors_credentials_ = value; return *this; }
  bool cors_credentials() const { return cors_credentials_; }
  ///@}

  ///@{
  /// The methods a CORS preflight allows (npm cors' `methods`, Access-Control-Allow-Methods).
  /// Default GET, POST, OPTIONS: what Engine.IO uses (npm cors' default lists more).
  Options& cors_methods(std::vector<std::string> methods) { cors_methods_ = std::move(methods); return *this; }
  const std::vector<std::string>& cors_methods() const { return cors_methods_; }
  ///@}

  ///@{
  /// The request headers a CORS preflight allows (npm cors' `allowedHeaders`,
  /// Access-Control-Allow-Headers). Default: none listed, so the headers the preflight asks for
  /// (Access-Control-Request-Headers) are allowed, echoed, as npm cors does.
  Options& cors_allowed_headers(std::vector<std::string> headers) { cors_allowed_headers_ = std::move(headers); return *this; }
  const std::vector<std::string>& cors_allowed_headers() const { return cors_allowed_headers_; }
  ///@}

  ///@{
  /// The response headers pages of allowed origins may read (npm cors' `exposedHeaders`,
  /// Access-Control-Expose-Headers on every CORS response). Default: none.
  Options& cors_exposed_headers(std::vector<std::string> headers) { cors_exposed_headers_ = std::move(headers); return *this; }
  const std::vector<std::string>& cors_exposed_headers() const { return cors_exposed_headers_; }
  ///@}

  ///@{
  /// How long a browser may cache a preflight's answer (npm cors' `maxAge`,
  /// Access-Control-Max-Age, in whole seconds). Default: not sent (the browser's own default).
  Options& cors_max_age(std::chrono::seconds value) { cors_max_age_ = value; return *this; }
  const std::optional<std::chrono::seconds>& cors_max_age() const { return cors_max_age_; }
  ///@}

  /// Whether any Origin policy is set (see `cors_allowed_origins`).
  bool checks_origin() const {
    return !cors_allowed_origins_.empty() || cors_allow_same_origin_ || static_cast<bool>(cors_origin_check_);
  }

  ///@{
  /// Decides on every handshake request (polling and WebSocket; Node's `allowRequest`) before a
  /// session exists, after the Origin policy and the admission limits: a refusal answers 403
  /// with `{"code":4,"message":"Forbidden"}` (or the verdict's message). Requests of an
  /// existing session (a sid) do not reach it. It runs on the io thread and must not block; an
  /// exception it throws refuses the request and goes to `on_error`. Default: none.
  Options& allow_request(RequestCheck check) { allow_request_ = std::move(check); return *this; }
  const RequestCheck& allow_request() const { return allow_request_; }
  ///@}

  ///@{
  /// An Engine.IO message sent to every new session right after its open packet (Node's
  /// `initialPacket`): its text, which a Socket.IO client decodes as a Socket.IO packet (e.g.
  /// `2["welcome"]`, an event the client's "/" socket receives once connected). Default: none.
  /// Only with the JSON parser: a server with another `parser` throws std::invalid_argument.
  Options& initial_packet(std::string text) { initial_packet_ = std::move(text); return *this; }
  const std::optional<std::string>& initial_packet() const { return initial_packet_; }
  ///@}

  ///@{
  /// Whether polling responses and the client bundle are compressed, with gzip or deflate as the
  /// request's Accept-Encoding asks (Node's `httpCompression`, python-engineio's
  /// `http_compression`). Default true.
  Options& http_compression(bool value) { http_compression_ = value; return *this; }
  bool http_compression() const { return http_compression_; }
  ///@}

  ///@{
  /// The smallest response compressed, in bytes (Node's `httpCompression.threshold`,
  /// python-engineio's `compression_threshold`). Default 1024.
  Options& compression_threshold(std::size_t bytes) { compression_threshold_ = bytes; return *this; }
  std::size_t compression_threshold() const { return compression_threshold_; }
  ///@}

  ///@{
  /// Whether WebSocket clients that offer the permessage-deflate extension (RFC 7692; browsers
  /// and Node's `ws` do) get it (Node's `perMessageDeflate`). Messages of at least
  /// `per_message_deflate_threshold` bytes the server sends to such a client are compressed for
  /// it alone (a broadcast's shared frame is not: below the threshold, and for clients without
  /// the extension, every recipient gets the one uncompressed frame). Costs memory per
  /// connection that has it (the README's table of options says how much). Default false.
  Options& per_message_deflate(bool value) { per_message_deflate_ = value; return *this; }
  bool per_message_deflate() const { return per_message_deflate_; }
  ///@}

  ///@{
  /// The smallest WebSocket message compressed for a client with permessage-deflate, in bytes
  /// (Node's `perMessageDeflate.threshold`). Default 1024.
  Options& per_message_deflate_threshold(std::size_t bytes) { per_message_deflate_threshold_ = bytes; return *this; }
  std::size_t per_message_deflate_threshold() const { return per_message_deflate_threshold_; }
  ///@}

  ///@{
  /// Whether polling clients may upgrade to WebSocket. Default true.
  Options& allow_upgrades(bool value) { allow_upgrades_ = value; return *this; }
  bool allow_upgrades() const { return allow_upgrades_; }
  ///@}

  ///@{
  /// Whether clients of Engine.IO v3 / Socket.IO v2 (socket.io-client 2.x) may connect, beside
  /// v4 ones, and chat with them (Node's `allowEIO3`): over polling and WebSocket, with events,
  /// acks, binary, rooms and namespaces, as docs/engineio-v3.md describes. When false (the
  /// default) a handshake that does not say `EIO=4` gets 400 with Engine.IO's "Unsupported
  /// protocol version" (code 5), as Node answers it.
  Options& allow_eio3(bool value) { allow_eio3_ = value; return *this; }
  bool allow_eio3() const { return allow_eio3_; }
  ///@}

  /// The transports clients may use: "polling", "websocket" or both (the default). A request
  /// on a transport left out gets 400 with Engine.IO's "Transport unknown" (code 0), and
  /// without "websocket" no upgrade is offered. Throws std::invalid_argument for another name
  /// or an empty list.
  Options& transports(const std::vector<std::string>& names) {
    if (names.empty()) throw std::invalid_argument("chat::Options::transports: no transport given");
    bool polling = false;
    bool websocket = false;
    for (const auto& name : names) {
      if (name == "polling") polling = true;
      else if (name == "websocket") websocket = true;
      else throw std::invalid_argument("chat::Options::transports: unknown transport \"" + name +
                                       "\" (expected \"polling\" or \"websocket\")");
    }
    polling_ = polling;
    websocket_ = websocket;
    return *this;
  }
  /// Whether clients may use HTTP long-polling (see `transports`).
  bool polling_allowed() const { return polling_; }
  /// Whether clients may use WebSocket (see `transports`).
  bool websocket_allowed() const { return websocket_; }

  ///@{
  /// Sets a cookie holding the session id on every handshake response (polling and
  /// WebSocket). Default: no cookie.
  Options& cookie(SessionCookie value) { cookie_ = std::move(value); return *this; }
  const std::optional<SessionCookie>& cookie() const { return cookie_; }
  ///@}

  ///@{
  /// The wire format of Socket.IO packets (Node's `parser` option): every packet the server
  /// sends or receives goes through it. Default: socket.io-parser's JSON with binary
  /// attachments (chat::JsonParser). Clients must use the same format.
  Options& parser(std::shared_ptr<const Parser> value) { parser_ = std::move(value); return *this; }
  const std::shared_ptr<const Parser>& parser() const { return parser_; }
  ///@}

  ///@{
  /// Turns on connection state recovery (off by default, as in Node). Each socket then gets a
  /// private id (`pid`, sent with `sid` in the CONNECT reply), every event sent to a client
  /// without an ack carries an offset as its last argument (socket.io-client 4.6+ keeps it to
  /// come back with; other clients see one argument more), and the namespace's adapter keeps
  /// those events, and the sessions of sockets whose connection was lost, for
  /// `max_disconnection_duration`. A client that reconnects in time is recovered:
  /// `Socket::recovered()` is true, its id, rooms and data are back, and it gets what it missed,
  /// once and in order, before the CONNECT reply. Throws std::invalid_argument for a duration
  /// that is not positive.
  Options& connection_state_recovery(ConnectionStateRecovery value) {
    if (value.max_disconnection_duration.count() <= 0)
      throw std::invalid_argument("chat::Options::connection_state_recovery: max_disconnection_duration must be positive");
    connection_state_recovery_ = value;
    return *this;
  }
  const std::optional<ConnectionStateRecovery>& connection_state_recovery() const { return connection_state_recovery_; }
  ///@}

  ///@{
  /// The URL path Socket.IO is served under. Default "/socket.io/" (a trailing slash is added
  /// when missing).
  Options& path(std::string value) {
    if (value.empty() || value.front() != '/') value.insert(value.begin(), '/');
    if (value.back() != '/') value += '/';
    path_ = std::move(value);
    return *this;
  }
  const std::string& path() const { return path_; }
  ///@}

  ///@{
  /// Namespaces clients may join besides those given handlers with `of()`; "*" accepts any
  /// namespace (handled by the handlers of `of("*")` when it has some). Default: none.
  Options& namespaces(std::vector<std::string> names) { namespaces_ = std::move(names); return *this; }
  const std::vector<std::string>& namespaces() const { return namespaces_; }
  ///@}

  ///@{
  /// Removes a dynamic namespace (one made for a client by `of(pattern)`, a matcher, or "*")
  /// once its last socket has left (Node's `cleanupEmptyChildNamespaces`). Default false: such
  /// a namespace stays, with its hooks and adapter, until the server stops. With it, do not
  /// keep references to such namespaces: the next client to name one gets a fresh namespace.
  Options& cleanup_empty_child_namespaces(bool value) { cleanup_empty_child_namespaces_ = value; return *this; }
  bool cleanup_empty_child_namespaces() const { return cleanup_empty_child_namespaces_; }
  ///@}

  ///@{
  /// The directory holding the Socket.IO browser bundle (socket.io-client's `dist/`), served at
  /// `<path>socket.io.js`, `.min.js`, `.esm.min.js`, `.msgpack.min.js` (the bundle with
  /// socket.io-msgpack-parser, for a server with MsgpackParser) and their `.map` files, as Node
  /// does (Node's `serveClient`); "" serves none. Default: the macro `CHAT_CLIENT_BUNDLE_DIR`
  /// when defined, which chat's CMake package sets (the installed `share/chat/socket.io-client`,
  /// or the source tree's `node_modules/socket.io-client/dist` when chat is a subdirectory);
  /// else "". A server whose directory has no `socket.io.js` says so once, through `on_error`,
  /// when it starts listening.
  Options& client_bundle_dir(std::string dir) { client_bundle_dir_ = std::move(dir); return *this; }
  const std::string& client_bundle_dir() const { return client_bundle_dir_; }
  ///@}

 private:
  std::chrono::milliseconds ping_interval_{25000};
  std::chrono::milliseconds ping_timeout_{20000};
  std::chrono::milliseconds connect_timeout_{45000};
  std::chrono::milliseconds ping_interval_grace_{0};
  std::chrono::milliseconds upgrade_timeout_{10000};
  std::chrono::milliseconds handshake_timeout_{5000};
  std::size_t max_payload_ = 1000000;
  std::size_t max_buffered_bytes_ = 16u << 20;
  std::size_t max_shard_queue_bytes_ = 64u << 20;
  std::size_t max_connections_ = 100000;
  std::size_t max_pending_acks_ = 10000;
  std::size_t max_sessions_per_ip_ = 0;
  HandshakeRate handshake_rate_per_ip_;
  std::vector<std::string> trusted_proxies_;
  std::vector<std::string> cors_allowed_origins_;
  bool cors_allow_same_origin_ = false;
  OriginCheck cors_origin_check_;
  bool cors_credentials_ = true;
  std::vector<std::string> cors_methods_{"GET", "POST", "OPTIONS"};
  std::vector<std::string> cors_allowed_headers_;
  std::vector<std::string> cors_exposed_headers_;
  std::optional<std::chrono::seconds> cors_max_age_;
  RequestCheck allow_request_;
  std::optional<std::string> initial_packet_;
  bool http_compression_ = true;
  std::size_t compression_threshold_ = 1024;
  bool per_message_deflate_ = false;
  std::size_t per_message_deflate_threshold_ = 1024;
  bool allow_upgrades_ = true;
  bool allow_eio3_ = false;
  bool polling_ = true;
  bool websocket_ = true;
  std::optional<SessionCookie> cookie_;
  std::shared_ptr<const Parser> parser_;
  std::optional<ConnectionStateRecovery> connection_state_recovery_;
  std::string path_ = "/socket.io/";
  std::vector<std::string> namespaces_;
  bool cleanup_empty_child_namespaces_ = false;
#ifdef CHAT_CLIENT_BUNDLE_DIR
  std::string client_bundle_dir_ = CHAT_CLIENT_BUNDLE_DIR;
#else
  std::string client_bundle_dir_;
#endif
};

}  // namespace chat

#endif  // CHAT_OPTIONS_HPP
