// chat._core: the C++ server under the `chat` Python package. Python handlers never run on the
// io thread: every hook hands a job to a worker pool, where a worker takes the GIL and calls the
// package's dispatcher; jobs of one socket run in order, one at a time. Everything Python calls
// back (emit, join, ack, ...) is posted to the io thread.
#include <chat/chat.hpp>

#include "store_bindings.hpp"

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace py = pybind11;

namespace {

// ---- JSON and Python values ----------------------------------------------------------------

constexpr int max_depth = 64;

chat::json to_json(py::handle value, int depth = 0) {
  if (depth > max_depth) throw py::value_error("payload nested more than 64 levels deep");
  if (value.is_none()) return nullptr;
  if (py::isinstance<py::bool_>(value)) return value.cast<bool>();
  if (py::isinstance<py::int_>(value)) {
    try {
      return value.cast<std::int64_t>();
    } catch (const py::cast_error&) {
      return value.cast<double>();
    }
  }
  if (py::isinstance<py::float_>(value)) return value.cast<double>();
  if (py::isinstance<py::str>(value)) return value.cast<std::string>();
  if (py::isinstance<py::bytes>(value) || py::isinstance<py::bytearray>(value) || py::isinstance<py::memoryview>(value)) {
    const std::string bytes = py::bytes(py::reinterpret_borrow<py::object>(value)).cast<std::string>();
    return chat::binary(bytes);
  }
  if (py::isinstance<py::dict>(value)) {
    chat::json object = chat::json::object();
    for (const auto& item : py::reinterpret_borrow<py::dict>(value)) {
      std::string key;
      if (py::isinstance<py::str>(item.first)) key = item.first.cast<std::string>();
      else if (item.first.is_none()) key = "null";
      else if (py::isinstance<py::bool_>(item.first)) key = item.first.cast<bool>() ? "true" : "false";
      else if (py::isinstance<py::int_>(item.first) || py::isinstance<py::float_>(item.first)) key = py::str(item.first).cast<std::string>();
      else throw py::type_error("keys must be str, int, float, bool or None, not " + std::string(py::str(item.first.get_type().attr("__name__"))));
      object[key] = to_json(item.second, depth + 1);
    }
    return object;
  }
  if (py::isinstance<py::list>(value) || py::isinstance<py::tuple>(value)) {
    chat::json array = chat::json::array();
    for (const auto& element : value) array.push_back(to_json(element, depth + 1));
    return array;
  }
  throw py::type_error("Object of type " + std::string(py::str(value.get_type().attr("__name__"))) + " is not JSON serializable");
}

py::object from_json(const chat::json& value) {
  switch (value.type()) {
    case chat::json::value_t::null: return py::none();
    case chat::json::value_t::boolean: return py::bool_(value.get<bool>());
    case chat::json::value_t::number_integer: return py::int_(value.get<std::int64_t>());
    case chat::json::value_t::number_unsigned: return py::int_(value.get<std::uint64_t>());
    case chat::json::value_t::number_float: return py::float_(value.get<double>());
    case chat::json::value_t::string: return py::str(value.get_ref<const std::string&>());
    case chat::json::value_t::binary: return py::bytes(chat::bytes_of(value));
    case chat::json::value_t::array: {
      py::list list;
      for (const auto& element : value) list.append(from_json(element));
      return std::move(list);
    }
    case chat::json::value_t::object: {
      py::dict dict;
      for (const auto& item : value.items()) dict[py::str(item.key())] = from_json(item.value());
      return std::move(dict);
    }
    default: return py::none();
  }
}

chat::json args_to_json(const py::handle& args) {
  chat::json array = to_json(args);
  if (!array.is_array()) throw py::type_error("arguments must be a list or tuple");
  return array;
}

py::list pairs_to_list(const std::vector<std::pair<std::string, std::string>>& pairs) {
  py::list list;
  for (const auto& [key, value] : pairs) list.append(py::make_tuple(key, value));
  return list;
}

// ---- the worker pool ------------------------------------------------------------------------

/// Runs jobs on a fixed set of threads. Jobs submitted with the same key run in submission
/// order, one at a time; different keys run in parallel. Jobs take the GIL themselves.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~WorkerPool() { shutdown(); }

