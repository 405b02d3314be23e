// The Admin UI's side of a server (chat/admin_ui.hpp): its login checks (bcrypt through Debian's
// libcrypt), and the observer that turns what the server does into the admin namespace's
// messages, Node's @socket.io/admin-ui 0.5 protocol.
#ifndef CHAT_DETAIL_ADMIN_UI_HPP
#define CHAT_DETAIL_ADMIN_UI_HPP

#include <crypt.h>     // crypt_rn, struct crypt_data (libcrypt: Debian's libcrypt-dev)
#include <unistd.h>    // gethostname, getpid

#include <atomic>              // atomic
#include <cctype>              // tolower
#include <cstdio>              // snprintf
#include <chrono>              // steady_clock, system_clock
#include <condition_variable>  // condition_variable
#include <cstdint>             // int64_t
#include <ctime>               // gmtime_r, strftime
#include <deque>               // deque
#include <functional>          // function
#include <memory>              // shared_ptr, make_shared, unique_ptr
#include <mutex>               // mutex, lock_guard, unique_lock
#include <optional>            // optional
#include <stdexcept>           // invalid_argument, logic_error
#include <string>              // string
#include <string_view>         // string_view
#include <thread>              // thread
#include <unordered_map>       // unordered_map
#include <unordered_set>       // unordered_set
#include <utility>             // move
#include <vector>              // vector

#include <asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "../adapter.hpp"
#include "../broadcast.hpp"
#include "../handshake.hpp"
#include "../middleware.hpp"
#include "../namespace.hpp"
#include "../reason.hpp"
#include "../server.hpp"
#include "../socket.hpp"
#include "../socketio/types.hpp"
#include "client.hpp"
#include "core.hpp"
#include "observer.hpp"
#include "random_id.hpp"

namespace chat::detail {

/// Reaches what instrument() needs of AdminAuth and InstrumentOptions (chat/admin_ui.hpp).
struct AdminAccess;

/// Reaches a Server's core (Server befriends it).
struct ServerAccess {
  template <class Config>
  static Core& core(Server<Config>& server) {
    return server.core();
  }
};

inline std::string host_name() {
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0) return "localhost";
  return name;
}

/// A time as JavaScript's `Date.toJSON()` writes it ("2026-12-04T16:03:32.123Z"), which is how
/// Node's admin messages carry their dates.
inline std::string iso_time(std::chrono::system_clock::time_point when) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  const std::size_t n = std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
  char millis[8];
  std::snprintf(millis, sizeof(millis), ".%03dZ", static_cast<int>(ms % 1000));
  return std::string(text, n) + millis;
}

// ---- bcrypt ----------------------------------------------------------------------------------

/// Whether `hash` has bcrypt's shape: `$2a$`, `$2b$` or `$2y$`, a two-digit cost, 53 characters
/// of salt and hash (what bcryptjs's getRounds accepts, which Node checks at start).
inline bool is_bcrypt_hash(std::string_view hash) {
  if (hash.size() != 60 || hash[0] != '$' || hash[1] != '2' || hash[3] != '$' || hash[6] != '$') return false;
  if (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') return false;
  if (hash[4] < '0' || hash[4] > '3' || hash[5] < '0' || hash[5] > '9') return false;
  for (char c : hash.substr(7))
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '/')) return false;
  return true;
}

/// Whether `password` hashes to `hash` (libcrypt's bcrypt). Slow on purpose: tens of
/// milliseconds at cost 10, so never on the io thread.
inline bool bcrypt_matches(const std::string& password, const std::string& hash) {
  if (password.find('\0') != std::string::npos) return false;  // C strings below would cut it short
  auto data = std::make_unique<crypt_data>();                   // 32 KiB: not on the stack
  const char* out = crypt_rn(password.c_str(), hash.c_str(), data.get(), sizeof(crypt_data));
  if (out == nullptr || std::string_view(out).size() != hash.size()) return false;
  unsigned char difference = 0;  // compared in constant time
  for (std::size_t i = 0; i < hash.size(); ++i) difference |= static_cast<unsigned char>(out[i] ^ hash[i]);
  return difference == 0;
}

