// Fuzzes the sans-I/O Engine.IO session (chat/engineio/session.hpp) with a script of events: a
// driver plays the transport as the websocketpp one does (each request classified with
// classify_request against the session's state, a GET held until the session releases it,
// posted work and the timer run when the script says, the timer at its deadline), and checks
// after every callback and every step:
//   - what the layer above sends, and the pings the heartbeat is due to send (modelled here:
//     every ping_interval after the open or the last pong that answered a ping), arrive once, in
//     order, whole groups per response, over polling or (after the upgrade) the WebSocket; a
//     response holds at most 16 packets unless it is one group, and stops only where the next
//     entry would not fit; nothing waits behind a held GET without a flush or failure pending; a
//     graceful close sends its close packet only after the rest;
//   - a polling backlog over max_buffered_bytes has asked to fail the session;
//   - every callback is legal where it comes: a poll released only while held, frames only on an
//     open WebSocket, 3probe only after 2probe, the probe promoted only after 3probe and on the
//     client's 5, nothing at all after finished(), closed() once and only when the session ended
//     by itself, with the reason the event calls for;
//   - the messages the layer above hears are those the client sent, up to a close or ping packet;
//   - state moves only forward (polling, upgrading, websocket; ended, lingering, finished);
//   - a live session always has its timer armed in the future and no later than what is due next
//     (a ping, its timeout, the upgrade timeout, the end of a linger); it ends with "ping timeout"
//     exactly when a ping went ping_timeout unanswered, drops a probe at upgrade_timeout, stops
//     lingering at ping_timeout; a tick wakes the session a few times at most.
//
// Input: one event per line (a word, then its argument; unknown lines are skipped):
//   open polling|websocket [interval timeout upgrade_timeout max_buffered upgrades]
//        the first line; without it "open polling"; the numbers default to 25000 20000 10000
//        1000 1 (milliseconds, bytes, upgrades offered or not)
//   get | post <payload> | post-binary <payload>       HTTP requests carrying the session's sid
//   probe | probe-msg <text> | probe-close              a WebSocket upgrade, its messages, its end
//   ws <text> | ws-binary <bytes> | ws-close            the session's WebSocket
//   send <text>[<TAB><attachment>...] | send-binary <bytes>   the layer above writes a group
//   close | close-drain | forget | overflow             the layer above / server / transport
//   tick <ms> | run                                     time passes / posted work runs
#include <chat/engineio/session.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using chat::DisconnectReason;
using chat::engineio::HttpReply;
using chat::engineio::Intent;
using chat::engineio::Messages;
using chat::engineio::Session;
using chat::engineio::SessionConfig;
using chat::engineio::SessionState;
using chat::engineio::Socket;
using chat::engineio::Transport;
using Clock = Session::Clock;
using std::chrono::milliseconds;

constexpr std::string_view sid = "fuzzsid";

std::string_view next_word(std::string_view& text) {
  const std::size_t space = text.find(' ');
  const std::string_view word = text.substr(0, space);
  text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  return word;
}

/// A decimal number from the front of `text`, clamped to [low, high]; `absent` when none.
std::uint64_t number(std::string_view text, std::uint64_t absent, std::uint64_t low, std::uint64_t high) {
  std::uint64_t value = 0;
  bool any = false;
  for (char c : text) {
    if (c < '0' || c > '9') break;
    any = true;
    value = std::min<std::uint64_t>(value * 10 + std::uint64_t(c - '0'), high);
  }
  return any ? std::max(value, low) : absent;
}

class Harness final : public chat::engineio::SessionIo {
 public:
  void run(std::string_view script) {
    bool opened = false;
    while (!script.empty()) {
      const std::size_t end = script.find('\n');
      std::string_view line = script.substr(0, end);
      script.remove_prefix(end == std::string_view::npos ? script.size() : end + 1);
      const std::string_view word = next_word(line);
      if (!opened) {
        opened = true;
        if (word == "open") {
          open(line);
          continue;
        }
        open("polling");
      }
      step(word, line);
      check_step();
    }
    if (!opened) open("polling");
  }

 private:
  // ---- the script ----