  void submit(const std::string& key, std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      auto& queue = queues_[key];
      queue.push_back(std::move(job));
      if (queue.size() == 1 && !running_.count(key)) ready_.push_back(key);
      ++pending_;
      if (idle_workers_ == 0) return;  // a busy worker takes it when it is done
    }
    work_.notify_one();
  }

  /// Blocks until no job is queued or running (call without the GIL).
  void wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

  /// Runs what is queued, then joins the threads (call without the GIL).
  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    work_.notify_all();
    for (auto& thread : threads_) {
      if (!thread.joinable()) continue;
      if (thread.get_id() == std::this_thread::get_id()) thread.detach();  // stop() from a handler
      else thread.join();
    }
    threads_.clear();
  }

 private:
  /// Each worker keeps one Python thread state for its life and holds the GIL while it runs
  /// jobs; it lets go only to wait for work. Under load a worker runs the jobs that are ready
  /// one after another without handing the GIL back and forth (Python's switch interval still
  /// lets the other workers in, and a handler that blocks releases the GIL as usual).
  void loop() {
    py::gil_scoped_acquire gil;
    for (;;) {
      std::string key;
      std::function<void()> job;
      {
        py::gil_scoped_release without_gil;
        std::unique_lock<std::mutex> lock(mutex_);
        ++idle_workers_;
        work_.wait(lock, [this] { return stopping_ || !ready_.empty(); });
        --idle_workers_;
        if (ready_.empty()) return;  // stopping, and nothing left
        take(key, job);
      }
      for (int batch = 0; job; ++batch) {
        job();
        job = nullptr;
        std::lock_guard<std::mutex> lock(mutex_);
        finish(key);
        if (batch < 64 && !ready_.empty()) take(key, job);
      }
    }
  }

  /// Takes the next ready job (mutex held).
  void take(std::string& key, std::function<void()>& job) {
    key = std::move(ready_.front());
    ready_.pop_front();
    auto& queue = queues_[key];
    job = std::move(queue.front());
    queue.pop_front();
    running_.insert(key);
  }

  /// Books a finished job of `key` (mutex held).
  void finish(const std::string& key) {
    running_.erase(key);
    --pending_;
    const auto queue = queues_.find(key);
    if (queue->second.empty()) queues_.erase(queue);
    else ready_.push_back(key);
    if (pending_ == 0) idle_.notify_all();
    if (!ready_.empty() && idle_workers_ > 0) work_.notify_one();
  }

  std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::unordered_map<std::string, std::deque<std::function<void()>>> queues_;
  std::unordered_set<std::string> running_;
  std::deque<std::string> ready_;
  std::size_t pending_ = 0;
  std::size_t idle_workers_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

// ---- the server ----------------------------------------------------------------------------

/// One in-process test connection, as seen from Python. Dropping it closes the connection, as
/// a client going away would (on the io thread, which owns it).
struct LocalConnection {
  LocalConnection(std::shared_ptr<chat::LocalClient> client, std::weak_ptr<chat::Server<>> server)
      : client(std::move(client)), server(server) {}
  LocalConnection(const LocalConnection&) = delete;
  LocalConnection& operator=(const LocalConnection&) = delete;
  ~LocalConnection() {
    if (auto alive = server.lock()) alive->post([client = client] { client->close_connection(); });
  }
  std::shared_ptr<chat::LocalClient> client;
  std::weak_ptr<chat::Server<>> server;
};