/// One thread that checks passwords against bcrypt hashes, in order, off the io thread. At
/// most `max_waiting` checks wait: more are refused at once (a flood of logins must not pile up).
class BcryptWorker {
 public:
  using Done = std::function<void(bool matches)>;
  static constexpr std::size_t max_waiting = 16;

  BcryptWorker() = default;
  BcryptWorker(const BcryptWorker&) = delete;
  BcryptWorker& operator=(const BcryptWorker&) = delete;
  ~BcryptWorker() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

  /// Queues a check; `done` runs on the worker's thread. False when too many wait.
  bool submit(std::string password, std::string hash, Done done) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (jobs_.size() >= max_waiting) return false;
    jobs_.push_back(Job{std::move(password), std::move(hash), std::move(done)});
    if (!thread_.joinable()) thread_ = std::thread([this] { work(); });
    wake_.notify_one();
    return true;
  }

 private:
  struct Job {
    std::string password;
    std::string hash;
    Done done;
  };

  void work() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      Job job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      job.done(bcrypt_matches(job.password, job.hash));
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // started with the first check
};

/// The session ids given to admin clients that logged in (Node's InMemoryStore), shared by the
/// shards of a ShardedServer. The oldest go past `capacity`.
class AdminSessions {
 public:
  static constexpr std::size_t capacity = 1024;

  std::string open() {
    std::string id = random_id();
    std::lock_guard<std::mutex> lock(mutex_);
    ids_.insert(id);
    order_.push_back(id);
    if (order_.size() > capacity) {
      ids_.erase(order_.front());
      order_.pop_front();
    }
    return id;
  }
  bool exists(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mutex_);
    return ids_.count(id) > 0;
  }

 private:
  mutable std::mutex mutex_;
  std::unordered_set<std::string> ids_;
  std::deque<std::string> order_;
};

/// What AdminAuth holds: one of its four kinds.
struct AdminAuthCheck {
  enum class Kind { none, basic, any_of, custom };
  Kind kind = Kind::none;
  std::string username;
  std::string bcrypt_hash;
  std::shared_ptr<AdminSessions> sessions;
  std::vector<json> accepted;
  std::function<bool(const json&)> check;

  static AdminAuthCheck basic(std::string username, std::string hash) {
    if (!is_bcrypt_hash(hash))
      throw std::invalid_argument("instrument: the password must be a bcrypt hash ($2a$, $2b$ or $2y$, 60 characters)");
    AdminAuthCheck auth;
    auth.kind = Kind::basic;
    auth.username = std::move(username);
    auth.bcrypt_hash = std::move(hash);
    auth.sessions = std::make_shared<AdminSessions>();
    return auth;
  }
  static AdminAuthCheck any_of(std::vector<json> accepted) {
    AdminAuthCheck auth;
    auth.kind = Kind::any_of;
    auth.accepted = std::move(accepted);
    return auth;
  }
  static AdminAuthCheck custom(std::function<bool(const json&)> check) {
    if (!check) throw std::invalid_argument("instrument: the auth check must be a function");
    AdminAuthCheck auth;
    auth.kind = Kind::custom;
    auth.check = std::move(check);
    return auth;
  }
};

/// InstrumentOptions, checked and resolved.
struct AdminSettings {
  std::shared_ptr<const AdminAuthCheck> auth;
  std::string namespace_name;
  bool read_only = false;
  bool development = true;
  std::string server_id;
  std::chrono::milliseconds stats_interval{2000};
  /// Admin sockets connected, over every shard: with none, nothing is recorded for them.
  std::shared_ptr<std::atomic<int>> admins = std::make_shared<std::atomic<int>>(0);
};

