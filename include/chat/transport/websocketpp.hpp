// The only code that touches websocketpp: Engine.IO sessions over WebSocket and over HTTP
// long-polling (deferred HTTP responses), upgrades between them, static files, the client
// bundle and the HTTP fallback hook.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_HPP

#include <atomic>         // atomic
#include <chrono>         // system_clock, steady_clock
#include <cstdint>        // uint16_t
#include <filesystem>     // path
#include <memory>         // shared_ptr, weak_ptr
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <utility>        // move
#include <vector>         // vector
#include <algorithm>      // find
#include <optional>       // optional
#include <system_error>   // system_error
#include <variant>        // get_if, holds_alternative

#include <asio/ip/address.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/server.hpp>

#include "../adapter.hpp"
#include "../detail/client.hpp"
#include "../detail/core.hpp"
#include "../detail/cors.hpp"
#include "../detail/native_socket.hpp"
#include "../detail/random_id.hpp"
#include "../detail/static_files.hpp"
#include "../detail/url.hpp"
#include "../engineio/heartbeat.hpp"
#include "../engineio/packet.hpp"
#include "../engineio/request.hpp"
#include "../http.hpp"

namespace chat::transport {

/// Links a websocketpp connection to its Engine.IO session (websocketpp's connection_base hook:
/// every connection object carries one, so no lookup table is needed per message).
struct ConnectionData {
  ConnectionData() = default;
  ConnectionData(const ConnectionData&) = delete;
  ConnectionData& operator=(const ConnectionData&) = delete;
  ~ConnectionData() {
    if (live_connections) --*live_connections;
  }

  std::weak_ptr<detail::Client> session;
  bool probe = false;  ///< a WebSocket probing to upgrade a polling session
  bool cors_allowed = false;  ///< an Engine.IO request from an Origin the policy allows
  /// The transport's count of connection objects alive, so that stop() can tell when every
  /// connection has finished closing.
  std::shared_ptr<std::atomic<std::size_t>> live_connections;
};

/// websocketpp configuration for plain (non-TLS) servers: one io thread, so no locks and no
/// strand; logging compiled out; a small read buffer (idle connections dominate memory).
struct PlainConfig : public websocketpp::config::asio {
  using type = PlainConfig;
  using base = websocketpp::config::asio;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using connection_base = ConnectionData;

  struct transport_config : public base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  /// Held inline by every connection for its whole life; 1 KiB reads a chat message or an HTTP
  /// request in a few reads, and idle connections are what dominates memory.
  static const std::size_t connection_read_buffer_size = 1024;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

template <class Config>
class Transport;

/// One Engine.IO session: polling, upgrading, or WebSocket.
template <class Config>
class Session final : public detail::Client {
 public:
  using Endpoint = websocketpp::server<Config>;
  using ConnectionPtr = typename Endpoint::connection_ptr;
  using MessagePtr = typename Endpoint::message_ptr;

  Session(Transport<Config>& transport, std::string sid, Handshake handshake, engineio::Transport kind)
      : Client(transport.core_, std::move(handshake)),
        transport_(transport),
        sid_(std::move(sid)),
        kind_(kind),
        heartbeat_(transport.core_.options().ping_interval(), transport.core_.options().ping_timeout(),
                   engineio::Heartbeat::Clock::now()),
        timer_(transport.core_.io()) {}

  const std::string& sid() const { return sid_; }

  engineio::SessionState state() const {
    if (kind_ == engineio::Transport::websocket) return engineio::SessionState::websocket;
    return probe_ ? engineio::SessionState::upgrading : engineio::SessionState::polling;
  }

  /// Starts the heartbeat and the Socket.IO connect timeout.
  void start() {
    arm_timer();
    on_open();
  }

  void attach_websocket(const ConnectionPtr& con) { ws_ = con; }

  void write(const std::shared_ptr<const EncodedPacket>& packet) override {
    if (shut_) return;
    if (kind_ == engineio::Transport::websocket) {
      send_over_websocket(packet);
      return;
    }
    outbox_bytes_ += queued_bytes(*packet);
    outbox_.push_back(Outgoing{packet, 0});
    if (outbox_bytes_ > transport_.core_.options().max_buffered_bytes()) {
      close_later("transport error");
      return;
    }
    schedule_flush();
  }

  // ---- long-polling ----

