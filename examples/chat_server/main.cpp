// The chat app from pure C++ (docs/protocol.md): serves the page (examples/chat_page) and the
// Socket.IO bundle, and keeps users, rooms and history in a SQLite file.
//
//   chat_server [--host 127.0.0.1] [--port 5000] [--db chat.sqlite3] [--redis URL] [--static DIR]
//               [--client-dir DIR] [--tls-cert FILE --tls-key FILE [--plain-port P]]
//               [--limit-messages BURST,SECONDS] [--limit-... ...] [--no-limits]
#include "chat_app.hpp"

#ifdef CHAT_EXAMPLE_TLS
#include <chat/transport/websocketpp/tls.hpp>
#endif

#ifdef CHAT_EXAMPLE_REDIS
#include <chat/redis/adapter.hpp>
#endif

#include <asio/signal_set.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

constexpr const char* usage =
    "usage: chat_server [--host H] [--port P] [--db FILE] [--redis URL] [--static DIR] [--client-dir DIR]\n"
    "                   [--tls-cert FILE --tls-key FILE [--plain-port P]] [--limit-KIND BURST,SECONDS]... [--no-limits]\n"
    "  --host        address to listen on (default 127.0.0.1)\n"
    "  --port        port (default 5000; 0: any free port)\n"
    "  --db          the SQLite file of users, rooms and messages (default chat.sqlite3)\n"
    "  --redis       redis://[[user]:password@]host[:port][/db]: one of several processes that share\n"
    "                this Redis and the --db file (behind a load balancer, or on different ports)\n"
    "  --static      the page's directory (default: the source tree's examples/chat_page)\n"
    "  --client-dir  the socket.io-client dist directory served at /socket.io/socket.io.js\n"
    "  --tls-cert    serve https and wss (TLS 1.2 or later) on --port with this PEM certificate chain\n"
    "  --tls-key     and this PEM private key\n"
    "  --plain-port  with TLS: serve plain http and ws on this port too (the same app and rooms)\n"
    "rate limits (docs/protocol.md), each BURST,SECONDS (BURST at once, then one more every\n"
    "SECONDS) or off:\n"
    "  --limit-messages         messages per user (default 20,0.5)\n"
    "  --limit-signups          new users per connection (default 3,600)\n"
    "  --limit-signups-per-ip   new users per IP address, IPv6 per /64 (default 30,60)\n"
    "  --limit-rooms            new public rooms per user (default 5,60)\n"
    "  --limit-renames          name changes per user (default 5,60)\n"
    "  --limit-typing           typing notices per user (default 10,1)\n"
    "  --no-limits              every limit not set by its own flag off (for load tests)\n";

/// The --limit-* flags and the limit each sets.
std::vector<std::pair<std::string, chat_app::Limit chat_app::Limits::*>> limit_flags() {
  using L = chat_app::Limits;
  return {{"--limit-messages", &L::messages}, {"--limit-signups", &L::signups},
          {"--limit-signups-per-ip", &L::signups_per_ip}, {"--limit-rooms", &L::rooms},
          {"--limit-renames", &L::renames}, {"--limit-typing", &L::typing}};
}

/// A port flag's value (0 to 65535), or nothing after saying why on stderr.
std::optional<unsigned short> parse_port(const std::string& flag, const std::string& value) {
  if (value.empty() || value.size() > 5 || value.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(value) > 65535) {
    std::cerr << "chat_server: " << flag << " takes 0 to 65535, not \"" << value << "\"\n";
    return std::nullopt;
  }
  return static_cast<unsigned short>(std::stoi(value));
}

struct Settings {
  std::string host = "127.0.0.1";
  unsigned short port = 5000;
  std::string db = "chat.sqlite3";
  std::string redis_url;  // empty: this process serves the app alone
  std::string tls_cert;   // with tls_key: https and wss
  std::string tls_key;
  std::optional<unsigned short> plain_port;  // with TLS: plain http and ws there too
  chat_app::Limits limits;
};

