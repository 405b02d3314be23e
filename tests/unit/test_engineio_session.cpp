// The Engine.IO session state machine driven with no socket and no clock: a recording SessionIo
// stands for the transport and the layer above, and the tests hand the session the time.
#include <chat/engineio/session.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "unit_support.hpp"

using chat::DisconnectReason;
using chat::engineio::HttpReply;
using chat::engineio::Messages;
using chat::engineio::Session;
using chat::engineio::SessionConfig;
using chat::engineio::SessionState;
using chat::engineio::Socket;
using chat::engineio::Transport;
using namespace std::chrono_literals;

namespace {

using Clock = std::chrono::steady_clock;

/// Records every action of a session, in order, as text ("release 42[...]", "closed ping
/// timeout", ...), and the timer's deadline.
class Recorder final : public chat::engineio::SessionIo {
 public:
  std::vector<std::string> actions;
  std::optional<Clock::time_point> deadline;
  std::vector<std::string> messages;  // what reached the layer above
  bool flush_pending = false;
  std::optional<DisconnectReason> fail_pending;

  /// The actions since the last call.
  std::vector<std::string> take() { return std::exchange(actions, {}); }

  void release_poll(HttpReply reply) override {
    actions.push_back(std::string(reply.type == chat::engineio::v3::binary_payload_type ? "release binary " : "release ") +
                      (reply.compress ? "" : "uncompressed ") + unit::printable(reply.body));
  }
  void send_messages(const std::shared_ptr<const Messages>& messages) override {
    actions.push_back("send " + unit::printable(messages->data) + " +" + std::to_string(messages->attachments.size()));
  }
  void send_text(Socket socket, std::string_view text) override {
    actions.push_back(std::string(socket == Socket::main ? "ws " : "probe ") + std::string(text));
  }
  void promote_probe() override { actions.push_back("promote probe"); }
  void close_websocket(Socket socket, bool normal) override {
    actions.push_back(std::string("close ") + (socket == Socket::main ? "ws" : "probe") + (normal ? " normal" : " policy"));
  }
  void arm_timer(Clock::time_point at) override { deadline = at; }
  void schedule_flush() override {
    flush_pending = true;
    actions.push_back("schedule flush");
  }
  void fail_soon(DisconnectReason reason) override {
    fail_pending = reason;
    actions.push_back("fail soon " + std::string(chat::to_string(reason)));
  }
  void message(std::string_view data, bool binary) override {
    messages.push_back((binary ? "binary " : "") + std::string(data));
  }
  void closed(DisconnectReason reason) override { actions.push_back("closed " + std::string(chat::to_string(reason))); }
  void finished() override { actions.push_back("finished"); }
};

SessionConfig config() {
  SessionConfig config;
  config.ping_interval = 25s;
  config.ping_timeout = 20s;
  config.advertised_ping_interval = 25s;
  config.upgrade_timeout = 10s;
  config.max_payload = 1000000;
  config.max_buffered_bytes = 1000;
  return config;
}

std::shared_ptr<const Messages> text(std::string data) {
  auto messages = std::make_shared<Messages>();
  messages->data = std::move(data);
  return messages;
}

std::shared_ptr<const Messages> with_attachment(std::string data, std::string attachment) {
  auto messages = std::make_shared<Messages>();
  messages->data = std::move(data);
  messages->attachments.push_back(std::move(attachment));
  return messages;
}

std::string body_of(const HttpReply& reply) {
  REQUIRE(reply.kind == HttpReply::Kind::respond);
  return reply.body;
}

/// A polling session that has sent its open packet.
struct Polling {
  Recorder io;
  SessionConfig settings = config();
  Clock::time_point start = Clock::now();
  Session session{"sid1", Transport::polling, settings, io, start};