class PyServer {
 public:
  PyServer(const py::dict& options, py::object dispatcher) : dispatcher_(std::move(dispatcher)) {
    chat::Options settings;
    auto ms = [](const py::handle& value) { return std::chrono::milliseconds(value.cast<long long>()); };
    if (options.contains("ping_interval_ms")) settings.ping_interval(ms(options["ping_interval_ms"]));
    if (options.contains("ping_timeout_ms")) settings.ping_timeout(ms(options["ping_timeout_ms"]));
    if (options.contains("connect_timeout_ms")) settings.connect_timeout(ms(options["connect_timeout_ms"]));
    if (options.contains("upgrade_timeout_ms")) settings.upgrade_timeout(ms(options["upgrade_timeout_ms"]));
    if (options.contains("ping_interval_grace_ms")) settings.ping_interval_grace(ms(options["ping_interval_grace_ms"]));
    if (options.contains("max_payload")) settings.max_payload(options["max_payload"].cast<std::size_t>());
    if (options.contains("cors_allowed_origins"))
      settings.cors_allowed_origins(options["cors_allowed_origins"].cast<std::vector<std::string>>());
    if (options.contains("cors_allow_same_origin")) settings.cors_allow_same_origin(options["cors_allow_same_origin"].cast<bool>());
    if (options.contains("cors_credentials")) settings.cors_credentials(options["cors_credentials"].cast<bool>());
    if (options.contains("cors_origin_check")) settings.cors_origin_check(origin_check(options["cors_origin_check"]));
    if (options.contains("transports")) settings.transports(options["transports"].cast<std::vector<std::string>>());
    if (options.contains("cookie")) {
      auto [name, attributes] = options["cookie"].cast<std::pair<std::string, std::string>>();
      settings.cookie(chat::SessionCookie{name, attributes});
    }
    if (options.contains("ordered_events")) ordered_events_ = options["ordered_events"].cast<bool>();
    if (options.contains("path")) settings.path(options["path"].cast<std::string>());
    if (options.contains("allow_upgrades")) settings.allow_upgrades(options["allow_upgrades"].cast<bool>());
    if (options.contains("client_bundle_dir")) settings.client_bundle_dir(options["client_bundle_dir"].cast<std::string>());
    std::vector<std::string> namespaces{"/"};
    if (options.contains("namespaces")) namespaces = options["namespaces"].cast<std::vector<std::string>>();
    std::size_t workers = options.contains("workers") ? options["workers"].cast<std::size_t>() : 16;

    server_ = std::make_shared<chat::Server<>>(settings);
    for (const auto& name : namespaces) install(server_->of(name));
    if (options.contains("static_dir")) server_->serve_static(options["static_dir"].cast<std::string>());
    if (options.contains("http") && options["http"].cast<bool>()) {
      server_->on_http([this](const chat::HttpRequest& request, chat::HttpResponder responder) {
        pool_->submit("http " + std::to_string(next_http_++), [this, request, responder] {
          py::gil_scoped_acquire gil;
          try {
            py::dict environ;
            environ["method"] = request.method;
            environ["target"] = request.target;
            environ["path"] = request.path;
            environ["headers"] = pairs_to_list(request.headers);
            environ["body"] = py::bytes(request.body);
            environ["remote_address"] = request.remote_address;
            py::tuple result = call("http", environ);
            chat::HttpResponse response;
            response.status = result[0].cast<int>();
            for (const auto& header : result[1]) {
              auto pair = header.cast<py::tuple>();
              response.headers.emplace_back(pair[0].cast<std::string>(), pair[1].cast<std::string>());
            }
            response.body = result[2].cast<std::string>();
            responder.send(std::move(response));
          } catch (const std::exception& e) {
            report(e);
            responder.send(chat::HttpResponse{500, {{"Content-Type", "text/plain"}}, "Internal Server Error"});
          }
        });
        return true;
      });
    }
    pool_ = std::make_unique<WorkerPool>(workers);
    server_->on_error([](chat::Socket*, std::string_view message) {
      // Hooks here only queue work; an error means a bug in the bindings: say it loudly.
      py::gil_scoped_acquire gil;
      py::module_::import("logging").attr("getLogger")("chat").attr("error")("chat: %s", std::string(message));
    });
  }

  ~PyServer() {
    {
      py::gil_scoped_release release;
      stop_and_join();
    }
    dispatcher_ = py::object();
  }

  std::uint16_t listen(const std::string& host, std::uint16_t port) { return server_->listen(host, port); }

