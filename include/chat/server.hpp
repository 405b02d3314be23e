// chat::Server: a Socket.IO v5 server (Engine.IO v4 over WebSocket and HTTP long-polling).
#ifndef CHAT_SERVER_HPP
#define CHAT_SERVER_HPP

#include <cstddef>      // size_t
#include <cstdint>      // uint16_t
#include <functional>   // function
#include <memory>       // shared_ptr, unique_ptr
#include <regex>        // regex, regex_match
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // forward, move

#include "adapter.hpp"
#include "broadcast.hpp"
#include "detail/config.hpp"
#include "fwd.hpp"
#include "handshake.hpp"
#include "http.hpp"
#include "local_client.hpp"
#include "namespace.hpp"
#include "options.hpp"
#include "socket.hpp"
#include "transport/fwd.hpp"
#include "worker_slot.hpp"

namespace asio {
class io_context;
}  // namespace asio

namespace chat {

namespace detail {
template <class Config>
struct ServerState;
class Core;
struct ServerAccess;
}  // namespace detail

/// A Socket.IO server: the stock clients (socket.io-client, python-socketio, ...) connect to it
/// unchanged, over WebSocket, long-polling, or polling upgraded to WebSocket.
///
/// ```cpp
/// chat::Server<> io(chat::Options{}.cors_allowed_origins({"*"}));
/// io.on("message", [&](chat::Socket&, chat::Event& event) { io.emit("message", event.args()); });
/// io.listen("127.0.0.1", 5000);
/// io.run();
/// ```
///
/// @tparam Config the transport's configuration: `transport::PlainConfig` (http, ws; the
///         default) or `transport::TlsConfig` (https, wss; from transport/websocketpp/tls.hpp,
///         with `tls_context`).
///
/// @par Thread Safety
/// One io thread (the one calling `run()`) owns every session, socket, room and timer; hooks run
/// on it and must not block. `emit`, `to`, `except`, `post` and `stop` may be called from any
/// thread. Register hooks, `listen` and set options before `run()`.
template <class Config = transport::PlainConfig>
class Server {
 public:
  /// A server with these options; it listens once `listen` is called and serves once `run`
  /// is.
  explicit Server(Options options = Options());
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();

  /// The namespace with this name ("/chat"), created if needed: then with the hooks of the
  /// first parent namespace that accepts the name (its matcher runs on the calling thread, with
  /// a null auth), else of "*" if it has some.
  Namespace& of(std::string name);
  /// A parent namespace for every namespace whose name matches `pattern` entirely (Node's
  /// `io.of(/^\/room-\d+$/)`): see of(NamespaceMatcher).
  Namespace& of(const std::regex& pattern) {
    return of(NamespaceMatcher([pattern](const std::string& name, const json&) { return std::regex_match(name, pattern); }));
  }
  /// A parent namespace: a namespace a client names that does not exist yet is made for it
  /// when `matcher(name, auth)` says so (parents are asked in the order added), with the
  /// parent's hooks and middlewares as they are then (Node's `io.of(fn)`). The parent's
  /// `emit`, `to(...)`, `sockets_join/leave`, `disconnect_sockets` and `fetch_sockets` act on
  /// every child; a broadcast with acks to it throws std::logic_error. The matcher runs on the
  /// io thread. See Options::cleanup_empty_child_namespaces.
  Namespace& of(NamespaceMatcher matcher);