  Polling() {
    const auto open = session.open_polling();
    REQUIRE(open.status == 200);
    REQUIRE(open.body.rfind("0{\"sid\":\"sid1\"", 0) == 0);
  }
};

/// A polling session with a probe that sent 2probe and got 3probe.
struct Upgrading : Polling {
  Upgrading() {
    REQUIRE(session.attach_probe(start));
    session.on_probe_message("2probe");
    REQUIRE(io.take() == std::vector<std::string>{"probe 3probe"});
    REQUIRE(session.state() == SessionState::upgrading);
  }
};

}  // namespace

TEST_CASE("engine.io session: the open packet states the settings and the upgrade offered", "[engineio][session]") {
  Recorder io;
  SessionConfig settings = config();
  settings.advertised_ping_interval = 30s;
  Session polling("abc", Transport::polling, settings, io, Clock::now());
  CHECK(polling.open_polling().body ==
        R"(0{"sid":"abc","upgrades":["websocket"],"pingInterval":30000,"pingTimeout":20000,"maxPayload":1000000})");
  settings.upgrade_offered = false;
  Session no_upgrade("def", Transport::polling, settings, io, Clock::now());
  CHECK(no_upgrade.open_polling().body.find(R"("upgrades":[])") != std::string::npos);
  Session websocket("ghi", Transport::websocket, settings, io, Clock::now());
  io.take();
  websocket.open_websocket();
  REQUIRE(io.actions.size() == 1);
  CHECK(io.actions[0].rfind(R"(ws 0{"sid":"ghi","upgrades":[])", 0) == 0);
  CHECK(websocket.state() == SessionState::websocket);
}

TEST_CASE("engine.io session: the initial packet follows the open packet (Node's initialPacket)", "[engineio][session]") {
  Recorder io;
  SessionConfig settings = config();
  settings.initial_packet = R"(2["welcome"])";
  Session polling("abc", Transport::polling, settings, io, Clock::now());
  const std::string body = polling.open_polling().body;
  CHECK(body.substr(body.find('\x1e')) == "\x1e" R"(42["welcome"])");
  CHECK(body.rfind(R"(0{"sid":"abc")", 0) == 0);
  Session websocket("ghi", Transport::websocket, settings, io, Clock::now());
  io.take();
  websocket.open_websocket();
  REQUIRE(io.actions.size() == 2);
  CHECK(io.actions[0].rfind(R"(ws 0{"sid":"ghi")", 0) == 0);
  CHECK(io.actions[1] == R"(ws 42["welcome"])");
}

TEST_CASE("engine.io session: a poll is held until something is written, then released once", "[engineio][session]") {
  Polling p;
  const auto held = p.session.on_poll();
  CHECK(held.kind == HttpReply::Kind::hold);
  p.session.send(text("2[\"a\"]"));
  p.session.send(with_attachment("51-[\"b\",{\"_placeholder\":true,\"num\":0}]", "\x01\x02"));
  // One flush for everything written in one go.
  CHECK(p.io.take() == std::vector<std::string>{"schedule flush"});
  p.session.flush();
  CHECK(p.io.take() == std::vector<std::string>{
      "release " + unit::printable("42[\"a\"]\x1e" "451-[\"b\",{\"_placeholder\":true,\"num\":0}]\x1e" "bAQI=")});
  // Queued while no poll is held: the next GET takes it at once.
  p.session.send(text("2[\"c\"]"));
  CHECK(p.io.take().empty());
  CHECK(body_of(p.session.on_poll()) == "42[\"c\"]");
}

TEST_CASE("engine.io session: polling is writable only with a GET held and nothing queued before", "[engineio][session]") {
  Polling p;
  CHECK_FALSE(p.session.polling_writable());  // no GET yet: a volatile packet would wait
  CHECK(p.session.on_poll().kind == HttpReply::Kind::hold);
  CHECK(p.session.polling_writable());
  p.session.send(text("2[\"a\"]"));
  CHECK_FALSE(p.session.polling_writable());  // "a" goes first, in this GET's response
  p.session.flush();
  CHECK_FALSE(p.session.polling_writable());  // the GET is answered: none held
  CHECK(p.session.on_poll().kind == HttpReply::Kind::hold);
  CHECK(p.session.polling_writable());
  p.session.close(false, p.start);
  CHECK_FALSE(p.session.polling_writable());  // ended
}

