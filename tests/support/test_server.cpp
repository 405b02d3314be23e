// The server the integration tests drive; its behaviour is specified in TEST_SERVER.md.
#include <chat/chat.hpp>
#include <chat/worker_processes.hpp>
#ifdef CHAT_TEST_ADMIN_UI
#include <chat/admin_ui.hpp>
#endif
#ifdef CHAT_TEST_TLS
#include <chat/transport/websocketpp/tls.hpp>
#endif
#ifdef CHAT_TEST_REDIS
#include <chat/redis/adapter.hpp>
#endif

#include <asio/signal_set.hpp>

#include <csignal>
#include <future>
#include <regex>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>  // getpid

namespace {

struct Settings {
  chat::Options options;
  unsigned short port = 0;
  std::string static_dir;
  std::size_t shards = 1;
  std::size_t workers = 0;  // > 0: that many worker processes behind one port (WorkerProcesses)
  std::string tls_cert;  // with tls_key: serve https and wss on one shard
  std::string tls_key;
  std::string tls_client_ca;  // require client certificates this CA signed
  int plain_port = -1;        // with TLS: a plain listener too, on this port (0: any)
  std::string redis_url;  // join the Redis cluster there (Node's @socket.io/redis-adapter format)
  std::string redis_key = "socket.io";
  long long redis_requests_timeout_ms = 0;  // 0: the adapter's default (Node's, 5000 ms)
  std::vector<std::pair<std::string, std::string>> headers;          // on_headers adds them
  std::vector<std::pair<std::string, std::string>> initial_headers;  // on_initial_headers adds them
#ifdef CHAT_TEST_ADMIN_UI
  std::optional<chat::InstrumentOptions> admin;  // --admin-auth given: answer the Admin UI
#endif
};

#ifdef CHAT_TEST_ADMIN_UI
/// The Admin UI's options, made when a flag first names one.
chat::InstrumentOptions& admin_options(Settings& settings) {
  if (!settings.admin) settings.admin.emplace();
  return *settings.admin;
}
#endif

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

/// NAME=VALUE as a pair.
std::pair<std::string, std::string> name_value(const std::string& text) {
  const auto equals = text.find('=');
  return {text.substr(0, equals), equals == std::string::npos ? std::string() : text.substr(equals + 1)};
}

/// allow_request of `--allow-request-query KEY=VALUE`: a handshake whose query lacks the
/// parameter is refused with "not allowed by the test server", an exact copy of it is allowed,
/// `KEY=throw` makes the hook throw.
chat::RequestCheck allow_request_query(const std::pair<std::string, std::string>& wanted) {
  return [wanted](const chat::HttpRequest& request) -> chat::RequestVerdict {
    for (const auto& [key, value] : request.query) {
      if (key != wanted.first) continue;
      if (value == "throw") throw std::runtime_error("allow_request threw");
      if (value == wanted.second) return true;
    }
    return chat::RequestVerdict::refuse("not allowed by the \"test\" server");
  };
}

Settings parse(int argc, char** argv) {
  Settings settings;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) {
      std::cerr << "missing value for " << flag << '\n';
      std::exit(2);
    }
    const std::string value = argv[++i];
    const auto ms = [&] { return std::chrono::milliseconds(std::stoll(value)); };
    if (flag == "--port") settings.port = static_cast<unsigned short>(std::stoi(value));
    else if (flag == "--ping-interval") settings.options.ping_interval(ms());
    else if (flag == "--ping-timeout") settings.options.ping_timeout(ms());
    else if (flag == "--connect-timeout") settings.options.connect_timeout(ms());
    else if (flag == "--handshake-timeout") settings.options.handshake_timeout(ms());
    else if (flag == "--max-payload") settings.options.max_payload(std::stoull(value));
    else if (flag == "--max-buffered-bytes") settings.options.max_buffered_bytes(std::stoull(value));
    else if (flag == "--max-connections") settings.options.max_connections(std::stoull(value));
    else if (flag == "--max-sessions-per-ip") settings.options.max_sessions_per_ip(std::stoull(value));
    else if (flag == "--handshake-rate-per-ip") {  // RATE/BURST, e.g. 0.001/3
      const auto parts = split(value, '/');
      settings.options.handshake_rate_per_ip(std::stod(parts.at(0)), std::stoull(parts.at(1)));
    }
    else if (flag == "--trusted-proxies") settings.options.trusted_proxies(split(value, ','));
    else if (flag == "--cors") settings.options.cors_allowed_origins(split(value, ','));
    else if (flag == "--cors-methods") settings.options.cors_methods(split(value, ','));
    else if (flag == "--cors-allowed-headers") settings.options.cors_allowed_headers(split(value, ','));
    else if (flag == "--cors-exposed-headers") settings.options.cors_exposed_headers(split(value, ','));
    else if (flag == "--cors-max-age") settings.options.cors_max_age(std::chrono::seconds(std::stoll(value)));
    else if (flag == "--http-compression") settings.options.http_compression(value == "1");
    else if (flag == "--compression-threshold") settings.options.compression_threshold(std::stoull(value));
    else if (flag == "--per-message-deflate") settings.options.per_message_deflate(value == "1");
    else if (flag == "--allow-eio3") settings.options.allow_eio3(value == "1");
    else if (flag == "--allow-request-query") settings.options.allow_request(allow_request_query(name_value(value)));
    else if (flag == "--initial-packet") settings.options.initial_packet(value);
    else if (flag == "--header") settings.headers.push_back(name_value(value));
    else if (flag == "--initial-header") settings.initial_headers.push_back(name_value(value));
    else if (flag == "--static") settings.static_dir = value;
    else if (flag == "--client-dir") settings.options.client_bundle_dir(value);
    else if (flag == "--shards") settings.shards = std::stoul(value);
    else if (flag == "--workers") settings.workers = std::stoul(value);
    else if (flag == "--tls-cert") settings.tls_cert = value;
    else if (flag == "--tls-key") settings.tls_key = value;
    else if (flag == "--tls-client-ca") settings.tls_client_ca = value;
    else if (flag == "--plain-port") settings.plain_port = std::stoi(value);
    else if (flag == "--redis") settings.redis_url = value;
    else if (flag == "--redis-key") settings.redis_key = value;
    else if (flag == "--redis-requests-timeout") settings.redis_requests_timeout_ms = std::stoll(value);
    else if (flag == "--connection-state-recovery") {  // MS[,noskip]: the window; noskip runs middlewares
      const auto parts = split(value, ',');
      chat::ConnectionStateRecovery recovery;
      recovery.max_disconnection_duration = std::chrono::milliseconds(std::stoll(parts.at(0)));
      recovery.skip_middlewares = !(parts.size() > 1 && parts[1] == "noskip");
      settings.options.connection_state_recovery(recovery);
    }
    else if (flag == "--parser") {  // json (the default) or msgpack
      if (value == "msgpack") settings.options.parser(chat::MsgpackParser::shared());
      else if (value != "json") {
        std::cerr << "unknown parser " << value << '\n';
        std::exit(2);
      }
    }
    else if (flag == "--cleanup-empty-child-namespaces") settings.options.cleanup_empty_child_namespaces(value == "1");
#ifdef CHAT_TEST_ADMIN_UI
    else if (flag == "--admin-auth") {  // none, or USER:BCRYPT-HASH
      const auto colon = value.find(':');
      admin_options(settings).auth = value == "none" ? chat::AdminAuth::none()
                                                     : chat::AdminAuth::basic(value.substr(0, colon), value.substr(colon + 1));
    }
    else if (flag == "--admin-readonly") admin_options(settings).read_only = value == "1";
    else if (flag == "--admin-mode") {
      if (value != "development" && value != "production") throw std::invalid_argument("--admin-mode: development or production");
      admin_options(settings).mode = value == "production" ? chat::AdminMode::production : chat::AdminMode::development;
    }
    else if (flag == "--admin-namespace") admin_options(settings).namespace_name = value;
    else if (flag == "--admin-server-id") admin_options(settings).server_id = value;
    else if (flag == "--admin-stats-interval") admin_options(settings).server_stats_interval = std::chrono::milliseconds(std::stoll(value));
#endif
    else {
      std::cerr << "unknown flag " << flag << '\n';
      std::exit(2);
    }
  }
  return settings;
}

