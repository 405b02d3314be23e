// The chat server under test (C++ handlers): on 'message' it broadcasts 'message' with the same
// arguments to everyone (the sender included); on 'echo' it acknowledges with the same arguments.
// WebSocket clients, no compression (chat has none), ping 25 s / 20 s, no logging.
//
//   chat_bench_server [--host 127.0.0.1] [--port 0] [--shards N] [--handler-cpu-us U] [--redis URL]
//                     [--tls-cert FILE --tls-key FILE] [--parser json|msgpack]
// Prints "READY <port>" once listening; SIGINT/SIGTERM stop it. --shards N runs a
// chat::ShardedServer of N io threads (default 1: a plain chat::Server; 0: one per core).
// --handler-cpu-us U makes each 'echo' handler spend U µs of its thread's CPU first, standing
// in for an application's own work per event (default 0). --redis URL joins the Redis cluster
// there (chat::redis::attach): the cluster case runs two of them. --tls-cert and --tls-key serve
// wss instead (a chat::Server<chat::transport::TlsConfig>, one io thread): the TLS case.
// --parser msgpack speaks socket.io-msgpack-parser's format (chat::MsgpackParser): the msgpack case.
#include <chat/chat.hpp>
#ifdef CHAT_BENCH_TLS
#include <chat/transport/websocketpp/tls.hpp>
#endif
#ifdef CHAT_BENCH_REDIS
#include <chat/redis/adapter.hpp>
#endif

#include <asio/signal_set.hpp>

#include <time.h>

#include <chrono>
#include <cstddef>
#include <iostream>
#include <string>

namespace {

/// Spends `us` microseconds of this thread's CPU time (not wall time: a descheduled thread
/// does not count).
void burn_cpu(long us) {
  if (us <= 0) return;
  auto now = [] {
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
  };
  const long until = now() + us * 1000;
  while (now() < until) {
  }
}

/// The two jobs: 'message' broadcast to everyone, 'echo' acked with its arguments.
template <class Server>
void install(Server& server, long handler_cpu_us) {
  // Through the sender's own shard: delivered there, and posted once to each other shard.
  server.on("message", [&server](chat::Socket&, chat::Event& event) { server.emit("message", event.args()); });
  server.on("echo", [handler_cpu_us](chat::Socket&, chat::Event& event) {
    burn_cpu(handler_cpu_us);
    event.ack(event.args());
  });
}

/// Prints READY and serves until SIGINT or SIGTERM.
template <class Server>
int serve(Server& io, const std::string& host, unsigned short port) {
  asio::signal_set signals(io.io_context(), SIGINT, SIGTERM);
  signals.async_wait([&io](const std::error_code& ec, int) {
    if (!ec) io.stop();
  });
  const auto bound = io.listen(host, port);
  std::cout << "READY " << bound << std::endl;
  io.run();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::size_t shards = 1;
  long handler_cpu_us = 0;
  std::string redis;
  std::string tls_cert;
  std::string tls_key;
  std::string parser = "json";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    else if (flag == "--shards") shards = std::stoul(argv[i + 1]);
    else if (flag == "--handler-cpu-us") handler_cpu_us = std::stol(argv[i + 1]);
    else if (flag == "--redis") redis = argv[i + 1];
    else if (flag == "--tls-cert") tls_cert = argv[i + 1];
    else if (flag == "--tls-key") tls_key = argv[i + 1];
    else if (flag == "--parser" && (argv[i + 1] == std::string("json") || argv[i + 1] == std::string("msgpack")))
      parser = argv[i + 1];
    else {
      std::cerr << "usage: chat_bench_server [--host H] [--port P] [--shards N] [--handler-cpu-us U] [--redis URL]"
                   " [--tls-cert FILE --tls-key FILE] [--parser json|msgpack]\n";
      return 2;
    }
  }

  using namespace std::chrono_literals;
  auto options = chat::Options{}.ping_interval(25s).ping_timeout(20s);
  if (parser == "msgpack") options.parser(chat::MsgpackParser::shared());
  if (!tls_cert.empty()) {
#ifdef CHAT_BENCH_TLS
    chat::Server<chat::transport::TlsConfig> io(options);
    io.tls_context(chat::transport::make_tls_context({tls_cert, tls_key}));
    install(io, handler_cpu_us);
    return serve(io, host, port);
#else
    std::cerr << "chat_bench_server: built without OpenSSL: no --tls-cert\n";
    return 2;
#endif
  }
  chat::ShardedServer<> io(shards, options);
  io.each([handler_cpu_us](chat::Server<>& shard) { install(shard, handler_cpu_us); });

  if (!redis.empty()) {
#ifdef CHAT_BENCH_REDIS
    chat::redis::ping(redis);  // fail at start rather than run alone
    chat::redis::attach(io, chat::redis::AdapterOptions().url(redis));
#else
    std::cerr << "chat_bench_server: built without hiredis: no --redis\n";
    return 2;
#endif
  }
  return serve(io, host, port);
}