TEST_CASE("engine.io session: a payload of messages sent without compression is not compressed", "[engineio][session]") {
  Polling p;
  auto uncompressed = [](std::string data) {
    auto messages = std::make_shared<Messages>();
    messages->data = std::move(data);
    messages->compress = false;
    return std::shared_ptr<const Messages>(messages);
  };
  CHECK(p.session.on_poll().kind == HttpReply::Kind::hold);
  p.session.send(uncompressed("2[\"a\"]"));
  p.io.take();
  p.session.flush();
  CHECK(p.io.take() == std::vector<std::string>{"release uncompressed " + unit::printable("42[\"a\"]")});
  // One message that may be compressed makes the whole payload compressible (Node's rule).
  p.session.send(uncompressed("2[\"b\"]"));
  p.session.send(text("2[\"c\"]"));
  CHECK(p.session.on_poll().compress);
  p.session.send(uncompressed("2[\"d\"]"));
  const auto reply = p.session.on_poll();
  CHECK(body_of(reply) == "42[\"d\"]");
  CHECK_FALSE(reply.compress);
}

TEST_CASE("engine.io session: at most 16 packets per poll, the rest with the next", "[engineio][session]") {
  Polling p;
  for (int i = 0; i < 20; ++i) p.session.send(text("2[" + std::to_string(i) + "]"));
  const std::string first = body_of(p.session.on_poll());
  CHECK(std::count(first.begin(), first.end(), '\x1e') == 15);
  const std::string second = body_of(p.session.on_poll());
  CHECK(std::count(second.begin(), second.end(), '\x1e') == 3);
  CHECK(second.rfind("42[16]", 0) == 0);
  // A group counts with its attachments, and one group always goes, however large.
  for (int i = 0; i < 3; ++i) {
    auto big = std::make_shared<Messages>();
    big->data = "5" + std::to_string(i);
    big->attachments.assign(9, "x");
    p.session.send(big);
  }
  const std::string third = body_of(p.session.on_poll());
  CHECK(std::count(third.begin(), third.end(), '\x1e') == 9);  // one group of 10 packets
}

TEST_CASE("engine.io session: a second concurrent GET is refused and ends the session", "[engineio][session]") {
  Polling p;
  REQUIRE(p.session.on_poll().kind == HttpReply::Kind::hold);
  const auto second = p.session.on_poll();
  CHECK(second.status == 400);
  CHECK(second.body == R"({"code":3,"message":"Bad request"})");
  // The held GET gets the close packet; the layer above hears why.
  CHECK(p.io.take() == std::vector<std::string>{"release \"1\"", "finished", "closed transport error"});
  CHECK(p.session.ended());
}

TEST_CASE("engine.io session: POST delivers messages in order and answers ok", "[engineio][session]") {
  Polling p;
  const auto reply = p.session.on_post("40\x1e" "42[\"x\"]\x1e" "bAQI=", false, p.start);
  CHECK(reply.status == 200);
  CHECK(reply.body == "ok");
  CHECK(reply.type == chat::engineio::content_type::post_ok);
  CHECK(p.io.messages == std::vector<std::string>{"0", "2[\"x\"]", "binary \x01\x02"});
  // Engine.IO v3's binary payloads are refused without ending the session.
  CHECK(p.session.on_post("x", true, p.start).status == 400);
  CHECK_FALSE(p.session.ended());
}

TEST_CASE("engine.io session: a client's noop, open or stray upgrade is ignored, as Node does", "[engineio][session]") {
  Polling p;
  // Over long-polling, alone and between messages.
  CHECK(p.session.on_post("6", false, p.start).status == 200);
  CHECK(p.session.on_post("40\x1e" "6\x1e" "5\x1e" "0\x1e" "42[\"x\"]", false, p.start).status == 200);
  CHECK(p.io.messages == std::vector<std::string>{"0", "2[\"x\"]"});
  CHECK(p.io.take().empty());
  CHECK_FALSE(p.session.ended());
  // Over WebSocket.
  Recorder io;
  SessionConfig settings = config();
  Session ws("w", Transport::websocket, settings, io, Clock::now());
  for (const char* packet : {"6", "5", "0"}) ws.on_websocket_message(packet, false, Clock::now());
  ws.on_websocket_message("4hi", false, Clock::now());
  CHECK(io.messages == std::vector<std::string>{"hi"});
  CHECK(io.take().empty());
  CHECK_FALSE(ws.ended());
}