/// Runs the app on `io` until SIGINT or SIGTERM; the process's exit status.
template <class Config>
int serve(chat::Server<Config>& io, const Settings& settings) {
  const std::string& redis_url = settings.redis_url;
#ifdef CHAT_EXAMPLE_REDIS
  std::shared_ptr<chat::redis::Cluster> cluster;
  if (!redis_url.empty()) {
    // A process that cannot reach the others must not serve alone: its users would miss theirs.
    try {
      chat::redis::ping(redis_url);
      cluster = chat::redis::attach(io, chat::redis::AdapterOptions().url(redis_url));
    } catch (const std::invalid_argument& e) {
      std::cerr << "chat_server: --redis takes redis://[[user]:password@]host[:port][/db]: " << e.what() << "\n";
      return 2;
    } catch (const std::exception& e) {
      std::cerr << "chat_server: --redis " << redis_url << ": " << e.what() << std::endl;
      return 1;
    }
  }
#else
  if (!redis_url.empty()) {
    std::cerr << "chat_server: --redis: built without chat::redis (it needs hiredis: apt-get install libhiredis-dev)\n";
    return 2;
  }
#endif
  try {
    // The store runs on the io thread: a file locked by another process (a backup, the sqlite3
    // shell) must not stall every connection for long. Past this wait, a post answers "unavailable".
    chat_app::SqliteStore store(settings.db, std::chrono::milliseconds(250));
    // Who has which room open is in the same file, for every process to see.
    chat_app::Presence presence(settings.db, chat_app::new_token(), std::chrono::milliseconds(250));
    presence.start(/*alone=*/redis_url.empty());
    chat_app::ChatApp<Config> app(io, store, presence, settings.limits);

    asio::signal_set signals(io.io_context(), SIGINT, SIGTERM);
    signals.async_wait([&io, &app](const std::error_code& ec, int) {
      if (ec) return;
      app.stop();
      io.stop();
    });
    const bool tls = !settings.tls_cert.empty();
    const auto bound = io.listen(settings.host, settings.port);
    std::cout << "chat server on " << (tls ? "https" : "http") << "://" << settings.host << ":" << bound << std::endl;
    if constexpr (chat::transport::Traits<Config>::tls) {
      if (settings.plain_port) {
        const auto plain = io.listen_plain(settings.host, *settings.plain_port);
        std::cout << "chat server on http://" << settings.host << ":" << plain << std::endl;
      }
    }
    io.run();
    presence.stop();  // the other processes announce who left with this one
  } catch (const chat::store::StoreError& e) {
    std::cerr << "chat_server: " << e.what() << std::endl;
    return 1;
  } catch (const std::system_error& e) {  // the address is in use, or not ours to bind; a bad certificate
    std::cerr << "chat_server: " << e.what() << std::endl;
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  std::string static_dir = CHAT_EXAMPLE_STATIC_DIR;
  std::string client_dir = chat::Options{}.client_bundle_dir();  // CMake's CHAT_CLIENT_BUNDLE_DIR
  bool no_limits = false;
  const auto flags = limit_flags();
  std::vector<std::pair<chat_app::Limit chat_app::Limits::*, chat_app::Limit>> limits_set;
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::cout << usage;
      return 0;
    }
    if (flag == "--no-limits") {  // the one flag without a value
      no_limits = true;
      --i;
      continue;
    }
    if (i + 1 >= argc) {
      std::cerr << usage;
      return 2;
    }
    const std::string value = argv[i + 1];
    if (flag == "--host") settings.host = value;
    else if (flag == "--port" || flag == "--plain-port") {
      const auto port = parse_port(flag, value);
      if (!port) return 2;
      if (flag == "--port") settings.port = *port;
      else settings.plain_port = port;
    }
    else if (flag == "--db") settings.db = value;
    else if (flag == "--redis") settings.redis_url = value;
    else if (flag == "--tls-cert") settings.tls_cert = value;
    else if (flag == "--tls-key") settings.tls_key = value;
    else if (flag == "--static") static_dir = value;
    else if (flag == "--client-dir") client_dir = value;
    else if (const auto known = std::find_if(flags.begin(), flags.end(), [&](const auto& f) { return f.first == flag; });
             known != flags.end()) {
      const auto limit = chat_app::Limit::parse(value);
      if (!limit) {
        std::cerr << "chat_server: " << flag << " takes BURST,SECONDS (a whole BURST of at least 1, SECONDS above 0) "
                  << "or off, not \"" << value << "\"\n" << usage;
        return 2;
      }
      limits_set.emplace_back(known->second, *limit);
    }
    else {
      std::cerr << "chat_server: unknown option " << flag << "\n" << usage;
      return 2;
    }
  }
  // A limit's own flag wins over --no-limits, whatever their order.
  settings.limits = no_limits ? chat_app::Limits::none() : chat_app::Limits{};
  for (const auto& [field, limit] : limits_set) settings.limits.*field = limit;
  if (settings.tls_cert.empty() != settings.tls_key.empty()) {
    std::cerr << "chat_server: --tls-cert and --tls-key go together\n";
    return 2;
  }
  if (settings.plain_port && settings.tls_cert.empty()) {
    std::cerr << "chat_server: --plain-port is for a TLS server (--tls-cert, --tls-key); without them --port is plain\n";
    return 2;
  }

  const auto options = chat::Options{}.client_bundle_dir(client_dir);
  if (!settings.tls_cert.empty()) {
#ifdef CHAT_EXAMPLE_TLS
    chat::Server<chat::transport::TlsConfig> io(options);
    try {
      io.tls_context(chat::transport::make_tls_context({settings.tls_cert, settings.tls_key}));
    } catch (const std::system_error& e) {  // unreadable, or a key that is not the certificate's
      std::cerr << "chat_server: --tls-cert " << settings.tls_cert << " --tls-key " << settings.tls_key << ": "
                << e.what() << std::endl;
      return 1;
    }
    io.serve_static(static_dir);
    return serve(io, settings);
#else
    std::cerr << "chat_server: --tls-cert: built without chat::tls (it needs OpenSSL: apt-get install libssl-dev)\n";
    return 2;
#endif
  }
  chat::Server<> io(options);
  io.serve_static(static_dir);
  return serve(io, settings);
}
