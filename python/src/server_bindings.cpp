// chat._core.Server: the C++ server under chat.SocketIO. Python handlers never run on the io
// thread: every hook hands a job to a worker pool, where a worker holding the GIL calls the
// package's dispatcher; jobs of one socket run in order, one at a time. Everything Python calls
// back (emit, join, ack, ...) goes to the io thread through one ordered queue that wakes it once
// per batch (BatchingHandOff): the GIL is held only to convert the arguments, and the encoding
// and sending happen there. No call waits by sleeping: waits are on condition variables the io
// thread signals, its own end included.
#include "server_bindings.hpp"

#include <chat/admin_ui.hpp>
#include <chat/chat.hpp>
#include <chat/redis/adapter.hpp>
#if defined(CHAT_PYTHON_TLS)
#include <chat/transport/websocketpp/tls.hpp>
#endif

#include <pybind11/stl.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <stdexcept>
#include <tuple>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "json_convert.hpp"
#include "worker_pool.hpp"

namespace chat::python {

namespace {

#if defined(CHAT_PYTHON_TLS)
/// Built with OpenSSL, the server is a TLS server: it listens with TLS when run() is given a
/// certificate, and plain (its plain listener) otherwise.
using HostServer = chat::Server<chat::transport::TlsConfig>;
#else
using HostServer = chat::Server<>;
#endif

/// The GIL as KeyedWorkerPool's lock: a worker holds it while it runs jobs.
struct Gil {
  using Held = py::gil_scoped_acquire;
  using Released = py::gil_scoped_release;
};

using WorkerPool = KeyedWorkerPool<Gil>;

/// The methods of the package's dispatcher (chat.server._Dispatcher), looked up once.
struct Dispatcher {
  explicit Dispatcher(const py::object& dispatcher)
      : on_connect(dispatcher.attr("on_connect")),
        on_event(dispatcher.attr("on_event")),
        on_disconnect(dispatcher.attr("on_disconnect")),
        on_ack(dispatcher.attr("on_ack")),
        on_http(dispatcher.attr("on_http")),
        on_server_side_emit(dispatcher.attr("on_server_side_emit")),
        on_replies(dispatcher.attr("on_replies")),
        on_outgoing(dispatcher.attr("on_outgoing")) {}