  void open(std::string_view args) {
    const std::string_view kind = next_word(args);
    const bool websocket = kind == "websocket";
    config_.ping_interval = milliseconds(number(next_word(args), 25000, 1, 10'000'000));
    config_.ping_timeout = milliseconds(number(next_word(args), 20000, 1, 10'000'000));
    config_.upgrade_timeout = milliseconds(number(next_word(args), 10000, 1, 10'000'000));
    config_.max_buffered_bytes = number(next_word(args), 1000, 0, 10'000'000);
    config_.upgrade_offered = number(next_word(args), 1, 0, 1) == 1;
    config_.advertised_ping_interval = config_.ping_interval;
    ping_due_ = now_ + config_.ping_interval;
    session_.emplace(std::string(sid), websocket ? Transport::websocket : Transport::polling, config_, *this, now_);
    step_ = Step{};
    step_.state_before = session_->state();
    const std::string open_packet =
        "0" + chat::engineio::open_packet_data(sid, !websocket && config_.upgrade_offered,
                                               config_.advertised_ping_interval, config_.ping_timeout,
                                               config_.max_payload);
    if (websocket) {
      main_ws_ = true;
      expect_open_frame_ = open_packet;
      session_->open_websocket();
      FUZZ_CHECK(expect_open_frame_.empty(), "the WebSocket session sent no open packet");
    } else {
      const HttpReply reply = session_->open_polling();
      FUZZ_CHECK(reply.kind == HttpReply::Kind::respond && reply.status == 200 && reply.body == open_packet,
                 fuzz::printable(reply.body));
    }
    check_step();
  }

  void step(std::string_view word, std::string_view arg) {
    step_ = Step{};
    step_.ended_before = session_->ended();
    step_.state_before = session_->state();
    if (word == "get") return http(false, "GET", {}, false);
    if (word == "post") return http(false, "POST", arg, false);
    if (word == "post-binary") return http(false, "POST", arg, true);
    if (word == "probe") return upgrade_request();
    if (word == "probe-msg") return probe_message(arg);
    if (word == "probe-close") {
      if (!probe_) return;
      probe_ = false;
      session_->on_probe_closed();
      return;
    }
    if (word == "ws" || word == "ws-binary") return websocket_message(arg, word == "ws-binary");
    if (word == "ws-close") {
      if (!main_ws_ || finished_) return;
      main_ws_ = false;
      main_closed_by_peer_ = true;
      step_.end_reason = DisconnectReason::transport_close;
      session_->on_websocket_closed();
      return;
    }
    if (word == "send" || word == "send-binary") return send(arg, word == "send-binary");
    if (word == "close" || word == "close-drain") {
      if (!session_->ended()) {
        closed_by_layer_ = true;
        graceful_ = word == "close-drain";
      }
      session_->close(word == "close-drain", now_);
      return;
    }
    if (word == "forget") return session_->forget();
    if (word == "overflow") {
      // The transport found the WebSocket's queue over its bound (a client pinging without reading).
      if (!finished_) fail_soon(DisconnectReason::transport_error);
      return;
    }
    if (word == "tick") return tick(milliseconds(number(arg, 0, 0, 100'000'000)));
    if (word == "run") return run_posted();
  }

  /// A request carrying the sid, as the transport sees it: classified against the session's
  /// state, handed to the session only when it is a poll or a post.
  void http(bool websocket, std::string_view method, std::string_view body, bool binary_content) {
    if (finished_) return;  // the transport has forgotten the session: "Session ID unknown"
    const auto target = chat::detail::parse_target(std::string("/socket.io/?EIO=4&transport=") +
                                                   (websocket ? "websocket" : "polling") + "&sid=" + std::string(sid));
    const auto verdict = chat::engineio::classify_request(method, *target, websocket, session_->state());
    const auto* intent = std::get_if<Intent>(&verdict);
    if (!intent) {
      // Only a session over WebSocket refuses polling requests.
      FUZZ_CHECK(session_->state() == SessionState::websocket, "refused: " + std::string(method));
      return;
    }
    if (*intent == Intent::poll) return poll();
    if (*intent == Intent::post) return post(body, binary_content);
    FUZZ_CHECK(false, "a polling request classified as a WebSocket one");
  }

