// One Engine.IO session on websocketpp: the sans-I/O engineio::Session, the websocketpp
// connections it is carried by (a held poll, the WebSocket, an upgrade probe) and its timer. It
// turns the session's actions into websocketpp calls, and is the Socket.IO layer's connection.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP

#include <chrono>        // steady_clock
#include <cstddef>       // size_t
#include <memory>        // shared_ptr, static_pointer_cast
#include <string>        // string
#include <string_view>   // string_view
#include <system_error>  // error_code
#include <utility>       // exchange, move
#include <vector>        // vector

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
    const auto unread = con->get_buffered_amount() + (con == ws_ ? held_bytes_ : 0);
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
    session_.send(packet->messages());
  }

  const std::string& connection_id() const override { return session_.sid(); }
  std::string_view transport_name() const override {
    return session_.transport() == engineio::Transport::websocket ? "websocket" : "polling";
  }

  bool writable() const override {
    if (session_.ended() || failing_) return false;
    if (session_.transport() == engineio::Transport::polling) return session_.polling_writable();
    // websocketpp counts a frame from its send until its write starts (write_frame, posted to
    // this thread): nothing counted or held means nothing is waiting to be written, as Node's
    // `ws` transport is writable between sends.
    return ws_ && held_.empty() && ws_->get_buffered_amount() == 0;
  }

  /// Hands the frames held since the last write to websocketpp, the small ones joined into one
  /// message (see send_frame). Io thread; the transport calls it once per turn that held any.
  void write_held() {
    if (held_.empty()) return;
    if (ws_) {
      // A client with a backlog is sent the shared frames as they are: joined, each slow reader
      // would hold its own copy of what its queue holds.
      const bool join = ws_->get_buffered_amount() < kJoinedMessageBytes;
      std::size_t i = 0;
      while (i < held_.size()) {
        std::size_t end = i;
        std::size_t bytes = 0;
        while (join && end < held_.size() && wire_size(held_[end]) <= kJoinedFrameBytes &&
               bytes + wire_size(held_[end]) <= kJoinedMessageBytes)
          bytes += wire_size(held_[end++]);
        if (end - i >= 2) {
          ws_->send(joined(i, end, bytes));
          i = end;
        } else {
          ws_->send(held_[i++]);
        }
      }
    }
    held_.clear();
    held_bytes_ = 0;
    if (held_.capacity() > kKeptHeldFrames) std::vector<MessagePtr>().swap(held_);  // a burst's list is not kept
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
      if (ws_->deflate && messages->compress && frame->get_payload().size() >= deflate_from) {
        write_held();  // in order
        ws_->send(frame->get_payload(), frame->get_opcode());
      } else {
        send_frame(frame);
      }
    }
    if (ws_->get_buffered_amount() + held_bytes_ > core().options().max_buffered_bytes())
      fail_soon(DisconnectReason::transport_error);
  }

  /// Holds a prepared frame for write_held, at the end of this turn. websocketpp posts a write
  /// to the io thread (and allocates for it) for each send it takes while no write of the
  /// connection's is under way, and each such write goes out on its own: a burst of broadcasts,
  /// reaching a connection several times in one turn, would cost a post per frame and a
  /// `sendmsg` for its first. Held, the turn's frames reach websocketpp as one message, in one
  /// write, once per connection and turn; the cost, one post per turn for all connections.
  void send_frame(const MessagePtr& frame) {
    if (held_.empty()) transport_.write_held_later(weak_self());
    held_.push_back(frame);
    held_bytes_ += wire_size(frame);
  }

  /// The held frames [begin, end), `bytes` in all, as one prepared message: a message websocketpp
  /// has let go of is filled again rather than allocated.
  MessagePtr joined(std::size_t begin, std::size_t end, std::size_t bytes) {
    if (!joined_ || joined_.use_count() > 1) joined_ = FrameCache<Config>::make_frame({}, websocketpp::frame::opcode::text);
    joined_->set_header({});
    std::string& wire = joined_->get_raw_payload();
    wire.clear();
    wire.reserve(bytes);
    for (std::size_t i = begin; i < end; ++i) wire.append(held_[i]->get_header()).append(held_[i]->get_payload());
    // A large one is websocketpp's alone, freed once written: each connection keeps at most a
    // small one between turns.
    if (wire.capacity() > kKeptJoinedBytes) return std::move(joined_);
    return joined_;
  }

  static std::size_t wire_size(const MessagePtr& frame) { return frame->get_header().size() + frame->get_payload().size(); }

  void send_text(engineio::Socket socket, std::string_view text) override {
    const ConnectionPtr& con = socket == engineio::Socket::main ? ws_ : probe_;
    if (!con) return;
    if (socket == engineio::Socket::main) write_held();  // in order
    if (text.size() == 1) con->send(transport_.frame_cache_.control_frame(engineio::PacketType(text[0])));
    else con->send(std::string(text), websocketpp::frame::opcode::text);
  }

  void promote_probe() override {
    write_held();
    ws_ = std::exchange(probe_, nullptr);
    ws_->probe = false;  // from now on its messages are the session's own
    if (auto* observer = core().observer()) observer->connection_upgraded(*this);
  }

  void close_websocket(engineio::Socket socket, bool normal) override {
    ConnectionPtr& con = socket == engineio::Socket::main ? ws_ : probe_;
    if (!con) return;
    std::error_code ec;
    if (socket == engineio::Socket::main) write_held();  // before the close frame
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
  // Frames held for one write (send_frame); a frame of at most kJoinedFrameBytes on the wire is
  // joined with its neighbours (copied: cheaper than a post up to about this size), into
  // messages of at most kJoinedMessageBytes; a larger one goes alone, shared with its other
  // recipients. Between turns a connection keeps a joined message of at most kKeptJoinedBytes
  // to fill again, and a list of at most kKeptHeldFrames.
  static constexpr std::size_t kJoinedFrameBytes = 1024;
  static constexpr std::size_t kJoinedMessageBytes = 64 * 1024;
  static constexpr std::size_t kKeptJoinedBytes = 4 * 1024;
  static constexpr std::size_t kKeptHeldFrames = 64;
  std::vector<MessagePtr> held_;
  std::size_t held_bytes_ = 0;
  MessagePtr joined_;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_CONNECTION_HPP
