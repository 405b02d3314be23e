// Uses chat::redis: a server in a Redis cluster and an emitter, made and dropped (nothing to
// connect to here: both retry in the background until they go).
#include <chat/chat.hpp>
#include <chat/redis/adapter.hpp>
#include <chat/redis/emitter.hpp>

#include <iostream>

int main() {
  chat::Server<> io;
  auto cluster = chat::redis::attach(io, chat::redis::AdapterOptions().url("redis://127.0.0.1:1"));
  chat::redis::Emitter emitter(chat::redis::EmitterOptions().url("redis://127.0.0.1:1").on_error([](const std::string&) {}));
  emitter.emit("unheard");
  const bool flushed = emitter.flush(std::chrono::milliseconds(10));  // nothing answers on port 1
  std::cout << "redis consumer: " << (cluster->connected() ? "connected" : "alone") << ", flushed "
            << (flushed ? "yes" : "no") << "\n";
  return flushed ? 1 : 0;
}