/// What the tests read back through `disconnect-reasons` and `errors`: one journal for the
/// whole server, written by the hooks of every shard (each on its own io thread).
class Journal {
 public:
  void disconnected(std::string entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    disconnects_.push_back(std::move(entry));
  }
  void error(std::string entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    errors_.push_back(std::move(entry));
  }
  std::vector<std::string> disconnects() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return disconnects_;
  }
  std::vector<std::string> errors() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return errors_;
  }
  void server_side_emit(std::string entry) {
    std::lock_guard<std::mutex> lock(mutex_);
    server_side_emits_.push_back(std::move(entry));
  }
  std::vector<std::string> server_side_emits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return server_side_emits_;
  }
  void middleware_ran() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++middleware_runs_;
  }
  std::size_t middleware_runs() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return middleware_runs_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> disconnects_;
  std::vector<std::string> errors_;
  std::vector<std::string> server_side_emits_;
  std::size_t middleware_runs_ = 0;
};

/// Acknowledges `event` later, from a callback, if its socket is still connected then.
std::function<void(chat::Args)> ack_later(chat::Socket& socket, const chat::Event& event) {
  return [weak = socket.weak_from_this(), id = event.ack_id()](chat::Args args) {
    auto self = weak.lock();
    if (self && id && self->connected()) self->send_ack(*id, std::move(args));
  };
}