  void on_poll(const ConnectionPtr& con) {
    if (poll_) {
      // A second concurrent GET: refused, and the session closes (the pending GET gets `1`).
      transport_.respond_error(con, engineio::Error::bad_request);
      close("transport error");
      return;
    }
    if (probe_ && upgrading_) {
      transport_.respond(con, 200, "6", "text/plain; charset=UTF-8");
      return;
    }
    if (!outbox_.empty()) {
      respond_payload(con, false);
      return;
    }
    con->defer_http_response();
    poll_ = con;
  }

  void on_post(const ConnectionPtr& con) {
    if (con->get_request_header("Content-Type").find("application/octet-stream") != std::string::npos) {
      transport_.respond_error(con, engineio::Error::bad_request);
      return;
    }
    auto packets = engineio::decode_payload(con->get_request_body());
    if (!packets) {
      transport_.respond_error(con, engineio::Error::bad_request);
      close("parse error");
      return;
    }
    transport_.respond(con, 200, "ok", "text/html");
    auto self = shared_from_this();
    for (auto& packet : *packets) {
      if (shut_) break;
      on_packet(packet);
    }
  }

  // ---- WebSocket ----

  void on_websocket_message(const MessagePtr& message) {
    if (shut_) return;
    if (message->get_opcode() == websocketpp::frame::opcode::binary) {
      on_message(message->get_payload(), true);
      return;
    }
    auto packet = engineio::decode_text(message->get_payload());
    if (!packet) {
      close("parse error");
      return;
    }
    on_packet(*packet);
  }

  void attach_probe(const ConnectionPtr& con) {
    std::error_code ec;
    if (shut_ || probe_ || kind_ != engineio::Transport::polling) {
      con->close(websocketpp::close::status::policy_violation, "", ec);
      return;
    }
    probe_ = con;
    upgrade_timer_ = std::make_unique<asio::steady_timer>(transport_.core_.io(), transport_.core_.options().upgrade_timeout());
    upgrade_timer_->async_wait([self = weak_from_this()](const std::error_code& error) {
      if (error) return;
      if (auto session = std::static_pointer_cast<Session>(self.lock())) session->drop_probe();
    });
  }

  void on_probe_message(const ConnectionPtr& con, const MessagePtr& message) {
    if (shut_ || con != probe_) return;
    const std::string& payload = message->get_payload();
    if (payload == "2probe" && !upgrading_) {
      std::error_code ec;
      probe_->send(std::string("3probe"), websocketpp::frame::opcode::text);
      upgrading_ = true;
      // Release the pending GET so the client can pause polling and finish the upgrade.
      if (poll_) transport_.respond_deferred(std::exchange(poll_, nullptr), 200, "6", "text/plain; charset=UTF-8");
    } else if (payload == "5" && upgrading_) {
      complete_upgrade();
    } else {
      drop_probe();
    }
  }

  void on_websocket_closed(const ConnectionPtr& con) {
    if (shut_) return;
    if (con == probe_) {
      probe_.reset();
      upgrading_ = false;
      return;
    }
    if (con == ws_) {
      ws_.reset();
      close("transport close");
    }
  }

 protected:
  void close_transport() override { shutdown(); }

 private:
  friend class Transport<Config>;

  /// A packet waiting for the next GET: an encoded Socket.IO packet, or a control character.
  struct Outgoing {
    std::shared_ptr<const EncodedPacket> packet;
    char control;
  };

  void on_packet(engineio::Packet& packet) {
    switch (packet.type) {
      case engineio::PacketType::message:
        on_message(packet.data, packet.binary);
        break;
      case engineio::PacketType::pong:
        if (heartbeat_.awaiting_pong()) {
          heartbeat_.on_pong(engineio::Heartbeat::Clock::now());
          arm_timer();  // the next ping is due an interval from now, not at the pong deadline
        }
        break;
      case engineio::PacketType::close:
        if (poll_) transport_.respond_deferred(std::exchange(poll_, nullptr), 200, "6", "text/plain; charset=UTF-8");
        close("transport close");
        break;
      default:
        // open, ping (v4 servers ping, clients never do), upgrade outside a probe, noop.
        close("parse error");
        break;
    }
  }

  void send_control(char type) {
    if (kind_ == engineio::Transport::websocket) {
      if (!ws_) return;
      std::error_code ec;
      ws_->send(transport_.control_frame(type));
      return;
    }
    outbox_.push_back(Outgoing{nullptr, type});
    schedule_flush();
  }

