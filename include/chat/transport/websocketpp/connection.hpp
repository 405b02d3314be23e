// One Engine.IO session on websocketpp: the sans-I/O engineio::Session, the websocketpp
// connections it is carried by (a held poll, the WebSocket, an upgrade probe) and its timer. It
// turns the session's actions into websocketpp calls, and is the Socket.IO layer's connection.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP

#include <chrono>        // steady_clock
#include <memory>        // shared_ptr, static_pointer_cast
#include <string>        // string
#include <string_view>   // string_view
#include <system_error>  // error_code
#include <utility>       // exchange, move

#include <asio/steady_timer.hpp>
#include <websocketpp/server.hpp>

#include "../../adapter.hpp"
#include "../../detail/client.hpp"
#include "../../detail/core.hpp"
#include "../../engineio/session.hpp"
#include "config.hpp"
#include "frames.hpp"

namespace chat::transport {

template <class Config>
class Transport;

template <class Config>
class Connection final : public detail::Client, private engineio::SessionIo {
 public:
  using Endpoint = websocketpp::server<Config>;
  using ConnectionPtr = typename Endpoint::connection_ptr;
  using MessagePtr = typename Endpoint::message_ptr;
  using Clock = std::chrono::steady_clock;

  Connection(Transport<Config>& transport, std::string sid, Handshake handshake, engineio::Transport kind,
             detail::Admission::Ticket admission, engineio::Protocol protocol)
      // An Engine.IO v3 client speaks Socket.IO v2, whose socket ids are made of the sid.
      : Client(transport.core_, std::move(handshake), protocol.legacy() ? std::optional<std::string>(sid) : std::nullopt),
        transport_(transport),
        admission_(std::move(admission)),
        session_(std::move(sid), kind, transport.session_config_, *this, Clock::now(), protocol),
        timer_(transport.core_.io()) {}

  engineio::Session& session() { return session_; }
  /// Gives the session's place among the server's sessions back (it has ended).
  void release_admission() { admission_.release(); }
  const std::string& sid() const { return session_.sid(); }

  /// The connection that carries a WebSocket session, or the probe of an upgrade.
  void set_websocket(const ConnectionPtr& con) { ws_ = con; }
  void set_probe(const ConnectionPtr& con) { probe_ = con; }
  bool is_probe(const ConnectionPtr& con) const { return con == probe_; }
  bool is_websocket(const ConnectionPtr& con) const { return con == ws_; }
  /// A WebSocket ping on `con` (the session's WebSocket or its probe); websocketpp answers it
  /// with a pong when this returns true. The pong queues like any frame but outside the bound on
  /// data (send_messages): a client that pings without reading would grow the queue without
  /// limit, so past max_buffered_bytes it is dropped as a slow reader is, with one log line.
  bool on_ping(const ConnectionPtr& con) {
    const auto unread = con->get_buffered_amount();
    if (unread <= core().options().max_buffered_bytes()) return true;
    if (con == probe_) {
      close_websocket(engineio::Socket::probe, false);
    } else if (!failing_) {
      core().report_error(nullptr, "session " + sid() + ": dropped a WebSocket client that pings without reading (" +
                                       std::to_string(unread) + " bytes unread)");
      fail_soon(DisconnectReason::transport_error);
    }
    return false;
  }

  /// Keeps a GET the session holds (a long poll) until the session releases it.
  void hold_poll(const ConnectionPtr& con) {
    con->defer_http_response();
    poll_ = con;
  }

  // ---- the Socket.IO layer's connection ----

  void write(const std::shared_ptr<const OutgoingPacket>& packet) override {
    if (auto* observer = core().observer()) {
      const auto& encoded = packet->encoded();
      observer->message_sent(encoded.data.size() + (encoded.binary ? 0 : 1));  // Node counts the `4` of a text message
      for (const auto& attachment : encoded.attachments) observer->message_sent(attachment.size());
    }
    session_.send(OutgoingPacket::messages(packet));
  }

  const std::string& connection_id() const override { return session_.sid(); }
  std::string_view transport_name() const override {
    return session_.transport() == engineio::Transport::websocket ? "websocket" : "polling";
  }