  /// Starts the io thread (once).
  void start() {
    std::lock_guard<std::mutex> lock(lifecycle_);
    if (io_thread_.joinable() || stopped_) return;
    io_thread_ = std::thread([this] {
      server_->run();
      finished_ = true;
    });
  }

  /// Waits until the io thread ends, or `timeout` seconds (without the GIL). True if it ended.
  bool wait(double timeout) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout);
    while (!finished_) {
      if (std::chrono::steady_clock::now() >= until) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }

  /// Stops the server and waits for its threads. Callers are served one at a time (run()'s
  /// own exit and stop() from another thread may both get here): only the first joins.
  void stop_and_join() {
    std::lock_guard<std::mutex> one_at_a_time(stopping_);
    server_->stop();
    {
      std::lock_guard<std::mutex> lock(lifecycle_);
      stopped_ = true;
    }
    if (io_thread_.joinable() && io_thread_.get_id() != std::this_thread::get_id()) io_thread_.join();
    pool_->shutdown();
  }

  // ---- from Python (any thread) ----

  void emit(const std::string& nsp, const std::string& event, const py::handle& args,
            const std::vector<std::string>& to, const std::vector<std::string>& skip) {
    chat::json data = args_to_json(args);
    data.insert(data.begin(), event);
    chat::BroadcastOperator target = server_->of(nsp).all().to(to).except(skip);
    target.emit_array(std::move(data));
  }

  /// Emits to every selected socket (`to` empty: the whole namespace), each with its own ack
  /// id, as python-socketio does. Each answer goes to the dispatcher as an "ack" job:
  /// (callback_id, its arguments, whether it was the last one due); a socket that never answers
  /// (timeout, disconnect) comes as arguments None, and with no recipient at all one "ack" job
  /// says it is finished.
  void emit_with_ack(const std::string& nsp, const std::string& event, const py::handle& args,
                     const std::vector<std::string>& to, const std::vector<std::string>& skip,
                     std::uint64_t callback_id, double timeout) {
    chat::Args values(args_to_json(args));
    server_->post([this, nsp, event, values = std::move(values), to, skip, callback_id, timeout] {
      chat::Namespace& space = server_->of(nsp);
      const std::vector<chat::SocketId> recipients = space.all().to(to).except(skip).socket_ids();
      auto remaining = std::make_shared<std::size_t>(recipients.size());
      if (recipients.empty()) {
        answer(callback_id, std::nullopt, true);
        return;
      }
      for (const auto& sid : recipients) {
        chat::Socket* socket = space.socket(sid);
        if (!socket) {
          answer(callback_id, std::nullopt, --*remaining == 0);
          continue;
        }
        socket->emit_with_ack(event, values,
            [this, callback_id, remaining](std::error_code error, chat::Args reply) {
              std::optional<chat::json> answered;
              if (!error) answered = std::move(reply).array();  // python-socketio never calls back a client that did not answer
              answer(callback_id, std::move(answered), --*remaining == 0);
            },
            std::chrono::milliseconds(static_cast<long long>(timeout * 1000)));
      }
    });
  }

  /// Emits to one socket and blocks (without the GIL) until its ack: the ack's arguments, or
  /// TimeoutError.
  py::object call_client(const std::string& nsp, const std::string& sid, const std::string& event,
                         const py::handle& args, double timeout) {
    chat::Args values(args_to_json(args));
    auto result = std::make_shared<std::promise<std::pair<std::error_code, chat::Args>>>();
    auto future = result->get_future();
    server_->post([this, nsp, sid, event, values = std::move(values), result, timeout]() mutable {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      if (!socket) {
        result->set_value({chat::errc::socket_disconnected, chat::Args()});
        return;
      }
      socket->emit_with_ack(event, std::move(values),
          [result](std::error_code error, chat::Args reply) { result->set_value({error, std::move(reply)}); },
          std::chrono::milliseconds(static_cast<long long>(timeout * 1000)));
    });
    std::pair<std::error_code, chat::Args> outcome{chat::errc::socket_disconnected, chat::Args()};
    {
      py::gil_scoped_release release;
      while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (!io_running()) break;
      if (future.wait_for(std::chrono::seconds(0)) == std::future_status::ready) outcome = future.get();
    }
    if (outcome.first == chat::errc::ack_timeout) {
      PyErr_SetString(PyExc_TimeoutError, "the client did not acknowledge in time");
      throw py::error_already_set();
    }
    if (outcome.first) {  // Flask-SocketIO's call() raises TimeoutError here too
      PyErr_SetString(PyExc_TimeoutError, "the client disconnected before acknowledging");
      throw py::error_already_set();
    }
    return from_json(outcome.second.array());
  }

  void ack(const std::string& nsp, const std::string& sid, std::uint64_t ack_id, const py::handle& args) {
    chat::Args values(args_to_json(args));
    server_->post([this, nsp, sid, ack_id, values = std::move(values)]() mutable {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->send_ack(ack_id, std::move(values));
    });
  }

  void accept(const std::string& nsp, const std::string& sid) {
    server_->post([this, nsp, sid] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->accept();
    });
  }

  void reject(const std::string& nsp, const std::string& sid, const std::string& message, const py::handle& data) {
    chat::json payload = to_json(data);
    server_->post([this, nsp, sid, message, payload] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->reject(message, payload);
    });
  }

  void join_room(const std::string& nsp, const std::string& sid, const std::string& room) {
    server_->post([this, nsp, sid, room] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->join(room);
    });
  }

  void leave_room(const std::string& nsp, const std::string& sid, const std::string& room) {
    server_->post([this, nsp, sid, room] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->leave(room);
    });
  }

  void close_room(const std::string& nsp, const std::string& room) { server_->of(nsp).in(room).sockets_leave(room); }

  void disconnect(const std::string& nsp, const std::string& sid) {
    server_->post([this, nsp, sid] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->disconnect();
    });
  }

  /// The rooms of a socket (without the GIL while the io thread answers).
  std::vector<std::string> rooms(const std::string& nsp, const std::string& sid) {
    return on_io_thread<std::vector<std::string>>([this, nsp, sid] {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      return socket ? socket->rooms() : std::vector<std::string>();
    });
  }

  bool connected(const std::string& nsp, const std::string& sid) {
    return on_io_thread<bool>([this, nsp, sid] {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      return socket && socket->connected();
    });
  }

  /// Waits (without the GIL) until every queued handler has run and everything it posted to
  /// the io thread has been done: what Flask-SocketIO's synchronous test client relies on.
  void settle() {
    py::gil_scoped_release release;
    for (int round = 0; round < 3; ++round) {
      pool_->wait_idle();
      auto done = std::make_shared<std::promise<void>>();
      auto future = done->get_future();
      server_->post([done] { done->set_value(); });
      while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (!io_running()) return;
    }
  }

  // ---- in-process test connections ----

  std::unique_ptr<LocalConnection> local_connect(const std::vector<std::pair<std::string, std::string>>& headers,
                                const std::vector<std::pair<std::string, std::string>>& query, const std::string& url) {
    chat::Handshake handshake;
    handshake.headers = headers;
    handshake.query = query;
    handshake.url = url;
    handshake.address = "127.0.0.1";
    return std::make_unique<LocalConnection>(on_io_thread<std::shared_ptr<chat::LocalClient>>(
        [this, handshake] { return server_->connect_local(handshake); }), server_);
  }

  void local_send(const LocalConnection& connection, int type, const std::string& nsp, const py::object& id,
                  const py::object& data) {
    chat::socketio::Packet packet;
    packet.type = chat::socketio::PacketType(type);
    packet.nsp = nsp;
    if (!id.is_none()) packet.id = id.cast<std::uint64_t>();
    if (!data.is_none() || packet.type == chat::socketio::PacketType::event) packet.data = to_json(data);
    auto client = connection.client;
    server_->post([client, packet] { client->send(packet); });
  }

  py::list local_receive(const LocalConnection& connection) {
    py::list packets;
    for (auto& packet : connection.client->take_received()) {
      packets.append(py::make_tuple(int(packet.type), packet.nsp,
                                    packet.id ? py::object(py::int_(*packet.id)) : py::object(py::none()),
                                    packet.has_data() ? from_json(packet.data) : py::object(py::none())));
    }
    return packets;
  }

  void local_close(const LocalConnection& connection) {
    auto client = connection.client;
    server_->post([client] { client->close_connection(); });
  }

 private:
  /// Runs `work` on the io thread and waits for its result without the GIL. Raises
  /// RuntimeError instead of waiting forever when the io thread is not running.
  template <class Result, class Work>
  Result on_io_thread(Work work) {
    auto promise = std::make_shared<std::promise<Result>>();
    auto future = promise->get_future();
    server_->post([promise, work = std::move(work)]() mutable { promise->set_value(work()); });
    {
      py::gil_scoped_release release;
      while (future.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (!io_running()) break;
    }
    if (future.wait_for(std::chrono::seconds(0)) != std::future_status::ready)
      throw std::runtime_error("the chat server is not running");
    return future.get();
  }

  bool io_running() {
    std::lock_guard<std::mutex> lock(lifecycle_);
    return io_thread_.joinable() && !finished_;
  }

  template <class... Values>
  py::object call(Values&&... values) {
    return dispatcher_(std::forward<Values>(values)...);
  }

  /// Hands one recipient's answer to emit_with_ack's callback to the dispatcher. The answers
  /// to one emit queue under one key, so they run in the order they came, the last one last.
  void answer(std::uint64_t callback_id, std::optional<chat::json> reply, bool finished) {
    pool_->submit("ack " + std::to_string(callback_id), [this, callback_id, reply = std::move(reply), finished] {
      py::gil_scoped_acquire gil;
      try {
        call("ack", callback_id, reply ? from_json(*reply) : py::none(), finished);
      } catch (const std::exception& e) {
        report(e);
      }
    });
  }

  /// The key a socket's events queue under: the sid (one at a time, in order), or, with
  /// python-socketio's async_handlers, a key of their own (each event in parallel).
  std::string event_key(const chat::Socket& socket) {
    if (ordered_events_) return socket.id();
    return socket.id() + "#" + std::to_string(next_event_++);
  }

  /// A Python function of (origin, request dict) as the server's Origin check: it runs on the io
  /// thread, which takes the GIL for it.
  static chat::OriginCheck origin_check(py::object function) {
    auto held = std::make_shared<py::object>(std::move(function));
    return [held](std::string_view origin, const chat::HttpRequest& request) {
      py::gil_scoped_acquire gil;
      py::dict environ;
      environ["method"] = request.method;
      environ["target"] = request.target;
      environ["headers"] = pairs_to_list(request.headers);
      environ["remote_address"] = request.remote_address;
      try {
        return (*held)(py::str(origin.data(), origin.size()), environ).cast<bool>();
      } catch (const py::error_already_set& e) {
        throw std::runtime_error(e.what());  // the transport logs it and refuses the request
      }
    };
  }

  static void report(const std::exception& e) {
    py::module_::import("logging").attr("getLogger")("chat").attr("exception")("chat: %s", e.what());
  }

  /// Hooks of one namespace: each queues a job for the socket; the job calls the dispatcher.
  void install(chat::Namespace& nsp) {
    nsp.on_connect([this](chat::Socket& socket, const chat::json& auth) -> chat::ConnectResult {
      const chat::Handshake& handshake = socket.handshake();
      pool_->submit(socket.id(), [this, nsp = socket.nsp().name(), sid = socket.id(),
                                  auth = socket.auth_sent() ? auth : chat::json(), handshake] {
        py::gil_scoped_acquire gil;
        try {
          py::dict environ;
          environ["headers"] = pairs_to_list(handshake.headers);
          environ["query"] = pairs_to_list(handshake.query);
          environ["url"] = handshake.url;
          environ["remote_address"] = handshake.address;
          call("connect", nsp, sid, from_json(auth), environ);
        } catch (const std::exception& e) {
          report(e);
        }
      });
      return chat::ConnectResult::defer();
    });
    nsp.on_any([this](chat::Socket& socket, chat::Event& event) {
      pool_->submit(event_key(socket), [this, nsp = socket.nsp().name(), sid = socket.id(), name = event.name(),
                                  args = event.args(), ack_id = event.ack_id()] {
        py::gil_scoped_acquire gil;
        try {
          call("event", nsp, sid, name, from_json(args.array()),
               ack_id ? py::object(py::int_(*ack_id)) : py::object(py::none()));
        } catch (const std::exception& e) {
          report(e);
        }
      });
    });
    nsp.on_disconnect([this](chat::Socket& socket, chat::DisconnectReason reason) {
      pool_->submit(socket.id(), [this, nsp = socket.nsp().name(), sid = socket.id(), reason = std::string(chat::to_string(reason))] {
        py::gil_scoped_acquire gil;
        try {
          call("disconnect", nsp, sid, reason);
        } catch (const std::exception& e) {
          report(e);
        }
      });
    });
  }

  py::object dispatcher_;
  std::shared_ptr<chat::Server<>> server_;
  std::unique_ptr<WorkerPool> pool_;
  std::mutex lifecycle_;
  std::mutex stopping_;
  std::thread io_thread_;
  std::atomic<bool> finished_{false};
  bool stopped_ = false;
  std::atomic<std::uint64_t> next_http_{0};
  bool ordered_events_ = true;
  std::uint64_t next_event_ = 0;  // io thread only
};

}  // namespace