// ---- what the UI is told ---------------------------------------------------------------------

/// Node's `socket.handshake` as the admin UI gets it.
inline json handshake_json(const Handshake& handshake) {
  json headers = json::object();
  for (const auto& [name, value] : handshake.headers) {
    std::string key = name;
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto& slot = headers[key];
    slot = slot.is_string() ? json(slot.get<std::string>() + ", " + value) : json(value);
  }
  json query = json::object();
  for (const auto& [name, value] : handshake.query) {
    auto& slot = query[name];
    if (slot.is_null()) slot = value;
    else if (slot.is_array()) slot.push_back(value);
    else slot = json::array({slot, value});
  }
  std::string address = handshake.address;
  if (auto forwarded = handshake.header("cf-connecting-ip")) address = std::string(*forwarded);
  else if (auto forwarded_for = handshake.header("x-forwarded-for")) address = std::string(*forwarded_for);
  return json{{"address", address},
              {"headers", std::move(headers)},
              {"query", std::move(query)},
              {"issued", handshake.issued_ms},
              {"secure", handshake.secure},
              {"time", iso_time(std::chrono::system_clock::time_point(std::chrono::milliseconds(handshake.issued_ms)))},
              {"url", handshake.url},
              {"xdomain", handshake.header("origin").has_value()}};
}

/// A socket as the admin UI lists it (Node's `serialize`).
inline json socket_json(const std::string& nsp, const SocketInfo& info) {
  return json{{"id", info.id},
              {"clientId", info.connection_id.substr(0, 12)},  // Node's length
              {"transport", info.transport},
              {"nsp", nsp},
              {"data", info.data.is_null() ? json::object() : info.data},
              {"handshake", handshake_json(info.handshake)},
              {"rooms", info.rooms}};
}

inline json socket_json(Socket& socket) {
  return socket_json(socket.nsp().name(), SocketInfo{socket.id(), socket.handshake(), json(), socket.rooms(), socket.data(),
                                                      socket.connection_id(), std::string(socket.transport())});
}

/// The instrumentation of one server (one shard): an observer of its core, the admin
/// namespace's middleware and handlers, the statistics timer. Io thread only, but for the
/// bcrypt worker's answers, which it posts there.
class AdminObserver final : public ServerObserver {
 public:
  AdminObserver(Core& core, AdminSettings settings)
      : core_(core),
        settings_(std::move(settings)),
        admin_(&core.of(settings_.namespace_name)),
        started_(std::chrono::steady_clock::now()),
        stats_timer_(core.io()) {}

  /// Registers the middleware and the handlers, and starts the statistics.
  void install() {
    // The namespace is the instrumentation's own: hooks it got from "*" or a parent when made
    // (a Python host hooks "*") would hand its clients and commands to the application.
    admin_->on_connect([](Socket&, const json&) -> ConnectResult { return true; });
    admin_->on_any(EventHandler());
    admin_->use([this](Socket& socket, const json& auth, Next next) { authenticate(socket, auth, std::move(next)); });
    if (!settings_.read_only) {
      admin_->on("emit", [this](Socket&, Event& event) { on_emit(event.args()); });
      admin_->on("join", [this](Socket&, Event& event) { on_rooms(event.args(), true); });
      admin_->on("leave", [this](Socket&, Event& event) { on_rooms(event.args(), false); });
      admin_->on("_disconnect", [this](Socket&, Event& event) { on_disconnect(event.args()); });
    }
    arm_stats();
  }

  // ---- the server's news ----

  void connection_opened(const Client& client) override {
    push_event("rawConnection");
    connections_[client.connection_id()].polling = client.transport_name() == "polling";
  }

  void connection_upgraded(const Client& client) override {
    auto found = connections_.find(client.connection_id());
    if (found == connections_.end()) return;
    found->second.polling = false;
    if (!watched()) return;
    for (const auto& [nsp, id] : found->second.sockets)
      queue(json::array({"socket_updated", {{"id", id}, {"nsp", nsp}, {"transport", "websocket"}}}));
  }