  void send_over_websocket(const std::shared_ptr<const EncodedPacket>& packet) {
    if (!ws_) return;
    const auto& frames = transport_.prepared_frames(*packet);
    std::error_code ec;
    for (const auto& frame : frames) ws_->send(frame);
    if (ws_->get_buffered_amount() > transport_.core_.options().max_buffered_bytes()) close_later("transport error");
  }

  void schedule_flush() {
    if (!poll_ || flush_scheduled_) return;
    flush_scheduled_ = true;
    // Posted, so every packet a handler emits in one go leaves in one response.
    asio::post(transport_.core_.io(), [self = weak_from_this()] {
      auto session = std::static_pointer_cast<Session>(self.lock());
      if (!session) return;
      session->flush_scheduled_ = false;
      if (session->poll_ && !session->outbox_.empty() && !session->shut_)
        session->respond_payload(std::exchange(session->poll_, nullptr), true);
    });
  }

  /// Engine.IO packets per polling response at most. python-engineio's client refuses a payload
  /// of more than 16 packets and drops the connection; the rest goes with the next GET, which
  /// every client sends at once.
  static constexpr std::size_t max_packets_per_poll = 16;

  void respond_payload(const ConnectionPtr& con, bool deferred) {
    std::string payload;
    std::size_t packets = 0;
    std::size_t taken = 0;
    for (; taken < outbox_.size(); ++taken) {
      const Outgoing& entry = outbox_[taken];
      const std::size_t count = entry.packet ? 1 + entry.packet->encoded.attachments.size() : 1;
      if (taken > 0 && packets + count > max_packets_per_poll) break;
      packets += count;
      if (!entry.packet) {
        if (!payload.empty()) payload += engineio::record_separator;
        payload += entry.control;
        continue;
      }
      engineio::append_to_payload(payload, entry.packet->encoded.text, false);
      for (const auto& attachment : entry.packet->encoded.attachments)
        engineio::append_to_payload(payload, attachment, true);
      outbox_bytes_ -= std::min(outbox_bytes_, queued_bytes(*entry.packet));
    }
    outbox_.erase(outbox_.begin(), outbox_.begin() + std::ptrdiff_t(taken));  // moves what is left: polling backlogs are short
    if (outbox_.empty()) outbox_bytes_ = 0;
    if (deferred) transport_.respond_deferred(con, 200, std::move(payload), "text/plain; charset=UTF-8");
    else transport_.respond(con, 200, std::move(payload), "text/plain; charset=UTF-8");
  }

  static std::size_t queued_bytes(const EncodedPacket& packet) {
    std::size_t bytes = packet.encoded.text.size();
    for (const auto& attachment : packet.encoded.attachments) bytes += attachment.size() * 4 / 3;
    return bytes;
  }

  void complete_upgrade() {
    if (upgrade_timer_) upgrade_timer_->cancel();
    kind_ = engineio::Transport::websocket;
    ws_ = std::exchange(probe_, nullptr);
    ws_->probe = false;  // from now on its messages are the session's own
    upgrading_ = false;
    if (poll_) transport_.respond_deferred(std::exchange(poll_, nullptr), 200, "6", "text/plain; charset=UTF-8");
    auto pending = std::move(outbox_);
    outbox_.clear();
    outbox_bytes_ = 0;
    for (const auto& entry : pending) {
      if (entry.packet) send_over_websocket(entry.packet);
      else send_control(entry.control);
    }
  }

  void drop_probe() {
    if (!probe_) return;
    std::error_code ec;
    probe_->close(websocketpp::close::status::policy_violation, "", ec);
    probe_.reset();
    upgrading_ = false;
  }

  void arm_timer() {
    timer_.expires_at(heartbeat_.deadline());
    timer_.async_wait([self = weak_from_this()](const std::error_code& ec) {
      if (ec) return;
      auto session = std::static_pointer_cast<Session>(self.lock());
      if (!session || session->shut_) return;
      switch (session->heartbeat_.on_timer(engineio::Heartbeat::Clock::now())) {
        case engineio::Heartbeat::Action::timed_out:
          session->close("ping timeout");
          return;
        case engineio::Heartbeat::Action::send_ping:
          session->send_control('2');
          break;
        case engineio::Heartbeat::Action::none:
          break;
      }
      session->arm_timer();
    });
  }

  /// Closes on a fresh stack: callers may be walking a room or a send loop.
  void close_later(std::string reason) {
    asio::post(transport_.core_.io(), [self = weak_from_this(), reason = std::move(reason)] {
      if (auto session = self.lock()) session->close(reason);
    });
  }