void install_handlers(chat::Namespace& nsp, Journal& journal, std::size_t shard) {
  nsp.use([&journal](chat::Socket&, const chat::json& auth, chat::Next next) {
    journal.middleware_ran();
    if (auth.is_object() && auth.value("refuse", false)) next.fail("refused by a middleware");
    else next();
  });
  nsp.on_connect([](chat::Socket& socket, const chat::json& auth) {
    socket.emit("auth", auth);
    return true;
  });
  nsp.on_disconnect([&journal, &nsp](chat::Socket&, chat::DisconnectReason reason) {
    journal.disconnected(nsp.name() + " " + std::string(chat::to_string(reason)));
  });
  nsp.on("message", [](chat::Socket& socket, chat::Event& event) { socket.emit("message-back", event.args()); });
  nsp.on("message-uncompressed", [](chat::Socket& socket, chat::Event& event) {
    socket.emit_uncompressed("message-back", event.args());
  });
  nsp.on("message-with-ack", [](chat::Socket&, chat::Event& event) { event.ack(event.args()); });
  nsp.on("join", [](chat::Socket& socket, chat::Event& event) {
    socket.join(event.args()[0].get<std::string>());
    event.ack(socket.rooms());
  });
  nsp.on("leave", [](chat::Socket& socket, chat::Event& event) {
    socket.leave(event.args()[0].get<std::string>());
    event.ack(socket.rooms());
  });
  nsp.on("to-room", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.to(event.args()[0].get<std::string>()).emit("room-message", event.args()[1]);
    event.ack();
  });
  nsp.on("to-room-except-me", [](chat::Socket& socket, chat::Event& event) {
    socket.to(event.args()[0].get<std::string>()).emit("room-message", event.args()[1]);
    event.ack();
  });
  nsp.on("except-room", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.except(event.args()[0].get<std::string>()).emit("except-message", event.args()[1]);
    event.ack();
  });
  nsp.on("broadcast", [](chat::Socket& socket, chat::Event& event) {
    socket.broadcast().emit("broadcast", event.args()[0]);
    event.ack();
  });
  nsp.on("broadcast-uncompressed", [](chat::Socket& socket, chat::Event& event) {
    socket.broadcast().compress(false).emit("broadcast", event.args()[0]);
    event.ack();
  });
  nsp.on("broadcast-all", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.emit("broadcast", event.args()[0]);
    event.ack();
  });
  nsp.on("to-socket", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.to(event.args()[0].get<std::string>()).emit("direct", event.args()[1]);
    event.ack();
  });
  nsp.on("ask", [](chat::Socket& socket, chat::Event& event) {
    chat::Args args = event.args();
    const auto timeout = std::chrono::milliseconds(args[0].get<long long>());
    chat::Args question;
    for (std::size_t i = 1; i < args.size(); ++i) question.append(args[i]);
    socket.emit_with_ack("question", question,
        [weak = socket.weak_from_this()](std::error_code error, chat::Args reply) {
          auto self = weak.lock();
          if (!self || !self->connected()) return;
          if (error) self->emit("answer-timeout");
          else self->emit("answer", reply);
        },
        timeout);
  });
  nsp.on("disconnect-me", [](chat::Socket& socket, chat::Event&) { socket.disconnect(); });
  nsp.on("close-me", [](chat::Socket& socket, chat::Event&) { socket.disconnect(true); });
  nsp.on("disconnect-reasons", [&journal](chat::Socket&, chat::Event& event) { event.ack(journal.disconnects()); });
  nsp.on("throw", [](chat::Socket&, chat::Event&) -> void { throw std::runtime_error("boom"); });
  nsp.on("errors", [&journal](chat::Socket&, chat::Event& event) { event.ack(journal.errors()); });
  nsp.on("shard", [shard](chat::Socket&, chat::Event& event) { event.ack(shard); });
  nsp.on("pid", [](chat::Socket&, chat::Event& event) { event.ack(static_cast<long long>(::getpid())); });
  nsp.on("rooms", [](chat::Socket& socket, chat::Event& event) { event.ack(socket.rooms()); });
  nsp.on("sockets-join", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.in(event.args()[0].get<std::string>()).sockets_join(event.args()[1].get<std::string>());
    event.ack();
  });
  nsp.on("sockets-leave", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.in(event.args()[0].get<std::string>()).sockets_leave(event.args()[1].get<std::string>());
    event.ack();
  });
  nsp.on("disconnect-sockets", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.in(event.args()[0].get<std::string>()).disconnect_sockets(event.args()[1].get<bool>());
    event.ack();
  });
  // ---- what spans the servers of a cluster ----
  nsp.on("set-data", [](chat::Socket& socket, chat::Event& event) {
    socket.data() = event.args()[0];
    event.ack();
  });
  nsp.on("fetch-sockets", [&nsp](chat::Socket& socket, chat::Event& event) {  // [room or null]: sockets as seen
    auto selection = event.args()[0].is_string() ? nsp.in(event.args()[0].get<std::string>()) : nsp.all();
    selection.fetch_sockets([reply = ack_later(socket, event)](std::vector<chat::SocketInfo> sockets) {
      chat::json found = chat::json::array();
      for (const auto& socket : sockets)
        found.push_back({{"id", socket.id}, {"rooms", socket.rooms}, {"data", socket.data}, {"auth", socket.auth},
                         {"address", socket.handshake.address}, {"query", socket.handshake.query}});
      reply(chat::Args::of(found));
    });
  });
  nsp.on("all-rooms", [&nsp](chat::Socket& socket, chat::Event& event) {
    nsp.adapter().all_rooms({}, [reply = ack_later(socket, event)](std::vector<chat::Room> rooms) { reply(chat::Args::of(rooms)); });
  });
  nsp.on("server-count", [&nsp](chat::Socket& socket, chat::Event& event) {
    nsp.adapter().server_count([reply = ack_later(socket, event)](std::size_t servers) { reply(chat::Args::of(servers)); });
  });
  nsp.on("server-side-emit", [&nsp](chat::Socket& socket, chat::Event& event) {  // [timeout ms or 0, event, args...]
    chat::Args args = event.args();
    const auto timeout = std::chrono::milliseconds(args[0].get<long long>());
    chat::Args emitted;
    for (std::size_t i = 1; i < args.size(); ++i) emitted.append(args[i]);
    if (timeout.count() == 0) {
      nsp.server_side_emit_array(emitted);
      return event.ack();
    }
    nsp.server_side_emit_with_ack(emitted, [reply = ack_later(socket, event)](std::error_code error, std::vector<chat::Args> replies) {
      chat::json all = chat::json::array();
      for (const auto& one : replies) all.push_back(one.array());
      reply(chat::Args::of(bool(error), all));
    }, timeout);
  });
  nsp.on_server_side_emit([&journal, &nsp](const std::string& name, const chat::Args& args,
                                          const std::function<void(chat::Args)>& reply) {
    journal.server_side_emit(nsp.name() + " " + name + " " + args.array().dump());
    if (reply) reply(chat::Args::of("chat", name, args));
  });
  nsp.on("recovered", [](chat::Socket& socket, chat::Event& event) { event.ack(socket.recovered()); });
  nsp.on("get-data", [](chat::Socket& socket, chat::Event& event) { event.ack(socket.data()); });
  nsp.on("middleware-runs", [&journal](chat::Socket&, chat::Event& event) { event.ack(journal.middleware_runs()); });
  nsp.on("server-side-emits", [&journal](chat::Socket&, chat::Event& event) { event.ack(journal.server_side_emits()); });
  nsp.on("ask-all", [&nsp](chat::Socket& socket, chat::Event& event) {  // [timeout ms, question...]: a broadcast with acks
    chat::Args args = event.args();
    const auto timeout = std::chrono::milliseconds(args[0].get<long long>());
    chat::Args question;
    for (std::size_t i = 1; i < args.size(); ++i) question.append(args[i]);
    nsp.all().emit_with_ack("question", question, [reply = ack_later(socket, event)](std::error_code error, std::vector<chat::Args> answers) {
      chat::json all = chat::json::array();
      for (const auto& answer : answers) all.push_back(answer.array());
      reply(chat::Args::of(bool(error), all));
    }, timeout);
  });
  // Volatile packets: the first leaves while the transport is idle; the one after a plain
  // packet finds that packet still being written, and is dropped.
  nsp.on("volatile-burst", [](chat::Socket& socket, chat::Event& event) {
    socket.emit_volatile("volatile", 1);
    socket.emit("plain", 2);
    socket.emit_volatile("volatile", 3);
    event.ack();
  });
  nsp.on("volatile-broadcast-burst", [&nsp](chat::Socket&, chat::Event& event) {
    nsp.all().volatile_().emit("volatile", 1);
    nsp.all().emit("plain", 2);
    nsp.all().volatile_().emit("volatile", 3);
    event.ack();
  });
  // A burst to one socket in one turn: [count, close, short] emits "burst" [i, payload] `count`
  // times, the payloads cycling through a short text, a text past 1 KiB, a short binary and a
  // binary past 1 KiB (the transport joins a burst's short frames into one write and sends the
  // long ones alone), or with `short` all 200-character texts ("s<i>" then dots: more than one
  // joined message's worth), then acks `count`, or with `close` disconnects the socket behind them.
  nsp.on("burst", [](chat::Socket& socket, chat::Event& event) {
    const int count = event.args()[0].get<int>();
    const bool all_short = event.args().size() > 2 && event.args()[2].get<bool>();
    for (int i = 0; i < count; ++i) {
      const auto fill = static_cast<std::uint8_t>(i);
      if (all_short) {
        std::string text = "s" + std::to_string(i);
        text.resize(200, '.');
        socket.emit("burst", i, text);
        continue;
      }
      switch (i % 4) {
        case 0: socket.emit("burst", i, "s" + std::to_string(i)); break;
        case 1: socket.emit("burst", i, std::string(2000, static_cast<char>('a' + i % 26))); break;
        case 2: socket.emit("burst", i, chat::binary(std::vector<std::uint8_t>(16, fill))); break;
        default: socket.emit("burst", i, chat::binary(std::vector<std::uint8_t>(4096, fill))); break;
      }
    }
    if (event.args().size() > 1 && event.args()[1].get<bool>()) socket.disconnect();
    else event.ack(count);
  });
  // Any-listeners: each incoming event is echoed as "any-seen" [tag, name, args]; every event
  // sent to the socket is kept in data()["outgoing"], read back by "outgoing-seen".
  nsp.on("listen-any", [](chat::Socket& socket, chat::Event& event) {
    const auto echo = [](std::string tag) {
      return [tag](chat::Socket& self, chat::Event& seen) {
        if (seen.name() != "off-any") self.emit("any-seen", tag, seen.name(), seen.args().array());
      };
    };
    const chat::ListenerId second = socket.on_any(echo("second"));
    socket.prepend_any(echo("first"));
    socket.data()["second-listener"] = second;
    socket.on_any_outgoing([](chat::Socket& self, const std::string& name, const chat::Args& args) {
      if (name == "any-seen") return;
      self.data()["outgoing"].push_back(chat::json::array({name, args.array()}));
    });
    event.ack();
  });
  nsp.on("off-any", [](chat::Socket& socket, chat::Event& event) {  // [true]: every listener; else the second
    if (event.args().size() > 0 && event.args()[0] == true) socket.off_any();
    else socket.off_any(socket.data()["second-listener"].get<chat::ListenerId>());
    socket.off_any_outgoing();
    event.ack();
  });
  nsp.on("outgoing-seen", [](chat::Socket& socket, chat::Event& event) {
    event.ack(socket.data().value("outgoing", chat::json::array()));
  });
  // Futures: each answer is awaited on a thread of its own (never the io thread, which delivers
  // it), and told to the asking socket as a "future-answer" event (broadcast operators work
  // from any thread; a Socket does not).
  nsp.on("ask-future", [&nsp](chat::Socket& socket, chat::Event& event) {  // [timeout ms, question...]
    chat::Args args = event.args();
    const auto timeout = std::chrono::milliseconds(args[0].get<long long>());
    chat::Args question;
    for (std::size_t i = 1; i < args.size(); ++i) question.append(args[i]);
    auto answer = std::make_shared<std::future<chat::Args>>(socket.emit_with_ack("question", question, timeout));
    std::thread([answer, asker = nsp.to(socket.id())] {
      try {
        asker.emit("future-answer", nullptr, answer->get().array());
      } catch (const std::system_error& error) {
        asker.emit("future-answer", error.code().message(), nullptr);
      }
    }).detach();
    event.ack();
  });
  nsp.on("ask-all-future", [&nsp](chat::Socket& socket, chat::Event& event) {  // [timeout ms, question...]
    chat::Args args = event.args();
    const auto timeout = std::chrono::milliseconds(args[0].get<long long>());
    chat::Args question;
    for (std::size_t i = 1; i < args.size(); ++i) question.append(args[i]);
    auto answers = std::make_shared<std::future<std::vector<chat::Args>>>(nsp.all().emit_with_ack("question", question, timeout));
    std::thread([answers, asker = nsp.to(socket.id())] {
      const auto as_json = [](const std::vector<chat::Args>& list) {
        chat::json all = chat::json::array();
        for (const auto& answer : list) all.push_back(answer.array());
        return all;
      };
      try {
        asker.emit("future-answer", nullptr, as_json(answers->get()));
      } catch (const chat::AcksTimeoutError& error) {
        asker.emit("future-answer", error.code().message(), as_json(error.responses()));
      }
    }).detach();
    event.ack();
  });
  nsp.on_any([](chat::Socket& socket, chat::Event& event) { socket.emit("catch-all", event.name(), event.args()); });
}

