// chat's transport over websocketpp: the endpoint, its handlers, the map from sids to sessions,
// the frames a broadcast shares (frames.hpp), and the plain HTTP beside Socket.IO (static files, the
// client bundle, the application's hook). What it does with a request is decided by the
// sans-I/O parts (detail/http_router.hpp, detail/cors.hpp, engineio/request.hpp,
// engineio/session.hpp); this file carries it out.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_ENDPOINT_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_ENDPOINT_HPP

#include <atomic>         // atomic
#include <chrono>         // system_clock, steady_clock
#include <cstdint>        // uint16_t
#include <filesystem>     // path
#include <memory>         // shared_ptr, make_shared
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <system_error>   // error_code, system_error
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
#include <utility>        // move
#include <variant>        // get_if, holds_alternative
#include <vector>         // vector

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <websocketpp/common/network.hpp>
#include <websocketpp/server.hpp>

#include "../../detail/core.hpp"
#include "../../detail/cors.hpp"
#include "../../detail/http_router.hpp"
#include "../../detail/lifeline.hpp"
#include "../../detail/native_socket.hpp"
#include "../../detail/random_id.hpp"
#include "../../detail/static_files.hpp"
#include "../../detail/url.hpp"
#include "../../engineio/request.hpp"
#include "../../engineio/session.hpp"
#include "../../http.hpp"
#include "acceptor.hpp"
#include "config.hpp"
#include "connection.hpp"
#include "engine_http.hpp"
#include "frames.hpp"
#include "request.hpp"

namespace chat::transport {

/// The websocketpp endpoint and every Engine.IO session on it. Io thread only, except where
/// noted.
template <class Config>
class Transport {
 public:
  using Endpoint = websocketpp::server<Config>;
  using ConnectionPtr = typename Endpoint::connection_ptr;
  using MessagePtr = typename Endpoint::message_ptr;
  using Hdl = websocketpp::connection_hdl;
  using Clock = std::chrono::steady_clock;