TEST_CASE("engine.io session: heartbeat pings, a pong re-arms, silence times out", "[engineio][session]") {
  Polling p;
  REQUIRE(p.io.deadline == p.start + 25s);
  p.session.on_timer(p.start + 24s);  // early: nothing
  CHECK(p.io.take().empty());
  p.session.on_timer(p.start + 25s);
  CHECK(p.io.take().empty());  // the ping is queued: no poll held
  CHECK(p.io.deadline == p.start + 45s);  // the pong is due within ping_timeout
  CHECK(body_of(p.session.on_poll()) == "2");
  p.session.on_post("3", false, p.start + 30s);
  CHECK(p.io.deadline == p.start + 55s);  // the next ping an interval after the pong
  p.session.on_timer(p.start + 55s);
  CHECK(body_of(p.session.on_poll()) == "2");
  p.session.on_timer(p.start + 75s);  // no pong
  CHECK(p.io.take() == std::vector<std::string>{"finished", "closed ping timeout"});

  // Over WebSocket the ping is a frame.
  Recorder io;
  SessionConfig settings = config();
  const auto start = Clock::now();
  Session ws("w", Transport::websocket, settings, io, start);
  ws.open_websocket();
  io.take();
  ws.on_timer(start + 25s);
  CHECK(io.take() == std::vector<std::string>{"ws 2"});
  ws.on_websocket_message("3", false, start + 26s);
  CHECK(io.deadline == start + 51s);
}

TEST_CASE("engine.io session: upgrade to WebSocket (probe, 3probe, noop release, 5)", "[engineio][session]") {
  Polling p;
  REQUIRE(p.session.on_poll().kind == HttpReply::Kind::hold);
  REQUIRE(p.session.attach_probe(p.start));
  CHECK(p.session.state() == SessionState::upgrading);
  CHECK(p.io.deadline == p.start + 10s);  // the upgrade timeout comes before the ping
  p.session.on_probe_message("2probe");
  // 3probe on the probe, and the held GET released with a noop so the client can pause.
  CHECK(p.io.take() == std::vector<std::string>{"probe 3probe", "release \"6\""});
  // Polling while upgrading gets noops at once.
  CHECK(body_of(p.session.on_poll()) == "6");
  // Written during the upgrade: queued, then sent over the new WebSocket, in order.
  p.session.send(text("2[\"during\"]"));
  p.session.on_probe_message("5");
  CHECK(p.io.take() == std::vector<std::string>{"promote probe", "send \"2[\\\"during\\\"]\" +0"});
  CHECK(p.session.state() == SessionState::websocket);
  CHECK(p.session.transport() == Transport::websocket);
  p.session.send(text("2[\"after\"]"));
  CHECK(p.io.take() == std::vector<std::string>{"send \"2[\\\"after\\\"]\" +0"});
  // A GET now is a protocol error.
  CHECK(p.session.on_poll().status == 400);
}