  /// Ends the session. When the server chose to close, packets still queued for a polling client
  /// are delivered first, and the close packet in the response after them (the client handles a
  /// close at once but packets a tick later, so one response holding both would lose them), as
  /// Node's engine.io drains before closing. Until that last GET, or ping_timeout, the session
  /// lingers, unusable. A dead or misbehaving peer's session goes at once.
  void shutdown() {
    if (shut_) return;
    shut_ = true;
    auto self = shared_from_this();
    timer_.cancel();
    if (upgrade_timer_) upgrade_timer_->cancel();
    std::error_code ec;
    if (ws_) std::exchange(ws_, nullptr)->close(websocketpp::close::status::normal, "", ec);
    if (probe_) std::exchange(probe_, nullptr)->close(websocketpp::close::status::normal, "", ec);
    if (kind_ == engineio::Transport::polling && closing_gracefully() && (!poll_ || !outbox_.empty())) {
      if (poll_) respond_payload(std::exchange(poll_, nullptr), true);
      timer_.expires_after(transport_.core_.options().ping_timeout());
      timer_.async_wait([self = weak_from_this()](const std::error_code& error) {
        auto session = std::static_pointer_cast<Session>(self.lock());
        if (!error && session) session->transport_.erase_session(session->sid_);
      });
      return;
    }
    if (poll_) transport_.respond_deferred(std::exchange(poll_, nullptr), 200, "1", "text/plain; charset=UTF-8");
    outbox_.clear();
    transport_.erase_session(sid_);
  }

  /// Drops a lingering session without waiting for its last GET.
  void forget() {
    auto self = shared_from_this();
    timer_.cancel();
    transport_.erase_session(sid_);
  }

  /// A GET on a lingering session: what was still queued, then the close packet.
  void on_last_poll(const ConnectionPtr& con) {
    if (!outbox_.empty()) {
      respond_payload(con, false);
      return;
    }
    auto self = shared_from_this();
    timer_.cancel();
    transport_.respond(con, 200, "1", "text/plain; charset=UTF-8");
    transport_.erase_session(sid_);
  }

  Transport<Config>& transport_;
  std::string sid_;
  engineio::Transport kind_;
  engineio::Heartbeat heartbeat_;
  asio::steady_timer timer_;
  std::unique_ptr<asio::steady_timer> upgrade_timer_;
  ConnectionPtr ws_;
  ConnectionPtr probe_;
  ConnectionPtr poll_;
  // A vector, not a deque: an empty libstdc++ deque still holds a 512-byte block, and most
  // sessions (WebSocket ones) never queue anything here.
  std::vector<Outgoing> outbox_;
  std::size_t outbox_bytes_ = 0;
  bool upgrading_ = false;
  bool flush_scheduled_ = false;
  bool shut_ = false;
};


/// The websocketpp endpoint and every Engine.IO session on it. Io thread only, except where
/// noted.
template <class Config>
class Transport {
 public:
  using Endpoint = websocketpp::server<Config>;
  using ConnectionPtr = typename Endpoint::connection_ptr;
  using MessagePtr = typename Endpoint::message_ptr;
  using Hdl = websocketpp::connection_hdl;

  explicit Transport(detail::Core& core) : core_(core) {
    endpoint_.init_asio(&core_.io());
    endpoint_.set_reuse_addr(true);
    endpoint_.set_user_agent("chat");
    endpoint_.set_max_message_size(core_.options().max_payload());
    // websocketpp refuses a larger body from its Content-Length, unread (413).
    endpoint_.set_max_http_body_size(core_.options().max_payload());
    endpoint_.set_close_handshake_timeout(1000);
    // Runs once the connection is accepted, before its request is read. (The socket init
    // handler runs too early: before the handle is known, on a socket not yet open.)
    endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
      std::error_code ec;
      auto con = endpoint_.get_con_from_hdl(hdl, ec);
      if (ec) return;
      con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
      con->live_connections = live_connections_;
      ++*live_connections_;
      // websocketpp answers what its own parser refuses (a body over max_payload: 413; a
      // malformed request: 400) from this response object and closes the connection, with no
      // hook to shape the answer. Its API refuses header changes before a request is read, so
      // the defaults go in through the object itself: `Connection: close` (zaphoyd/websocketpp
      // #890) and the Engine.IO error JSON. Every response we make replaces the body, and a
      // WebSocket handshake takes both out (on_validate).
      auto& response = const_cast<typename Config::response_type&>(con->get_response());
      response.replace_header("Connection", "close");
      response.replace_header("Content-Type", "application/json");
      response.set_body(engineio::error_body(engineio::Error::bad_request));
    });
    endpoint_.set_http_handler([this](Hdl hdl) { on_http(hdl); });
    endpoint_.set_validate_handler([this](Hdl hdl) { return on_validate(hdl); });
    endpoint_.set_open_handler([this](Hdl hdl) { on_open(hdl); });
    endpoint_.set_close_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_fail_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_message_handler([this](Hdl hdl, MessagePtr message) { on_message(hdl, message); });
  }

