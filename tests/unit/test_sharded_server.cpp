// ShardedServer's cross-shard adapter, driven in process: LocalClients on each shard (no network),
// the shards' loops running on their threads. The network side is in tests/node/shards.test.mjs.
#include <chat/sharded_server.hpp>

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using chat::socketio::Packet;
using chat::socketio::PacketType;

/// Runs a ShardedServer's shards for the length of a test.
class Running {
 public:
  explicit Running(chat::ShardedServer<>& io) : io_(io), thread_([this] { io_.run(); }) {}
  ~Running() {
    io_.stop();
    thread_.join();
  }

  /// Runs `work` on shard `index`'s io thread and waits for it (a hang guard of 10 s).
  template <class Work>
  auto on(std::size_t index, Work work) -> decltype(work()) {
    using Result = decltype(work());
    auto task = std::make_shared<std::packaged_task<Result()>>(std::move(work));
    auto result = task->get_future();
    io_.shard(index).post([task] { (*task)(); });
    REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
    return result.get();
  }

 private:
  chat::ShardedServer<>& io_;
  std::thread thread_;
};

Packet connect_packet(std::string nsp = "/") {
  Packet packet;
  packet.type = PacketType::connect;
  packet.nsp = std::move(nsp);
  return packet;
}

/// Connects a LocalClient on shard `index` (on its io thread) and sends CONNECT for `nsp`.
std::shared_ptr<chat::LocalClient> connect_on(chat::ShardedServer<>& io, Running& running, std::size_t index,
                                              const std::string& nsp) {
  return running.on(index, [&io, index, nsp] {
    auto client = io.shard(index).connect_local();
    client->send(connect_packet(nsp));
    return client;
  });
}

/// The events `client` received so far, as [name, args...] arrays, after waiting until
/// `expected` of them arrived (a hang guard of 10 s, never a timing assertion).
std::vector<chat::json> events(chat::LocalClient& client, std::vector<chat::json>& seen, std::size_t expected) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    for (auto& packet : client.take_received())
      if (packet.type == PacketType::event) seen.push_back(packet.data);
    if (seen.size() >= expected || std::chrono::steady_clock::now() > deadline) return seen;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

struct Peer {
  std::shared_ptr<chat::LocalClient> client;
  std::vector<chat::json> seen;
  std::string id;  // the socket id of its "/" socket
};

/// Connects one LocalClient to "/" on each shard, then waits for each socket's CONNECT.
std::vector<Peer> connect_everywhere(chat::ShardedServer<>& io, Running& running, const std::string& nsp = "/") {
  std::vector<Peer> peers(io.shard_count());
  for (std::size_t i = 0; i < peers.size(); ++i) {
    peers[i].client = connect_on(io, running, i, nsp);
    for (auto& packet : peers[i].client->take_received()) {
      REQUIRE(packet.type == PacketType::connect);
      peers[i].id = packet.data["sid"].get<std::string>();
    }
    REQUIRE(!peers[i].id.empty());
  }
  return peers;
}

}  // namespace

TEST_CASE("sharded server: emits from any thread reach the sockets of every shard once", "[shards]") {
  chat::ShardedServer<> io(3);
  REQUIRE(io.shard_count() == 3);
  Running running(io);
  auto peers = connect_everywhere(io, running);

  io.emit("hello", 1);  // from this thread, through shard 0
  for (auto& peer : peers) CHECK(events(*peer.client, peer.seen, 1) == std::vector<chat::json>{{"hello", 1}});

  // To one socket by id, from another shard's thread: only that socket, wherever it is.
  running.on(0, [&] { io.shard(0).to(peers[2].id).emit("direct", "to 2"); });
  running.on(2, [&] { io.shard(2).to(peers[1].id).emit("direct", "to 1"); });
  io.emit("marker");  // after both on every connection: anything extra would have come before
  CHECK(events(*peers[0].client, peers[0].seen, 2).back() == chat::json{"marker"});
  CHECK(events(*peers[1].client, peers[1].seen, 3) == std::vector<chat::json>{{"hello", 1}, {"direct", "to 1"}, {"marker"}});
  CHECK(events(*peers[2].client, peers[2].seen, 3) == std::vector<chat::json>{{"hello", 1}, {"direct", "to 2"}, {"marker"}});
  CHECK(peers[0].seen.size() == 2);
}