PYBIND11_MODULE(_core, module) {
  module.doc() = "The C++ Socket.IO server under the chat package (internal: use chat.SocketIO).";
  module.attr("__version__") = chat::version;

  bind_store(module);

  py::class_<LocalConnection>(module, "LocalConnection");

  py::class_<PyServer>(module, "Server")
      .def(py::init<const py::dict&, py::object>(), py::arg("options"), py::arg("dispatcher"))
      .def("listen", &PyServer::listen, py::arg("host"), py::arg("port"))
      .def("start", &PyServer::start)
      .def("wait", &PyServer::wait, py::arg("timeout"), py::call_guard<py::gil_scoped_release>())
      .def("stop", &PyServer::stop_and_join, py::call_guard<py::gil_scoped_release>())
      .def("emit", &PyServer::emit, py::arg("namespace"), py::arg("event"), py::arg("args"), py::arg("to"), py::arg("skip"))
      .def("emit_with_ack", &PyServer::emit_with_ack, py::arg("namespace"), py::arg("event"), py::arg("args"),
           py::arg("to"), py::arg("skip"), py::arg("callback_id"), py::arg("timeout"))
      .def("call", &PyServer::call_client, py::arg("namespace"), py::arg("sid"), py::arg("event"), py::arg("args"),
           py::arg("timeout"))
      .def("ack", &PyServer::ack, py::arg("namespace"), py::arg("sid"), py::arg("ack_id"), py::arg("args"))
      .def("accept", &PyServer::accept, py::arg("namespace"), py::arg("sid"))
      .def("reject", &PyServer::reject, py::arg("namespace"), py::arg("sid"), py::arg("message"), py::arg("data"))
      .def("join_room", &PyServer::join_room, py::arg("namespace"), py::arg("sid"), py::arg("room"))
      .def("leave_room", &PyServer::leave_room, py::arg("namespace"), py::arg("sid"), py::arg("room"))
      .def("close_room", &PyServer::close_room, py::arg("namespace"), py::arg("room"))
      .def("disconnect", &PyServer::disconnect, py::arg("namespace"), py::arg("sid"))
      .def("rooms", &PyServer::rooms, py::arg("namespace"), py::arg("sid"))
      .def("connected", &PyServer::connected, py::arg("namespace"), py::arg("sid"))
      .def("settle", &PyServer::settle)
      .def("local_connect", &PyServer::local_connect, py::arg("headers"), py::arg("query"), py::arg("url"))
      .def("local_send", &PyServer::local_send, py::arg("connection"), py::arg("type"), py::arg("namespace"),
           py::arg("id"), py::arg("data"))
      .def("local_receive", &PyServer::local_receive, py::arg("connection"))
      .def("local_close", &PyServer::local_close, py::arg("connection"));
}