/// Parent namespaces: "/dyn-<digits>" by a regular expression, and "/guest-..." by a matcher
/// that reads the CONNECT's auth ({"guest": true}). "parent-emit" [event, ...] broadcasts on
/// the parent (every child); "children" answers the parent's children.
void install_parents(chat::Namespace& dynamic, chat::Namespace& guests, Journal& journal, std::size_t shard) {
  for (chat::Namespace* parent : {&dynamic, &guests}) {
    install_handlers(*parent, journal, shard);
    parent->on("parent-emit", [parent](chat::Socket&, chat::Event& event) {
      parent->emit_array(event.args().array());
      event.ack();
    });
    parent->on("children", [parent](chat::Socket&, chat::Event& event) { event.ack(parent->children()); });
  }
}

/// The hooks, static files and HTTP routes of one server (a shard, or the TLS server).
template <class Server>
void set_up(Server& shard, std::size_t index, const Settings& settings, Journal& journal) {
  shard.on_error([&journal](chat::Socket*, std::string_view message) { journal.error(std::string(message)); });
  install_handlers(shard.of("/"), journal, index);
  install_handlers(shard.of("/custom"), journal, index);
  install_handlers(shard.of("/private"), journal, index);
  install_parents(shard.of(std::regex("^/dyn-\\d+$")),
                  shard.of([](const std::string& name, const chat::json& auth) {
                    return name.rfind("/guest-", 0) == 0 && auth.is_object() && auth.value("guest", false);
                  }),
                  journal, index);
  shard.of("/private").on_connect([](chat::Socket& socket, const chat::json& auth) -> chat::ConnectResult {
    if (auth.value("token", "") != "secret")
      return chat::ConnectResult::reject("Not authorized", {{"reason", "bad token"}});
    socket.emit("auth", auth);
    return true;
  });
  if (!settings.static_dir.empty()) shard.serve_static(settings.static_dir);
  if (!settings.headers.empty())
    shard.on_headers([added = settings.headers](auto& headers, const chat::HttpRequest&) {
      headers.insert(headers.end(), added.begin(), added.end());
    });
  if (!settings.initial_headers.empty())
    shard.on_initial_headers([added = settings.initial_headers](auto& headers, const chat::HttpRequest& request) {
      headers.insert(headers.end(), added.begin(), added.end());
      // Which request it saw, for the tests to check: the handshake's transport.
      for (const auto& [key, value] : request.query)
        if (key == "transport") headers.emplace_back("X-Initial-Transport", value);
    });
  shard.on_http([](const chat::HttpRequest& request, chat::HttpResponder responder) {
    if (request.path == "/hello") {
      responder.send(chat::HttpResponse{200, {{"Content-Type", "text/plain"}}, "hello"});
      return true;
    }
    if (request.path == "/async-hello") {  // answered later, from another thread
      std::thread([responder] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        responder.send(chat::HttpResponse{200, {{"Content-Type", "text/plain"}}, "hello later"});
      }).detach();
      return true;
    }
    return false;
  });
}