  void connection_closed(const Client& client, DisconnectReason reason) override {
    push_event("rawDisconnection", std::string(to_string(reason)));
    connections_.erase(client.connection_id());
  }

  void message_received(std::size_t bytes) override {
    push_event("packetsIn");
    push_event("bytesIn", std::nullopt, bytes);
  }

  void message_sent(std::size_t bytes) override {
    push_event("packetsOut");
    push_event("bytesOut", std::nullopt, bytes);
  }

  void socket_connected(Socket& socket) override {
    const bool is_admin = &socket.nsp() == admin_;
    if (is_admin) ++*settings_.admins;
    auto connection = connections_.find(socket.connection_id());
    if (connection != connections_.end()) connection->second.sockets.emplace_back(socket.nsp().name(), socket.id());
    if (settings_.development && watched()) queue(json::array({"socket_connected", socket_json(socket), now()}));
    if (is_admin) welcome(socket);
  }

  void socket_disconnected(Socket& socket, DisconnectReason reason) override {
    if (&socket.nsp() == admin_) --*settings_.admins;
    auto connection = connections_.find(socket.connection_id());
    if (connection != connections_.end()) {
      auto& sockets = connection->second.sockets;
      for (auto it = sockets.begin(); it != sockets.end(); ++it) {
        if (it->second == socket.id()) {
          sockets.erase(it);
          break;
        }
      }
    }
    if (settings_.development && watched())
      queue(json::array({"socket_disconnected", socket.nsp().name(), socket.id(), to_string(reason), now()}));
  }

  void room_joined(const std::string& nsp, const Room& room, const SocketId& id) override {
    if (settings_.development && watched()) queue(json::array({"room_joined", nsp, room, id, now()}));
  }

  void room_left(const std::string& nsp, const Room& room, const SocketId& id) override {
    if (settings_.development && watched()) queue(json::array({"room_left", nsp, room, id, now()}));
  }

  void event_received(Socket& socket, const Event& event) override {
    if (!settings_.development || &socket.nsp() == admin_ || !watched()) return;
    json args = json::array({event.name()});
    for (const auto& value : event.args()) args.push_back(value);
    queue(json::array({"event_received", socket.nsp().name(), socket.id(), std::move(args), now()}));
  }

  void stopping() override {
    stopped_ = true;
    stats_timer_.cancel();
  }

  void event_sent(Socket& socket, const socketio::Packet& packet) override {
    if (!settings_.development || &socket.nsp() == admin_ || !watched()) return;
    if (packet.type != socketio::PacketType::event && packet.type != socketio::PacketType::binary_event) return;
    queue(json::array({"event_sent", socket.nsp().name(), socket.id(), packet.data, now()}));
  }

 private:
  struct Connection {
    bool polling = false;
    std::vector<std::pair<std::string, SocketId>> sockets;  // (namespace, socket id)
  };

  static std::string now() { return iso_time(std::chrono::system_clock::now()); }
  bool watched() const { return settings_.admins->load() > 0; }

  // ---- login ----