TEST_CASE("engine.io session: a probe that fails, times out or closes leaves polling going", "[engineio][session]") {
  SECTION("a wrong first message drops the probe") {
    Polling p;
    REQUIRE(p.session.attach_probe(p.start));
    p.session.on_probe_message("hello");
    CHECK(p.io.take() == std::vector<std::string>{"close probe policy"});
    CHECK(p.session.state() == SessionState::polling);
  }
  SECTION("5 before 2probe drops it") {
    Polling p;
    REQUIRE(p.session.attach_probe(p.start));
    p.session.on_probe_message("5");
    CHECK(p.io.take() == std::vector<std::string>{"close probe policy"});
  }
  SECTION("the upgrade timeout drops it") {
    Upgrading u;
    u.session.on_timer(u.start + 10s);
    CHECK(u.io.take() == std::vector<std::string>{"close probe policy"});
    CHECK(u.session.state() == SessionState::polling);
    CHECK(u.io.deadline == u.start + 25s);  // back to the heartbeat alone
  }
  SECTION("the client closing it") {
    Upgrading u;
    u.session.on_probe_closed();
    CHECK(u.session.state() == SessionState::polling);
    REQUIRE(u.session.on_poll().kind == HttpReply::Kind::hold);  // polls are held again
  }
}

TEST_CASE("engine.io session: only one probe, and none on a WebSocket session", "[engineio][session]") {
  Polling p;
  REQUIRE(p.session.attach_probe(p.start));
  CHECK_FALSE(p.session.attach_probe(p.start));  // a second probe while one is attached
  p.session.on_probe_message("2probe");
  p.session.on_probe_message("5");
  // A second WebSocket on the upgraded sid: the session takes no probe (the transport accepts
  // and closes it, as Node does: classify_request says close_at_once).
  CHECK_FALSE(p.session.attach_probe(p.start));
  const auto target = chat::detail::parse_target("/socket.io/?EIO=4&transport=websocket&sid=sid1");
  CHECK(unit::name_of(chat::engineio::classify_request("GET", *target, true, p.session.state())) == "close_at_once");
}

TEST_CASE("engine.io session: a graceful close drains the outbox, then lingers for the last GET", "[engineio][session]") {
  Polling p;
  p.session.send(text("2[\"last words\"]"));
  p.session.close(true, p.start + 1s);
  CHECK(p.session.ended());
  CHECK(p.session.lingering());
  CHECK(p.io.take().empty());  // nothing to release: no GET held; no `closed` when asked
  CHECK(p.io.deadline == p.start + 21s);  // linger for ping_timeout
  // A POST now is for an unknown session; the GET takes the packets, the next the close packet.
  CHECK(p.session.on_post("42[\"x\"]", false, p.start).status == 400);
  CHECK(body_of(p.session.on_poll()) == "42[\"last words\"]");
  CHECK(body_of(p.session.on_poll()) == "1");
  CHECK(p.io.take() == std::vector<std::string>{"finished"});
}

TEST_CASE("engine.io session: a graceful close with a held GET releases what was queued", "[engineio][session]") {
  Polling p;
  REQUIRE(p.session.on_poll().kind == HttpReply::Kind::hold);
  p.session.send(text("2[\"bye\"]"));
  p.io.take();
  p.session.close(true, p.start);
  CHECK(p.io.take() == std::vector<std::string>{"release \"42[\\\"bye\\\"]\""});
  CHECK(p.session.lingering());
  SECTION("the last GET") {
    CHECK(body_of(p.session.on_poll()) == "1");
    CHECK(p.io.take() == std::vector<std::string>{"finished"});
  }
  SECTION("or the linger's end") {
    p.session.on_timer(p.start + 20s);
    CHECK(p.io.take() == std::vector<std::string>{"finished"});
  }
  SECTION("or the server stopping") {
    p.session.forget();
    CHECK(p.io.take() == std::vector<std::string>{"finished"});
  }
}

TEST_CASE("engine.io session: an abrupt close drops the outbox and ends at once", "[engineio][session]") {
  Polling p;
  REQUIRE(p.session.on_poll().kind == HttpReply::Kind::hold);
  p.session.send(text("2[\"dropped\"]"));
  p.io.take();
  p.session.close(false, p.start);
  CHECK(p.io.take() == std::vector<std::string>{"release \"1\"", "finished"});
  CHECK_FALSE(p.session.lingering());
  p.session.send(text("2[\"after\"]"));  // nothing once ended
  CHECK(p.io.take().empty());
}

