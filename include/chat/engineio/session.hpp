// The Engine.IO session (v4, or v3 for socket.io-client 2.x: v3.hpp) as a state machine, with
// no socket and no clock: the transport tells it what arrived (requests, frames, a WebSocket
// probe, the time) and does what it asks (answer a request, hold or release a poll, send frames,
// close a WebSocket, arm a timer); the layer above gets the messages and hears why the session
// ended. The polling outbox, the per-poll packet cap, the upgrade (probe, `3probe`, `5`), noop
// releases, graceful drain and linger live here.
// (h11's connection/state split; Node's engine.io socket.ts against its transports.)
#ifndef CHAT_ENGINEIO_SESSION_HPP
#define CHAT_ENGINEIO_SESSION_HPP

#include <algorithm>    // min
#include <chrono>       // milliseconds, steady_clock
#include <cstddef>      // size_t
#include <memory>       // shared_ptr
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move
#include <vector>       // vector

#include "../reason.hpp"
#include "heartbeat.hpp"
#include "packet.hpp"
#include "request.hpp"
#include "v3.hpp"

namespace chat::engineio {

/// What a session needs to know of its server's settings.
struct SessionConfig {
  std::chrono::milliseconds ping_interval{25000};  ///< how often the server pings
  std::chrono::milliseconds ping_timeout{20000};   ///< how long a ping may go unanswered
  /// The ping interval the open packet states (the interval plus python-engineio's grace).
  std::chrono::milliseconds advertised_ping_interval{25000};
  std::chrono::milliseconds upgrade_timeout{10000};  ///< how long an upgrade probe may take
  std::size_t max_payload = 1000000;                ///< stated in the open packet
  std::size_t max_buffered_bytes = 16u << 20;       ///< a polling backlog beyond this drops the client
  bool upgrade_offered = true;                      ///< whether a polling session is offered WebSocket
  std::optional<std::string> initial_packet;        ///< a message sent right after the open packet
};

/// The answer to the HTTP request an event came with.
struct HttpReply {
  /// Whether the request is answered now or held.
  enum class Kind {
    respond,  ///< answer now with `status`, `body`, `type`
    hold,     ///< keep the request open: the session releases it later (a long poll)
  };
  Kind kind = Kind::respond;                      ///< now, or held
  int status = 200;                               ///< the HTTP status of an answer now
  std::string body;                               ///< its body
  std::string_view type = content_type::payload;  ///< its Content-Type
  /// Whether the transport may compress the body (HTTP compression): false for a payload
  /// holding only messages sent without compression (Node's `compress` flag).
  bool compress = true;

  /// A 200 with an Engine.IO payload.
  static HttpReply payload(std::string body, bool compress = true) {
    return {Kind::respond, 200, std::move(body), content_type::payload, compress};
  }
  /// An Engine.IO v3 payload in the binary format (v3::binary_payload_type).
  static HttpReply binary_payload(std::string body, bool compress = true) {
    return {Kind::respond, 200, std::move(body), v3::binary_payload_type, compress};
  }
  /// Whether it is a 200 polling payload (text or binary), which HTTP compression may shrink.
  bool is_payload() const {
    return kind == Kind::respond && status == 200 && (type == content_type::payload || type == v3::binary_payload_type);
  }
  /// Engine.IO's error answer for `error` (its status and JSON body).
  static HttpReply error(Error error) {
    return {Kind::respond, error_status(error), error_body(error), content_type::error};
  }
  /// The request is held (a long poll).
  static HttpReply held() { return {Kind::hold, 0, {}, {}}; }
};

/// Which WebSocket of a session an action concerns.
enum class Socket {
  main,   ///< the session's WebSocket (opened as one, or upgraded to)
  probe,  ///< a WebSocket probing to upgrade a polling session
};

/// What a session asks of its transport and of the layer above (the actions). Each call is
/// made while the session handles an event, on the same thread.
class SessionIo {
 public:
  /// The clock of `arm_timer`'s deadlines.
  using Clock = std::chrono::steady_clock;