  py::object on_connect;
  py::object on_event;
  py::object on_disconnect;
  py::object on_ack;
  py::object on_http;
  py::object on_server_side_emit;
  py::object on_replies;
  py::object on_outgoing;
};

/// One in-process test connection, as seen from Python. Dropping it closes the connection, as
/// a client going away would (on the io thread, which owns it, behind what was sent on it).
struct LocalConnection {
  LocalConnection(std::shared_ptr<chat::LocalClient> client, std::weak_ptr<BatchingHandOff> to_io)
      : client(std::move(client)), to_io(std::move(to_io)) {}
  LocalConnection(const LocalConnection&) = delete;
  LocalConnection& operator=(const LocalConnection&) = delete;
  ~LocalConnection() {
    if (auto alive = to_io.lock()) alive->hand([client = client] { client->close_connection(); });
  }
  std::shared_ptr<chat::LocalClient> client;
  std::weak_ptr<BatchingHandOff> to_io;
};

/// What the hooks of the server's namespaces need besides the options.
struct HostSettings {
  std::size_t workers = 16;
  bool http = false;                         ///< route other HTTP requests to the app (WSGI)
  std::vector<std::string> hook_namespaces;  ///< namespaces whose hooks go to Python ("*" too)
  /// Parent namespaces whose hooks go to Python: regular expressions (ECMAScript's syntax) a
  /// namespace's whole name must match.
  std::vector<std::string> hook_patterns;
  bool ordered_events = true;                ///< one socket's events one at a time, in order
  /// Events of one socket waiting for a worker, past which that client is disconnected: it
  /// sends faster than its handlers run, and its backlog would grow without end.
  std::size_t max_queued_events = 1000;
};

chat::HeadersHook headers_hook(py::object function);  // below, with the other hooks of raw requests

class PyServer {
 public:
  PyServer(const chat::Options& options, const py::object& dispatcher, HostSettings settings)
      : dispatcher_(dispatcher), settings_(std::move(settings)) {
    server_ = std::make_shared<HostServer>(options);
    to_io_ = std::make_shared<BatchingHandOff>(
        [server = std::weak_ptr<HostServer>(server_)](BatchingHandOff::Work work) {
          if (auto alive = server.lock()) alive->post(std::move(work));
        },
        [](const std::exception& e) { log_error(std::string("a call from Python failed on the io thread: ") + e.what()); },
        [this] { return pool_ && pool_->jobs_waiting(); });
    for (const auto& name : settings_.hook_namespaces) install(server_->of(name));
    for (const auto& pattern : settings_.hook_patterns) {
      std::regex compiled;
      try {
        compiled = std::regex(pattern, std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        throw std::invalid_argument("namespace pattern " + pattern + ": not a regular expression C++'s ECMAScript syntax reads (" +
                                    e.what() + ")");
      }
      install(server_->of(compiled));
    }
    if (settings_.http) install_http();
    pool_ = std::make_unique<WorkerPool>(settings_.workers);
    // Hooks here only queue work; an error means a bug in the bindings, a refused origin check
    // or a limit reached: said loudly.
    server_->on_error([](chat::Socket*, std::string_view message) { log_error(message); });
  }

  /// Logs through the "chat" logger. Takes the GIL: from the io thread, for rare events only.
  static void log_error(std::string_view message) {
    py::gil_scoped_acquire gil;
    py::module_::import("logging").attr("getLogger")("chat").attr("error")("chat: %s", std::string(message));
  }

  ~PyServer() {
    {
      py::gil_scoped_release release;
      stop_and_join();
    }
    dispatcher_.reset();
  }

  /// Listens with plain HTTP and WebSocket.
  std::uint16_t listen(const std::string& host, std::uint16_t port) {
#if defined(CHAT_PYTHON_TLS)
    return server_->listen_plain(host, port);
#else
    return server_->listen(host, port);
#endif
  }

  /// In a worker process of WorkerProcesses (chat.SocketIO.run(workers=N)): serves the
  /// connections the supervisor hands over on `channel`.
  void listen_worker(std::size_t index, std::size_t count, int channel) {
    server_->listen(chat::WorkerSlot(index, count, channel));
  }

  /// Listens with TLS (https, wss; 1.2 or later) with these PEM files; with `client_ca`, every
  /// client must present a certificate it signed. Throws RuntimeError when chat was built
  /// without OpenSSL, std::system_error for a file that cannot be used.
  std::uint16_t listen_tls(const std::string& host, std::uint16_t port, const std::string& certificate_chain,
                           const std::string& private_key, const std::string& client_ca) {
#if defined(CHAT_PYTHON_TLS)
    server_->tls_context(chat::transport::make_tls_context({certificate_chain, private_key, client_ca}));
    return server_->listen(host, port);
#else
    (void)host, (void)port, (void)certificate_chain, (void)private_key, (void)client_ca;
    throw std::runtime_error("this chat package was built without OpenSSL (Debian: libssl-dev), so it cannot serve TLS");
#endif
  }

  /// The headers hooks (Server::on_headers, on_initial_headers), as Python functions. Before start().
  void on_headers(py::object hook) { server_->on_headers(headers_hook(std::move(hook))); }
  void on_initial_headers(py::object hook) { server_->on_initial_headers(headers_hook(std::move(hook))); }

  /// Puts the server in the Redis cluster at `url` (Node's @socket.io/redis-adapter format,
  /// channels prefixed `key`). Before start().
  void join_cluster(const std::string& url, const std::string& key, double requests_timeout) {
    cluster_ = chat::redis::attach(*server_, chat::redis::AdapterOptions().url(url).key(key).requests_timeout(
                                                 std::chrono::milliseconds(static_cast<long long>(requests_timeout * 1000))));
  }
  bool cluster_connected() const { return cluster_ && cluster_->connected(); }

  /// python-socketio's `instrument()`: `auth` is False (no login), a list of accepted auth
  /// objects (a dict comes as a list of one), or a function of the client's auth that runs on
  /// the io thread, under the GIL.
  void instrument(const py::object& auth, const std::string& mode, bool read_only, const std::string& server_id,
                  const std::string& nsp, double server_stats_interval) {
    chat::InstrumentOptions options;
    if (auth.is(py::bool_(false))) {
      options.auth = chat::AdminAuth::none();
    } else if (py::isinstance<py::list>(auth)) {
      std::vector<chat::json> accepted;
      for (const auto& item : auth) accepted.push_back(to_json(item));
      options.auth = chat::AdminAuth::any_of(std::move(accepted));
    } else {
      // Released under the GIL: the server may go on a thread without it.
      std::shared_ptr<py::object> check(new py::object(auth), [](py::object* held) {
        py::gil_scoped_acquire gil;
        delete held;
      });
      options.auth = chat::AdminAuth::custom([check](const chat::json& client_auth) {
        py::gil_scoped_acquire gil;
        try {
          return py::bool_((*check)(from_json(client_auth))).cast<bool>();
        } catch (py::error_already_set& e) {
          log_error(std::string("instrument: the auth function raised ") + e.what());
          return false;
        }
      });
    }
    if (mode != "development" && mode != "production")
      throw std::invalid_argument("instrument: mode must be 'development' or 'production', not '" + mode + "'");
    options.mode = mode == "production" ? chat::AdminMode::production : chat::AdminMode::development;
    options.read_only = read_only;
    options.server_id = server_id;
    options.namespace_name = nsp;
    options.server_stats_interval = std::chrono::milliseconds(static_cast<long long>(server_stats_interval * 1000));
    chat::instrument(*server_, std::move(options));
  }

  /// Starts the io thread (once).
  void start() {
    std::lock_guard<std::mutex> lock(lifecycle_);
    if (io_thread_.joinable() || stopped_) return;
    running_ = true;
    io_thread_ = std::thread([this] {
      io_thread_id_ = std::this_thread::get_id();
      server_->run();
      io_thread_id_ = std::thread::id();  // the id may be another thread's later
      {
        std::lock_guard<std::mutex> ended(lifecycle_);
        running_ = false;
      }
      changed_.notify_all();
    });
  }

  /// Waits until the io thread ends, or `timeout` seconds (without the GIL). True if it ended.
  bool wait(double timeout) {
    std::unique_lock<std::mutex> lock(lifecycle_);
    return changed_.wait_for(lock, std::chrono::duration<double>(timeout), [this] { return !running_; });
  }

  /// Asks the server to stop and returns at once (any thread, a handler's included): the
  /// thread that started it sees wait() return and joins it with stop_and_join. No thread is
  /// left inside a C++ call to be ended there when the interpreter finalizes.
  void request_stop() {
    {
      std::lock_guard<std::mutex> lock(lifecycle_);
      stopped_ = true;
    }
    server_->stop();
  }

  /// Stops the server and waits for its threads. Callers are served one at a time (run()'s own
  /// exit and stop() from another thread may both get here): only the first joins.
  void stop_and_join() {
    std::lock_guard<std::mutex> one_at_a_time(stopping_);
    server_->stop();
    std::thread io;
    {
      std::lock_guard<std::mutex> lock(lifecycle_);
      stopped_ = true;
      if (io_thread_.joinable() && io_thread_.get_id() != std::this_thread::get_id()) io = std::move(io_thread_);
    }
    if (io.joinable()) io.join();
    pool_->shutdown();
  }

  // ---- from Python (any thread) ----

  /// `local`: this server's clients only, not the cluster's (Flask-SocketIO's ignore_queue).
  /// `is_volatile`: dropped for a client whose transport cannot take it at once (Node's volatile).
  /// `compress` false: sent without compression (Node's compress flag).
  /// Only the arguments' conversion needs the GIL: the packet is encoded on the io thread.
  void emit(std::string nsp, const std::string& event, const py::handle& args, std::vector<std::string> to,
            std::vector<std::string> skip, bool local, bool is_volatile, bool compress) {
    json data = args_to_json(args);
    data.insert(data.begin(), event);
    to_io([this, nsp = std::move(nsp), data = std::move(data), to = std::move(to), skip = std::move(skip), local,
           is_volatile, compress]() mutable {
      auto selection = server_->of(nsp).all().to(to).except(skip);
      if (local) selection = selection.local();
      if (is_volatile) selection = selection.volatile_();
      if (!compress) selection = selection.compress(false);
      selection.emit_array(std::move(data));
    });
  }

  /// Whether sockets that connect from now on tell Python of every event sent to them
  /// (SocketIO.on_any_outgoing): off until a listener is added, so that other servers' sockets
  /// carry no listener.
  void set_outgoing_listeners(bool on) { outgoing_listeners_ = on; }

  /// Emits to every selected socket (`to` empty: the whole namespace), each with its own ack
  /// id, as python-socketio does. Each answer goes to the dispatcher's on_ack: (callback_id, its
  /// arguments, whether it was the last one due); a socket that never answers (timeout,
  /// disconnect) comes as arguments None, and with no recipient at all one call says it is
  /// finished.
  void emit_with_ack(const std::string& nsp, const std::string& event, const py::handle& args,
                     const std::vector<std::string>& to, const std::vector<std::string>& skip, std::uint64_t callback_id,
                     double timeout) {
    chat::Args values(args_to_json(args));
    to_io([this, nsp, event, values = std::move(values), to, skip, callback_id, timeout] {
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
              std::optional<json> answered;
              if (!error) answered = std::move(reply).array();  // python-socketio never calls back a client that did not answer
              answer(callback_id, std::move(answered), --*remaining == 0);
            },
            std::chrono::milliseconds(static_cast<long long>(timeout * 1000)));
      }
    });
  }