  void poll() {
    const bool was_held = poll_held_;
    const bool was_lingering = session_->lingering();
    step_.noop_allowed = probe_ && probe_pinged_;
    if (was_held && !was_lingering) step_.end_reason = DisconnectReason::transport_error;  // a second GET
    const HttpReply reply = session_->on_poll();
    if (reply.kind == HttpReply::Kind::hold) {
      FUZZ_CHECK(!was_held && !session_->ended(), "a second GET held");
      FUZZ_CHECK(expected_.empty() && !(probe_ && probe_pinged_), "a GET held while there is something to answer");
      poll_held_ = true;
      return;
    }
    if (reply.status == 200) {
      FUZZ_CHECK(reply.type == chat::engineio::content_type::payload, fuzz::printable(reply.body));
      return payload(reply.body);
    }
    FUZZ_CHECK(reply.status == 400 && reply.body == chat::engineio::error_body(chat::engineio::Error::bad_request),
               fuzz::printable(reply.body));
    FUZZ_CHECK(was_held && !was_lingering, "a GET refused with no GET held");
    FUZZ_CHECK(session_->ended(), "a second GET left the session open");
  }

  void post(std::string_view body, bool binary_content) {
    const auto packets = chat::engineio::decode_payload(body);
    std::vector<std::string> sent;  // what the layer above must hear, in order
    bool terminates = false;
    if (packets && !binary_content && !session_->ended()) {
      for (const auto& packet : *packets) {
        if (packet.type == chat::engineio::PacketType::message) {
          sent.push_back((packet.binary ? "b" : "t") + packet.data);
        } else if (packet.type == chat::engineio::PacketType::pong) {
          pong();
        } else if (packet.type == chat::engineio::PacketType::close) {
          step_.end_reason = DisconnectReason::transport_close;
          step_.noop_allowed = true;
          terminates = true;
        } else if (packet.type == chat::engineio::PacketType::ping) {
          step_.end_reason = DisconnectReason::transport_error;
          terminates = true;
        }
        if (terminates) break;
      }
    }
    if (!packets && !binary_content && !session_->ended()) step_.end_reason = DisconnectReason::parse_error;
    const bool was_ended = session_->ended();
    const HttpReply reply = session_->on_post(body, binary_content, now_);
    const std::string what = fuzz::printable(body) + " answered " + std::to_string(reply.status) + " " +
                             fuzz::printable(reply.body);
    FUZZ_CHECK(heard_ == sent, what);
    heard_.clear();
    if (was_ended) {
      FUZZ_CHECK(reply.status == 400 && reply.body == chat::engineio::error_body(chat::engineio::Error::unknown_sid), what);
    } else if (binary_content || !packets) {
      FUZZ_CHECK(reply.status == 400 && reply.body == chat::engineio::error_body(chat::engineio::Error::bad_request), what);
      FUZZ_CHECK(binary_content != session_->ended(), what);  // a bad payload ends the session, v3 binary does not
    } else {
      FUZZ_CHECK(reply.status == 200 && reply.body == "ok" && reply.type == chat::engineio::content_type::post_ok, what);
      FUZZ_CHECK(terminates == session_->ended(), what);
    }
  }

  void upgrade_request() {
    if (finished_) return;
    const auto target = chat::detail::parse_target("/socket.io/?EIO=4&transport=websocket&sid=" + std::string(sid));
    const auto verdict = chat::engineio::classify_request("GET", *target, true, session_->state());
    const auto* intent = std::get_if<Intent>(&verdict);
    FUZZ_CHECK(intent && (*intent == Intent::upgrade || *intent == Intent::close_at_once), "upgrade refused");
    if (*intent == Intent::close_at_once) {
      FUZZ_CHECK(probe_ || session_->transport() == Transport::websocket, "close_at_once on a polling session");
      return;
    }
    FUZZ_CHECK(!probe_ && session_->transport() == Transport::polling, "a second probe classified as an upgrade");
    if (!config_.upgrade_offered) return;  // the transport refuses it (allow_upgrades off)
    const bool attached = session_->attach_probe(now_);
    FUZZ_CHECK(attached == !session_->ended(), "attach_probe on a live polling session without a probe");
    if (!attached) return;
    probe_ = true;
    probe_pinged_ = false;
    probe_answered_ = false;
    probe_since_ = now_;
  }