  /// Answers the held poll with `reply`, a payload (HttpReply::payload or, for an Engine.IO v3
  /// client taking binary, HttpReply::binary_payload), which the transport may compress when
  /// `reply.compress`.
  virtual void release_poll(HttpReply reply) = 0;
  /// Sends a group of messages on the main WebSocket.
  virtual void send_messages(const std::shared_ptr<const Messages>& messages) = 0;
  /// Sends one text frame ("2", "3probe", ...) on a WebSocket.
  virtual void send_text(Socket socket, std::string_view text) = 0;
  /// The probe completed the upgrade: it is the session's WebSocket from now on.
  virtual void promote_probe() = 0;
  /// Closes a WebSocket: `normal` (1000), else for breaking the protocol (1008).
  virtual void close_websocket(Socket socket, bool normal) = 0;
  /// Calls `Session::on_timer` at `deadline` (replacing the previous deadline).
  virtual void arm_timer(Clock::time_point deadline) = 0;
  /// Calls `Session::flush` soon, once what runs now is done: packets written in one go leave
  /// in one response.
  virtual void schedule_flush() = 0;
  /// Calls `Session::fail(reason)` soon, from a fresh stack (a caller may be walking a room).
  virtual void fail_soon(DisconnectReason reason) = 0;
  /// An Engine.IO message arrived for the layer above (text without its `4`, or binary bytes).
  virtual void message(std::string_view data, bool binary) = 0;
  /// The session ended on its own (the peer left, a timeout, bad input, a failure). Not called
  /// when the layer above asked for the end through `Session::close`.
  virtual void closed(DisconnectReason reason) = 0;
  /// Nothing is left to answer: the transport may drop the session (after `closed` or `close`,
  /// at once or after the linger of a graceful close).
  virtual void finished() = 0;

 protected:
  ~SessionIo() = default;
};

/// One Engine.IO session. The transport creates it with `open_polling` or `open_websocket` and
/// feeds it events; every method runs on the transport's thread. It speaks the protocol of the
/// request that opened it: v4, or v3 (Options::allow_eio3), whose framing differs (v3.hpp) and
/// whose client pings (the server answers with a pong, and gives up on a client silent for
/// the ping interval plus the ping timeout).
class Session {
 public:
  /// The clock of the session's deadlines.
  using Clock = std::chrono::steady_clock;

  /// Engine.IO packets per polling response at most. python-engineio's client refuses a payload
  /// of more than 16 packets and drops the connection; the rest goes with the next GET, which
  /// every client sends at once.
  static constexpr std::size_t max_packets_per_poll = 16;

  /// A session `sid` opened at `now` on `transport`, speaking `protocol`; `io` (which outlives
  /// it) carries out what it asks. `open_polling` or `open_websocket` follows.
  Session(std::string sid, Transport transport, const SessionConfig& config, SessionIo& io, Clock::time_point now,
          Protocol protocol = {})
      : sid_(std::move(sid)),
        transport_(transport),
        config_(config),
        io_(io),
        protocol_(protocol),
        // A v3 client pings at the interval the open packet states.
        heartbeat_(protocol.legacy() ? config.advertised_ping_interval : config.ping_interval, config.ping_timeout, now,
                   protocol.legacy() ? Heartbeat::Direction::client_pings : Heartbeat::Direction::server_pings) {}

  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// The session id.
  const std::string& sid() const { return sid_; }
  /// The transport it is on now (WebSocket once upgraded).
  Transport transport() const { return transport_; }
  /// The protocol the session speaks; for v3, `base64` is that of its current transport (a
  /// WebSocket it upgraded to says its own).
  const Protocol& protocol() const { return protocol_; }

  /// What `classify_request` needs to know of this session.
  SessionState state() const {
    if (transport_ == Transport::websocket) return SessionState::websocket;
    return probe_ ? SessionState::upgrading : SessionState::polling;
  }
  /// Whether the session has ended (it may still linger for a last GET).
  bool ended() const { return ended_; }
  /// Whether it ended gracefully and waits for the GET that takes what is left.
  bool lingering() const { return lingering_; }
  /// Over polling: whether a message sent now leaves at once, in the response to a GET that is
  /// held and has nothing queued before it (Node's polling `writable`; a volatile packet is
  /// dropped otherwise). Over WebSocket the transport's own send queue decides.
  bool polling_writable() const { return !ended_ && poll_held_ && outbox_.empty(); }

  // ---- opening ----

  /// The answer to the handshake request of a polling session (the open packet).
  HttpReply open_polling() {
    arm();
    const std::string open = open_packet(config_.upgrade_offered);
    if (protocol_.legacy()) {
      std::vector<v3::Record> records{{PacketType::open, std::string_view(open).substr(1), false}};
      if (config_.initial_packet) records.push_back({PacketType::message, *config_.initial_packet, false});
      return v3_reply(records, true);
    }
    std::string payload = open;
    if (config_.initial_packet) {
      payload += record_separator;
      payload += message_frame(*config_.initial_packet);
    }
    return HttpReply::payload(std::move(payload));
  }
  /// Sends the open packet as the WebSocket session's first frame (and the initial packet, when
  /// there is one, as its second).
  void open_websocket() {
    io_.send_text(Socket::main, open_packet(false));
    if (config_.initial_packet) io_.send_text(Socket::main, message_frame(*config_.initial_packet));
    arm();
  }