  /// Handles an event of the main namespace "/" (see Namespace::on).
  Server& on(std::string event, EventHandler handler) {
    of("/").on(std::move(event), std::move(handler));
    return *this;
  }
  /// Catch-all for events of "/" without their own handler.
  Server& on_any(EventHandler handler) {
    of("/").on_any(std::move(handler));
    return *this;
  }
  /// Decides on clients joining "/" (see Namespace::on_connect).
  Server& on_connect(ConnectHandler handler) {
    of("/").on_connect(std::move(handler));
    return *this;
  }
  /// Learns of sockets leaving "/" (see Namespace::on_disconnect).
  Server& on_disconnect(DisconnectHandler handler) {
    of("/").on_disconnect(std::move(handler));
    return *this;
  }
  /// Adds a middleware clients joining "/" go through (Node's `io.use`; see Namespace::use).
  Server& use(ConnectMiddleware middleware) {
    of("/").use(std::move(middleware));
    return *this;
  }
  /// Receives exceptions thrown by hooks; without one they are written to stderr. The server
  /// goes on either way.
  Server& on_error(ErrorHandler handler);
  /// Answers HTTP requests outside the Socket.IO path that no static file matched.
  Server& on_http(HttpHandler handler);
  /// Adds headers to every successful Engine.IO response: polling answers (200) and WebSocket
  /// handshakes (101) alike (Node's `headers` event). Errors and CORS preflights do not get
  /// them. An exception from the hook goes to on_error; the response goes out regardless.
  Server& on_headers(HeadersHook hook);
  /// Adds headers to the response of each handshake, the request that opens a session, before
  /// `on_headers` (Node's `initial_headers` event): e.g. a cookie of the host's own.
  Server& on_initial_headers(HeadersHook hook);
  /// Serves the files under `directory` at "/" (index.html for directories, MIME types by
  /// extension; ".." and paths leaving the directory are refused with 403).
  Server& serve_static(std::string directory);
  /// Makes each namespace's adapter (rooms, broadcasts, and requests across a cluster); the
  /// in-memory adapter by default. Set it before `run()`: namespaces that exist already get a
  /// new adapter from it.
  Server& set_adapter_factory(AdapterFactory factory);
  /// The TLS context (an asio::ssl::context: certificate chain, key, protocol settings) every
  /// connection uses. Only for a `Server<transport::TlsConfig>`; before `run()`.
  template <class Context>
  Server& tls_context(std::shared_ptr<Context> context);

  /// Emits to every socket of "/". Any thread.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    of("/").emit(event, std::forward<Values>(values)...);
  }
  ///@{
  /// Selects the sockets of "/" in a room (or the socket with that id); `in` is another name
  /// for it. Any thread.
  BroadcastOperator to(Room room) { return of("/").to(std::move(room)); }
  BroadcastOperator in(Room room) { return to(std::move(room)); }
  ///@}
  /// Selects the sockets of "/" not in a room. Any thread.
  BroadcastOperator except(Room room) { return of("/").except(std::move(room)); }

  /// Binds `host:port` (port 0: any free port) and starts accepting. Returns the bound port.
  /// A TLS server needs its `tls_context` first.
  /// @throws std::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& host, std::uint16_t port);
  /// A TLS server's plain listener (http://, ws://) beside its TLS one: the same namespaces,
  /// rooms, hooks and broadcasts, so a broadcast reaches the clients of both ports. A session
  /// stays on the port it opened on. Only for a `Server<transport::TlsConfig>`; returns the
  /// bound port. @throws std::system_error when the address cannot be bound.
  template <class TlsServerConfig = Config>
  std::uint16_t listen_plain(const std::string& host, std::uint16_t port);
  /// In a worker process of a `WorkerProcesses`: serves the connections its supervisor routes
  /// here, and tags every sid with the worker's index so that each later request of a session
  /// comes back to this process. The connections are plain TCP (a TLS server serves them on its
  /// plain listener). When the supervisor goes away, the server stops as `stop()` does, with
  /// one `on_error` line. Before `run()`; instead of `listen`, not beside it. POSIX only.
  void listen(const WorkerSlot& slot);

  /// Runs the io loop on the calling thread until `stop()`.
  void run();

  /// Stops accepting, disconnects every client ("server shutting down") and makes `run()`
  /// return once their connections have closed (WebSocket clients get up to two seconds to
  /// complete the closing handshake). Any thread; idempotent; returns at once.
  void stop();

  /// Opens an in-process client connection (see LocalClient), for tests. Io thread only.
  std::shared_ptr<LocalClient> connect_local(Handshake handshake = Handshake());

  /// Runs `work` on the io thread (now, if called there). Any thread.
  void post(std::function<void()> work);

  /// The options the server was made with.
  const Options& options() const;
  /// The io loop `run()` runs: for timers, signals and sockets of the application's own
  /// (their handlers run on the io thread).
  asio::io_context& io_context();
  /// Open Engine.IO sessions (of both listeners of a TLS server). Any thread.
  std::size_t session_count() const;

 private:
  template <class>
  friend class ShardedServer;  // wires the shards together: adapters, sid tags, adopted sockets
  friend struct detail::ServerAccess;  // instrument() (admin_ui.hpp) observes the core

  detail::Core& core();

  // The io context, namespaces and transport, kept out of this header: a program's files that
  // only register hooks do not compile Asio and websocketpp (impl/server.hpp).
  std::unique_ptr<detail::ServerState<Config>> state_;
};

#if defined(CHAT_SEPARATE_COMPILATION)
extern template class Server<transport::PlainConfig>;
#endif

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/server.hpp"
#endif

#endif  // CHAT_SERVER_HPP