  explicit Transport(detail::Core& core) : core_(core), session_config_(session_config(core.options())) {
    endpoint_.init_asio(&core_.io());
    endpoint_.set_reuse_addr(true);
    endpoint_.set_user_agent("chat");
    endpoint_.set_max_message_size(core_.options().max_payload());
    // websocketpp refuses a larger body from its Content-Length, unread (413).
    endpoint_.set_max_http_body_size(core_.options().max_payload());
    endpoint_.set_close_handshake_timeout(1000);
    endpoint_.set_open_handshake_timeout(static_cast<long>(core_.options().handshake_timeout().count()));
    // Runs once the connection is accepted, before its request is read. (The socket init
    // handler runs too early: before the handle is known, on a socket not yet open.)
    endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
      std::error_code ec;
      auto con = endpoint_.get_con_from_hdl(hdl, ec);
      if (ec) return;
      con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
      con->live_connections = live_connections_;
      live_connections_->add();
      // websocketpp answers what its own parser refuses (a body over max_payload: 413; a
      // malformed request: 400) from this response object and closes the connection, with no
      // hook to shape the answer. Its API refuses header changes before a request is read, so
      // the defaults go in through the object itself: `Connection: close` (zaphoyd/websocketpp
      // #890) and the Engine.IO error JSON. Every response we make replaces the body, and a
      // WebSocket handshake takes both out (on_validate).
      auto& response = const_cast<typename Config::response_type&>(con->get_response());
      response.replace_header("Connection", "close");
      response.replace_header("Content-Type", std::string(engineio::content_type::error));
      response.set_body(engineio::error_body(engineio::Error::bad_request));
      // Whether a WebSocket handshake may take the client's permessage-deflate offer (deflate.hpp).
      auto& request = const_cast<Request&>(con->get_request());
      request.deflate_allowed = core_.options().per_message_deflate();
      request.inflate_limit = core_.options().max_payload();
    });
    endpoint_.set_http_handler([this](Hdl hdl) { on_http(hdl); });
    endpoint_.set_validate_handler([this](Hdl hdl) { return on_validate(hdl); });
    endpoint_.set_open_handler([this](Hdl hdl) { on_open(hdl); });
    endpoint_.set_close_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_fail_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_message_handler([this](Hdl hdl, MessagePtr message) { on_message(hdl, message); });
    endpoint_.set_ping_handler([this](Hdl hdl, const std::string&) {
      std::error_code ec;
      auto con = endpoint_.get_con_from_hdl(hdl, ec);
      auto session = ec ? nullptr : session_of(con);
      return session && session->on_ping(con);  // no session: closing already, no pong
    });
  }

  /// Binds and starts accepting; returns the bound port. Throws std::system_error.
  std::uint16_t listen(const std::string& host, std::uint16_t port) {
    // Without a context websocketpp would accept and then fail every handshake, silently.
    if (Traits<Config>::tls && !has_tls_context_)
      throw std::system_error(std::make_error_code(std::errc::invalid_argument),
                              "chat: a TLS server needs its tls_context() before listen()");
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::system_error(ec, "chat: bad listen address " + host);
    endpoint_.listen(asio::ip::tcp::endpoint(address, port), ec);
    if (ec) throw std::system_error(ec, "chat: cannot listen on " + host + ":" + std::to_string(port));
    ec = acceptor_.start();
    if (ec) throw std::system_error(ec, "chat: cannot accept");
    const auto local = endpoint_.get_local_endpoint(ec);
    if (ec) throw std::system_error(ec, "chat: no local endpoint");
    return local.port();
  }

  /// Takes over a TCP connection accepted elsewhere (ShardedServer's router) as if this
  /// endpoint had accepted it: websocketpp's own accept path is get_connection, accept into the
  /// connection's socket, start, and start runs the same set-up (the TCP pre-init handler:
  /// no-delay, the live count, the default response) for both. Closes the connection instead
  /// once the transport has stopped. Io thread only; plain TCP only.
  void adopt(detail::NativeSocket socket) {
    static_assert(Traits<Config>::routable, "only plain TCP connections can be handed over");
    if (stopped_) return;  // `socket` closes
    ConnectionPtr con = endpoint_.get_connection();
    if (!con) return;
    std::error_code ec;
    con->get_raw_socket().assign(socket.protocol(), socket.handle(), ec);
    if (ec) {
      con->terminate(ec);  // as websocketpp does with a connection whose accept failed
      return;              // `socket` still owns the handle, and closes it
    }
    socket.release();
    con->start();
  }

  /// Settles what websocketpp computes lazily and keeps in function-local statics, so that
  /// several transports may then run on several threads (ShardedServer): the byte order its
  /// 64-bit swap of every frame header finds out on its first call.
  static void warm_up() { websocketpp::lib::net::_htonll(0); }

  /// Makes every sid start with `prefix` (ShardedServer: the shard's tag), before its random part.
  void set_sid_prefix(std::string prefix) { sid_prefix_ = std::move(prefix); }

  /// The TLS context every connection uses (TLS configurations only).
  template <class Context>
  void set_tls_context(std::shared_ptr<Context> context) {
    static_assert(Traits<Config>::tls, "a TLS context needs a TLS transport: chat::Server<chat::transport::TlsConfig>");
    endpoint_.set_tls_init_handler([context](Hdl) { return context; });
    has_tls_context_ = context != nullptr;
  }

  ~Transport() { lifeline_->cut(); }
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  /// Stops accepting and closes every session with "server shutting down".
  void stop() {
    stopped_ = true;
    acceptor_.stop();
    std::error_code ec;
    if (endpoint_.is_listening()) endpoint_.stop_listening(ec);
    std::vector<std::shared_ptr<Connection<Config>>> sessions;
    for (auto& entry : sessions_) sessions.push_back(entry.second);
    for (auto& session : sessions) {
      if (session->session().lingering()) session->session().forget();  // waiting for a last GET: stop waiting
      else session->close(DisconnectReason::server_shutting_down);
    }
  }

  void set_http_handler(HttpHandler handler) { http_handler_ = std::move(handler); }
  void set_headers_hook(HeadersHook hook) { headers_hooks_.every = std::move(hook); }
  void set_initial_headers_hook(HeadersHook hook) { headers_hooks_.initial = std::move(hook); }
  void set_static_root(std::filesystem::path root) { static_root_ = std::move(root); }

  /// Open Engine.IO sessions. Any thread.
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }
  /// Connections (WebSocket or HTTP) not yet fully closed. Any thread.
  std::size_t live_connections() const { return live_connections_->count.load(); }
  /// Calls `idle` once no connection is left (at once when none is). Io thread.
  void when_idle(std::function<void()> idle) {
    live_connections_->on_idle = std::move(idle);
    if (live_connections_->count.load() == 0 && live_connections_->on_idle) std::exchange(live_connections_->on_idle, nullptr)();
  }

 private:
  friend class Connection<Config>;

  static engineio::SessionConfig session_config(const Options& options) {
    engineio::SessionConfig config;
    config.ping_interval = options.ping_interval();
    config.ping_timeout = options.ping_timeout();
    config.advertised_ping_interval = options.ping_interval() + options.ping_interval_grace();
    config.upgrade_timeout = options.upgrade_timeout();
    config.max_payload = options.max_payload();
    config.max_buffered_bytes = options.max_buffered_bytes();
    config.upgrade_offered = options.allow_upgrades() && options.websocket_allowed();
    config.initial_packet = options.initial_packet();
    return config;
  }

  // ---- sessions ----

  std::shared_ptr<Connection<Config>> new_session(const ConnectionPtr& con, const detail::Target& target,
                                                  engineio::Transport kind, detail::Admission::Ticket admission) {
    std::string sid = sid_prefix_ + detail::random_id();
    Handshake handshake = make_handshake(con, target);
    handshake.secure = Traits<Config>::tls;
    auto session = std::make_shared<Connection<Config>>(*this, sid, std::move(handshake), kind, std::move(admission),
                                                        engineio::protocol_of(target));
    sessions_.emplace(std::move(sid), session);
    session_count_.store(sessions_.size(), std::memory_order_relaxed);
    return session;
  }

  void erase_session(const std::string& sid) {
    const auto found = sessions_.find(sid);
    if (found == sessions_.end()) return;
    found->second->release_admission();
    sessions_.erase(found);
    session_count_.store(sessions_.size(), std::memory_order_relaxed);
  }

  /// Has `connection`'s held frames written at the end of this turn (Connection::send_frame):
  /// one post writes those of every connection that held any.
  void write_held_later(std::weak_ptr<Connection<Config>> connection) {
    holding_->push_back(std::move(connection));
    if (holding_->size() > 1) return;
    // Straight to asio: its recycled handler memory, where a std::function would allocate.
    asio::post(core_.io(), [holding = holding_] {
      // Taken out first: a connection that holds again from here is in the next turn's list.
      std::vector<std::weak_ptr<Connection<Config>>> connections;
      connections.swap(*holding);
      for (const auto& weak : connections)
        if (auto connection = weak.lock()) connection->write_held();
      connections.clear();
      if (holding->empty()) holding->swap(connections);  // its capacity, for the next turn
    });
  }

  std::shared_ptr<Connection<Config>> find_session(const detail::Target& target) const {
    const auto sid = target.param("sid");
    if (!sid) return nullptr;
    const auto found = sessions_.find(std::string(*sid));
    return found == sessions_.end() ? nullptr : found->second;
  }

  static std::shared_ptr<Connection<Config>> session_of(const ConnectionPtr& con) {
    return std::static_pointer_cast<Connection<Config>>(con->session.lock());
  }

  // ---- responses ----

  void respond(const ConnectionPtr& con, int status, std::string body, std::string_view content_type) {
    con->set_status(websocketpp::http::status_code::value(status));
    con->replace_header("Content-Type", std::string(content_type));
    con->replace_header("Connection", "close");
    if (con->cors_allowed)
      for (const auto& [name, value] : detail::cors_headers(core_.options(), con->get_request_header("Origin"))) {
        if (name == "Vary") con->append_header(name, value);  // a preflight's own Vary stays
        else con->replace_header(name, value);
      }
    con->set_body(std::move(body));
  }

  /// An Engine.IO answer: a 200 polling payload compressed as the request accepts
  /// (Options::http_compression), and any 200 given the host's headers (Server::on_headers;
  /// `handshake`: on_initial_headers first).
  void respond(const ConnectionPtr& con, const engineio::HttpReply& reply, bool handshake = false) {
    std::string body = reply.body;
    if (reply.is_payload() && reply.compress)
      body = encode_body(core_, con, std::move(body));
    respond(con, reply.status, std::move(body), reply.type);
    if (reply.status == 200) add_host_headers(core_, headers_hooks_, con, handshake);
  }

  /// Answers a request whose response was deferred (a held poll, an asynchronous hook).
  void respond_deferred(const ConnectionPtr& con, int status, std::string body, std::string_view content_type) {
    respond(con, status, std::move(body), content_type);
    std::error_code ec;
    con->send_http_response(ec);
  }

  /// Releases a held poll with `reply` (a polling payload), compressed if `reply.compress` and
  /// the request accepts it.
  void release_poll(const ConnectionPtr& con, const engineio::HttpReply& reply) {
    respond(con, reply);
    std::error_code ec;
    con->send_http_response(ec);
  }

  /// Admits a handshake (Options::max_connections and the per-address limits), counting it
  /// against the client's address (see Options::trusted_proxies). The first refusal of a full
  /// server since it last admitted one goes to on_error; per-address refusals are not logged
  /// (a line per attempt of a flooding client).
  std::variant<detail::Admission::Ticket, detail::Refusal> admit(const ConnectionPtr& con) {
    const std::string client = core_.trusted_proxies().client_of(remote_address(con), con->get_request_header("X-Forwarded-For"));
    auto verdict = core_.admission().admit(detail::address_key(client), Clock::now());
    const auto* refusal = std::get_if<detail::Refusal>(&verdict);
    if (refusal && refusal->first)
      core_.report_error(nullptr, "refusing new sessions: max_connections (" +
                                      std::to_string(core_.options().max_connections()) + ") reached");
    return verdict;
  }

  static int session_revision(const std::shared_ptr<Connection<Config>>& session) {
    return session ? session->session().protocol().revision : 4;
  }

  engineio::AllowedTransports allowed_transports() const {
    return {core_.options().polling_allowed(), core_.options().websocket_allowed()};
  }

  // ---- HTTP ----

  void on_http(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    const auto target = detail::parse_target(con->get_resource());
    const detail::HttpPlan plan = detail::plan_http(con->get_request().get_method(), target, core_.options(),
                                                    static_root_.has_value(), static_cast<bool>(http_handler_));
    if (plan.bad_target) return respond(con, 400, "Bad Request", engineio::content_type::plain);
    if (plan.engine) return on_engine_http(con, *target);
    if (!plan.bundle_file.empty() && serve_client_bundle(con, plan.bundle_file)) return;
    if (plan.static_file && serve_static(con, *target)) return;
    if (plan.hook && call_http_handler(con, *target)) return;
    respond(con, 404, "Not Found", engineio::content_type::plain);
  }

  bool serve_static(const ConnectionPtr& con, const detail::Target& target) {
    const auto resolved = detail::resolve_static(*static_root_, target.path);
    if (std::holds_alternative<detail::StaticError>(resolved) &&
        std::get<detail::StaticError>(resolved) == detail::StaticError::forbidden) {
      respond(con, 403, "Forbidden", engineio::content_type::plain);
      return true;
    }
    const auto* file = std::get_if<std::filesystem::path>(&resolved);
    if (!file) return false;
    auto body = detail::read_file(*file);
    if (!body) return false;
    respond(con, 200, std::move(*body), detail::mime_type(file->native()));
    return true;
  }

  bool call_http_handler(const ConnectionPtr& con, const detail::Target& target) {
    HttpRequest request = http_request(con, target, true);
    con->defer_http_response();
    // The transport holds the connection until the answer (a deferred response has no read or
    // write pending, so nothing else keeps it alive); the responder, which another thread may
    // keep past the server's end, holds only a weak reference and the lifeline.
    deferred_http_.insert(con);
    HttpResponder responder([lifeline = lifeline_, weak = std::weak_ptr(con), this](HttpResponse response) {
      lifeline->dispatch([weak, this, response = std::move(response)]() mutable {
        auto con = weak.lock();
        if (!con || deferred_http_.erase(con) == 0) return;  // declined, or gone
        for (const auto& header : response.headers) con->replace_header(header.first, header.second);
        std::string content_type = con->get_response().get_header("Content-Type");
        respond_deferred(con, response.status, std::move(response.body),
                         content_type.empty() ? engineio::content_type::plain : std::string_view(content_type));
      });
    });
    bool handled = false;
    try {
      handled = http_handler_(request, responder);
    } catch (const std::exception& e) {
      core_.report_error(nullptr, std::string("HTTP handler: ") + e.what());
      responder.send(HttpResponse{500, {{"Content-Type", "text/plain"}}, "Internal Server Error"});
      return true;
    }
    if (!handled) {
      deferred_http_.erase(con);
      responder.send(HttpResponse{});  // spends the responder, so dropping it sends no 500
      respond_deferred(con, 404, "Not Found", engineio::content_type::plain);
    }
    return true;
  }

  /// Serves a file of the client bundle, read once and kept, and kept compressed in each coding
  /// asked for (Options::http_compression).
  bool serve_client_bundle(const ConnectionPtr& con, const std::string& name) {
    auto& plain = client_bundle_[name];
    if (plain.empty()) {
      auto body = detail::read_file(std::filesystem::path(core_.options().client_bundle_dir()) / name);
      if (!body) return false;
      plain = std::move(*body);
    }
    const auto& options = core_.options();
    const auto coding = detail::response_coding(options.http_compression(), options.compression_threshold(), plain.size(),
                                                con->get_request_header("Accept-Encoding"));
    const std::string* body = &plain;
    if (coding != detail::ContentCoding::identity) {
      const std::string key = name + '\n' + std::string(detail::coding_name(coding));
      auto cached = client_bundle_.find(key);
      if (cached != client_bundle_.end()) {
        con->replace_header("Content-Encoding", std::string(detail::coding_name(coding)));
        body = &cached->second;
      } else {
        std::string encoded = encode_body(core_, con, plain);  // sets Content-Encoding, unless zlib failed
        if (!con->get_response_header("Content-Encoding").empty()) body = &(client_bundle_[key] = std::move(encoded));
      }
    }
    respond(con, 200, *body, detail::mime_type(name));
    con->replace_header("Cache-Control", "public, max-age=0");
    if (options.http_compression()) con->replace_header("Vary", "Accept-Encoding");
    return true;
  }

  void on_engine_http(const ConnectionPtr& con, const detail::Target& target) {
    switch (check_origin(core_, con, target, Traits<Config>::scheme)) {
      case detail::OriginVerdict::refused:
        return respond(con, engineio::HttpReply::error(engineio::Error::forbidden));
      case detail::OriginVerdict::allowed:
        con->cors_allowed = true;
        break;
      case detail::OriginVerdict::unchecked:
        break;
    }
    const std::string& method = con->get_request().get_method();
    if (method == "OPTIONS") {
      for (const auto& [name, value] :
           detail::preflight_headers(core_.options(), con->get_request_header("Access-Control-Request-Headers")))
        con->replace_header(name, value);
      return respond(con, 204, "", engineio::content_type::plain);
    }
    auto session = find_session(target);
    const auto state = session ? session->session().state() : engineio::SessionState::absent;
    const auto verdict = engineio::classify_request(method, target, false, state, allowed_transports(),
                                                    core_.options().allow_eio3(), session_revision(session));
    if (const auto* error = std::get_if<engineio::Error>(&verdict)) return respond(con, engineio::HttpReply::error(*error));
    switch (std::get<engineio::Intent>(verdict)) {
      case engineio::Intent::open_session: {
        auto admitted = admit(con);
        if (const auto* refusal = std::get_if<detail::Refusal>(&admitted)) return refuse_handshake(con, *refusal, core_.options());
        if (const auto refused = host_refusal(core_, con, target)) return respond(con, *refused);
        auto created = new_session(con, target, engineio::Transport::polling,
                                   std::move(std::get<detail::Admission::Ticket>(admitted)));
        respond(con, created->session().open_polling(), true);
        if (const auto& cookie = core_.options().cookie()) {
          con->append_header("Set-Cookie", cookie->name + "=" + created->sid() +
                                               (cookie->attributes.empty() ? "" : "; ") + cookie->attributes);
        }
        created->on_open();
        break;
      }
      case engineio::Intent::poll: {
        const auto reply = session->session().on_poll();
        if (reply.kind == engineio::HttpReply::Kind::hold) session->hold_poll(con);
        else respond(con, reply);
        break;
      }
      case engineio::Intent::post: {
        const bool binary = con->get_request_header("Content-Type").find("application/octet-stream") != std::string::npos;
        respond(con, session->session().on_post(con->get_request_body(), binary, Clock::now()));
        break;
      }
      case engineio::Intent::upgrade:
      case engineio::Intent::close_at_once:
        respond(con, engineio::HttpReply::error(engineio::Error::bad_request));
        break;
    }
  }

  // ---- WebSocket ----

  bool on_validate(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return false;
    // The 101 response carries "Connection: Upgrade" and no body (see the TCP pre-init handler).
    con->remove_header("Connection");
    con->remove_header("Content-Type");
    con->set_body(std::string());
    con->remove_header("Content-Length");
    auto refuse = [&](const engineio::HttpReply& reply) {
      con->set_status(websocketpp::http::status_code::value(reply.status));
      con->replace_header("Connection", "close");
      con->replace_header("Content-Type", std::string(reply.type));
      con->set_body(reply.body);
      return false;
    };
    const auto target = detail::parse_target(con->get_resource());
    if (!target || !detail::is_engine_path(target->path, core_.options()))
      return refuse(engineio::HttpReply{engineio::HttpReply::Kind::respond, 404, "Not Found", engineio::content_type::plain});
    if (check_origin(core_, con, *target, Traits<Config>::scheme) == detail::OriginVerdict::refused)
      return refuse(engineio::HttpReply::error(engineio::Error::forbidden));
    auto session = find_session(*target);
    const auto state = session ? session->session().state() : engineio::SessionState::absent;
    const auto verdict = engineio::classify_request("GET", *target, true, state, allowed_transports(),
                                                    core_.options().allow_eio3(), session_revision(session));
    if (const auto* error = std::get_if<engineio::Error>(&verdict)) return refuse(engineio::HttpReply::error(*error));
    switch (std::get<engineio::Intent>(verdict)) {
      case engineio::Intent::upgrade:
        if (!core_.options().allow_upgrades()) return refuse(engineio::HttpReply::error(engineio::Error::bad_request));
        con->session = session;
        con->probe = true;
        break;
      case engineio::Intent::close_at_once:
        con->close_at_once = true;
        break;
      case engineio::Intent::open_session: {
        auto admitted = admit(con);
        if (const auto* refusal = std::get_if<detail::Refusal>(&admitted)) {
          refuse_handshake(con, *refusal, core_.options());
          return false;
        }
        if (const auto refused = host_refusal(core_, con, *target)) return refuse(*refused);
        con->admission = std::move(std::get<detail::Admission::Ticket>(admitted));
        add_host_headers(core_, headers_hooks_, con, true);
        return true;
      }
      default:
        break;
    }
    add_host_headers(core_, headers_hooks_, con, false);
    return true;
  }

  /// websocketpp keeps the handshake's request and response (headers and all) for the whole
  /// life of the connection though nothing reads them once it is open; the session has its own
  /// copy of what it needs, so they are emptied (there is no API for it; the objects are the
  /// connection's own, non-const).
  static void release_handshake(const ConnectionPtr& con) {
    const_cast<typename Config::request_type&>(con->get_request()) = typename Config::request_type();
    const_cast<typename Config::response_type&>(con->get_response()) = typename Config::response_type();
  }

  void on_open(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    con->deflate = con->get_response_header("Sec-WebSocket-Extensions").find("permessage-deflate") != std::string::npos;
    if (con->close_at_once) {
      // The sid's session has upgraded, or is upgrading: Node accepts the WebSocket and closes it.
      release_handshake(con);
      con->close(websocketpp::close::status::normal, "", ec);
      return;
    }
    if (con->probe) {
      const auto target = detail::parse_target(con->get_resource());
      release_handshake(con);
      auto session = session_of(con);
      if (!session || !target || !session->session().attach_probe(Clock::now(), engineio::protocol_of(*target))) {
        con->close(websocketpp::close::status::policy_violation, "", ec);
        return;
      }
      session->set_probe(con);
      return;
    }
    const auto target = detail::parse_target(con->get_resource());
    auto session = new_session(con, *target, engineio::Transport::websocket, std::move(con->admission));
    release_handshake(con);
    session->set_websocket(con);
    con->session = session;
    session->session().open_websocket();
    session->on_open();
  }

  void on_closed(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    auto session = session_of(con);
    if (!session) return;
    if (session->is_probe(con)) {
      session->set_probe(nullptr);
      session->session().on_probe_closed();
    } else if (session->is_websocket(con)) {
      session->set_websocket(nullptr);
      session->session().on_websocket_closed();
    }
    // Else a WebSocket the session had already let go of (a dropped probe, a closed one).
  }

  void on_message(Hdl hdl, const MessagePtr& message) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    auto session = session_of(con);
    if (!session) return;
    if (con->probe) {
      if (session->is_probe(con)) session->session().on_probe_message(message->get_payload());
      return;
    }
    session->session().on_websocket_message(message->get_payload(),
                                            message->get_opcode() == websocketpp::frame::opcode::binary, Clock::now());
  }

  detail::Core& core_;
  const engineio::SessionConfig session_config_;
  std::shared_ptr<LiveConnections> live_connections_ = std::make_shared<LiveConnections>();
  Endpoint endpoint_;
  Acceptor<Endpoint> acceptor_{endpoint_, core_};
  std::unordered_map<std::string, std::shared_ptr<Connection<Config>>> sessions_;
  std::atomic<std::size_t> session_count_{0};  // sessions_.size(), for other threads
  std::string sid_prefix_;
  bool has_tls_context_ = false;
  bool stopped_ = false;
  FrameCache<Config> frame_cache_;
  // Connections holding frames until the posted write (write_held_later); shared with that post,
  // which may outlive the transport (and the connections: hence weak).
  std::shared_ptr<std::vector<std::weak_ptr<Connection<Config>>>> holding_ =
      std::make_shared<std::vector<std::weak_ptr<Connection<Config>>>>();
  HttpHandler http_handler_;
  HeadersHooks headers_hooks_;
  std::unordered_set<ConnectionPtr> deferred_http_;  // waiting for an HTTP hook's answer
  std::shared_ptr<detail::Lifeline> lifeline_ = std::make_shared<detail::Lifeline>(core_);
  std::optional<std::filesystem::path> static_root_;
  std::unordered_map<std::string, std::string> client_bundle_;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_ENDPOINT_HPP