  /// Emits to one socket and waits (without the GIL) for its ack: the ack's arguments, or
  /// TimeoutError.
  py::object call_client(const std::string& nsp, const std::string& sid, const std::string& event, const py::handle& args,
                         double timeout) {
    chat::Args values(args_to_json(args));
    auto outcome = std::make_shared<Slot<std::pair<std::error_code, chat::Args>>>();
    to_io([this, nsp, sid, event, values = std::move(values), outcome, timeout]() mutable {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      if (!socket) {
        fill(*outcome, {chat::errc::socket_disconnected, chat::Args()});
        return;
      }
      socket->emit_with_ack(event, std::move(values),
          [this, outcome](std::error_code error, chat::Args reply) { fill(*outcome, {error, std::move(reply)}); },
          std::chrono::milliseconds(static_cast<long long>(timeout * 1000)));
    });
    std::optional<std::pair<std::error_code, chat::Args>> result;
    {
      py::gil_scoped_release release;
      result = await(*outcome);
    }
    if (!result || result->first) {
      // Flask-SocketIO's call() raises TimeoutError for a disconnected client too.
      PyErr_SetString(PyExc_TimeoutError, !result ? "the chat server stopped before the client acknowledged"
                                          : result->first == chat::errc::ack_timeout ? "the client did not acknowledge in time"
                                          : result->first == chat::errc::too_many_pending_acks
                                              ? "not sent: the client has max_pending_acks acknowledgements outstanding"
                                                                                     : "the client disconnected before acknowledging");
      throw py::error_already_set();
    }
    return from_json(result->second.array());
  }

  void ack(const std::string& nsp, const std::string& sid, std::uint64_t ack_id, const py::handle& args) {
    chat::Args values(args_to_json(args));
    to_io([this, nsp, sid, ack_id, values = std::move(values)]() mutable {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->send_ack(ack_id, std::move(values));
    });
  }