  bool writable() const override {
    if (session_.ended() || failing_) return false;
    if (session_.transport() == engineio::Transport::polling) return session_.polling_writable();
    // websocketpp counts a frame until its write completes, which runs on this thread: nothing
    // counted means nothing is waiting, as Node's `ws` transport is writable between sends.
    return ws_ && ws_->get_buffered_amount() == 0;
  }

 protected:
  void close_transport() override { session_.close(closing_gracefully(), Clock::now()); }

 private:
  std::shared_ptr<Connection> self() { return std::static_pointer_cast<Connection>(shared_from_this()); }
  std::weak_ptr<Connection> weak_self() { return self(); }

  // ---- the session's actions ----

  void release_poll(engineio::HttpReply reply) override {
    if (poll_) transport_.release_poll(std::exchange(poll_, nullptr), reply);
  }

  void send_messages(const std::shared_ptr<const engineio::Messages>& messages) override {
    if (!ws_ || failing_) return;  // failing: nothing more joins a queue that is being dropped
    const std::size_t deflate_from = core().options().per_message_deflate_threshold();
    for (const auto& frame : transport_.frame_cache_.frames(messages, binary_framing(session_.protocol()))) {
      // A client with permessage-deflate gets a large message compressed for it alone (its
      // compressor's state is its own), unless it was sent without compression; the shared
      // frame goes out as it is.
      if (ws_->deflate && messages->compress && frame->get_payload().size() >= deflate_from)
        ws_->send(frame->get_payload(), frame->get_opcode());
      else ws_->send(frame);
    }
    if (ws_->get_buffered_amount() > core().options().max_buffered_bytes()) fail_soon(DisconnectReason::transport_error);
  }

  void send_text(engineio::Socket socket, std::string_view text) override {
    const ConnectionPtr& con = socket == engineio::Socket::main ? ws_ : probe_;
    if (!con) return;
    if (text.size() == 1) con->send(transport_.frame_cache_.control_frame(engineio::PacketType(text[0])));
    else con->send(std::string(text), websocketpp::frame::opcode::text);
  }

  void promote_probe() override {
    ws_ = std::exchange(probe_, nullptr);
    ws_->probe = false;  // from now on its messages are the session's own
    if (auto* observer = core().observer()) observer->connection_upgraded(*this);
  }

  void close_websocket(engineio::Socket socket, bool normal) override {
    ConnectionPtr& con = socket == engineio::Socket::main ? ws_ : probe_;
    if (!con) return;
    std::error_code ec;
    const ConnectionPtr closing = std::exchange(con, nullptr);
    if (closing->get_buffered_amount() > core().options().max_buffered_bytes()) {
      // A close frame would queue behind more than the bound, for a client that is not reading:
      // websocketpp would wait for it forever (its close timeout starts once the frame is
      // written). Cut the TCP connection instead; the unsent frames go with it.
      closing->terminate(ec);
      return;
    }
    closing->close(normal ? websocketpp::close::status::normal : websocketpp::close::status::policy_violation, "", ec);
  }

  void arm_timer(Clock::time_point deadline) override {
    timer_.expires_at(deadline);
    detail::Core::wait(timer_, [self = weak_self()](const std::error_code& ec) {
      if (ec) return;
      if (auto connection = self.lock()) connection->session_.on_timer(Clock::now());
    });
  }

  void schedule_flush() override {
    core().post([self = weak_self()] {
      if (auto connection = self.lock()) connection->session_.flush();
    });
  }

  void fail_soon(DisconnectReason reason) override {
    // Once: a client over its bound is found so on each message (or ping) until the post runs.
    if (std::exchange(failing_, true)) return;
    core().post([self = weak_self(), reason] {
      if (auto connection = self.lock()) connection->session_.fail(reason);
    });
  }

  void message(std::string_view data, bool binary) override { on_message(data, binary); }

  void closed(DisconnectReason reason) override {
    auto keep = self();
    on_transport_closed(reason);
  }

  void finished() override {
    auto keep = self();
    timer_.cancel();
    transport_.erase_session(session_.sid());
  }

  Transport<Config>& transport_;
  detail::Admission::Ticket admission_;
  engineio::Session session_;
  asio::steady_timer timer_;
  ConnectionPtr ws_;
  ConnectionPtr probe_;
  ConnectionPtr poll_;
  bool failing_ = false;  // fail_soon posted: the session ends with the first reason
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP
