// The named extension seams of a server, each used the way an extension would: a parser of
// another format, connect and packet middlewares, and adapters that record what they carry,
// answer requests later, and link two servers into a small cluster. In process: LocalClients
// (no network), the server's loop on a thread of its own.
#include <chat/chat.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <regex>
#include <stdexcept>
#include <system_error>
#include <string>
#include <thread>
#include <vector>

namespace {

using chat::socketio::Packet;
using chat::socketio::PacketType;
using namespace std::chrono_literals;

/// Runs a Server's loop for the length of a test.
class Running {
 public:
  explicit Running(chat::Server<>& io) : io_(io), thread_([this] { io_.run(); }) {}
  ~Running() {
    io_.stop();
    thread_.join();
  }

  /// Runs `work` on the io thread and waits for it (a hang guard of 10 s).
  template <class Work>
  auto on(Work work) -> decltype(work()) {
    using Result = decltype(work());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(work));
    auto result = task->get_future();
    io_.post([task] { (*task)(); });
    REQUIRE(result.wait_for(10s) == std::future_status::ready);
    return result.get();
  }

 private:
  chat::Server<>& io_;
  std::thread thread_;
};

Packet packet(PacketType type, chat::json data = chat::json(chat::json::value_t::discarded),
              std::optional<std::uint64_t> id = std::nullopt, std::string nsp = "/") {
  Packet p;
  p.type = type;
  p.nsp = std::move(nsp);
  p.id = id;
  p.data = std::move(data);
  return p;
}

/// Waits (bounded, never a timing assertion) until `client` received `count` more packets.
std::vector<Packet> receive(chat::LocalClient& client, std::size_t count) {
  std::vector<Packet> got;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (got.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (auto& p : client.take_received()) got.push_back(std::move(p));
    if (got.size() < count) std::this_thread::sleep_for(1ms);
  }
  return got;
}

/// A client connected to `nsp` (with `auth`); returns it with the packets its CONNECT brought.
std::pair<std::shared_ptr<chat::LocalClient>, std::vector<Packet>> join(chat::Server<>& io, Running& running,
                                                                          chat::json auth = chat::json(chat::json::value_t::discarded),
                                                                          std::string nsp = "/") {
  auto client = running.on([&] {
    auto local = io.connect_local();
    local->send(packet(PacketType::connect, auth, std::nullopt, nsp));
    return local;
  });
  return {client, receive(*client, 1)};
}

std::string sid_of(const std::vector<Packet>& packets) {
  REQUIRE(!packets.empty());
  REQUIRE(packets[0].type == PacketType::connect);
  return packets[0].data["sid"].get<std::string>();
}

/// Waits (bounded) for a condition another thread makes true.
template <class Condition>
bool eventually(Condition condition) {
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// ---- a parser of another format --------------------------------------------------------------

/// socket.io-parser's JSON, but every text message reversed: a packet that went around the
/// parser (on either side) would not decode.
class ReversingParser final : public chat::Parser {
 public:
  mutable std::atomic<int> encoded{0};
  mutable std::atomic<int> decoders{0};

  chat::socketio::Encoded encode(const Packet& p) const override {
    ++encoded;
    auto out = chat::socketio::encode(p);
    std::reverse(out.data.begin(), out.data.end());
    return out;
  }
  std::unique_ptr<chat::PacketDecoder> decoder() const override {
    ++decoders;
    return std::make_unique<Decoder>();
  }

 private:
  class Decoder final : public chat::PacketDecoder {
   public:
    Status feed(std::string_view message, bool binary) override {
      if (binary) return decoder_.feed_binary(message);
      return decoder_.feed_text(std::string(message.rbegin(), message.rend()));
    }
    Packet& packet() override { return decoder_.packet(); }

   private:
    chat::socketio::Decoder decoder_;
  };
};

}  // namespace

TEST_CASE("seams: the parser chosen by the options encodes and decodes every packet", "[seams]") {
  auto parser = std::make_shared<ReversingParser>();
  chat::Server<> io(chat::Options().parser(parser));
  io.on("echo", [&io](chat::Socket& socket, chat::Event& event) {
    socket.emit("echoed", event.args());                  // to one socket
    io.emit("everyone", event.args());                    // a broadcast
    socket.emit_with_ack("question", chat::Args::of(1), [](std::error_code, chat::Args) {});
    event.ack("acked", chat::binary("\x01\x02"));         // an ack with an attachment
  });
  Running running(io);
  auto [client, connected] = join(io, running);
  sid_of(connected);  // CONNECT came through the parser
  running.on([&] { client->send(packet(PacketType::event, chat::json::array({"echo", "hi"}), 7)); });
  const auto got = receive(*client, 4);
  REQUIRE(got.size() == 4);
  CHECK(got[0].data == chat::json::array({"echoed", "hi"}));
  CHECK(got[1].data == chat::json::array({"everyone", "hi"}));
  CHECK(got[2].data == chat::json::array({"question", 1}));
  CHECK(got[2].id.has_value());
  CHECK(got[3].type == PacketType::binary_ack);
  CHECK(got[3].data == chat::json::array({"acked", chat::binary("\x01\x02")}));
  CHECK(parser->encoded >= 6);   // the client's two, the server's CONNECT and four answers
  CHECK(parser->decoders >= 2);  // the connection's, and the test client's
}

TEST_CASE("seams: connect middlewares run in order before the hook, and may refuse", "[seams][middleware]") {
  chat::Server<> io;
  std::mutex mutex;
  std::vector<std::string> order;
  auto note = [&](std::string what) {
    std::lock_guard<std::mutex> lock(mutex);
    order.push_back(std::move(what));
  };
  io.use([&](chat::Socket&, const chat::json&, chat::Next next) {
    note("first");
    next();
  });
  io.use([&](chat::Socket&, const chat::json& auth, chat::Next next) {
    note("second");
    if (auth.value("token", "") != "ok") return next.fail("not authorized", {{"code", 401}});
    next();
  });
  io.on_connect([&](chat::Socket&, const chat::json&) {
    note("hook");
    return true;
  });
  Running running(io);

  auto [good, good_packets] = join(io, running, {{"token", "ok"}});
  sid_of(good_packets);
  auto [bad, bad_packets] = join(io, running, {{"token", "no"}});
  REQUIRE(bad_packets.size() == 1);
  CHECK(bad_packets[0].type == PacketType::connect_error);
  CHECK(bad_packets[0].data == chat::json{{"message", "not authorized"}, {"data", {{"code", 401}}}});
  CHECK(order == std::vector<std::string>{"first", "second", "hook", "first", "second"});
  CHECK(running.on([&] { return io.of("/").size(); }) == 1);
}

TEST_CASE("seams: a connect middleware may decide later, from another thread", "[seams][middleware]") {
  chat::Server<> io;
  std::promise<chat::Next> waiting;
  io.of("/later").use([&](chat::Socket&, const chat::json&, chat::Next next) { waiting.set_value(next); });
  io.of("/later").use([](chat::Socket&, const chat::json&, chat::Next) { throw std::runtime_error("thrown"); });
  Running running(io);
  auto client = running.on([&] {
    auto local = io.connect_local();
    local->send(packet(PacketType::connect, chat::json(chat::json::value_t::discarded), std::nullopt, "/later"));
    return local;
  });
  auto pending = waiting.get_future();
  REQUIRE(pending.wait_for(10s) == std::future_status::ready);
  CHECK(client->take_received().empty());  // nothing until the middleware decides
  std::thread([next = pending.get()] { next(); }).join();
  // The next middleware threw: refused with its message.
  const auto got = receive(*client, 1);
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == PacketType::connect_error);
  CHECK(got[0].data == chat::json{{"message", "thrown"}});
}

TEST_CASE("seams: packet middlewares see each event first, and may drop it", "[seams][middleware]") {
  chat::Server<> io;
  std::vector<std::string> handled;
  std::vector<std::string> errors;
  std::promise<chat::Next> held;
  io.on_error([&](chat::Socket*, std::string_view message) { errors.emplace_back(message); });
  io.on_connect([&](chat::Socket& socket, const chat::json&) {
    socket.use([](chat::Socket&, chat::Event& event, chat::Next next) {
      if (event.name() == "forbidden") return next.fail("forbidden event");
      event.args().append("seen by the middleware");
      next();
    });
    socket.use([&](chat::Socket&, chat::Event& event, chat::Next next) {
      if (event.name() == "slow") held.set_value(next);
      else next();
    });
    return true;
  });
  io.on_any([&](chat::Socket&, chat::Event& event) { handled.push_back(event.name() + " " + event.args().array().dump()); });
  Running running(io);
  auto [client, connected] = join(io, running);
  sid_of(connected);
  running.on([&] {
    client->send(packet(PacketType::event, chat::json::array({"allowed", 1})));
    client->send(packet(PacketType::event, chat::json::array({"forbidden", 2})));
    client->send(packet(PacketType::event, chat::json::array({"slow", 3})));
  });
  auto later = held.get_future();
  REQUIRE(later.wait_for(10s) == std::future_status::ready);
  std::thread([next = later.get()] { next(); }).join();
  REQUIRE(eventually([&] { return running.on([&] { return handled.size(); }) == 2; }));
  running.on([&] {
    CHECK(handled == std::vector<std::string>{R"(allowed [1,"seen by the middleware"])", R"(slow [3,"seen by the middleware"])"});
    REQUIRE(errors.size() == 1);
    CHECK(errors[0].find("forbidden event") != std::string::npos);
    return 0;
  });
}

// ---- adapters ---------------------------------------------------------------------------------

namespace {

/// An adapter that wraps the in-memory one and records what it is given.
class RecordingAdapter final : public chat::InMemoryAdapter {
 public:
  struct Seen {
    chat::json data;
    bool local;
    std::vector<chat::Room> rooms;
  };

  RecordingAdapter(chat::LocalSockets& sockets, std::vector<Seen>& seen) : InMemoryAdapter(sockets), seen_(seen) {}

  void broadcast(const std::shared_ptr<const chat::OutgoingPacket>& p, const chat::BroadcastOptions& options) override {
    std::vector<chat::Room> rooms(options.rooms.begin(), options.rooms.end());
    seen_.push_back({p->packet().data, options.flags.local, rooms});
    InMemoryAdapter::broadcast(p, options);
  }

 private:
  std::vector<Seen>& seen_;
};

}  // namespace

TEST_CASE("seams: an adapter gets the structured packet and the flags of each broadcast", "[seams][adapter]") {
  chat::Server<> io;
  std::vector<RecordingAdapter::Seen> seen;  // io thread only
  io.set_adapter_factory([&](chat::LocalSockets& sockets) { return std::make_unique<RecordingAdapter>(sockets, seen); });
  Running running(io);
  auto [client, connected] = join(io, running);
  const std::string sid = sid_of(connected);
  io.to(sid).emit("one", 1);
  io.of("/").all().local().emit("two", chat::binary("b"));
  const auto got = receive(*client, 2);
  REQUIRE(got.size() == 2);
  running.on([&] {
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].data == chat::json::array({"one", 1}));
    CHECK_FALSE(seen[0].local);
    CHECK(seen[0].rooms == std::vector<chat::Room>{sid});
    CHECK(seen[1].data == chat::json::array({"two", chat::binary("b")}));  // binary as it is, not placeholders
    CHECK(seen[1].local);
    return 0;
  });
}

TEST_CASE("seams: fetch_sockets reports ids, handshakes, rooms and data", "[seams][adapter]") {
  chat::Server<> io;
  io.on_connect([](chat::Socket& socket, const chat::json& auth) {
    socket.data() = {{"name", auth.value("name", "")}};
    socket.join("lobby");
    return true;
  });
  Running running(io);
  auto [a, a_packets] = join(io, running, {{"name", "a"}});
  auto [b, b_packets] = join(io, running, {{"name", "b"}});
  std::promise<std::vector<chat::SocketInfo>> found;
  io.to("lobby").fetch_sockets([&](std::vector<chat::SocketInfo> sockets) { found.set_value(std::move(sockets)); });
  auto result = found.get_future();
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  auto sockets = result.get();
  std::sort(sockets.begin(), sockets.end(), [](const auto& x, const auto& y) { return x.data["name"] < y.data["name"]; });
  REQUIRE(sockets.size() == 2);
  CHECK(sockets[0].id == sid_of(a_packets));
  CHECK(sockets[1].id == sid_of(b_packets));
  CHECK(sockets[0].auth == chat::json{{"name", "a"}});
  std::sort(sockets[0].rooms.begin(), sockets[0].rooms.end());
  std::vector<chat::Room> rooms{sockets[0].id, "lobby"};
  std::sort(rooms.begin(), rooms.end());
  CHECK(sockets[0].rooms == rooms);
}

TEST_CASE("seams: a broadcast with acks gathers every answer, or times out with those that came", "[seams][adapter]") {
  chat::Server<> io;
  Running running(io);
  auto [a, a_packets] = join(io, running);
  auto [b, b_packets] = join(io, running);
  auto answer = [&](chat::LocalClient& client, chat::json value) {
    const auto got = receive(client, 1);
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].id.has_value());
    running.on([&] {
      client.send(packet(PacketType::ack, chat::json::array({value}), got[0].id));
      return 0;
    });
  };
  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> all;
  io.of("/").all().emit_with_ack("question", chat::Args::of("q"), [&](std::error_code error, std::vector<chat::Args> answers) {
    all.set_value({error, std::move(answers)});
  }, 10s);
  answer(*a, "from a");
  answer(*b, "from b");
  auto result = all.get_future();
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  auto [error, answers] = result.get();
  CHECK_FALSE(error);
  std::vector<std::string> texts;
  for (const auto& args : answers) texts.push_back(args[0].get<std::string>());
  std::sort(texts.begin(), texts.end());
  CHECK(texts == std::vector<std::string>{"from a", "from b"});

  // b stays silent: the callback comes at the timeout with a's answer.
  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> partial;
  io.of("/").all().emit_with_ack("question", chat::Args::of("again"), [&](std::error_code e, std::vector<chat::Args> got) {
    partial.set_value({e, std::move(got)});
  }, 200ms);
  answer(*a, "a again");
  receive(*b, 1);
  auto late = partial.get_future();
  REQUIRE(late.wait_for(10s) == std::future_status::ready);
  auto [timeout, some] = late.get();
  CHECK(timeout == chat::errc::ack_timeout);
  REQUIRE(some.size() == 1);
  CHECK(some[0][0] == "a again");
  CHECK_THROWS_AS(io.of("/").all().emit_with_ack("x", chat::Args(), nullptr, 0ms), std::invalid_argument);

  // Every recipient gone without answering: the callback still comes, at the timeout.
  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> orphaned;
  io.of("/").all().emit_with_ack("question", chat::Args::of("anyone?"), [&](std::error_code e, std::vector<chat::Args> got) {
    orphaned.set_value({e, std::move(got)});
  }, 300ms);
  receive(*a, 1);
  receive(*b, 1);
  running.on([&] {
    a->close_connection();
    b->close_connection();
    return 0;
  });
  auto gone = orphaned.get_future();
  REQUIRE(gone.wait_for(10s) == std::future_status::ready);
  auto [orphan_error, none] = gone.get();
  CHECK(orphan_error == chat::errc::ack_timeout);
  CHECK(none.empty());
}

namespace {

/// Two servers in one process, linked the way a cluster adapter links processes: a server-side
/// emit of one reaches the other's namespace of the same name, and answers come back.
struct Link {
  struct End {
    chat::Server<>* server = nullptr;
    chat::LocalSockets* sockets = nullptr;
  };
  std::mutex mutex;
  End ends[2];
};

class LinkedAdapter final : public chat::InMemoryAdapter {
 public:
  LinkedAdapter(chat::LocalSockets& sockets, Link& link, int self) : InMemoryAdapter(sockets), link_(link), self_(self) {
    std::lock_guard<std::mutex> lock(link_.mutex);
    link_.ends[self_].sockets = &sockets;
  }

  void server_count(std::function<void(std::size_t)> done) override { done(2); }

  void server_side_emit(const chat::Args& event_and_args, ClientCount on_server_count,
                        std::function<void(chat::Args)> on_reply) override {
    Link::End other;
    Link::End me;
    {
      std::lock_guard<std::mutex> lock(link_.mutex);
      other = link_.ends[1 - self_];
      me = link_.ends[self_];
    }
    on_server_count(1);
    // Hand it over on the other server's thread; its answer comes back on this one's.
    other.server->post([other, me, event_and_args, on_reply] {
      other.sockets->receive_server_side_emit(event_and_args, [me, on_reply](chat::Args answer) {
        me.server->post([on_reply, answer] { on_reply(answer); });
      });
    });
  }

 private:
  Link& link_;
  int self_;
};

}  // namespace

TEST_CASE("seams: server-side emits cross a cluster adapter, and their answers come back", "[seams][adapter]") {
  Link link;
  chat::Server<> a;
  chat::Server<> b;
  link.ends[0].server = &a;
  link.ends[1].server = &b;
  a.set_adapter_factory([&](chat::LocalSockets& sockets) { return std::make_unique<LinkedAdapter>(sockets, link, 0); });
  b.set_adapter_factory([&](chat::LocalSockets& sockets) { return std::make_unique<LinkedAdapter>(sockets, link, 1); });
  std::promise<std::string> heard;
  b.of("/").on_server_side_emit([&](const std::string& event, const chat::Args& args, const std::function<void(chat::Args)>& reply) {
    if (event == "ping") heard.set_value(args[0].get<std::string>());
    if (event == "question") reply(chat::Args::of("answer from b", args[0]));
  });
  Running run_a(a);
  Running run_b(b);
  a.of("/").server_side_emit("ping", "hello b");
  auto ping = heard.get_future();
  REQUIRE(ping.wait_for(10s) == std::future_status::ready);
  CHECK(ping.get() == "hello b");

  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> answered;
  run_a.on([&] {
    a.of("/").server_side_emit_with_ack(chat::Args::of("question", 42), [&](std::error_code e, std::vector<chat::Args> answers) {
      answered.set_value({e, std::move(answers)});
    }, 10s);
    return 0;
  });
  auto result = answered.get_future();
  REQUIRE(result.wait_for(10s) == std::future_status::ready);
  auto [error, answers] = result.get();
  CHECK_FALSE(error);
  REQUIRE(answers.size() == 1);
  CHECK(answers[0] == chat::Args::of("answer from b", 42));

  // With the in-memory adapter there is no other server: no answer is due.
  chat::Server<> alone;
  Running run_alone(alone);
  std::promise<std::size_t> none;
  run_alone.on([&] {
    alone.of("/").server_side_emit_with_ack(chat::Args::of("question"), [&](std::error_code e, std::vector<chat::Args> got) {
      none.set_value(e ? 99 : got.size());
    }, 10s);
    return 0;
  });
  auto nothing = none.get_future();
  REQUIRE(nothing.wait_for(10s) == std::future_status::ready);
  CHECK(nothing.get() == 0);
}

TEST_CASE("seams: an adapter keeps and gives back sessions for connection state recovery", "[seams][adapter]") {
  /// Keeps sessions in a map, and answers restores later (as a store across the network would).
  class KeepingAdapter final : public chat::InMemoryAdapter {
   public:
    using InMemoryAdapter::InMemoryAdapter;
    void persist_session(const chat::PersistedSession& session) override { kept_[session.pid] = session; }
    void restore_session(const std::string& pid, const std::string&,
                         std::function<void(std::optional<chat::PersistedSession>)> done) override {
      const auto found = kept_.find(pid);
      auto answer = found == kept_.end() ? std::optional<chat::PersistedSession>() : found->second;
      if (found != kept_.end()) kept_.erase(found);
      pending_.push_back([done, answer] { done(answer); });
    }
    void answer_pending() {
      for (auto& answer : std::exchange(pending_, {})) answer();
    }

   private:
    std::unordered_map<std::string, chat::PersistedSession> kept_;
    std::vector<std::function<void()>> pending_;
  };

  chat::Server<> io;
  KeepingAdapter* adapter = nullptr;
  io.set_adapter_factory([&](chat::LocalSockets& sockets) {
    auto made = std::make_unique<KeepingAdapter>(sockets);
    if (sockets.name() == "/") adapter = made.get();
    return made;
  });
  Running running(io);
  std::vector<std::optional<chat::PersistedSession>> restored;
  running.on([&] {
    io.of("/").adapter().persist_session(chat::PersistedSession{"sid-1", "pid-1", {"lobby"}, {{"k", 1}}, {}});
    io.of("/").adapter().restore_session("pid-1", "0", [&](std::optional<chat::PersistedSession> s) { restored.push_back(s); });
    io.of("/").adapter().restore_session("pid-1", "0", [&](std::optional<chat::PersistedSession> s) { restored.push_back(s); });
    CHECK(restored.empty());  // answered later
    adapter->answer_pending();
    return 0;
  });
  REQUIRE(restored.size() == 2);
  REQUIRE(restored[0]);
  CHECK(restored[0]->sid == "sid-1");
  CHECK(restored[0]->rooms == std::vector<chat::Room>{"lobby"});
  CHECK(restored[0]->data == chat::json{{"k", 1}});
  CHECK_FALSE(restored[1]);  // a session is given back once
  // The in-memory adapter keeps nothing (Node's base adapter).
  chat::Server<> plain;
  Running run_plain(plain);
  std::optional<chat::PersistedSession> nothing{chat::PersistedSession{}};
  run_plain.on([&] {
    plain.of("/").adapter().persist_session(chat::PersistedSession{"s", "p", {}, {}, {}});
    plain.of("/").adapter().restore_session("p", "0", [&](std::optional<chat::PersistedSession> s) { nothing = s; });
    return 0;
  });
  CHECK_FALSE(nothing);
}

// ---- connection state recovery: the in-memory adapter that keeps sessions ---------------------

/// A server whose clients emit `say` to the whole namespace ("said" with the args), with
/// connection state recovery keeping at most `max_kept_bytes`.
chat::Options recovering(std::size_t max_kept_bytes) {
  chat::ConnectionStateRecovery recovery;
  recovery.max_kept_bytes = max_kept_bytes;
  return chat::Options{}.connection_state_recovery(recovery);
}

/// Events (name and payload, offset left out) of `packets`, in order; each must carry an offset.
std::vector<chat::json> events_of(const std::vector<Packet>& packets) {
  std::vector<chat::json> events;
  for (const auto& p : packets) {
    if (p.type != PacketType::event) continue;
    REQUIRE(p.data.size() == 3);
    REQUIRE(p.data[2].is_string());
    events.push_back(chat::json::array({p.data[0], p.data[1]}));
  }
  return events;
}

/// Two clients of a recovering server: `a`, which will lose its connection (with the packets
/// its CONNECT brought, its sid and its pid), and `b`, which stays.
struct TwoClients {
  std::shared_ptr<chat::LocalClient> a, b;
  std::vector<Packet> connected;
  std::string sid, pid;
};

TwoClients two_clients(chat::Server<>& io, Running& running) {
  auto joined = join(io, running);
  auto b = join(io, running).first;
  const std::string sid = sid_of(joined.second);
  const std::string pid = joined.second[0].data["pid"].get<std::string>();
  return {joined.first, b, joined.second, sid, pid};
}

TEST_CASE("recovery: the default adapter keeps sessions only with the option, and a recovered client gets what it missed",
          "[seams][recovery]") {
  chat::Server<> plain;
  Running run_plain(plain);
  CHECK(run_plain.on([&] { return dynamic_cast<chat::SessionAwareAdapter*>(&plain.of("/").adapter()) == nullptr; }));

  chat::Server<> io(recovering(64u << 20));
  io.of("/").on("say", [&io](chat::Socket&, chat::Event& event) { io.emit("said", event.args()[0]); });
  io.of("/").on("ask", [](chat::Socket&, chat::Event& event) { event.ack("answer"); });
  Running running(io);
  REQUIRE(running.on([&] { return dynamic_cast<chat::SessionAwareAdapter*>(&io.of("/").adapter()) != nullptr; }));
  const TwoClients two = two_clients(io, running);
  const auto &a = two.a, &b = two.b;
  const auto& connected = two.connected;
  const std::string &sid = two.sid, &pid = two.pid;
  REQUIRE(connected[0].data.size() == 2);
  running.on([&] { a->send(packet(PacketType::event, {"say", 1})); return 0; });
  auto first = receive(*a, 1);
  REQUIRE(events_of(first) == std::vector<chat::json>{{"said", 1}});
  const std::string offset = first[0].data[2].get<std::string>();
  // An ack carries no offset and is not kept.
  running.on([&] { a->send(packet(PacketType::event, {"ask"}, 7)); return 0; });
  auto acked = receive(*a, 1);
  REQUIRE(acked.size() == 1);
  CHECK(acked[0].type == PacketType::ack);
  CHECK(acked[0].data == chat::json::array({"answer"}));

  running.on([&] { a->close_connection(); return 0; });
  for (int n = 2; n <= 4; ++n) running.on([&] { b->send(packet(PacketType::event, {"say", n})); return 0; });
  receive(*b, 4);
  auto returned = join(io, running, {{"pid", pid}, {"offset", offset}});
  auto back = returned.first;
  auto reply = returned.second;
  auto missed = receive(*back, 4 - std::min<std::size_t>(reply.size(), 4));  // join() may have taken them all
  for (auto& p : missed) reply.push_back(std::move(p));
  // Missed events first, in order, then CONNECT with the same sid and pid.
  REQUIRE(reply.size() == 4);
  CHECK(events_of({reply.begin(), reply.begin() + 3}) == std::vector<chat::json>{{"said", 2}, {"said", 3}, {"said", 4}});
  CHECK(reply[3].type == PacketType::connect);
  CHECK(reply[3].data == chat::json{{"sid", sid}, {"pid", pid}});
  CHECK(running.on([&] { return io.of("/").socket(sid) && io.of("/").socket(sid)->recovered(); }));
}

TEST_CASE("recovery: max_kept_bytes bounds the kept events; a client whose events were dropped gets a fresh socket",
          "[seams][recovery]") {
  const std::size_t bound = 300;
  chat::Server<> io(recovering(bound));
  io.of("/").on("say", [&io](chat::Socket&, chat::Event& event) { io.emit("said", event.args()[0]); });
  Running running(io);
  const TwoClients two = two_clients(io, running);
  const auto &a = two.a, &b = two.b;
  const std::string &sid = two.sid, &pid = two.pid;
  running.on([&] { a->send(packet(PacketType::event, {"say", "first"})); return 0; });
  const std::string offset = receive(*a, 1).at(0).data[2].get<std::string>();
  running.on([&] { a->close_connection(); return 0; });
  const std::string payload(100, 'x');  // a few of these are past the bound
  for (int n = 0; n < 10; ++n) running.on([&] { b->send(packet(PacketType::event, {"say", payload})); return 0; });
  receive(*b, 11);
  const auto kept = running.on([&] {
    auto& adapter = dynamic_cast<chat::SessionAwareAdapter&>(io.of("/").adapter());
    return std::make_pair(adapter.kept_bytes(), adapter.kept_packets());
  });
  CHECK(kept.first <= bound);
  CHECK(kept.second > 0);
  CHECK(kept.second < 10);
  auto reply = join(io, running, {{"pid", pid}, {"offset", offset}}).second;
  REQUIRE(reply.size() == 1);
  REQUIRE(reply[0].type == PacketType::connect);
  CHECK(reply[0].data["sid"] != sid);
  CHECK(reply[0].data["pid"] != pid);
}

TEST_CASE("recovery: volatile events carry no offset and are not kept for a returning client", "[seams][recovery]") {
  chat::Server<> io(recovering(64u << 20));
  io.of("/").on("say", [&io](chat::Socket&, chat::Event& event) {
    io.of("/").all().volatile_().emit("whispered", event.args()[0]);
    io.emit("said", event.args()[0]);
  });
  Running running(io);
  const TwoClients two = two_clients(io, running);
  const auto &a = two.a, &b = two.b;
  const std::string &sid = two.sid, &pid = two.pid;
  running.on([&] { a->send(packet(PacketType::event, {"say", 1})); return 0; });
  auto first = receive(*a, 2);
  REQUIRE(first.size() == 2);
  CHECK(first[0].data == chat::json::array({"whispered", 1}));  // no offset
  REQUIRE(first[1].data.size() == 3);
  const std::string offset = first[1].data[2].get<std::string>();
  receive(*b, 2);

  running.on([&] { a->close_connection(); return 0; });
  for (int n = 2; n <= 3; ++n) running.on([&] { b->send(packet(PacketType::event, {"say", n})); return 0; });
  receive(*b, 4);
  CHECK(running.on([&] { return dynamic_cast<chat::SessionAwareAdapter&>(io.of("/").adapter()).kept_packets(); }) == 3);
  auto returned = join(io, running, {{"pid", pid}, {"offset", offset}});
  auto reply = returned.second;
  auto more = receive(*returned.first, 3 - std::min<std::size_t>(reply.size(), 3));
  for (auto& p : more) reply.push_back(std::move(p));
  REQUIRE(reply.size() == 3);
  CHECK(events_of({reply.begin(), reply.begin() + 2}) == std::vector<chat::json>{{"said", 2}, {"said", 3}});
  CHECK(reply[2].type == PacketType::connect);
  CHECK(reply[2].data["sid"] == sid);
}

TEST_CASE("stop() disconnects in-process clients too, and releases them", "[server][local]") {
  std::weak_ptr<chat::LocalClient> kept;
  std::vector<std::string> reasons;
  {
    chat::Server<> io;
    io.on_disconnect([&reasons](chat::Socket&, chat::DisconnectReason reason) {
      reasons.emplace_back(chat::to_string(reason));
    });
    std::shared_ptr<chat::LocalClient> client;
    {
      Running running(io);
      auto joined = join(io, running);
      client = joined.first;
      REQUIRE(joined.second.size() == 1);
      kept = client;
    }  // Running's destructor stops the server and joins its loop
    CHECK(client->closed_by_server());
    CHECK(reasons == std::vector<std::string>{"server shutting down"});
  }
  // The client and its socket held each other until the client closed: nothing holds it now.
  CHECK(kept.expired());
}

TEST_CASE("a socket awaits at most max_pending_acks answers; past it emits with acks fail at once", "[server][bounds]") {
  chat::Server<> io(chat::Options{}.max_pending_acks(3));
  std::vector<std::error_code> outcomes;  // io thread only; outlives the server, whose stop fails the rest
  Running running(io);
  auto [client, connected] = join(io, running);
  const std::string sid = sid_of(connected);
  auto ask = [&](int n) {
    running.on([&, n] {
      io.of("/").socket(sid)->emit_with_ack("q", chat::Args::of(n), [&](std::error_code error, chat::Args) {
        outcomes.push_back(error);
      });
      return 0;
    });
  };
  for (int n = 0; n < 4; ++n) ask(n);
  // Three sent and awaited; the fourth not sent, its callback already called.
  const auto sent = receive(*client, 3);
  REQUIRE(sent.size() == 3);
  CHECK(running.on([&] { return outcomes; }) == std::vector<std::error_code>{chat::errc::too_many_pending_acks});
  // A broadcast with acks leaves the full socket out: no recipient, so no answer to wait for.
  std::promise<std::size_t> answered;
  io.of("/").all().emit_with_ack("b", chat::Args(), [&](std::error_code, std::vector<chat::Args> answers) {
    answered.set_value(answers.size());
  }, 10s);
  auto count = answered.get_future();
  REQUIRE(count.wait_for(10s) == std::future_status::ready);
  CHECK(count.get() == 0);
  CHECK(client->take_received().empty());

  // One answer makes room for one more.
  running.on([&] {
    client->send(packet(PacketType::ack, chat::json::array({"a"}), sent[0].id));
    return 0;
  });
  ask(5);
  CHECK(receive(*client, 1).size() == 1);
  CHECK(running.on([&] { return outcomes.size(); }) == 2);
  CHECK(running.on([&] { return outcomes.back(); }) == std::error_code());
}

TEST_CASE("the answers a timed-out broadcast with acks awaited stop counting against max_pending_acks", "[server][bounds]") {
  chat::Server<> io(chat::Options{}.max_pending_acks(2));
  Running running(io);
  auto [client, connected] = join(io, running);
  const std::string sid = sid_of(connected);
  // Two broadcasts the client never answers fill its pending acks until their timeout.
  for (int i = 0; i < 2; ++i) {
    std::promise<void> done;
    io.of("/").all().emit_with_ack("b", chat::Args(), [&](std::error_code, std::vector<chat::Args>) { done.set_value(); }, 20ms);
    REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
  }
  CHECK(receive(*client, 2).size() == 2);
  // Once expired they make room: an emit with an ack to that socket is sent (bounded retries:
  // the socket's own deadlines may trail the broadcasts' by a moment).
  CHECK(eventually([&] {
    return running.on([&] {
      auto refused = std::make_shared<bool>(false);  // the callback may outlive this attempt
      io.of("/").socket(sid)->emit_with_ack("q", chat::Args(), [refused](std::error_code error, chat::Args) {
        if (error == chat::errc::too_many_pending_acks) *refused = true;
      }, 10s);
      return !*refused;
    });
  }));
  CHECK(receive(*client, 1).size() == 1);
}

TEST_CASE("a parent namespace makes children with its hooks, reaches them all, and they go when empty", "[server][namespaces]") {
  chat::Server<> io(chat::Options{}.cleanup_empty_child_namespaces(true));
  chat::Namespace& rooms = io.of(std::regex("^/room-\\d+$"));
  chat::Namespace& guests = io.of([](const std::string& name, const chat::json& auth) {
    return name.rfind("/guest-", 0) == 0 && auth.is_object() && auth.value("ok", false);
  });
  rooms.on("hi", [](chat::Socket& socket, chat::Event&) { socket.emit("hello", socket.nsp().name()); });
  Running running(io);
  auto [one, first] = join(io, running, chat::json::object(), "/room-1");
  auto [two, second] = join(io, running, chat::json::object(), "/room-2");
  REQUIRE(first.at(0).type == PacketType::connect);
  REQUIRE(second.at(0).type == PacketType::connect);
  CHECK(running.on([&] { return rooms.children(); }) == std::vector<std::string>{"/room-1", "/room-2"});
  CHECK(running.on([&] { return rooms.size(); }) == 2);
  // The parent's hooks serve a child, named as joined.
  running.on([&] { one->send(packet(PacketType::event, chat::json::array({"hi"}), std::nullopt, "/room-1")); });
  auto hello = receive(*one, 1);
  REQUIRE(hello.size() == 1);
  CHECK(hello[0].nsp == "/room-1");
  CHECK(hello[0].data == chat::json::array({"hello", "/room-1"}));
  // The parent's emit reaches every child, each packet naming its own namespace.
  rooms.emit("news", 1);
  auto news_one = receive(*one, 1), news_two = receive(*two, 1);
  REQUIRE(news_one.size() == 1);
  REQUIRE(news_two.size() == 1);
  CHECK(news_one[0].nsp == "/room-1");
  CHECK(news_two[0].nsp == "/room-2");
  // A broadcast with acks to a parent is refused where it is asked.
  CHECK_THROWS_AS(rooms.all().emit_with_ack("q", chat::Args(), [](std::error_code, std::vector<chat::Args>) {}, 1s),
                  std::logic_error);
  // The matcher sees the auth; a name none accepts is refused.
  auto [guest, admitted] = join(io, running, chat::json{{"ok", true}}, "/guest-ann");
  CHECK(admitted.at(0).type == PacketType::connect);
  auto [stranger, refused] = join(io, running, chat::json{{"ok", false}}, "/guest-bob");
  CHECK(refused.at(0).type == PacketType::connect_error);
  auto [lost, invalid] = join(io, running, chat::json::object(), "/room-x");
  CHECK(invalid.at(0).type == PacketType::connect_error);
  CHECK(running.on([&] { return guests.children(); }) == std::vector<std::string>{"/guest-ann"});
  // cleanup_empty_child_namespaces: a child goes once its last socket has left.
  running.on([&] { one->close_connection(); });
  CHECK(eventually([&] { return running.on([&] { return rooms.children(); }) == std::vector<std::string>{"/room-2"}; }));
}

TEST_CASE("any-listeners see events in order, outgoing ones what is written, and volatile packets wait for no one", "[server][listeners]") {
  chat::Server<> io;
  std::vector<std::string> seen;
  chat::ListenerId second = 0;
  io.on_connect([&](chat::Socket& socket, const chat::json&) {
    second = socket.on_any([&](chat::Socket&, chat::Event& event) { seen.push_back("second " + event.name()); });
    socket.prepend_any([&](chat::Socket&, chat::Event& event) { seen.push_back("first " + event.name()); });
    socket.on_any_outgoing([&](chat::Socket&, const std::string& event, const chat::Args& args) {
      seen.push_back("out " + event + " " + args.array().dump());
    });
    return true;
  });
  io.on("ping", [&](chat::Socket& socket, chat::Event& event) {
    seen.push_back("handler");
    socket.emit("pong", 1);
    event.ack("acks are not events");
  });
  io.on("quiet", [&](chat::Socket& socket, chat::Event&) { socket.off_any(second); });
  Running running(io);
  auto [client, connected] = join(io, running);
  running.on([&] { client->send(packet(PacketType::event, chat::json::array({"ping"}), 7)); });
  CHECK(receive(*client, 2).size() == 2);
  running.on([&] { client->send(packet(PacketType::event, chat::json::array({"quiet"}))); });
  running.on([&] { client->send(packet(PacketType::event, chat::json::array({"ping"}))); });
  CHECK(receive(*client, 1).size() == 1);
  CHECK(running.on([&] { return seen; }) ==
        std::vector<std::string>{"first ping", "second ping", "handler", "out pong [1]", "first quiet", "second quiet",
                                 "first ping", "handler", "out pong [1]"});
}

TEST_CASE("the future of an emit with an ack gives the answer, or the error", "[server][acks]") {
  chat::Server<> io;
  Running running(io);
  auto [client, connected] = join(io, running);
  const std::string sid = sid_of(connected);
  auto answered = running.on([&] { return io.of("/").socket(sid)->emit_with_ack("q", chat::Args::of(1), 10s); });
  auto question = receive(*client, 1);
  REQUIRE(question.size() == 1);
  REQUIRE(question[0].id);
  running.on([&] { client->send(packet(PacketType::ack, chat::json::array({"yes"}), question[0].id)); });
  REQUIRE(answered.wait_for(10s) == std::future_status::ready);
  CHECK(answered.get().array() == chat::json::array({"yes"}));
  auto unanswered = running.on([&] { return io.of("/").socket(sid)->emit_with_ack("q", chat::Args(), 10ms); });
  REQUIRE(unanswered.wait_for(10s) == std::future_status::ready);
  try {
    unanswered.get();
    FAIL("no error");
  } catch (const std::system_error& error) {
    CHECK(error.code() == chat::errc::ack_timeout);
  }
  // A broadcast's future: a timeout carries the answers that came (none here).
  auto all = io.of("/").all().emit_with_ack("q", chat::Args(), 10ms);
  REQUIRE(all.wait_for(10s) == std::future_status::ready);
  try {
    all.get();
    FAIL("no error");
  } catch (const chat::AcksTimeoutError& error) {
    CHECK(error.code() == chat::errc::ack_timeout);
    CHECK(error.responses().empty());
  }
}