TEST_CASE("engine.io session: every reason a session ends for", "[engineio][session]") {
  SECTION("the client's close packet (transport close), a held GET released first") {
    Polling p;
    REQUIRE(p.session.on_poll().kind == HttpReply::Kind::hold);
    p.session.on_post("1", false, p.start);
    CHECK(p.io.take() == std::vector<std::string>{"release \"6\"", "finished", "closed transport close"});
  }
  SECTION("the WebSocket closing (transport close)") {
    Recorder io;
    SessionConfig settings = config();
    Session ws("w", Transport::websocket, settings, io, Clock::now());
    ws.on_websocket_closed();
    CHECK(io.take() == std::vector<std::string>{"close ws normal", "finished", "closed transport close"});
  }
  SECTION("a malformed payload (parse error)") {
    Polling p;
    CHECK(p.session.on_post("", false, p.start).status == 400);
    CHECK(p.io.take() == std::vector<std::string>{"finished", "closed parse error"});
  }
  SECTION("a packet that is not Engine.IO (parse error)") {
    for (const char* packet : {"9", "x", ""}) {
      INFO(packet);
      Recorder io;
      SessionConfig settings = config();
      Session ws("w", Transport::websocket, settings, io, Clock::now());
      ws.on_websocket_message(packet, false, Clock::now());
      CHECK(io.take() == std::vector<std::string>{"close ws normal", "finished", "closed parse error"});
    }
  }
  SECTION("a client's ping (Node: invalid heartbeat direction, a transport error)") {
    Recorder io;
    SessionConfig settings = config();
    Session ws("w", Transport::websocket, settings, io, Clock::now());
    ws.on_websocket_message("2", false, Clock::now());
    CHECK(io.take() == std::vector<std::string>{"close ws normal", "finished", "closed transport error"});
  }
  SECTION("a polling backlog over its bound (transport error, from a fresh stack)") {
    Polling p;
    p.session.send(text(std::string(1001, 'x')));
    CHECK(p.io.take() == std::vector<std::string>{"fail soon transport error"});
    p.session.fail(*p.io.fail_pending);
    CHECK(p.io.take() == std::vector<std::string>{"finished", "closed transport error"});
  }
  SECTION("no pong (ping timeout)") {
    Polling p;
    p.session.on_timer(p.start + 25s);
    p.session.on_timer(p.start + 45s);
    CHECK(p.io.take() == std::vector<std::string>{"finished", "closed ping timeout"});
  }
  SECTION("a second GET (transport error)") {
    Polling p;
    p.session.on_poll();
    p.session.on_poll();
    CHECK(p.io.take().back() == "closed transport error");
  }
  SECTION("asked by the layer above: no closed action, the layer knows why") {
    Polling p;
    p.session.close(false, p.start);
    CHECK(p.io.take() == std::vector<std::string>{"finished"});
  }
}

// ---- Engine.IO v3 (Options::allow_eio3): socket.io-client 2.x ----

namespace {

chat::engineio::Protocol v3_protocol(bool base64 = false) {
  chat::engineio::Protocol protocol;
  protocol.revision = 3;
  protocol.base64 = base64;
  return protocol;
}

/// A v3 polling session that has sent its open packet.
struct PollingV3 {
  Recorder io;
  SessionConfig settings = config();
  Clock::time_point start = Clock::now();
  Session session;

  explicit PollingV3(bool base64 = false) : session("sid3", Transport::polling, settings, io, start, v3_protocol(base64)) {
    const auto open = session.open_polling();
    REQUIRE(open.status == 200);
    REQUIRE(open.type == chat::engineio::content_type::payload);
    REQUIRE(open.body.rfind("102:0{\"sid\":\"sid3\"", 0) == 0);
  }
};

}  // namespace