  void probe_message(std::string_view text) {
    if (!probe_) return;  // no probe: the transport has nobody to hand it to
    step_.probe_message = true;
    step_.noop_allowed = true;
    const bool ping = text == "2probe" && !probe_pinged_;
    step_.upgrade_completes = text == "5" && probe_pinged_;
    if (ping) probe_pinged_ = true;
    session_->on_probe_message(text);
    if (ping) FUZZ_CHECK(probe_ && probe_answered_, "2probe not answered");
    else if (step_.upgrade_completes) FUZZ_CHECK(!probe_ && main_ws_, "5 did not complete the upgrade");
    else FUZZ_CHECK(!probe_, "a probe that broke the protocol is still attached: " + fuzz::printable(text));
  }

  void websocket_message(std::string_view data, bool binary) {
    if (!main_ws_ || finished_) return;
    std::vector<std::string> sent;
    if (!session_->ended()) {
      const auto packet = chat::engineio::decode_text(data);
      if (binary) sent.push_back("b" + std::string(data));
      else if (!packet) step_.end_reason = DisconnectReason::parse_error;
      else if (packet->type == chat::engineio::PacketType::message) sent.push_back("t" + packet->data);
      else if (packet->type == chat::engineio::PacketType::pong) pong();
      else if (packet->type == chat::engineio::PacketType::close) step_.end_reason = DisconnectReason::transport_close;
      else if (packet->type == chat::engineio::PacketType::ping) step_.end_reason = DisconnectReason::transport_error;
    }
    session_->on_websocket_message(data, binary, now_);
    FUZZ_CHECK(heard_ == sent, fuzz::printable(data));
    heard_.clear();
  }

  void send(std::string_view arg, bool binary) {
    auto group = std::make_shared<Messages>();
    const std::size_t tab = binary ? std::string_view::npos : arg.find('\t');
    group->data = std::string(arg.substr(0, tab));
    group->binary = binary;
    // A Socket.IO encoder never writes 0x1e into a text message (JSON escapes control bytes).
    std::replace(group->data.begin(), group->data.end(), '\x1e', ' ');
    for (std::string_view rest = tab == std::string_view::npos ? std::string_view() : arg.substr(tab + 1);
         tab != std::string_view::npos;) {
      const std::size_t next = rest.find('\t');
      group->attachments.emplace_back(rest.substr(0, next));
      if (next == std::string_view::npos) break;
      rest.remove_prefix(next + 1);
    }
    if (!session_->ended()) expected_.push_back(group);
    session_->send(group);
    if (session_->transport() == Transport::polling && !session_->ended() && backlog() > config_.max_buffered_bytes)
      FUZZ_CHECK(failing_, "a backlog of " + std::to_string(backlog()) + " bytes over the bound, and no failure asked");
  }

  /// A pong that answers the last ping: the next ping is due an interval from now.
  void pong() {
    if (!std::exchange(awaiting_pong_, false)) return;
    ping_due_ = now_ + config_.ping_interval;
  }

  /// Time passes: the timer fires at its deadline, as often as it falls within.
  void tick(milliseconds duration) {
    // A century of ticks is plenty, and the clock must not overflow however long the script.
    if (now_.time_since_epoch() > std::chrono::hours(24 * 365 * 100)) return;
    const Clock::time_point until = now_ + duration;
    int wakeups = 0;
    while (!finished_ && deadline_ && *deadline_ <= until) {
      FUZZ_CHECK(++wakeups <= 8, "the timer fired " + std::to_string(wakeups) + " times in one quiet tick");
      now_ = *deadline_;
      deadline_.reset();
      const bool live = !session_->ended();
      const bool times_out = live && now_ >= ping_due_ && awaiting_pong_;
      const bool pings = live && now_ >= ping_due_ && !awaiting_pong_;
      const bool drops_probe = live && probe_ && now_ >= probe_since_ + config_.upgrade_timeout;
      const bool stops_lingering = session_->lingering() && now_ >= linger_since_ + config_.ping_timeout;
      if (times_out) step_.end_reason = DisconnectReason::ping_timeout;
      if (pings) {
        awaiting_pong_ = true;
        ping_due_ = now_ + config_.ping_timeout;
        expected_.push_back(nullptr);
      }
      session_->on_timer(now_);
      FUZZ_CHECK(session_->ended() == (!live || times_out), "the heartbeat did not end the session as due");
      if (drops_probe) FUZZ_CHECK(!probe_, "a probe kept past the upgrade timeout");
      if (stops_lingering) FUZZ_CHECK(finished_, "lingering past ping_timeout");
      if (finished_) expected_.clear();
      check_time();
    }
    now_ = until;
  }