  // ---- long-polling ----

  /// A GET on this session.
  HttpReply on_poll() {
    if (lingering_) return last_poll();
    if (ended_ || transport_ != Transport::polling) return HttpReply::error(Error::bad_request);
    if (poll_held_) {
      // A second concurrent GET: refused, and the session ends (the held GET gets `1`).
      fail(DisconnectReason::transport_error);
      return HttpReply::error(Error::bad_request);
    }
    if (probe_ && upgrading_) return control_payload(PacketType::noop);
    if (!outbox_.empty()) return take_payload();
    poll_held_ = true;
    return HttpReply::held();
  }

  /// A POST on this session: `body` is a polling payload. `binary_content` when it came as
  /// application/octet-stream (Engine.IO v3's binary payloads, which v4 refuses).
  HttpReply on_post(std::string_view body, bool binary_content, Clock::time_point now) {
    if (ended_ || transport_ != Transport::polling) return HttpReply::error(Error::unknown_sid);
    if (binary_content && !protocol_.legacy()) return HttpReply::error(Error::bad_request);
    auto packets = protocol_.legacy() ? v3::decode_payload(body, binary_content) : decode_payload(body);
    if (!packets) {
      fail(DisconnectReason::parse_error);
      return HttpReply::error(Error::bad_request);
    }
    for (auto& packet : *packets) {
      if (ended_) break;
      on_packet(packet, now);
    }
    return HttpReply{HttpReply::Kind::respond, 200, "ok", content_type::post_ok};
  }

  /// Sends what was written since the poll was held (after `schedule_flush`).
  void flush() {
    flush_scheduled_ = false;
    if (poll_held_ && !outbox_.empty() && !ended_) release(take_payload());
  }

  // ---- WebSocket ----

  /// A message on the main WebSocket.
  void on_websocket_message(std::string_view data, bool binary, Clock::time_point now) {
    if (ended_) return;
    if (binary && !protocol_.legacy()) {
      io_.message(data, true);
      return;
    }
    // v3: a binary frame starts with its packet type; a text frame may be `b4<base64>`.
    auto packet = !protocol_.legacy() ? decode_text(data) : binary ? v3::decode_binary_record(data) : v3::decode_record(data);
    if (!packet) {
      fail(DisconnectReason::parse_error);
      return;
    }
    on_packet(*packet, now);
  }

  /// The main WebSocket closed.
  void on_websocket_closed() {
    if (!ended_) fail(DisconnectReason::transport_close);
  }

  /// A WebSocket carrying this session's sid opened to upgrade it. False when it may not (the
  /// session is not polling, or a probe is already attached): the transport closes it.
  /// `probe_protocol`: what its request said (a v3 WebSocket asks for base64 on its own).
  bool attach_probe(Clock::time_point now, Protocol probe_protocol = {}) {
    if (ended_ || probe_ || transport_ != Transport::polling) return false;
    probe_ = true;
    probe_base64_ = probe_protocol.base64;
    upgrade_deadline_ = now + config_.upgrade_timeout;
    arm();
    return true;
  }

  /// A text message on the probe: `2probe`, then `5` once the client paused polling.
  void on_probe_message(std::string_view text) {
    if (ended_ || !probe_) return;
    if (text == "2probe" && !upgrading_) {
      io_.send_text(Socket::probe, "3probe");
      upgrading_ = true;
      // Release the pending GET so the client can pause polling and finish the upgrade.
      if (poll_held_) release(control_payload(PacketType::noop));
    } else if (text == "5" && upgrading_) {
      complete_upgrade();
    } else {
      drop_probe();
    }
  }

  /// The probe closed before the upgrade completed: polling goes on.
  void on_probe_closed() {
    probe_ = false;
    upgrading_ = false;
    upgrade_deadline_.reset();
  }

  // ---- writing, time, ending ----

  /// Queues a group of messages: sent now over WebSocket, with the next poll otherwise. Does
  /// nothing once the session has ended.
  void send(const std::shared_ptr<const Messages>& messages) {
    if (ended_) return;
    if (transport_ == Transport::websocket) {
      io_.send_messages(messages);
      return;
    }
    outbox_bytes_ += messages->polling_bytes();
    outbox_.push_back(Outgoing{messages, PacketType::message});
    if (outbox_bytes_ > config_.max_buffered_bytes) {
      io_.fail_soon(DisconnectReason::transport_error);
      return;
    }
    wake_poll();
  }