TEST_CASE("engine.io v3 session: payloads in v3 framing, binary as the client takes it", "[engineio][session][v3]") {
  SECTION("text") {
    PollingV3 p;
    p.session.send(text("0"));
    CHECK(body_of(p.session.on_poll()) == "2:40");
  }
  SECTION("binary, for a client that takes binary: the binary payload format") {
    PollingV3 p;
    CHECK(p.session.on_poll().kind == HttpReply::Kind::hold);
    p.session.send(with_attachment("51-[\"b\",{\"_placeholder\":true,\"num\":0}]", "\x01\x02"));
    p.session.flush();
    const auto actions = p.io.take();
    REQUIRE(actions.size() == 2);
    CHECK(actions[1] == "release binary " + unit::printable(std::string("\x00\x03\x09\xff", 4) +
                                                            "451-[\"b\",{\"_placeholder\":true,\"num\":0}]" +
                                                            std::string("\x01\x03\xff\x04\x01\x02", 6)));
  }
  SECTION("binary, for a client that asked for base64") {
    PollingV3 p(true);
    p.session.send(with_attachment("51-[\"b\",{\"_placeholder\":true,\"num\":0}]", "\x01\x02"));
    const auto reply = p.session.on_poll();
    CHECK(reply.type == chat::engineio::content_type::payload);
    CHECK(reply.body == "39:451-[\"b\",{\"_placeholder\":true,\"num\":0}]6:b4AQI=");
  }
  SECTION("a POST in either format reaches the layer above") {
    PollingV3 p;
    CHECK(p.session.on_post("6:4hello6:b4AQI=", false, p.start).body == "ok");
    CHECK(p.session.on_post(std::string("\x00\x02\xff" "4a" "\x01\x02\xff\x04\x07", 10), true, p.start).body == "ok");
    CHECK(p.io.messages == std::vector<std::string>{"hello", "binary \x01\x02", "a", "binary \x07"});
  }
  SECTION("a malformed payload ends the session with a parse error") {
    PollingV3 p;
    CHECK(p.session.on_post("6:4hell", false, p.start).status == 400);
    CHECK(p.io.take() == std::vector<std::string>{"finished", "closed parse error"});
  }
}

TEST_CASE("engine.io v3 session: the client pings, the server answers, silence ends it", "[engineio][session][v3]") {
  PollingV3 p;
  // No server ping: the deadline is the interval plus the timeout.
  REQUIRE(p.io.deadline == p.start + 45s);
  p.session.on_timer(p.start + 25s);
  CHECK(p.io.take().empty());
  CHECK(p.session.on_post("1:2", false, p.start + 30s).body == "ok");
  CHECK(body_of(p.session.on_poll()) == "1:3");
  CHECK(p.io.deadline == p.start + 75s);
  p.session.on_timer(p.start + 75s);
  CHECK(p.io.take() == std::vector<std::string>{"finished", "closed ping timeout"});

  SECTION("a pong is the wrong direction: transport error") {
    PollingV3 q;
    q.session.on_post("1:3", false, q.start);
    CHECK(q.io.take() == std::vector<std::string>{"finished", "closed transport error"});
  }
}

TEST_CASE("engine.io v3 session: WebSocket frames carry the type byte; an upgrade takes the probe's b64", "[engineio][session][v3]") {
  Recorder io;
  SessionConfig settings = config();
  Session ws("w3", Transport::websocket, settings, io, Clock::now(), v3_protocol());
  ws.on_websocket_message("\x04\x01\x02", true, Clock::now());
  ws.on_websocket_message("b4AQI=", false, Clock::now());
  ws.on_websocket_message("4text", false, Clock::now());
  CHECK(io.messages == std::vector<std::string>{"binary \x01\x02", "binary \x01\x02", "text"});
  ws.on_websocket_message("2", false, Clock::now());
  CHECK(io.take().back() == "ws 3");
  ws.on_websocket_message("\x01\x02", true, Clock::now());  // no type 4: refused
  CHECK(io.take().back() == "closed parse error");

  PollingV3 p(true);
  CHECK(p.session.protocol().base64);
  REQUIRE(p.session.attach_probe(p.start, v3_protocol(false)));
  p.session.on_probe_message("2probe");
  p.session.on_probe_message("5");
  CHECK(p.session.state() == SessionState::websocket);
  CHECK_FALSE(p.session.protocol().base64);
}