  void authenticate(Socket& socket, const json& auth, Next next) {
    const AdminAuthCheck& check = *settings_.auth;
    switch (check.kind) {
      case AdminAuthCheck::Kind::none: next(); return;
      case AdminAuthCheck::Kind::any_of:
        for (const json& accepted : check.accepted)
          if (auth == accepted) return next();
        return next.fail("authentication failed");
      case AdminAuthCheck::Kind::custom:
        if (check.check(auth)) return next();
        return next.fail("authentication failed");
      case AdminAuthCheck::Kind::basic: break;
    }
    const json* session = auth.is_object() && auth.contains("sessionId") ? &auth["sessionId"] : nullptr;
    if (session && session->is_string() && check.sessions->exists(session->get<std::string>())) return next();
    const json* username = auth.is_object() && auth.contains("username") ? &auth["username"] : nullptr;
    const json* password = auth.is_object() && auth.contains("password") ? &auth["password"] : nullptr;
    if (!username || !password || !password->is_string() || *username != check.username)
      return next.fail("invalid credentials");
    auto self = socket.shared_from_this();
    auto sessions = check.sessions;
    const bool queued = bcrypt_.submit(password->get<std::string>(), check.bcrypt_hash, [this, self, sessions, next](bool ok) {
      // The worker's thread: the answer goes to the io thread.
      core_.post([self, sessions, next, ok] {
        if (!ok) return next.fail("invalid credentials");
        self->emit("session", sessions->open());  // held until CONNECT, as Node's arrives
        next();
      });
    });
    if (!queued) next.fail("too many login attempts at once, try again");
  }

  // ---- the UI's commands ----

  /// The namespace a command names, if it exists (a command never creates one).
  Namespace* target(const Args& args) const {
    if (args.size() < 1 || !args[0].is_string()) return nullptr;
    return core_.find(args[0].get<std::string>());
  }
  /// The sockets a command's filter selects: a room (or socket id), or every socket.
  static BroadcastOperator selected(Namespace& nsp, const Args& args, std::size_t filter_index) {
    if (args.size() > filter_index && args[filter_index].is_string() && !args[filter_index].get_ref<const std::string&>().empty())
      return nsp.to(args[filter_index].get<std::string>());
    return nsp.all();
  }

  void on_emit(const Args& args) {  // (nsp, filter, event, ...args)
    Namespace* nsp = target(args);
    if (!nsp || args.size() < 3 || !args[2].is_string()) return;
    selected(*nsp, args, 1).emit_array(json(args.begin() + 2, args.end()));
  }

  void on_rooms(const Args& args, bool join) {  // (nsp, room, filter)
    Namespace* nsp = target(args);
    if (!nsp || args.size() < 2 || !args[1].is_string()) return;
    if (join) selected(*nsp, args, 2).sockets_join(args[1].get<std::string>());
    else selected(*nsp, args, 2).sockets_leave(args[1].get<std::string>());
  }

  void on_disconnect(const Args& args) {  // (nsp, close, filter)
    Namespace* nsp = target(args);
    if (!nsp) return;
    const bool close = args.size() > 1 && args[1].is_boolean() && args[1].get<bool>();
    selected(*nsp, args, 2).disconnect_sockets(close);
  }

  // ---- a new admin client ----

  void welcome(Socket& socket) {
    json features = json::array();
    if (!settings_.read_only) features = {"EMIT", "JOIN", "LEAVE", "DISCONNECT", "MJOIN", "MLEAVE", "MDISCONNECT"};
    features.push_back("AGGREGATED_EVENTS");
    if (settings_.development) features.push_back("ALL_EVENTS");
    socket.emit("config", json{{"supportedFeatures", std::move(features)}});
    if (!settings_.development) return;
    // Every namespace's sockets, on every server of a cluster or shard (fetch_sockets), then
    // one "all_sockets" message.
    std::vector<Namespace*> namespaces;
    core_.for_each_namespace([&](Namespace& nsp) { namespaces.push_back(&nsp); });
    struct Gathering {
      std::size_t waiting = 0;
      json sockets = json::array();
      std::weak_ptr<Socket> admin;
    };
    auto gathering = std::make_shared<Gathering>();
    gathering->waiting = namespaces.size();
    gathering->admin = socket.shared_from_this();
    for (Namespace* nsp : namespaces) {
      nsp->all().fetch_sockets([gathering, name = nsp->name()](std::vector<SocketInfo> found) {
        for (const auto& info : found) gathering->sockets.push_back(socket_json(name, info));
        if (--gathering->waiting > 0) return;
        if (auto admin = gathering->admin.lock(); admin && admin->connected()) admin->emit("all_sockets", gathering->sockets);
      });
    }
  }