TEST_CASE("sharded server: sockets_join, rooms and except span the shards", "[shards]") {
  chat::ShardedServer<> io(2);
  Running running(io);
  auto peers = connect_everywhere(io, running);
  auto more = connect_everywhere(io, running);  // one more per shard, outside the selection

  // Select peers[*] by their ids, from this thread: the join reaches both shards before the
  // emit that follows it (one origin, posts in order).
  io.to(peers[0].id).to(peers[1].id).sockets_join("team");
  io.to("team").emit("team", 1);
  io.except("team").emit("not-team", 2);
  for (auto& peer : peers) CHECK(events(*peer.client, peer.seen, 1) == std::vector<chat::json>{{"team", 1}});
  for (auto& peer : more) CHECK(events(*peer.client, peer.seen, 1) == std::vector<chat::json>{{"not-team", 2}});
  std::vector<std::string> expected_rooms{peers[1].id, "team"};
  std::sort(expected_rooms.begin(), expected_rooms.end());
  CHECK(running.on(1, [&] { return io.shard(1).of("/").socket(peers[1].id)->rooms(); }) == expected_rooms);

  io.in("team").sockets_leave("team");
  io.to("team").emit("team", 3);
  io.emit("marker");
  for (auto& peer : peers) CHECK(events(*peer.client, peer.seen, 2).back() == chat::json{"marker"});
  for (auto& peer : peers) CHECK(peer.seen.size() == 2);

  io.to(peers[1].id).disconnect_sockets();
  std::vector<Packet> got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (got.empty() && std::chrono::steady_clock::now() < deadline) {
    got = peers[1].client->take_received();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  REQUIRE(got.size() == 1);
  CHECK(got[0].type == PacketType::disconnect);
  CHECK(running.on(1, [&] { return io.shard(1).of("/").socket(peers[1].id) == nullptr; }));
  CHECK(running.on(0, [&] { return io.shard(0).of("/").socket(peers[0].id) != nullptr; }));
}

TEST_CASE("sharded server: a namespace on some shards only, and dynamic namespaces", "[shards]") {
  chat::ShardedServer<> io(2, chat::Options().namespaces({"*"}));
  Running running(io);
  // "/dyn" appears on shard 1 only, on its first CONNECT there.
  auto client = connect_on(io, running, 1, "/dyn");
  std::vector<chat::json> seen;
  // Broadcasting from shard 1 posts to shard 0, which has no "/dyn": nothing happens there.
  running.on(1, [&] { io.shard(1).of("/dyn").emit("local", 1); });
  CHECK(events(*client, seen, 1) == std::vector<chat::json>{{"local", 1}});
  // From shard 0 (where of() makes an empty "/dyn", safely from any thread), to shard 1's members.
  io.shard(0).of("/dyn").emit("from-0", 2);
  CHECK(events(*client, seen, 2) == std::vector<chat::json>{{"local", 1}, {"from-0", 2}});
  // A client of shard 0 joining it later gets later broadcasts from shard 1.
  auto late = connect_on(io, running, 0, "/dyn");
  std::vector<chat::json> late_seen;
  running.on(1, [&] { io.shard(1).of("/dyn").emit("both", 3); });
  CHECK(events(*late, late_seen, 1) == std::vector<chat::json>{{"both", 3}});
  CHECK(events(*client, seen, 3).back() == chat::json{"both", 3});
}

TEST_CASE("sharded server: shard counts", "[shards]") {
  CHECK(chat::ShardedServer<>(0).shard_count() >= 1);  // one per hardware thread
  CHECK(chat::ShardedServer<>(0).shard_count() <= 64);
  CHECK(chat::ShardedServer<>(64).shard_count() == 64);
  CHECK_THROWS_AS(chat::ShardedServer<>(65), std::invalid_argument);
  // stop() before run(): run() returns at once.
  chat::ShardedServer<> io(2);
  io.stop();
  io.run();
}

TEST_CASE("sharded server: fetch_sockets and broadcasts with acks span the shards", "[shards]") {
  chat::ShardedServer<> io(3);
  Running running(io);
  auto peers = connect_everywhere(io, running);

  std::promise<std::vector<chat::SocketInfo>> found;
  io.to(peers[0].id).to(peers[2].id).fetch_sockets([&](std::vector<chat::SocketInfo> s) { found.set_value(std::move(s)); });
  auto sockets = found.get_future();
  REQUIRE(sockets.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  std::vector<std::string> ids;
  for (const auto& socket : sockets.get()) ids.push_back(socket.id);
  std::sort(ids.begin(), ids.end());
  std::vector<std::string> expected{peers[0].id, peers[2].id};
  std::sort(expected.begin(), expected.end());
  CHECK(ids == expected);

  std::promise<std::pair<std::error_code, std::vector<chat::Args>>> answered;
  running.on(1, [&] {
    io.shard(1).of("/").all().emit_with_ack("question", chat::Args::of(1), [&](std::error_code e, std::vector<chat::Args> a) {
      answered.set_value({e, std::move(a)});
    }, std::chrono::seconds(10));
  });
  for (std::size_t i = 0; i < peers.size(); ++i) {
    std::vector<Packet> got;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (got.empty() && std::chrono::steady_clock::now() < deadline) {
      got = peers[i].client->take_received();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    REQUIRE(got.size() == 1);
    REQUIRE(got[0].id.has_value());
    Packet ack;
    ack.type = PacketType::ack;
    ack.id = got[0].id;
    ack.data = chat::json::array({"shard " + std::to_string(i)});
    running.on(i, [&] { peers[i].client->send(ack); });
  }
  auto result = answered.get_future();
  REQUIRE(result.wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  auto [error, answers] = result.get();
  CHECK_FALSE(error);
  std::vector<std::string> from;
  for (const auto& args : answers) from.push_back(args[0].get<std::string>());
  std::sort(from.begin(), from.end());
  CHECK(from == std::vector<std::string>{"shard 0", "shard 1", "shard 2"});
}

TEST_CASE("sharded server: an application's adapter is wrapped, not replaced", "[shards]") {
  chat::ShardedServer<> io(2);
  // What each shard's own adapter was handed: broadcasts, and those a cluster adapter would have
  // sent to the other servers (flags.local not set); sockets_join, the same.
  class Counting final : public chat::InMemoryAdapter {
   public:
    Counting(chat::LocalSockets& sockets, std::atomic<int> (&counts)[4])
        : InMemoryAdapter(sockets), counts_(counts) {}
    void broadcast(const std::shared_ptr<const chat::OutgoingPacket>& packet, const chat::BroadcastOptions& options) override {
      ++counts_[0];
      if (!options.flags.local) ++counts_[1];
      InMemoryAdapter::broadcast(packet, options);
    }
    void add_sockets(const chat::BroadcastOptions& options, const std::vector<chat::Room>& rooms) override {
      ++counts_[2];
      if (!options.flags.local) ++counts_[3];
      InMemoryAdapter::add_sockets(options, rooms);
    }

   private:
    std::atomic<int> (&counts_)[4];
  };
  std::atomic<int> counts[4] = {0, 0, 0, 0};
  io.each([&](chat::Server<>& shard) {
    shard.set_adapter_factory([&](chat::LocalSockets& sockets) { return std::make_unique<Counting>(sockets, counts); });
  });
  Running running(io);
  auto peers = connect_everywhere(io, running);
  io.to(peers[1].id).sockets_join("team");
  io.emit("hello");
  for (auto& peer : peers) CHECK(events(*peer.client, peer.seen, 1) == std::vector<chat::json>{{"hello"}});
  CHECK(counts[0] == 2);  // each shard's own adapter delivered it, once
  CHECK(counts[1] == 1);  // and only the shard it was emitted on would send it further
  CHECK(counts[2] == 2);
  CHECK(counts[3] == 1);

  // Every room of every shard, each once: the sockets' own rooms and the team.
  std::promise<std::vector<chat::Room>> found;
  running.on(0, [&] {
    io.shard(0).of("/").adapter().all_rooms({}, [&](std::vector<chat::Room> rooms) { found.set_value(std::move(rooms)); });
  });
  auto rooms = found.get_future().get();
  std::sort(rooms.begin(), rooms.end());
  std::vector<chat::Room> expected{peers[0].id, peers[1].id, "team"};
  std::sort(expected.begin(), expected.end());
  CHECK(rooms == expected);
}

TEST_CASE("sharded server: a shard that falls behind has a bounded queue of broadcasts", "[shards]") {
  const std::string payload(80, 'x');
  Packet sample;
  sample.type = PacketType::event;
  sample.nsp = "/";
  sample.data = chat::json::array({"m", payload});
  const std::size_t encoded = chat::socketio::encode(sample).data.size();  // what the bound counts
  const std::size_t bound = 10 * encoded;
  chat::ShardedServer<> io(2, chat::Options{}.max_shard_queue_bytes(bound));
  std::mutex mutex;
  std::vector<std::string> errors;
  io.each([&](chat::Server<>& shard) {
    shard.on_error([&](chat::Socket*, std::string_view message) {
      std::lock_guard<std::mutex> lock(mutex);
      errors.emplace_back(message);
    });
  });
  Running running(io);
  auto peers = connect_everywhere(io, running);

  auto flood_while_shard_1_waits = [&](int broadcasts) {
    std::promise<void> gate;
    auto opened = gate.get_future().share();
    io.shard(1).post([opened] { opened.wait_for(std::chrono::seconds(10)); });
    running.on(0, [&] {
      for (int i = 0; i < broadcasts; ++i) io.shard(0).emit("m", payload);
    });
    gate.set_value();
    running.on(1, [] {});  // what shard 1 was handed has run
  };

  flood_while_shard_1_waits(50);
  io.emit("marker");  // queued behind what shard 1 kept
  // Shard 0's own client has everything; shard 1's the first `bound` bytes' worth, then the marker.
  CHECK(events(*peers[0].client, peers[0].seen, 51).size() == 51);
  auto late = events(*peers[1].client, peers[1].seen, 11);
  REQUIRE(late.size() == 11);
  CHECK(late.back() == chat::json{"marker"});
  {
    std::lock_guard<std::mutex> lock(mutex);
    REQUIRE(errors.size() == 1);  // one report for the episode, not one per dropped broadcast
    CHECK(errors[0].find("shard 1") != std::string::npos);
    CHECK(errors[0].find("max_shard_queue_bytes") != std::string::npos);
  }

  // Caught up: the next flood is a new episode, reported again, and bounded the same way.
  flood_while_shard_1_waits(50);
  io.emit("marker");
  CHECK(events(*peers[1].client, peers[1].seen, 22).size() == 22);
  std::lock_guard<std::mutex> lock(mutex);
  CHECK(errors.size() == 2);
}