  void run_posted() {
    if (std::exchange(flush_posted_, false)) session_->flush();
    if (fail_posted_) {
      const DisconnectReason reason = *std::exchange(fail_posted_, std::nullopt);
      if (!session_->ended()) step_.end_reason = reason;
      session_->fail(reason);
    }
  }

  static bool only_control_packets(std::string_view body) {
    for (std::size_t start = 0; start <= body.size();) {
      const std::size_t end = std::min(body.find('\x1e', start), body.size());
      if (end - start != 1) return false;
      start = end + 1;
    }
    return true;
  }

  // ---- the session's actions ----

  void release_poll(chat::engineio::HttpReply reply) override {
    const std::string& body = reply.body;
    const bool compress = reply.compress;
    FUZZ_CHECK(reply.type == chat::engineio::content_type::payload, "a v4 session released a poll of another type");
    FUZZ_CHECK(!finished_, "released a poll after finished");
    FUZZ_CHECK(poll_held_, "released a poll nobody holds: " + fuzz::printable(body));
    // Every message this harness writes may be compressed: only a payload of control packets
    // (one character each) may come marked otherwise.
    FUZZ_CHECK(compress || only_control_packets(body), "a payload with messages marked uncompressed: " + fuzz::printable(body));
    poll_held_ = false;
    payload(body);
  }

  void send_messages(const std::shared_ptr<const Messages>& messages) override {
    FUZZ_CHECK(!finished_ && main_ws_, "messages sent with no WebSocket: " + fuzz::printable(messages->data));
    FUZZ_CHECK(!expected_.empty() && expected_.front() == messages && messages,
               "messages out of order, twice, or never written: " + fuzz::printable(messages->data));
    expected_.pop_front();
  }

  void send_text(Socket socket, std::string_view text) override {
    FUZZ_CHECK(!finished_, "a frame after finished: " + fuzz::printable(text));
    if (socket == Socket::probe) {
      FUZZ_CHECK(probe_ && probe_pinged_ && !probe_answered_ && text == "3probe",
                 "on the probe: " + fuzz::printable(text));
      probe_answered_ = true;
      return;
    }
    FUZZ_CHECK(main_ws_, "a frame with no WebSocket: " + fuzz::printable(text));
    if (!expect_open_frame_.empty()) {
      FUZZ_CHECK(text == expect_open_frame_, "the first frame: " + fuzz::printable(text));
      expect_open_frame_.clear();
      return;
    }
    FUZZ_CHECK(text == "2", "a control frame other than ping: " + fuzz::printable(text));
    FUZZ_CHECK(!expected_.empty() && !expected_.front(), "a ping out of turn");
    expected_.pop_front();
  }

  void promote_probe() override {
    FUZZ_CHECK(!finished_ && probe_ && probe_answered_ && step_.upgrade_completes, "promoted a probe before 2probe, 3probe, 5");
    FUZZ_CHECK(!main_ws_, "promoted a probe over an open WebSocket");
    probe_ = false;
    main_ws_ = true;
  }

  void close_websocket(Socket socket, bool normal) override {
    FUZZ_CHECK(!finished_, "closed a WebSocket after finished");
    if (socket == Socket::probe) {
      FUZZ_CHECK(probe_, "closed a probe that is not there");
      probe_ = false;
    } else {
      // The transport ignores a close of a WebSocket its client already closed.
      FUZZ_CHECK((main_ws_ || main_closed_by_peer_) && !main_close_asked_ && normal,
                 "closed the WebSocket twice, or as a protocol violation");
      main_close_asked_ = true;
      main_ws_ = false;
    }
  }

  void arm_timer(Clock::time_point deadline) override {
    FUZZ_CHECK(!finished_, "armed the timer after finished");
    deadline_ = deadline;
  }

  void schedule_flush() override {
    FUZZ_CHECK(!finished_ && !flush_posted_, "a flush scheduled twice, or after finished");
    flush_posted_ = true;
  }

