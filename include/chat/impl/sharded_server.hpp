// Bodies of ShardedServer (chat/sharded_server.hpp).
#ifndef CHAT_IMPL_SHARDED_SERVER_HPP
#define CHAT_IMPL_SHARDED_SERVER_HPP

#include <algorithm>  // min, max
#include <chrono>     // milliseconds
#include <stdexcept>  // invalid_argument
#include <string>     // string, to_string
#include <thread>     // thread, hardware_concurrency

#include "../detail/native_socket.hpp"
#include "../detail/shard_adapter.hpp"
#include "../detail/shard_router.hpp"
#include "../detail/shard_routing.hpp"
#include "../sharded_server.hpp"
#include "server.hpp"

namespace chat {

template <class Config>
ShardedServer<Config>::ShardedServer(std::size_t shards, Options options) {
  static_assert(transport::Traits<Config>::routable,
                "chat::ShardedServer routes connections by reading their plain HTTP request line; "
                "put TLS in a terminating proxy in front of it");
    if (shards > detail::max_shards)
      throw std::invalid_argument("chat: at most " + std::to_string(detail::max_shards) + " shards");
    if (shards == 0)
      shards = std::min<std::size_t>(detail::max_shards, std::max(1u, std::thread::hardware_concurrency()));
    std::vector<detail::Core*> cores;
    for (std::size_t i = 0; i < shards; ++i) {
      shards_.push_back(std::make_unique<Server<Config>>(options));
      cores.push_back(&shards_.back()->state_->core);
      // One count of sessions and of each address's handshakes for the whole server.
      if (i > 0) cores.back()->share_admission(cores.front()->shared_admission());
    }
    if (shards == 1) return;
    // What the transport computes lazily into statics is settled before any shard's thread
    // exists, so that the shards only read it.
    transport::Transport<Config>::warm_up();
    auto group = std::make_shared<detail::ShardGroup>(std::move(cores), options.max_shard_queue_bytes());
    for (std::size_t i = 0; i < shards; ++i) {
      Server<Config>& shard = *shards_[i];
      // Whatever adapter the shard's factory makes (the in-memory one, or the application's),
      // wrapped so that it reaches the other shards.
      shard.state_->core.set_adapter_decorator([group, i](std::unique_ptr<Adapter> inner, LocalSockets& sockets) {
        return std::unique_ptr<Adapter>(std::make_unique<detail::ShardAdapter>(std::move(inner), sockets, group, i));
      });
      shard.state_->transport.set_sid_prefix(std::string(1, detail::shard_tag(i)));
    }
    router_ = std::make_unique<detail::ShardRouter>(
        shards_[0]->io_context(), shards, options.path(), options.handshake_timeout(),
        [this](std::size_t shard, detail::NativeSocket socket) {
          auto* transport = &shards_[shard]->state_->transport;
          // Adopted on the shard's own thread; if that loop has stopped, the handler is
          // destroyed unrun and `socket` closes the connection. (A shared_ptr: the work is a
          // copyable std::function, and the socket moves.)
          auto held = std::make_shared<detail::NativeSocket>(std::move(socket));
          shards_[shard]->state_->core.post([transport, held] { transport->adopt(std::move(*held)); });
        },
        [core = &shards_[0]->state_->core](std::string_view message) { core->report_error(nullptr, message); });
  }

template <class Config>
ShardedServer<Config>::~ShardedServer() = default;

template <class Config>
std::uint16_t ShardedServer<Config>::listen(const std::string& host, std::uint16_t port) {
  if (!router_) return shards_[0]->listen(host, port);
  shards_[0]->state_->check_client_bundle();  // the shards share the options: one line
  return router_->listen(host, port);
}

template <class Config>
void ShardedServer<Config>::run() {
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < shards_.size(); ++i) threads.emplace_back([this, i] { run_shard(i); });
  run_shard(0);
  for (auto& thread : threads) thread.join();
  if (failure_) std::rethrow_exception(failure_);
}

template <class Config>
void ShardedServer<Config>::stop() {
  if (stopped_.exchange(true)) return;
  if (router_) shards_[0]->state_->core.post([router = router_.get()] { router->stop(); });
  for (auto& shard : shards_) shard->stop();
}

template <class Config>
void ShardedServer<Config>::run_shard(std::size_t index) {
  try {
    shards_[index]->run();
  } catch (...) {
    {
      std::lock_guard<std::mutex> lock(failure_mutex_);
      if (!failure_) failure_ = std::current_exception();
    }
    stop();
  }
}

}  // namespace chat

#endif  // CHAT_IMPL_SHARDED_SERVER_HPP