  // ---- messages to the admin namespace ----

  /// Sends [event, args...] to every admin client, after the work at hand (never from inside
  /// the server's own bookkeeping), in order.
  void queue(json message) {
    pending_.push_back(std::move(message));
    if (flush_posted_) return;
    flush_posted_ = true;
    core_.post([this] {
      flush_posted_ = false;
      auto messages = std::move(pending_);
      pending_.clear();
      for (auto& message : messages) admin_->emit_array(std::move(message));
    });
  }

  // ---- statistics ----

  /// Counts one occurrence (or `count`) of `type` in this second (Node's EventBuffer). At most
  /// `max_buckets` distinct (second, type) pairs wait between two statistics messages: past
  /// that, new ones are dropped (only a very long interval gets there).
  void push_event(const char* type, std::optional<std::string> sub_type = std::nullopt, std::size_t count = 1) {
    static constexpr std::size_t max_buckets = 4096;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now().time_since_epoch()).count();
    const std::int64_t second = ms - ms % 1000;
    std::string key = std::to_string(second) + ";" + type + ";" + sub_type.value_or("");
    const auto found = event_index_.find(key);
    if (found != event_index_.end()) {
      auto& bucket = events_[found->second]["count"];
      bucket = bucket.get<std::uint64_t>() + count;
      return;
    }
    if (events_.size() >= max_buckets) return;
    json bucket{{"timestamp", second}, {"type", type}, {"count", count}};
    if (sub_type) bucket["subType"] = *sub_type;
    event_index_.emplace(std::move(key), events_.size());
    events_.push_back(std::move(bucket));
  }

  void arm_stats() {
    stats_timer_.expires_after(settings_.stats_interval);
    Core::wait(stats_timer_, [this](const std::error_code& ec) {
      if (ec || stopped_) return;
      emit_stats();
      arm_stats();
    });
  }

  void emit_stats() {
    json namespaces = json::array();
    core_.for_each_namespace([&](Namespace& nsp) { namespaces.push_back({{"name", nsp.name()}, {"socketsCount", nsp.size()}}); });
    std::size_t polling = 0;
    for (const auto& entry : connections_) polling += entry.second.polling ? 1 : 0;
    json events = std::move(events_);
    events_ = json::array();
    event_index_.clear();
    const double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    if (!watched()) return;  // counted all the same: the buffer must not grow while nobody watches
    admin_->emit("server_stats", json{{"serverId", settings_.server_id},
                                      {"hostname", host_name()},
                                      {"pid", static_cast<std::int64_t>(getpid())},
                                      {"uptime", uptime},
                                      {"clientsCount", connections_.size()},
                                      {"pollingClientsCount", polling},
                                      {"aggregatedEvents", std::move(events)},
                                      {"namespaces", std::move(namespaces)}});
  }

  Core& core_;
  AdminSettings settings_;
  Namespace* admin_;
  std::chrono::steady_clock::time_point started_;
  std::unordered_map<std::string, Connection> connections_;  // by Engine.IO session id
  json events_ = json::array();
  std::unordered_map<std::string, std::size_t> event_index_;  // "second;type;subType" -> index in events_
  std::vector<json> pending_;
  bool flush_posted_ = false;
  bool stopped_ = false;
  asio::steady_timer stats_timer_;
  BcryptWorker bcrypt_;  // last: joined first, while the rest is still there for its answer
};

/// Instruments one server's core.
inline void instrument(Core& core, AdminSettings settings) {
  if (core.observer() != nullptr) throw std::logic_error("instrument: this server is instrumented already");
  auto observer = std::make_shared<AdminObserver>(core, std::move(settings));
  observer->install();
  core.set_observer(std::move(observer));
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_ADMIN_UI_HPP