  /// The timer `arm_timer` asked for went off (or any later time).
  void on_timer(Clock::time_point now) {
    if (lingering_) {
      if (now >= linger_deadline_) finish();
      else io_.arm_timer(linger_deadline_);
      return;
    }
    if (ended_) return;
    if (upgrade_deadline_ && now >= *upgrade_deadline_) drop_probe();
    switch (heartbeat_.on_timer(now)) {
      case Heartbeat::Action::timed_out:
        fail(DisconnectReason::ping_timeout);
        return;
      case Heartbeat::Action::send_ping:
        send_control(PacketType::ping);
        break;
      case Heartbeat::Action::none:
        break;
    }
    arm();
  }

  /// Ends the session because the layer above asked (no `closed` action follows). With
  /// `drain`, packets still queued for a polling client are delivered first, and the close
  /// packet in the response after them (the client handles a close at once but packets a tick
  /// later, so one response holding both would lose them), as Node's engine.io drains before
  /// closing; until that last GET, or ping_timeout, the session lingers. Without `drain` (a
  /// dead or misbehaving peer) it goes at once.
  void close(bool drain, Clock::time_point now) {
    if (ended_) return;
    shut_down(drain, now);
  }

  /// Ends the session because the transport gave up on it (a write backlog over its bound), or
  /// because of a failure `fail_soon` reported: `closed(reason)` follows.
  void fail(DisconnectReason reason) {
    if (ended_) return;
    shut_down(false, Clock::time_point());
    io_.closed(reason);
  }

  /// The server is stopping: a lingering session stops waiting for its last GET.
  void forget() {
    if (lingering_) finish();
  }

 private:
  /// A packet waiting for the next GET: a group of messages, or a packet without data.
  struct Outgoing {
    std::shared_ptr<const Messages> messages;
    PacketType control;
  };

  std::string open_packet(bool upgrades) const {
    return char(PacketType::open) + open_packet_data(sid_, upgrades, config_.advertised_ping_interval,
                                                     config_.ping_timeout, config_.max_payload);
  }

  void on_packet(Packet& packet, Clock::time_point now) {
    switch (packet.type) {
      case PacketType::message:
        io_.message(packet.data, packet.binary);
        break;
      case PacketType::pong:
        if (protocol_.legacy()) {
          fail(DisconnectReason::transport_error);  // Node: "invalid heartbeat direction"
          break;
        }
        if (heartbeat_.awaiting_pong()) {
          heartbeat_.on_pong(now);
          arm();  // the next ping is due an interval from now, not at the pong deadline
        }
        break;
      case PacketType::close:
        if (poll_held_) release(control_payload(PacketType::noop));
        fail(DisconnectReason::transport_close);
        break;
      case PacketType::ping:
        if (protocol_.legacy()) {
          // A v3 client pings and the server answers; the ping proves it alive.
          heartbeat_.on_client_ping(now);
          send_control(PacketType::pong);
          arm();
          break;
        }
        // A v4 server pings and the client answers: a client's ping is Node's "invalid heartbeat
        // direction", a transport error.
        fail(DisconnectReason::transport_error);
        break;
      default:
        // open, noop, an upgrade outside a probe: ignored, as Node's engine.io ignores them (a
        // client may send a noop on either transport).
        break;
    }
  }

  void send_control(PacketType type) {
    if (transport_ == Transport::websocket) {
      io_.send_text(Socket::main, control_frame(type));
      return;
    }
    outbox_.push_back(Outgoing{nullptr, type});
    wake_poll();
  }

  void wake_poll() {
    if (!poll_held_ || flush_scheduled_) return;
    flush_scheduled_ = true;
    io_.schedule_flush();
  }

  void release(HttpReply payload) {
    poll_held_ = false;
    io_.release_poll(std::move(payload));
  }

  /// A payload of one packet without data (noop, close) in the session's framing.
  HttpReply control_payload(PacketType type) const {
    if (protocol_.legacy()) return v3_reply({v3::Record{type, {}, false}}, true);
    return HttpReply::payload(control_frame(type));
  }

  /// A v3 payload of `records`, binary when one is a binary message and the client takes binary.
  HttpReply v3_reply(const std::vector<v3::Record>& records, bool compress) const {
    v3::Payload payload = v3::encode_payload(records, !protocol_.base64);
    return payload.binary ? HttpReply::binary_payload(std::move(payload.body), compress)
                          : HttpReply::payload(std::move(payload.body), compress);
  }