  void fail_soon(DisconnectReason reason) override {
    FUZZ_CHECK(!finished_, "fail_soon after finished");
    if (std::exchange(failing_, true)) return;  // as the transport: the first reason wins
    fail_posted_ = reason;
  }

  void message(std::string_view data, bool binary) override {
    FUZZ_CHECK(!step_.ended_before && !finished_, "a message heard after the end: " + fuzz::printable(data));
    heard_.push_back((binary ? "b" : "t") + std::string(data));
  }

  void closed(DisconnectReason reason) override {
    FUZZ_CHECK(finished_ && !closed_ && !closed_by_layer_, "closed(" + std::string(chat::to_string(reason)) + ")");
    FUZZ_CHECK(step_.end_reason && *step_.end_reason == reason,
               "ended for " + std::string(chat::to_string(reason)));
    closed_ = true;
  }

  void finished() override {
    FUZZ_CHECK(!finished_, "finished twice");
    FUZZ_CHECK(!poll_held_, "finished with a GET still held");
    FUZZ_CHECK(!probe_ && !main_ws_, "finished with a WebSocket open");
    finished_ = true;
    deadline_.reset();  // the transport cancels the timer and forgets the session
  }

  // ---- checks ----

  /// A polling response: whole groups of what was written, in order, pings between them; or a
  /// noop or close packet alone.
  void payload(const std::string& body) {
    FUZZ_CHECK(!body.empty(), "an empty polling response");
    const auto packets = chat::engineio::decode_payload(body);
    FUZZ_CHECK(packets.has_value(), "a response that is not a payload: " + fuzz::printable(body));
    const std::string what = fuzz::printable(body);
    if (body == "6") {
      FUZZ_CHECK(step_.noop_allowed, "a noop response outside an upgrade or a close: " + what);
      return;
    }
    if (body == "1") {
      FUZZ_CHECK(!graceful_ || expected_.empty(), "the close packet of a graceful close before the rest: " + what);
      step_.close_packet = true;
      return;
    }
    std::size_t index = 0;
    std::size_t groups = 0;
    while (index < packets->size()) {
      FUZZ_CHECK(!expected_.empty(), "a packet nobody wrote, or written twice: " + what);
      const auto& packet = (*packets)[index];
      if (!expected_.front()) {
        FUZZ_CHECK(!packet.binary && packet.type == chat::engineio::PacketType::ping && packet.data.empty(),
                   "not the ping due: " + what);
        ++index;
        expected_.pop_front();
        continue;
      }
      const Messages& group = *expected_.front();
      FUZZ_CHECK(index + group.count() <= packets->size(), "a group cut in two: " + what);
      FUZZ_CHECK(packet.type == chat::engineio::PacketType::message && packet.binary == group.binary &&
                     packet.data == group.data,
                 "not the next group written: " + what);
      for (std::size_t i = 0; i < group.attachments.size(); ++i) {
        const auto& attachment = (*packets)[index + 1 + i];
        FUZZ_CHECK(attachment.binary && attachment.data == group.attachments[i], "an attachment lost: " + what);
      }
      index += group.count();
      ++groups;
      expected_.pop_front();
    }
    const std::size_t cap = Session::max_packets_per_poll;
    FUZZ_CHECK(packets->size() <= cap || (groups == 1 && packets->size() == index && index > cap),
               std::to_string(packets->size()) + " packets in one response: " + what);
    if (!expected_.empty()) {
      const std::size_t next = expected_.front() ? expected_.front()->count() : 1;
      FUZZ_CHECK(packets->size() + next > cap, "a response that left out what fits: " + what);
    }
  }

  std::size_t backlog() const {
    std::size_t bytes = 0;
    for (const auto& entry : expected_)
      if (entry) bytes += entry->polling_bytes();
    return bytes;
  }

  /// The timer is armed ahead, and no later than what is due next.
  void check_time() {
    if (finished_) return;
    FUZZ_CHECK(deadline_ && *deadline_ > now_, "a live session with no timer ahead");
    if (!session_->ended()) FUZZ_CHECK(*deadline_ <= ping_due_, "the timer armed after the heartbeat's deadline");
    if (probe_) FUZZ_CHECK(*deadline_ <= probe_since_ + config_.upgrade_timeout, "the timer armed after the upgrade timeout");
    if (session_->lingering()) FUZZ_CHECK(*deadline_ <= linger_since_ + config_.ping_timeout, "the timer armed after the linger");
  }