/// Listens, says so on stdout, and serves until SIGINT or SIGTERM.
template <class Server>
void serve(Server& io, const Settings& settings) {
  const auto port = io.listen("127.0.0.1", settings.port);
  asio::signal_set signals(io.io_context(), SIGINT, SIGTERM);
  signals.async_wait([&io](const std::error_code& ec, int) {
    if (!ec) io.stop();
  });
  std::cout << "LISTENING " << port << std::endl;
  io.run();
}

/// Joins the Redis cluster of `--redis`, if given; false when this build has no Redis.
template <class Server>
bool join_redis(Server& io, const Settings& settings) {
  if (settings.redis_url.empty()) return true;
#ifdef CHAT_TEST_REDIS
  auto options = chat::redis::AdapterOptions().url(settings.redis_url).key(settings.redis_key);
  if (settings.redis_requests_timeout_ms > 0)
    options.requests_timeout(std::chrono::milliseconds(settings.redis_requests_timeout_ms));
  chat::redis::attach(io, options);
  return true;
#else
  (void)io;
  std::cerr << "test_server was built without Redis (hiredis not found)\n";
  return false;
#endif
}

/// `--workers N`: N processes behind one port, each a Server whose index is its `shard`, in
/// the Redis cluster of `--redis` (without it, broadcasts stay in their worker).
int serve_workers(const Settings& settings) {
  chat::WorkerProcesses supervisor(settings.workers, settings.options);
  const auto port = supervisor.listen("127.0.0.1", settings.port);
  std::cout << "LISTENING " << port << std::endl;
  supervisor.run([&settings](const chat::WorkerSlot& slot) {
    Journal journal;  // outlives the server, whose hooks write to it
    chat::Server<> io(settings.options);
    set_up(io, slot.index(), settings, journal);
#ifdef CHAT_TEST_ADMIN_UI
    if (settings.admin) chat::instrument(io, *settings.admin);
#endif
    if (!join_redis(io, settings)) return 2;
    io.listen(slot);
    asio::signal_set signals(io.io_context(), SIGINT, SIGTERM);
    signals.async_wait([&io](const std::error_code& ec, int) {
      if (!ec) io.stop();
    });
    io.run();
    return 0;
  });
  return 0;
}

}  // namespace