  /// The payload of the next response: at most max_packets_per_poll packets of the outbox
  /// (always at least one group, however large); compressible unless every group in it was
  /// sent without compression (control packets are a byte: they do not count).
  HttpReply take_payload() {
    std::string payload;
    std::vector<v3::Record> records;  // v3: the packets, encoded together once all are known
    const bool legacy = protocol_.legacy();
    bool compress = false;
    std::size_t packets = 0;
    std::size_t taken = 0;
    for (; taken < outbox_.size(); ++taken) {
      const Outgoing& entry = outbox_[taken];
      const std::size_t count = entry.messages ? entry.messages->count() : 1;
      if (taken > 0 && packets + count > max_packets_per_poll) break;
      packets += count;
      if (!entry.messages) {
        if (legacy) records.push_back({entry.control, {}, false});
        else append_control(payload, entry.control);
        continue;
      }
      if (legacy) {
        records.push_back({PacketType::message, entry.messages->data, entry.messages->binary});
        for (const auto& attachment : entry.messages->attachments) records.push_back({PacketType::message, attachment, true});
      } else {
        append_messages(payload, *entry.messages);
      }
      compress = compress || entry.messages->compress;
      outbox_bytes_ -= std::min(outbox_bytes_, entry.messages->polling_bytes());
    }
    HttpReply reply = legacy ? v3_reply(records, compress) : HttpReply::payload(std::move(payload), compress);
    outbox_.erase(outbox_.begin(), outbox_.begin() + std::ptrdiff_t(taken));  // polling backlogs are short
    if (outbox_.empty()) outbox_bytes_ = 0;
    return reply;
  }

  void complete_upgrade() {
    upgrade_deadline_.reset();
    transport_ = Transport::websocket;
    protocol_.base64 = probe_base64_;
    probe_ = false;
    upgrading_ = false;
    io_.promote_probe();
    if (poll_held_) release(control_payload(PacketType::noop));
    auto pending = std::move(outbox_);
    outbox_.clear();
    outbox_bytes_ = 0;
    for (const auto& entry : pending) {
      if (entry.messages) io_.send_messages(entry.messages);
      else io_.send_text(Socket::main, control_frame(entry.control));
    }
    arm();
  }

  void drop_probe() {
    if (!probe_) return;
    io_.close_websocket(Socket::probe, false);
    on_probe_closed();
  }

  /// The next time something is due: a ping or its timeout, or the end of an upgrade probe.
  void arm() {
    auto deadline = heartbeat_.deadline();
    if (upgrade_deadline_) deadline = std::min(deadline, *upgrade_deadline_);
    io_.arm_timer(deadline);
  }

  void shut_down(bool drain, Clock::time_point now) {
    ended_ = true;
    upgrade_deadline_.reset();
    if (transport_ == Transport::websocket) io_.close_websocket(Socket::main, true);
    if (probe_) {
      probe_ = false;
      upgrading_ = false;
      io_.close_websocket(Socket::probe, true);
    }
    if (transport_ == Transport::polling && drain && (!poll_held_ || !outbox_.empty())) {
      if (poll_held_) release(take_payload());
      lingering_ = true;
      linger_deadline_ = now + config_.ping_timeout;
      io_.arm_timer(linger_deadline_);
      return;
    }
    if (poll_held_) release(control_payload(PacketType::close));
    outbox_.clear();
    outbox_bytes_ = 0;
    finish();
  }

  /// A GET on a lingering session: what was still queued, then the close packet.
  HttpReply last_poll() {
    if (!outbox_.empty()) return take_payload();
    finish();
    return control_payload(PacketType::close);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    lingering_ = false;
    io_.finished();
  }

  std::string sid_;
  Transport transport_;
  const SessionConfig& config_;
  SessionIo& io_;
  Protocol protocol_;
  Heartbeat heartbeat_;
  std::optional<Clock::time_point> upgrade_deadline_;
  Clock::time_point linger_deadline_;
  // A vector, not a deque: an empty libstdc++ deque still holds a 512-byte block, and most
  // sessions (WebSocket ones) never queue anything here.
  std::vector<Outgoing> outbox_;
  std::size_t outbox_bytes_ = 0;
  bool poll_held_ = false;
  bool probe_ = false;
  bool probe_base64_ = false;  // v3: the probe's WebSocket carries binary as base64 text
  bool upgrading_ = false;
  bool flush_scheduled_ = false;
  bool ended_ = false;
  bool lingering_ = false;
  bool finished_ = false;
};

}  // namespace chat::engineio

#endif  // CHAT_ENGINEIO_SESSION_HPP
