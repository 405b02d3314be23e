// chat::instrument: makes a server answer the official Socket.IO Admin UI (@socket.io/admin-ui).
#ifndef CHAT_ADMIN_UI_HPP
#define CHAT_ADMIN_UI_HPP

#include <chrono>      // milliseconds
#include <functional>  // function
#include <memory>      // shared_ptr
#include <optional>    // optional
#include <stdexcept>   // invalid_argument
#include <string>      // string
#include <vector>      // vector

#include <nlohmann/json.hpp>

#include "detail/admin_ui.hpp"
#include "server.hpp"
#include "sharded_server.hpp"

namespace chat {

/// Who may use the Admin UI: what its login form (username, password) must show, as the CONNECT
/// auth object of the admin namespace.
class AdminAuth {
 public:
  /// No login: anyone who reaches the admin namespace may watch and act (Node's `auth: false`).
  /// Only behind something that keeps strangers out.
  static AdminAuth none() { return AdminAuth(detail::AdminAuthCheck{}); }

  /// Node's `{type: "basic", username, password}`: the UI's username must be `username` and its
  /// password must match `bcrypt_hash` (made with bcrypt: `mkpasswd -m bcrypt`, Node's bcryptjs,
  /// Python's bcrypt; `$2a$`, `$2b$` or `$2y$`). The hash is checked on a thread of
  /// its own, never on the io thread; a client that logged in gets a session id (the "session"
  /// event) that logs it in again without the password, as Node's does.
  /// @throws std::invalid_argument when `bcrypt_hash` is not a bcrypt hash.
  static AdminAuth basic(std::string username, std::string bcrypt_hash) {
    return AdminAuth(detail::AdminAuthCheck::basic(std::move(username), std::move(bcrypt_hash)));
  }

  /// python-socketio's `auth=dict` and `auth=list`: the CONNECT auth object must equal one of
  /// `accepted` (e.g. `{"username": "admin", "password": "secret"}`, the password in clear).
  static AdminAuth any_of(std::vector<json> accepted) {
    return AdminAuth(detail::AdminAuthCheck::any_of(std::move(accepted)));
  }

  /// python-socketio's `auth=callable`: `check(auth)` decides. It runs on the io thread of the
  /// server the admin client connects to, and must not block.
  static AdminAuth custom(std::function<bool(const json& auth)> check) {
    return AdminAuth(detail::AdminAuthCheck::custom(std::move(check)));
  }

 private:
  explicit AdminAuth(detail::AdminAuthCheck check) : check_(std::move(check)) {}
  friend struct detail::AdminAccess;
  detail::AdminAuthCheck check_;
};

/// How much the Admin UI is told.
enum class AdminMode {
  /// Every socket, room and event, as it happens (Node's default, `NODE_ENV` unset).
  development,
  /// Only the periodic server statistics (namespaces, clients, aggregated counts): no per-socket
  /// or per-event messages, which cost a message to every admin client per event.
  production,
};

/// Node's `instrument(io, options)` and python-socketio's `sio.instrument(...)` options.
struct InstrumentOptions {
  /// Who may connect: required, as in Node (AdminAuth::none() to say so on purpose).
  std::optional<AdminAuth> auth;
  /// The admin namespace (Node's `namespaceName`, python-socketio's `namespace`).
  std::string namespace_name = "/admin";
  /// Refuses the UI's actions (join, leave, disconnect, emit): it only watches (Node's
  /// `readonly`, python-socketio's `read_only`).
  bool read_only = false;
  /// AdminMode::development (the default) or AdminMode::production.
  AdminMode mode = AdminMode::development;
  /// The name the UI shows for this server (Node's `serverId`); empty: the host name. A
  /// ShardedServer's shards add "#<index>" to it, one server each in the UI.
  std::string server_id;
  /// How often "server_stats" goes out (python-socketio's `server_stats_interval`; Node's is
  /// two seconds).
  std::chrono::milliseconds server_stats_interval{2000};
};

namespace detail {
/// Reaches what instrument() needs of the public classes.
struct AdminAccess {
  static AdminSettings settings(const InstrumentOptions& options) {
    if (!options.auth)
      throw std::invalid_argument("instrument: the auth option must be given (AdminAuth::none() to turn login off)");
    if (options.server_stats_interval.count() <= 0)
      throw std::invalid_argument("instrument: server_stats_interval must be positive");
    if (options.namespace_name.empty()) throw std::invalid_argument("instrument: namespace_name must not be empty");
    AdminSettings settings;
    settings.auth = std::make_shared<AdminAuthCheck>(options.auth->check_);
    settings.namespace_name = options.namespace_name[0] == '/' ? options.namespace_name : "/" + options.namespace_name;
    settings.read_only = options.read_only;
    settings.development = options.mode == AdminMode::development;
    settings.server_id = (options.server_id.empty() ? host_name() : options.server_id);
    settings.stats_interval = options.server_stats_interval;
    return settings;
  }
};
}  // namespace detail

/// Makes `server` answer the Admin UI on `options.namespace_name`: the UI (its hosted page at
/// https://admin.socket.io, or its files from the npm package @socket.io/admin-ui, `ui/dist`)
/// connects there and shows the server, its namespaces, sockets (with handshake, transport and
/// rooms), rooms, events and counts, and can make sockets join and leave rooms, disconnect
/// them, and emit to them. The protocol is Node's (`instrument` of @socket.io/admin-ui 0.5).
///
/// Call it once, before `run()`. The admin namespace is the instrumentation's own: its connect
/// and catch-all hooks are replaced. What the UI cannot be told: changes to `Socket::data()` after
/// the socket connected (Node sees them through a Proxy) show at the UI's next refresh.
///
/// @par Thread Safety
/// Before `run()`; what it installs runs on the server's io thread (a bcrypt check on a
/// thread of its own).
/// @throws std::invalid_argument when `options.auth` is unset, the interval is not positive,
///         or the namespace name is empty; std::logic_error when the server is instrumented already.
template <class Config>
void instrument(Server<Config>& server, InstrumentOptions options) {
  detail::instrument(detail::ServerAccess::core(server), detail::AdminAccess::settings(options));
}

/// The same for every shard of a ShardedServer: each shard is one server in the UI ("#<index>"
/// after the server id), and the UI's actions reach the sockets of every shard.
template <class Config>
void instrument(ShardedServer<Config>& server, InstrumentOptions options) {
  auto shared = detail::AdminAccess::settings(options);
  server.each([&](Server<Config>& shard, std::size_t index) {
    auto settings = shared;
    if (server.shard_count() > 1) settings.server_id += "#" + std::to_string(index);
    detail::instrument(detail::ServerAccess::core(shard), std::move(settings));
  });
}
}  // namespace chat

#endif  // CHAT_ADMIN_UI_HPP