int main(int argc, char** argv) try {
  Settings settings = parse(argc, argv);
  if (settings.workers > 0) return serve_workers(settings);
  Journal journal;  // outlives the server, whose hooks write to it
  if (!settings.tls_cert.empty() || !settings.tls_key.empty()) {
#ifdef CHAT_TEST_TLS
    chat::Server<chat::transport::TlsConfig> io(settings.options);
    io.tls_context(chat::transport::make_tls_context({settings.tls_cert, settings.tls_key, settings.tls_client_ca}));
    set_up(io, 0, settings, journal);
#ifdef CHAT_TEST_ADMIN_UI
    if (settings.admin) chat::instrument(io, *settings.admin);
#endif
    if (settings.plain_port >= 0)  // said before LISTENING, which tells the tests to go on
      std::cout << "LISTENING PLAIN " << io.listen_plain("127.0.0.1", static_cast<unsigned short>(settings.plain_port)) << '\n';
    serve(io, settings);
    return 0;
#else
    std::cerr << "test_server was built without TLS (OpenSSL not found)\n";
    return 2;
#endif
  }
  chat::ShardedServer<> io(settings.shards, settings.options);
  io.each([&](chat::Server<>& shard, std::size_t index) { set_up(shard, index, settings, journal); });
#ifdef CHAT_TEST_ADMIN_UI
  if (settings.admin) chat::instrument(io, *settings.admin);
#endif
  if (!join_redis(io, settings)) return 2;
  serve(io, settings);
  return 0;
} catch (const std::exception& e) {  // a port in use, an unreadable certificate: said, not aborted
  std::cerr << "test_server: " << e.what() << '\n';
  return 1;
}