  void check_step() {
    const Session& session = *session_;
    FUZZ_CHECK(heard_.empty(), "a message heard in a step that brought none");
    if (session.ended() && !step_.ended_before) linger_since_ = now_;
    // State moves forward only.
    FUZZ_CHECK(!step_.ended_before || session.ended(), "a session came back");
    FUZZ_CHECK(!session.lingering() || (session.ended() && graceful_), "lingering without a graceful close");
    FUZZ_CHECK(!finished_ || (session.ended() && !session.lingering()), "finished and still lingering");
    FUZZ_CHECK(session.ended() == finished_ || session.lingering(), "ended yet neither lingering nor finished");
    if (step_.state_before == SessionState::websocket) FUZZ_CHECK(session.state() == SessionState::websocket, "left WebSocket");
    if (session.state() == SessionState::websocket && step_.state_before != SessionState::websocket)
      FUZZ_CHECK(step_.state_before == SessionState::upgrading && step_.upgrade_completes, "became WebSocket without an upgrade");
    FUZZ_CHECK((session.state() == SessionState::upgrading) == probe_, "the session and the transport disagree on the probe");
    if (main_ws_) FUZZ_CHECK(session.transport() == Transport::websocket, "a WebSocket open on a polling session");
    if (session.transport() == Transport::websocket && !session.ended())
      FUZZ_CHECK(main_ws_, "a live WebSocket session without its WebSocket");
    // Ends: reported once when the session ended by itself, never when the layer above asked.
    if (session.ended() && !closed_by_layer_) FUZZ_CHECK(closed_, "ended with no closed()");
    if (closed_by_layer_) FUZZ_CHECK(!closed_, "closed() after the layer above closed it");
    if (step_.close_packet) FUZZ_CHECK(session.ended(), "a close packet sent to a live session");
    // What was written: sent at once over WebSocket, dropped by an abrupt end, else waiting.
    if (finished_) expected_.clear();
    if (session.transport() == Transport::websocket) FUZZ_CHECK(expected_.empty(), "written but never sent");
    // (A backlog over its bound is not flushed: the session fails at once after.)
    if (poll_held_ && !expected_.empty() && !session.ended())
      FUZZ_CHECK(flush_posted_ || fail_posted_, "data waits behind a held GET");
    if (!session.ended() && session.transport() == Transport::polling && backlog() > config_.max_buffered_bytes)
      FUZZ_CHECK(failing_, "a backlog over the bound");
    check_time();
  }

  /// What the current step did and may do.
  struct Step {
    bool ended_before = false;
    SessionState state_before = SessionState::polling;
    std::optional<DisconnectReason> end_reason;  ///< why the session may end in this step
    bool noop_allowed = false;                   ///< a noop response may come (upgrade, close packet)
    bool probe_message = false;
    bool upgrade_completes = false;
    bool close_packet = false;
  };

  SessionConfig config_;
  Clock::time_point now_ = Clock::time_point(std::chrono::hours(1000));
  std::optional<Session> session_;
  Step step_;
  std::optional<Clock::time_point> deadline_;
  Clock::time_point ping_due_;     // the heartbeat: the next ping, or the timeout of the last one
  bool awaiting_pong_ = false;
  Clock::time_point probe_since_;
  Clock::time_point linger_since_;
  std::deque<std::shared_ptr<const Messages>> expected_;  // written, not yet sent (null: a ping)
  std::vector<std::string> heard_;  // messages the layer above heard in this step
  std::string expect_open_frame_;
  bool poll_held_ = false;
  bool main_ws_ = false;
  bool main_closed_by_peer_ = false;
  bool main_close_asked_ = false;
  bool probe_ = false;
  bool probe_pinged_ = false;
  bool probe_answered_ = false;
  bool flush_posted_ = false;
  std::optional<DisconnectReason> fail_posted_;
  bool failing_ = false;
  bool finished_ = false;
  bool closed_ = false;
  bool closed_by_layer_ = false;
  bool graceful_ = false;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Harness harness;
  harness.run(fuzz::as_text(data, size));
  return 0;
}