  /// Binds and starts accepting; returns the bound port. Throws std::system_error.
  std::uint16_t listen(const std::string& host, std::uint16_t port) {
    std::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) throw std::system_error(ec, "chat: bad listen address " + host);
    endpoint_.listen(asio::ip::tcp::endpoint(address, port), ec);
    if (ec) throw std::system_error(ec, "chat: cannot listen on " + host + ":" + std::to_string(port));
    endpoint_.start_accept(ec);
    if (ec) throw std::system_error(ec, "chat: cannot accept");
    const auto local = endpoint_.get_local_endpoint(ec);
    if (ec) throw std::system_error(ec, "chat: no local endpoint");
    return local.port();
  }

  /// Takes over a TCP connection accepted elsewhere (ShardedServer's router) as if this
  /// endpoint had accepted it: websocketpp's own accept path is get_connection, accept into the
  /// connection's socket, start, and start runs the same set-up (the TCP pre-init handler:
  /// no-delay, the live count, the default response) for both. Closes the connection instead
  /// once the transport has stopped. Io thread only.
  void adopt(detail::NativeSocket socket) {
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

  /// Makes every sid start with `prefix` (ShardedServer: the shard's tag), before its random part.
  void set_sid_prefix(std::string prefix) { sid_prefix_ = std::move(prefix); }

  /// Stops accepting and closes every session with "server shutting down".
  void stop() {
    stopped_ = true;
    std::error_code ec;
    if (endpoint_.is_listening()) endpoint_.stop_listening(ec);
    std::vector<std::shared_ptr<Session<Config>>> sessions;
    for (auto& entry : sessions_) sessions.push_back(entry.second);
    for (auto& session : sessions) {
      if (session->shut_) session->forget();  // lingering for a last GET: stop waiting
      else session->close("server shutting down");
    }
  }

  void set_http_handler(HttpHandler handler) { http_handler_ = std::move(handler); }
  void set_static_root(std::filesystem::path root) { static_root_ = std::move(root); }

  /// Open Engine.IO sessions. Any thread.
  std::size_t session_count() const { return session_count_.load(std::memory_order_relaxed); }
  /// Connections (WebSocket or HTTP) not yet fully closed. Any thread.
  std::size_t live_connections() const { return live_connections_->load(); }

 private:
  friend class Session<Config>;

  // ---- sessions ----

  std::string new_sid() const { return sid_prefix_ + detail::random_id(); }

  void add_session(const std::string& sid, const std::shared_ptr<Session<Config>>& session) {
    sessions_.emplace(sid, session);
    session_count_.store(sessions_.size(), std::memory_order_relaxed);
  }

  void erase_session(const std::string& sid) {
    sessions_.erase(sid);
    session_count_.store(sessions_.size(), std::memory_order_relaxed);
  }

  // ---- responses ----

  void add_common_headers(const ConnectionPtr& con) {
    con->replace_header("Connection", "close");
    if (!con->cors_allowed) return;
    con->replace_header("Access-Control-Allow-Origin", con->get_request_header("Origin"));
    if (core_.options().cors_credentials()) con->replace_header("Access-Control-Allow-Credentials", "true");
    con->replace_header("Vary", "Origin");
  }

  void respond(const ConnectionPtr& con, int status, std::string body, std::string_view content_type) {
    con->set_status(websocketpp::http::status_code::value(status));
    con->replace_header("Content-Type", std::string(content_type));
    add_common_headers(con);
    con->set_body(std::move(body));
  }

  /// Answers a request whose response was deferred (a held poll, an asynchronous hook).
  void respond_deferred(const ConnectionPtr& con, int status, std::string body, std::string_view content_type) {
    respond(con, status, std::move(body), content_type);
    std::error_code ec;
    con->send_http_response(ec);
  }

  void respond_error(const ConnectionPtr& con, engineio::Error error) {
    respond(con, engineio::error_status(error), engineio::error_body(error), "application/json");
  }

  /// The Origin policy's verdict on an Engine.IO request (see Options::cors_allowed_origins).
  /// A custom check that throws refuses, and the error goes to on_error.
  detail::OriginVerdict check_origin(const ConnectionPtr& con, const detail::Target& target) {
    const auto& options = core_.options();
    if (!options.checks_origin()) return detail::OriginVerdict::unchecked;
    auto header = [&](const char* name) -> std::optional<std::string_view> {
      const std::string& value = con->get_request_header(name);
      if (value.empty()) return std::nullopt;
      return std::string_view(value);
    };
    detail::OriginHeaders headers;
    headers.origin = con->get_request_header("Origin");
    headers.host = header("Host");
    headers.forwarded_proto = header("X-Forwarded-Proto");
    headers.forwarded_host = header("X-Forwarded-Host");
    try {
      return detail::check_origin(options, headers, "http", [&] { return http_request(con, target, false); });
    } catch (const std::exception& e) {
      core_.report_error(nullptr, std::string("cors_origin_check: ") + e.what());
      return detail::OriginVerdict::refused;
    }
  }

  // ---- prepared frames ----

  static MessagePtr make_frame(const std::string& payload, websocketpp::frame::opcode::value opcode) {
    auto message = std::make_shared<typename Config::message_type>(typename Config::con_msg_manager_type::ptr(), opcode, payload.size());
    message->set_header(websocketpp::frame::prepare_header(
        websocketpp::frame::basic_header(opcode, payload.size(), true, false),
        websocketpp::frame::extended_header(payload.size())));
    message->set_payload(payload);
    message->set_prepared(true);
    return message;
  }

  /// The WebSocket frames of a packet, built once and shared by every recipient.
  const std::vector<MessagePtr>& prepared_frames(const EncodedPacket& packet) {
    if (!packet.transport_cache) {
      auto frames = std::make_shared<std::vector<MessagePtr>>();
      frames->reserve(1 + packet.encoded.attachments.size());
      frames->push_back(make_frame(packet.encoded.text, websocketpp::frame::opcode::text));
      for (const auto& attachment : packet.encoded.attachments)
        frames->push_back(make_frame(attachment, websocketpp::frame::opcode::binary));
      packet.transport_cache = frames;
    }
    return *std::static_pointer_cast<std::vector<MessagePtr>>(packet.transport_cache);
  }

  const MessagePtr& control_frame(char type) {
    auto& frame = control_frames_[type - '0'];
    if (!frame) frame = make_frame(std::string(1, type), websocketpp::frame::opcode::text);
    return frame;
  }

  // ---- handshakes ----

  /// The request's headers, in order.
  static std::vector<std::pair<std::string, std::string>> request_headers(const ConnectionPtr& con) {
    const auto& sent = con->get_request().get_headers();
    std::vector<std::pair<std::string, std::string>> headers;
    // Kept for the session's life: exactly as many slots as headers (growth by doubling left up
    // to 40% of them empty, a few hundred bytes of every idle connection).
    headers.reserve(sent.size());
    for (const auto& header : sent) headers.emplace_back(header.first, header.second);
    return headers;
  }

  /// The peer's IP address ("1.2.3.4" rather than "::ffff:1.2.3.4"), or "" if unknown.
  static std::string remote_address(const ConnectionPtr& con) {
    std::error_code ec;
    const auto remote = con->get_raw_socket().remote_endpoint(ec);
    if (ec) return {};
    auto address = remote.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address.to_string();
  }

  Handshake make_handshake(const ConnectionPtr& con, const detail::Target& target) {
    Handshake handshake;
    handshake.headers = request_headers(con);
    handshake.query = target.query;
    handshake.url = con->get_resource();
    handshake.address = remote_address(con);
    handshake.issued_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::system_clock::now().time_since_epoch()).count();
    return handshake;
  }

  std::string open_packet(const std::string& sid, bool can_upgrade) const {
    const auto& options = core_.options();
    return "0" + engineio::open_packet_data(sid, can_upgrade, options.ping_interval() + options.ping_interval_grace(),
                                            options.ping_timeout(), options.max_payload());
  }

  /// Whether a polling session is offered the upgrade to WebSocket.
  bool can_upgrade() const { return core_.options().allow_upgrades() && core_.options().websocket_allowed(); }

  engineio::AllowedTransports allowed_transports() const {
    return {core_.options().polling_allowed(), core_.options().websocket_allowed()};
  }

  std::shared_ptr<Session<Config>> find_session(const detail::Target& target) const {
    const auto sid = target.param("sid");
    if (!sid) return nullptr;
    const auto found = sessions_.find(std::string(*sid));
    return found == sessions_.end() ? nullptr : found->second;
  }

  // ---- HTTP ----

  void on_http(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    const auto target = detail::parse_target(con->get_resource());
    if (!target) {
      respond(con, 400, "Bad Request", "text/plain");
      return;
    }
    const std::string& path = core_.options().path();
    if (target->path == path || target->path + "/" == path) {
      on_engine_http(con, *target);
      return;
    }
    if (target->path.compare(0, path.size(), path) == 0 && serve_client_bundle(con, target->path.substr(path.size()))) return;
    if (static_root_ && con->get_request().get_method() == "GET") {
      const auto resolved = detail::resolve_static(*static_root_, target->path);
      if (std::holds_alternative<detail::StaticError>(resolved) &&
          std::get<detail::StaticError>(resolved) == detail::StaticError::forbidden) {
        respond(con, 403, "Forbidden", "text/plain");
        return;
      }
      if (const auto* file = std::get_if<std::filesystem::path>(&resolved)) {
        if (auto body = detail::read_file(*file)) {
          respond(con, 200, std::move(*body), detail::mime_type(file->native()));
          return;
        }
      }
    }
    if (http_handler_ && call_http_handler(con, *target)) return;
    respond(con, 404, "Not Found", "text/plain");
  }

  static HttpRequest http_request(const ConnectionPtr& con, const detail::Target& target, bool with_body) {
    HttpRequest request;
    request.method = con->get_request().get_method();
    request.target = con->get_resource();
    request.path = target.path;
    request.query = target.query;
    request.headers = request_headers(con);
    if (with_body) request.body = con->get_request_body();
    request.remote_address = remote_address(con);
    return request;
  }

  bool call_http_handler(const ConnectionPtr& con, const detail::Target& target) {
    HttpRequest request = http_request(con, target, true);
    con->defer_http_response();
    detail::Core* core = &core_;
    auto declined = std::make_shared<bool>(false);
    // The responder holds the connection: a deferred response has no read or write pending,
    // so nothing else keeps websocketpp's connection object alive until it is sent.
    HttpResponder responder([core, declined, con, this](HttpResponse response) {
      if (*declined) return;
      core->dispatch([con, this, response = std::move(response)]() mutable {
        for (const auto& header : response.headers) con->replace_header(header.first, header.second);
        std::string content_type = con->get_response().get_header("Content-Type");
        respond_deferred(con, response.status, std::move(response.body), content_type.empty() ? "text/plain" : content_type);
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
      *declined = true;
      responder.send(HttpResponse{});  // spends the responder, so dropping it sends no 500
      respond_deferred(con, 404, "Not Found", "text/plain");
    }
    return true;
  }

  bool serve_client_bundle(const ConnectionPtr& con, const std::string& name) {
    static const char* const served[] = {"socket.io.js", "socket.io.min.js", "socket.io.js.map",
                                         "socket.io.min.js.map", "socket.io.esm.min.js", "socket.io.esm.min.js.map"};
    if (core_.options().client_bundle_dir().empty()) return false;
    if (std::find(std::begin(served), std::end(served), name) == std::end(served)) return false;
    auto& cached = client_bundle_[name];
    if (cached.empty()) {
      auto body = detail::read_file(std::filesystem::path(core_.options().client_bundle_dir()) / name);
      if (!body) return false;
      cached = std::move(*body);
    }
    respond(con, 200, cached, detail::mime_type(name));
    con->replace_header("Cache-Control", "public, max-age=0");
    return true;
  }

  void on_engine_http(const ConnectionPtr& con, const detail::Target& target) {
    switch (check_origin(con, target)) {
      case detail::OriginVerdict::refused:
        respond_error(con, engineio::Error::forbidden);
        return;
      case detail::OriginVerdict::allowed:
        con->cors_allowed = true;
        break;
      case detail::OriginVerdict::unchecked:
        break;
    }
    const std::string& method = con->get_request().get_method();
    if (method == "OPTIONS") {
      con->replace_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      const std::string& requested = con->get_request_header("Access-Control-Request-Headers");
      if (!requested.empty()) con->replace_header("Access-Control-Allow-Headers", requested);
      respond(con, 204, "", "text/plain");
      return;
    }
    auto session = find_session(target);
    const auto state = session ? session->state() : engineio::SessionState::absent;
    const auto verdict = engineio::classify_request(method, target, false, state, allowed_transports());
    if (const auto* error = std::get_if<engineio::Error>(&verdict)) {
      respond_error(con, *error);
      return;
    }
    switch (std::get<engineio::Intent>(verdict)) {
      case engineio::Intent::open_session: {
        const std::string sid = new_sid();
        auto created = std::make_shared<Session<Config>>(*this, sid, make_handshake(con, target), engineio::Transport::polling);
        add_session(sid, created);
        respond(con, 200, open_packet(sid, can_upgrade()), "text/plain; charset=UTF-8");
        if (const auto& cookie = core_.options().cookie()) {
          con->append_header("Set-Cookie", cookie->name + "=" + sid + (cookie->attributes.empty() ? "" : "; ") +
                                               cookie->attributes);
        }
        created->start();
        break;
      }
      case engineio::Intent::poll:
        if (session->shut_) session->on_last_poll(con);
        else session->on_poll(con);
        break;
      case engineio::Intent::post:
        if (session->shut_) respond_error(con, engineio::Error::unknown_sid);
        else session->on_post(con);
        break;
      case engineio::Intent::upgrade:
        respond_error(con, engineio::Error::bad_request);
        break;
    }
  }

  // ---- WebSocket ----

  bool on_validate(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return false;
    // The 101 response carries "Connection: Upgrade" and no body (see the socket init handler).
    con->remove_header("Connection");
    con->remove_header("Content-Type");
    con->set_body(std::string());
    con->remove_header("Content-Length");
    auto refuse = [&](int status, std::string body) {
      con->set_status(websocketpp::http::status_code::value(status));
      con->replace_header("Connection", "close");
      con->replace_header("Content-Type", "application/json");
      con->set_body(std::move(body));
      return false;
    };
    const auto target = detail::parse_target(con->get_resource());
    const std::string& path = core_.options().path();
    if (!target || (target->path != path && target->path + "/" != path)) return refuse(404, "Not Found");
    if (check_origin(con, *target) == detail::OriginVerdict::refused)
      return refuse(403, engineio::error_body(engineio::Error::forbidden));
    auto session = find_session(*target);
    const auto state = session ? session->state() : engineio::SessionState::absent;
    const auto verdict = engineio::classify_request("GET", *target, true, state, allowed_transports());
    if (const auto* error = std::get_if<engineio::Error>(&verdict)) {
      return refuse(engineio::error_status(*error), engineio::error_body(*error));
    }
    if (std::get<engineio::Intent>(verdict) == engineio::Intent::upgrade) {
      if (!core_.options().allow_upgrades()) return refuse(400, engineio::error_body(engineio::Error::bad_request));
      con->session = session;
      con->probe = true;
    }
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
    const auto target = detail::parse_target(con->get_resource());
    if (con->probe) {
      release_handshake(con);
      auto session = std::static_pointer_cast<Session<Config>>(con->session.lock());
      if (!session) {
        con->close(websocketpp::close::status::policy_violation, "", ec);
        return;
      }
      session->attach_probe(con);
      return;
    }
    const std::string sid = new_sid();
    auto session = std::make_shared<Session<Config>>(*this, sid, make_handshake(con, *target), engineio::Transport::websocket);
    release_handshake(con);
    session->attach_websocket(con);
    con->session = session;
    add_session(sid, session);
    con->send(open_packet(sid, false), websocketpp::frame::opcode::text);
    session->start();
  }

  void on_closed(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    if (auto session = std::static_pointer_cast<Session<Config>>(con->session.lock())) session->on_websocket_closed(con);
  }

  void on_message(Hdl hdl, const MessagePtr& message) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec) return;
    auto session = std::static_pointer_cast<Session<Config>>(con->session.lock());
    if (!session) return;
    if (con->probe) session->on_probe_message(con, message);
    else session->on_websocket_message(message);
  }

  detail::Core& core_;
  std::shared_ptr<std::atomic<std::size_t>> live_connections_ = std::make_shared<std::atomic<std::size_t>>(0);
  Endpoint endpoint_;
  std::unordered_map<std::string, std::shared_ptr<Session<Config>>> sessions_;
  std::atomic<std::size_t> session_count_{0};  // sessions_.size(), for other threads
  std::string sid_prefix_;
  bool stopped_ = false;
  MessagePtr control_frames_[7];
  HttpHandler http_handler_;
  std::optional<std::filesystem::path> static_root_;
  std::unordered_map<std::string, std::string> client_bundle_;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_HPP