  void accept(const std::string& nsp, const std::string& sid) {
    to_io([this, nsp, sid] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->accept();
    });
  }

  void reject(const std::string& nsp, const std::string& sid, const std::string& message, const py::handle& data) {
    json payload = to_json(data);
    to_io([this, nsp, sid, message, payload] {
      if (chat::Socket* socket = server_->of(nsp).socket(sid)) socket->reject(message, payload);
    });
  }

  void join_room(const std::string& nsp, const std::string& sid, const std::string& room) {
    to_io([this, nsp, sid, room] { server_->of(nsp).to(sid).sockets_join(room); });
  }

  void leave_room(const std::string& nsp, const std::string& sid, const std::string& room) {
    to_io([this, nsp, sid, room] { server_->of(nsp).to(sid).sockets_leave(room); });
  }

  void close_room(const std::string& nsp, const std::string& room) {
    to_io([this, nsp, room] { server_->of(nsp).in(room).sockets_leave(room); });
  }

  void disconnect(const std::string& nsp, const std::string& sid) {
    to_io([this, nsp, sid] { server_->of(nsp).to(sid).disconnect_sockets(); });
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

  // ---- the cluster API: requests to the namespace's adapter, so they span a cluster ----

  /// The sockets `to` selects (every socket of the namespace when empty), wherever they are
  /// (Node's fetchSockets), as dicts. Waits without the GIL: the cluster adapter answers once
  /// every server did, or at its requests timeout with those that did.
  py::list fetch_sockets(const std::string& nsp, const std::vector<std::string>& to) {
    const chat::BroadcastOperator selection = server_->of(nsp).all().to(to);
    std::vector<chat::SocketInfo> found = on_io_thread_later<std::vector<chat::SocketInfo>>(
        [selection](std::function<void(std::vector<chat::SocketInfo>)> done) { selection.fetch_sockets(std::move(done)); });
    py::list sockets;
    for (const auto& info : found) sockets.append(socket_info(info));
    return sockets;
  }

  /// Makes the selected sockets, wherever they are, join `rooms` (Node's socketsJoin).
  void sockets_join(const std::string& nsp, const std::vector<std::string>& to, const std::vector<std::string>& rooms) {
    chat::Namespace* space = &server_->of(nsp);
    to_io([space, options = space->all().to(to).options(), rooms] { space->adapter().add_sockets(options, rooms); });
  }

  /// Makes the selected sockets, wherever they are, leave `rooms` (Node's socketsLeave).
  void sockets_leave(const std::string& nsp, const std::vector<std::string>& to, const std::vector<std::string>& rooms) {
    chat::Namespace* space = &server_->of(nsp);
    to_io([space, options = space->all().to(to).options(), rooms] { space->adapter().del_sockets(options, rooms); });
  }

  /// Disconnects the selected sockets, wherever they are; `close`: their whole connections.
  void disconnect_sockets(const std::string& nsp, const std::vector<std::string>& to, bool close) {
    to_io([this, nsp, to, close] { server_->of(nsp).all().to(to).disconnect_sockets(close); });
  }

  /// Sets a socket's data (Node's socket.data, what fetch_sockets reports). The socket must be
  /// on this server: KeyError otherwise.
  void set_data(const std::string& nsp, const std::string& sid, const py::handle& value) {
    json data = to_json(value);
    const bool found = on_io_thread<bool>([this, nsp, sid, data = std::move(data)]() mutable {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      if (socket) socket->data() = std::move(data);
      return socket != nullptr;
    });
    if (!found) throw py::key_error(not_here(nsp, sid));
  }

  /// A socket's data (null until set). The socket must be on this server: KeyError otherwise.
  py::object get_data(const std::string& nsp, const std::string& sid) {
    std::optional<json> data = on_io_thread<std::optional<json>>([this, nsp, sid]() -> std::optional<json> {
      chat::Socket* socket = server_->of(nsp).socket(sid);
      if (!socket) return std::nullopt;
      return socket->data();
    });
    if (!data) throw py::key_error(not_here(nsp, sid));
    return from_json(*data);
  }

  /// Sends an event to the namespace on every other server of the cluster (their server-side
  /// emit handlers; with no cluster there is none). With a callback id, their replies go to the
  /// dispatcher's on_replies(callback_id, timed_out, replies) once every server answered, or
  /// after `timeout` with those that did.
  void server_side_emit(const std::string& nsp, const std::string& event, const py::handle& args,
                        std::optional<std::uint64_t> callback_id, double timeout) {
    json data = args_to_json(args);
    data.insert(data.begin(), event);
    chat::Namespace& space = server_->of(nsp);
    if (!callback_id) {
      to_io([&space, data = std::move(data)]() mutable { space.server_side_emit_array(chat::Args(std::move(data))); });
      return;
    }
    if (milliseconds(timeout).count() <= 0)  // said here, to the caller, not on the io thread
      throw std::invalid_argument("chat: server_side_emit_with_ack needs a timeout: a server may never answer");
    to_io([this, &space, data = std::move(data), id = *callback_id, timeout]() mutable {
      send_server_side_emit_with_ack(space, std::move(data), id, timeout);
    });
  }

  /// server_side_emit's request for replies (io thread).
  void send_server_side_emit_with_ack(chat::Namespace& space, json data, std::uint64_t callback_id, double timeout) {
    space.server_side_emit_with_ack(
        chat::Args(std::move(data)),
        [this, id = callback_id](std::error_code error, std::vector<chat::Args> replies) {
          json values = json::array();
          for (auto& reply : replies) values.push_back(reply.empty() ? json() : reply[0]);  // one value per server, Node's
          pool_->submit("replies " + std::to_string(id), [this, id, timed_out = static_cast<bool>(error), values] {
            try {
              dispatcher_->on_replies(id, timed_out, from_json(values));
            } catch (const std::exception& e) {
              report(e);
            }
          });
        },
        milliseconds(timeout));
  }

  /// Emits to every selected socket of every server and waits (without the GIL) for their
  /// acknowledgements (Node's io.timeout(ms).emitWithAck): (timed out?, each client's answer),
  /// with the answers that came when the timeout passed first.
  std::pair<bool, py::list> broadcast_call(const std::string& nsp, const std::string& event, const py::handle& args,
                                           const std::vector<std::string>& to, double timeout) {
    if (!(timeout > 0)) throw py::value_error("timeout must be positive: a client may never answer");
    chat::Args values(args_to_json(args));
    const chat::BroadcastOperator selection = server_->of(nsp).all().to(to);
    using Outcome = std::pair<std::error_code, std::vector<chat::Args>>;
    Outcome outcome = on_io_thread_later<Outcome>(
        [selection, event, values = std::move(values), timeout](std::function<void(Outcome)> done) mutable {
          selection.emit_with_ack(event, std::move(values),
              [done = std::move(done)](std::error_code error, std::vector<chat::Args> answers) {
                done({error, std::move(answers)});
              },
              milliseconds(timeout));
        });
    // One value per client: what crosses servers in Node's format (its first argument).
    py::list answers;
    for (const auto& answer : outcome.second) answers.append(answer.empty() ? py::none() : from_json(answer[0]));
    return {static_cast<bool>(outcome.first), answers};
  }

  /// Waits (without the GIL) until the handlers have run and what they posted to the io thread
  /// has been done, and that work queued no new handler: what Flask-SocketIO's synchronous test
  /// client relies on. (Bounded, so a handler that emits for ever to its own client cannot
  /// hold a test here.)
  void settle() {
    py::gil_scoped_release release;
    for (int round = 0; round < max_settle_rounds; ++round) {
      pool_->wait_idle();
      const auto before = pool_->submitted();
      auto done = std::make_shared<Slot<bool>>();
      to_io([this, done] { fill(*done, true); });
      if (!await(*done)) return;  // the io thread ended
      if (pool_->submitted() == before) return;
    }
  }

  // ---- in-process test connections ----

  std::unique_ptr<LocalConnection> local_connect(const std::vector<std::pair<std::string, std::string>>& headers,
                                                 const std::vector<std::pair<std::string, std::string>>& query,
                                                 const std::string& url) {
    chat::Handshake handshake;
    handshake.headers = headers;
    handshake.query = query;
    handshake.url = url;
    handshake.address = "127.0.0.1";
    handshake.issued_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch()).count();
    return std::make_unique<LocalConnection>(
        on_io_thread<std::shared_ptr<chat::LocalClient>>([this, handshake] { return server_->connect_local(handshake); }),
        to_io_);
  }

  void local_send(const LocalConnection& connection, chat::socketio::PacketType type, const std::string& nsp,
                  const py::object& id, const py::object& data) {
    chat::socketio::Packet packet;
    packet.type = type;
    packet.nsp = nsp;
    if (!id.is_none()) packet.id = id.cast<std::uint64_t>();
    if (!data.is_none() || packet.type == chat::socketio::PacketType::event) packet.data = to_json(data);
    auto client = connection.client;
    to_io([client, packet] { client->send(packet); });
  }

  py::list local_receive(const LocalConnection& connection) {
    py::list packets;
    for (auto& packet : connection.client->take_received()) {
      packets.append(py::make_tuple(packet.type, packet.nsp,
                                    packet.id ? py::object(py::int_(*packet.id)) : py::object(py::none()),
                                    packet.has_data() ? from_json(packet.data) : py::object(py::none())));
    }
    return packets;
  }

  void local_close(const LocalConnection& connection) {
    auto client = connection.client;
    to_io([client] { client->close_connection(); });
  }

 private:
  static constexpr int max_settle_rounds = 100;

  /// Runs `work` on the io thread behind every call handed before it, from any thread: queued
  /// (one wake-up of the io thread per batch), or, on the io thread itself (a hook of Python's
  /// there), at once after what is queued, since a call that waits for its answer there could
  /// not wait for a drain behind it.
  void to_io(BatchingHandOff::Work work) {
    if (std::this_thread::get_id() == io_thread_id_.load()) to_io_->run_now(std::move(work));
    else to_io_->hand(std::move(work));
  }

  /// A value the io thread hands to a thread that waits for it.
  template <class Value>
  struct Slot {
    std::optional<Value> value;  // guarded by lifecycle_
  };

  template <class Value>
  void fill(Slot<Value>& slot, Value value) {
    {
      std::lock_guard<std::mutex> lock(lifecycle_);
      slot.value = std::move(value);
    }
    changed_.notify_all();
  }

  /// Waits (call without the GIL) until `slot` is filled, or the io thread is not running: then
  /// nullopt, since nothing will fill it.
  template <class Value>
  std::optional<Value> await(Slot<Value>& slot) {
    std::unique_lock<std::mutex> lock(lifecycle_);
    changed_.wait(lock, [&] { return slot.value.has_value() || !running_; });
    return std::move(slot.value);
  }

  /// Runs `work` on the io thread and waits for its result without the GIL. Raises
  /// RuntimeError instead of waiting for ever when the io thread is not running.
  template <class Result, class Work>
  Result on_io_thread(Work work) {
    auto slot = std::make_shared<Slot<Result>>();
    to_io([this, slot, work = std::move(work)]() mutable { fill(*slot, work()); });
    std::optional<Result> result;
    {
      py::gil_scoped_release release;
      result = await(*slot);
    }
    if (!result) throw std::runtime_error("the chat server is not running");
    return std::move(*result);
  }

  /// Starts work on the io thread that ends later, calling `done` there (a request to the
  /// adapter), and waits for its result without the GIL. Raises RuntimeError instead of waiting
  /// for ever when the io thread is not running.
  template <class Result, class Start>
  Result on_io_thread_later(Start start) {
    auto slot = std::make_shared<Slot<Result>>();
    to_io([this, slot, start = std::move(start)]() mutable {
      start(std::function<void(Result)>([this, slot](Result result) { fill(*slot, std::move(result)); }));
    });
    std::optional<Result> result;
    {
      py::gil_scoped_release release;
      result = await(*slot);
    }
    if (!result) throw std::runtime_error("the chat server is not running");
    return std::move(*result);
  }

  static std::chrono::milliseconds milliseconds(double seconds) {
    return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
  }

  static std::string not_here(const std::string& nsp, const std::string& sid) {
    return "no socket " + sid + " in namespace " + nsp + " on this server";
  }

  /// A socket fetch_sockets found, as the package's RemoteSocket takes it.
  static py::dict socket_info(const chat::SocketInfo& info) {
    py::dict handshake;
    handshake["headers"] = pairs_to_list(info.handshake.headers);
    handshake["query"] = pairs_to_list(info.handshake.query);
    handshake["url"] = info.handshake.url;
    handshake["address"] = info.handshake.address;
    handshake["issued"] = info.handshake.issued_ms;
    handshake["auth"] = from_json(info.auth);
    py::dict socket;
    socket["id"] = info.id;
    socket["rooms"] = py::cast(info.rooms);
    socket["data"] = from_json(info.data);
    socket["handshake"] = handshake;
    return socket;
  }

  static void report(const std::exception& e) {
    py::module_::import("logging").attr("getLogger")("chat").attr("exception")("chat: %s", e.what());
  }

  /// Hands one recipient's answer to emit_with_ack's callback to the dispatcher. The answers
  /// to one emit queue under one key, so they run in the order they came, the last one last.
  void answer(std::uint64_t callback_id, std::optional<json> reply, bool finished) {
    pool_->submit("ack " + std::to_string(callback_id), [this, callback_id, reply = std::move(reply), finished] {
      try {
        dispatcher_->on_ack(callback_id, reply ? from_json(*reply) : py::none(), finished);
      } catch (const std::exception& e) {
        report(e);
      }
    });
  }

  /// The key a socket's events queue under: the sid (one at a time, in order), or, with
  /// python-socketio's async_handlers, a key of their own (each event in parallel).
  std::string event_key(const chat::Socket& socket) {
    if (settings_.ordered_events) return socket.id();
    return socket.id() + "#" + std::to_string(next_event_++);
  }

  /// Hooks of one namespace: each queues a job for the socket; the job calls the dispatcher.
  void install(chat::Namespace& nsp) {
    nsp.on_connect([this](chat::Socket& socket, const chat::json& auth) -> chat::ConnectResult {
      if (outgoing_listeners_) {
        // Queued as the socket's own work, so a listener sees its events in the order sent.
        socket.on_any_outgoing([this](chat::Socket& self, const std::string& event, const chat::Args& args) {
          pool_->submit(self.id(), [this, nsp = self.nsp().name(), sid = self.id(), event, args] {
            try {
              dispatcher_->on_outgoing(nsp, sid, event, from_json(args.array()));
            } catch (const std::exception& e) {
              report(e);
            }
          });
        });
      }
      pool_->submit(socket.id(), [this, nsp = socket.nsp().name(), sid = socket.id(), recovered = socket.recovered(),
                                  auth = socket.auth_sent() ? auth : chat::json(), handshake = socket.handshake()] {
        try {
          py::dict environ;
          environ["headers"] = pairs_to_list(handshake.headers);
          environ["query"] = pairs_to_list(handshake.query);
          environ["url"] = handshake.url;
          environ["remote_address"] = handshake.address;
          environ["recovered"] = recovered;
          dispatcher_->on_connect(nsp, sid, from_json(auth), environ);
        } catch (const std::exception& e) {
          report(e);
        }
      });
      return chat::ConnectResult::defer();
    });
    nsp.on_any([this](chat::Socket& socket, chat::Event& event) {
      if (!queue_event(socket)) return;
      pool_->submit(event_key(socket), [this, nsp = socket.nsp().name(), sid = socket.id(), name = event.name(),
                                        args = event.args(), ack_id = event.ack_id()] {
        dequeue_event(sid);
        try {
          dispatcher_->on_event(nsp, sid, name, from_json(args.array()),
                                ack_id ? py::object(py::int_(*ack_id)) : py::object(py::none()));
        } catch (const std::exception& e) {
          report(e);
        }
      });
    });
    // Another server's server_side_emit: the handlers of one namespace run in order, one at a
    // time, as one socket's events do. `reply` (empty when no reply was asked for) answers on
    // the io thread, once.
    nsp.on_server_side_emit([this, name = nsp.name()](const std::string& event, const chat::Args& args,
                                                       const std::function<void(chat::Args)>& reply) {
      pool_->submit("server-side emit " + name, [this, name, event, args, reply] {
        try {
          py::object answer = py::none();
          if (reply) {
            answer = py::cpp_function([this, reply, sent = std::make_shared<bool>(false)](const py::handle& values) {
              if (*sent) return;  // the GIL serializes calls
              *sent = true;
              chat::Args answered(args_to_json(values));
              to_io([reply, answered = std::move(answered)] { reply(answered); });
            });
          }
          dispatcher_->on_server_side_emit(name, event, from_json(args.array()), answer);
        } catch (const std::exception& e) {
          report(e);
        }
      });
    });
    nsp.on_disconnect([this](chat::Socket& socket, chat::DisconnectReason reason) {
      pool_->submit(socket.id(), [this, nsp = socket.nsp().name(), sid = socket.id(), reason] {
        try {
          dispatcher_->on_disconnect(nsp, sid, reason);
        } catch (const std::exception& e) {
          report(e);
        }
      });
    });
  }

  /// Counts one more event of `socket` waiting for a worker, or, past max_queued_events,
  /// disconnects the client (one report) and returns false. Io thread.
  bool queue_event(chat::Socket& socket) {
    std::size_t waiting;
    {
      std::lock_guard<std::mutex> lock(queued_mutex_);
      waiting = ++queued_events_[socket.id()];
      if (waiting <= settings_.max_queued_events || settings_.max_queued_events == 0) return true;
      dequeue_locked(socket.id());
    }
    log_error("client " + socket.id() + " sends events faster than its handlers run (" + std::to_string(waiting - 1) +
              " waiting, max_queued_events): disconnected");
    socket.disconnect(true);
    return false;
  }
  /// A worker took one of the socket's events. Any thread.
  void dequeue_event(const std::string& sid) {
    std::lock_guard<std::mutex> lock(queued_mutex_);
    dequeue_locked(sid);
  }
  void dequeue_locked(const std::string& sid) {
    const auto found = queued_events_.find(sid);
    if (found != queued_events_.end() && --found->second == 0) queued_events_.erase(found);
  }

  /// HTTP requests outside Socket.IO go to the app, through WSGI, on a worker.
  void install_http() {
    server_->on_http([this](const chat::HttpRequest& request, chat::HttpResponder responder) {
      pool_->submit("http " + std::to_string(next_http_++), [this, request, responder] {
        try {
          py::dict environ;
          environ["method"] = request.method;
          environ["target"] = request.target;
          environ["path"] = request.path;
          environ["headers"] = pairs_to_list(request.headers);
          environ["body"] = py::bytes(request.body);
          environ["remote_address"] = request.remote_address;
          py::tuple result = dispatcher_->on_http(environ);
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

  std::optional<Dispatcher> dispatcher_;
  HostSettings settings_;
  std::shared_ptr<HostServer> server_;
  std::shared_ptr<chat::redis::Cluster> cluster_;
  std::unique_ptr<WorkerPool> pool_;
  std::shared_ptr<BatchingHandOff> to_io_;      // every call from Python to the io thread, in order
  std::atomic<std::thread::id> io_thread_id_{};  // set once the io thread runs
  std::atomic<bool> outgoing_listeners_{false};
  std::mutex lifecycle_;             // guards the three flags and every Slot
  std::condition_variable changed_;  // a Slot filled, or the io thread ended
  bool running_ = false;
  bool stopped_ = false;
  std::thread io_thread_;
  std::mutex stopping_;
  std::atomic<std::uint64_t> next_http_{0};
  std::uint64_t next_event_ = 0;  // io thread only
  std::mutex queued_mutex_;
  std::unordered_map<std::string, std::size_t> queued_events_;  // by sid: events submitted, not yet begun
};

/// What the Python hooks of raw requests get (the Python side makes a WSGI environ of it).
py::dict request_dict(const chat::HttpRequest& request) {
  py::dict environ;
  environ["method"] = request.method;
  environ["target"] = request.target;
  environ["headers"] = pairs_to_list(request.headers);
  environ["remote_address"] = request.remote_address;
  return environ;
}

/// A Python function of (origin, request dict) as the server's Origin check: it runs on the io
/// thread, which takes the GIL for it.
chat::OriginCheck origin_check(py::object function) {
  auto held = std::make_shared<py::object>(std::move(function));
  return [held](std::string_view origin, const chat::HttpRequest& request) {
    py::gil_scoped_acquire gil;
    try {
      return (*held)(py::str(origin.data(), origin.size()), request_dict(request)).cast<bool>();
    } catch (const py::error_already_set& e) {
      throw std::runtime_error(e.what());  // the transport logs it and refuses the request
    }
  };
}

/// A Python function of the request dict as Options::allow_request, on the io thread with the
/// GIL: it returns True (allowed), False (refused: "Forbidden") or a str (refused, with that
/// message).
chat::RequestCheck request_check(py::object function) {
  auto held = std::make_shared<py::object>(std::move(function));
  return [held](const chat::HttpRequest& request) -> chat::RequestVerdict {
    py::gil_scoped_acquire gil;
    try {
      const py::object verdict = (*held)(request_dict(request));
      if (py::isinstance<py::str>(verdict)) return chat::RequestVerdict::refuse(verdict.cast<std::string>());
      return py::bool_(verdict).cast<bool>();
    } catch (const py::error_already_set& e) {
      throw std::runtime_error(e.what());  // the transport logs it and refuses the request
    }
  };
}

/// A Python function of the request dict returning (name, value) pairs, as a headers hook (on
/// the io thread, with the GIL).
chat::HeadersHook headers_hook(py::object function) {
  auto held = std::make_shared<py::object>(std::move(function));
  return [held](std::vector<std::pair<std::string, std::string>>& headers, const chat::HttpRequest& request) {
    py::gil_scoped_acquire gil;
    try {
      for (const auto& pair : (*held)(request_dict(request)))
        headers.push_back(pair.cast<std::pair<std::string, std::string>>());
    } catch (const py::error_already_set& e) {
      throw std::runtime_error(e.what());  // the transport logs it; the response goes out
    }
  };
}

}  // namespace

void bind_server(py::module_& module) {
#if defined(CHAT_PYTHON_TLS)
  module.attr("HAS_TLS") = true;
#else
  module.attr("HAS_TLS") = false;
#endif
  py::enum_<chat::DisconnectReason> reason(module, "DisconnectReason",
                                           "Why a socket left its namespace (str() gives Node's spelling).");
  for (const auto value : chat::all_disconnect_reasons) {
    std::string name(chat::to_string(value));
    for (auto& c : name)
      if (c == ' ') c = '_';
    reason.value(name.c_str(), value);
  }
  reason.def("__str__", [](chat::DisconnectReason value) { return std::string(chat::to_string(value)); }, py::prepend());

  py::enum_<chat::socketio::PacketType>(module, "PacketType", "Socket.IO packet types.")
      .value("CONNECT", chat::socketio::PacketType::connect)
      .value("DISCONNECT", chat::socketio::PacketType::disconnect)
      .value("EVENT", chat::socketio::PacketType::event)
      .value("ACK", chat::socketio::PacketType::ack)
      .value("CONNECT_ERROR", chat::socketio::PacketType::connect_error)
      .value("BINARY_EVENT", chat::socketio::PacketType::binary_event)
      .value("BINARY_ACK", chat::socketio::PacketType::binary_ack);

  using Options = chat::Options;
  using ms = std::chrono::milliseconds;
  auto seconds = [](ms value) { return std::chrono::duration<double>(value).count(); };
  auto to_ms = [](double value) { return std::chrono::duration_cast<ms>(std::chrono::duration<double>(value)); };
  py::class_<Options>(module, "Options", "chat::Options: the settings of a server (times in seconds).")
      .def(py::init<>())
      .def_property("ping_interval", [seconds](const Options& o) { return seconds(o.ping_interval()); },
                    [to_ms](Options& o, double v) { o.ping_interval(to_ms(v)); })
      .def_property("ping_interval_grace", [seconds](const Options& o) { return seconds(o.ping_interval_grace()); },
                    [to_ms](Options& o, double v) { o.ping_interval_grace(to_ms(v)); })
      .def_property("ping_timeout", [seconds](const Options& o) { return seconds(o.ping_timeout()); },
                    [to_ms](Options& o, double v) { o.ping_timeout(to_ms(v)); })
      .def_property("connect_timeout", [seconds](const Options& o) { return seconds(o.connect_timeout()); },
                    [to_ms](Options& o, double v) { o.connect_timeout(to_ms(v)); })
      .def_property("upgrade_timeout", [seconds](const Options& o) { return seconds(o.upgrade_timeout()); },
                    [to_ms](Options& o, double v) { o.upgrade_timeout(to_ms(v)); })
      .def_property("handshake_timeout", [seconds](const Options& o) { return seconds(o.handshake_timeout()); },
                    [to_ms](Options& o, double v) { o.handshake_timeout(to_ms(v)); })
      .def_property("max_payload", [](const Options& o) { return o.max_payload(); },
                    [](Options& o, std::size_t v) { o.max_payload(v); })
      .def_property("max_buffered_bytes", [](const Options& o) { return o.max_buffered_bytes(); },
                    [](Options& o, std::size_t v) { o.max_buffered_bytes(v); })
      .def_property("connection_state_recovery",
                    [seconds](const Options& o) -> std::optional<std::tuple<double, bool, std::size_t>> {
                      const auto& recovery = o.connection_state_recovery();
                      if (!recovery) return std::nullopt;
                      return std::make_tuple(seconds(recovery->max_disconnection_duration), recovery->skip_middlewares,
                                             recovery->max_kept_bytes);
                    },
                    [to_ms](Options& o, std::tuple<double, bool, std::size_t> v) {
                      o.connection_state_recovery(
                          chat::ConnectionStateRecovery{to_ms(std::get<0>(v)), std::get<1>(v), std::get<2>(v)});
                    },
                    "(max_disconnection_duration seconds, skip_middlewares, max_kept_bytes), or None: off.")
      .def_property("cleanup_empty_child_namespaces", [](const Options& o) { return o.cleanup_empty_child_namespaces(); },
                    [](Options& o, bool v) { o.cleanup_empty_child_namespaces(v); })
      .def_property("max_pending_acks", [](const Options& o) { return o.max_pending_acks(); },
                    [](Options& o, std::size_t v) { o.max_pending_acks(v); })
      .def_property("max_connections", [](const Options& o) { return o.max_connections(); },
                    [](Options& o, std::size_t v) { o.max_connections(v); })
      .def_property("max_sessions_per_ip", [](const Options& o) { return o.max_sessions_per_ip(); },
                    [](Options& o, std::size_t v) { o.max_sessions_per_ip(v); })
      .def_property("handshake_rate_per_ip",
                    [](const Options& o) { return std::make_pair(o.handshake_rate_per_ip().per_second, o.handshake_rate_per_ip().burst); },
                    [](Options& o, std::pair<double, std::size_t> v) { o.handshake_rate_per_ip(v.first, v.second); },
                    "(handshakes per second, burst); (0, 0): no limit.")
      .def_property("trusted_proxies", [](const Options& o) { return o.trusted_proxies(); },
                    [](Options& o, std::vector<std::string> v) { o.trusted_proxies(std::move(v)); })
      .def_property("cors_allowed_origins", [](const Options& o) { return o.cors_allowed_origins(); },
                    [](Options& o, std::vector<std::string> v) { o.cors_allowed_origins(std::move(v)); })
      .def_property("cors_allow_same_origin", [](const Options& o) { return o.cors_allow_same_origin(); },
                    [](Options& o, bool v) { o.cors_allow_same_origin(v); })
      .def_property("cors_credentials", [](const Options& o) { return o.cors_credentials(); },
                    [](Options& o, bool v) { o.cors_credentials(v); })
      .def_property("cors_origin_check", [](const Options& o) { return static_cast<bool>(o.cors_origin_check()); },
                    [](Options& o, py::object check) { o.cors_origin_check(origin_check(std::move(check))); },
                    "Set: a function of (origin, request dict) -> bool, run on the io thread. Get: whether one is set.")
      .def_property("transports",
                    [](const Options& o) {
                      std::vector<std::string> names;
                      if (o.polling_allowed()) names.emplace_back("polling");
                      if (o.websocket_allowed()) names.emplace_back("websocket");
                      return names;
                    },
                    [](Options& o, const std::vector<std::string>& v) { o.transports(v); })
      .def_property("cookie",
                    [](const Options& o) -> std::optional<std::pair<std::string, std::string>> {
                      if (!o.cookie()) return std::nullopt;
                      return std::make_pair(o.cookie()->name, o.cookie()->attributes);
                    },
                    [](Options& o, const std::pair<std::string, std::string>& v) {
                      o.cookie(chat::SessionCookie{v.first, v.second});
                    },
                    "(name, attributes) of the session cookie set on the polling handshake.")
      .def_property("allow_eio3", [](const Options& o) { return o.allow_eio3(); },
                    [](Options& o, bool v) { o.allow_eio3(v); })
      .def_property("allow_upgrades", [](const Options& o) { return o.allow_upgrades(); },
                    [](Options& o, bool v) { o.allow_upgrades(v); })
      .def_property("path", [](const Options& o) { return o.path(); }, [](Options& o, std::string v) { o.path(std::move(v)); })
      .def_property("namespaces", [](const Options& o) { return o.namespaces(); },
                    [](Options& o, std::vector<std::string> v) { o.namespaces(std::move(v)); })
      .def_property("client_bundle_dir", [](const Options& o) { return o.client_bundle_dir(); },
                    [](Options& o, std::string v) { o.client_bundle_dir(std::move(v)); })
      .def_property("http_compression", [](const Options& o) { return o.http_compression(); },
                    [](Options& o, bool v) { o.http_compression(v); })
      .def_property("compression_threshold", [](const Options& o) { return o.compression_threshold(); },
                    [](Options& o, std::size_t v) { o.compression_threshold(v); })
      .def_property("per_message_deflate", [](const Options& o) { return o.per_message_deflate(); },
                    [](Options& o, bool v) { o.per_message_deflate(v); })
      .def_property("per_message_deflate_threshold", [](const Options& o) { return o.per_message_deflate_threshold(); },
                    [](Options& o, std::size_t v) { o.per_message_deflate_threshold(v); })
      .def_property("cors_methods", [](const Options& o) { return o.cors_methods(); },
                    [](Options& o, std::vector<std::string> v) { o.cors_methods(std::move(v)); })
      .def_property("cors_allowed_headers", [](const Options& o) { return o.cors_allowed_headers(); },
                    [](Options& o, std::vector<std::string> v) { o.cors_allowed_headers(std::move(v)); })
      .def_property("cors_exposed_headers", [](const Options& o) { return o.cors_exposed_headers(); },
                    [](Options& o, std::vector<std::string> v) { o.cors_exposed_headers(std::move(v)); })
      .def_property("cors_max_age",
                    [](const Options& o) -> std::optional<long long> {
                      if (!o.cors_max_age()) return std::nullopt;
                      return o.cors_max_age()->count();
                    },
                    [](Options& o, long long v) { o.cors_max_age(std::chrono::seconds(v)); }, "Whole seconds.")
      .def_property("allow_request", [](const Options& o) { return static_cast<bool>(o.allow_request()); },
                    [](Options& o, py::object check) { o.allow_request(request_check(std::move(check))); },
                    "Set: a function of (request dict) -> True, False or a refusal message, run on the io "
                    "thread. Get: whether one is set.")
      .def_property("initial_packet", [](const Options& o) { return o.initial_packet(); },
                    [](Options& o, std::string v) { o.initial_packet(std::move(v)); })
      .def_property(
          "parser",
          [](const Options& o) { return o.parser() == chat::MsgpackParser::shared() ? "msgpack" : "json"; },
          [](Options& o, const std::string& name) {
            if (name == "msgpack") o.parser(chat::MsgpackParser::shared());
            else if (name == "json") o.parser(chat::JsonParser::shared());
            else throw py::value_error("parser: 'json' or 'msgpack', not '" + name + "'");
          },
          "The wire format: 'json' (socket.io-parser, the default) or 'msgpack' (socket.io-msgpack-parser).");

  py::class_<LocalConnection>(module, "LocalConnection");

  py::class_<PyServer>(module, "Server")
      .def(py::init([](const Options& options, const py::object& dispatcher, std::size_t workers, bool http,
                       std::vector<std::string> hook_namespaces, std::vector<std::string> hook_patterns,
                       bool ordered_events, std::size_t max_queued_events) {
             return std::make_unique<PyServer>(options, dispatcher,
                                               HostSettings{workers, http, std::move(hook_namespaces),
                                                            std::move(hook_patterns), ordered_events, max_queued_events});
           }),
           py::arg("options"), py::arg("dispatcher"), py::arg("workers") = 16, py::arg("http") = false,
           py::arg("hook_namespaces") = std::vector<std::string>{"/"},
           py::arg("hook_patterns") = std::vector<std::string>{}, py::arg("ordered_events") = true,
           py::arg("max_queued_events") = 1000)
      .def("listen", &PyServer::listen, py::arg("host"), py::arg("port"))
      .def("listen_worker", &PyServer::listen_worker, py::arg("index"), py::arg("count"), py::arg("channel"))
      .def("listen_tls", &PyServer::listen_tls, py::arg("host"), py::arg("port"), py::arg("certfile"), py::arg("keyfile"),
           py::arg("ca_certs") = std::string())
      .def("on_headers", &PyServer::on_headers, py::arg("hook"),
           "A function of (request dict) -> [(name, value)] adding headers to Engine.IO responses. Before start().")
      .def("on_initial_headers", &PyServer::on_initial_headers, py::arg("hook"),
           "As on_headers, for handshake responses only. Before start().")
      .def("join_cluster", &PyServer::join_cluster, py::arg("url"), py::arg("key"), py::arg("requests_timeout"))
      .def("cluster_connected", &PyServer::cluster_connected)
      .def("instrument", &PyServer::instrument, py::arg("auth"), py::arg("mode"), py::arg("read_only"), py::arg("server_id"),
           py::arg("namespace"), py::arg("server_stats_interval"))
      .def("start", &PyServer::start)
      .def("wait", &PyServer::wait, py::arg("timeout"), py::call_guard<py::gil_scoped_release>())
      .def("stop", &PyServer::stop_and_join, py::call_guard<py::gil_scoped_release>())
      .def("request_stop", &PyServer::request_stop, py::call_guard<py::gil_scoped_release>())
      .def("emit", &PyServer::emit, py::arg("namespace"), py::arg("event"), py::arg("args"), py::arg("to"), py::arg("skip"),
           py::arg("local") = false, py::arg("is_volatile") = false, py::arg("compress") = true)
      .def("set_outgoing_listeners", &PyServer::set_outgoing_listeners, py::arg("on"))
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
      .def("fetch_sockets", &PyServer::fetch_sockets, py::arg("namespace"), py::arg("to"))
      .def("sockets_join", &PyServer::sockets_join, py::arg("namespace"), py::arg("to"), py::arg("rooms"))
      .def("sockets_leave", &PyServer::sockets_leave, py::arg("namespace"), py::arg("to"), py::arg("rooms"))
      .def("disconnect_sockets", &PyServer::disconnect_sockets, py::arg("namespace"), py::arg("to"), py::arg("close"))
      .def("set_data", &PyServer::set_data, py::arg("namespace"), py::arg("sid"), py::arg("value"))
      .def("get_data", &PyServer::get_data, py::arg("namespace"), py::arg("sid"))
      .def("server_side_emit", &PyServer::server_side_emit, py::arg("namespace"), py::arg("event"), py::arg("args"),
           py::arg("callback_id"), py::arg("timeout"))
      .def("broadcast_call", &PyServer::broadcast_call, py::arg("namespace"), py::arg("event"), py::arg("args"),
           py::arg("to"), py::arg("timeout"))
      .def("settle", &PyServer::settle)
      .def("local_connect", &PyServer::local_connect, py::arg("headers"), py::arg("query"), py::arg("url"))
      .def("local_send", &PyServer::local_send, py::arg("connection"), py::arg("type"), py::arg("namespace"),
           py::arg("id"), py::arg("data"))
      .def("local_receive", &PyServer::local_receive, py::arg("connection"))
      .def("local_close", &PyServer::local_close, py::arg("connection"));
}

}  // namespace chat::python
