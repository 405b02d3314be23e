// Bodies of Server (chat/server.hpp), and what a server holds: its io context, namespaces and
// transport.
#ifndef CHAT_IMPL_SERVER_HPP
#define CHAT_IMPL_SERVER_HPP

#include <algorithm>  // remove_if
#include <atomic>     // atomic
#include <chrono>     // seconds
#include <memory>     // shared_ptr, weak_ptr
#include <optional>   // optional
#include <stdexcept>  // logic_error
#include <string>     // string
#include <thread>     // this_thread
#include <utility>    // exchange
#include <vector>     // vector

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "../detail/client_bundle.hpp"
#include "../detail/core.hpp"
#ifndef _WIN32
#include "../detail/handover_receiver.hpp"  // POSIX: Unix sockets
#endif
#include "../detail/shard_routing.hpp"
#include "../local_client.hpp"
#include "../server.hpp"
#include "../transport/websocketpp/config.hpp"
#include "../transport/websocketpp/endpoint.hpp"

namespace chat {

namespace detail {

template <class Config>
struct ServerState {
  explicit ServerState(Options options) : core(std::move(options)), transport(core) {
    if constexpr (transport::Traits<Config>::tls) plain = std::make_unique<transport::Transport<transport::PlainConfig>>(core);
  }

  /// Calls `visit` with each transport: the server's, and a TLS server's plain one.
  template <class Visit>
  void each_transport(Visit&& visit) {
    visit(transport);
    if (plain) visit(*plain);
  }
  /// Says once, through on_error, when the client bundle directory cannot serve socket.io.js
  /// (called as a listener starts).
  void check_client_bundle() {
    if (std::exchange(client_bundle_checked, true)) return;
    if (auto problem = client_bundle_problem(core.options().client_bundle_dir(), core.options().path()))
      core.report_error(nullptr, *problem);
  }
  std::size_t live_connections() const { return transport.live_connections() + (plain ? plain->live_connections() : 0); }

  Core core;
  transport::Transport<Config> transport;
  // A TLS server's plain listener (Server::listen_plain): its own sessions, the same core (so
  // namespaces, rooms and broadcasts span both). Made with the server, so that the HTTP hook
  // and static files set before listen_plain reach it too; it accepts nothing until then.
  std::unique_ptr<transport::Transport<transport::PlainConfig>> plain;
  asio::steady_timer drain_timer{core.io()};
  std::atomic<bool> stopped{false};
  bool client_bundle_checked = false;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_guard;
#ifndef _WIN32
  // A worker process's channel to its supervisor (Server::listen(const WorkerSlot&)).
  std::unique_ptr<detail::HandoverReceiver> handover;
#endif
  // The in-process clients, closed by stop() as the transport closes its connections (a client
  // and its sockets hold each other until it closes). Io thread only.
  std::vector<std::weak_ptr<LocalClient>> local_clients;
};

}  // namespace detail

template <class Config>
Server<Config>::Server(Options options) : state_(std::make_unique<detail::ServerState<Config>>(std::move(options))) {}

template <class Config>
Server<Config>::~Server() = default;

template <class Config>
Namespace& Server<Config>::of(std::string name) {
  return state_->core.of(std::move(name));
}

template <class Config>
Namespace& Server<Config>::of(NamespaceMatcher matcher) {
  return state_->core.add_parent(std::move(matcher));
}

template <class Config>
Server<Config>& Server<Config>::on_error(ErrorHandler handler) {
  state_->core.set_error_handler(std::move(handler));
  return *this;
}

template <class Config>
Server<Config>& Server<Config>::on_http(HttpHandler handler) {
  state_->each_transport([&](auto& transport) { transport.set_http_handler(handler); });
  return *this;
}

template <class Config>
Server<Config>& Server<Config>::on_headers(HeadersHook hook) {
  state_->each_transport([&](auto& transport) { transport.set_headers_hook(hook); });
  return *this;
}

template <class Config>
Server<Config>& Server<Config>::on_initial_headers(HeadersHook hook) {
  state_->each_transport([&](auto& transport) { transport.set_initial_headers_hook(hook); });
  return *this;
}

template <class Config>
Server<Config>& Server<Config>::serve_static(std::string directory) {
  state_->each_transport([&](auto& transport) { transport.set_static_root(directory); });
  return *this;
}

template <class Config>
Server<Config>& Server<Config>::set_adapter_factory(AdapterFactory factory) {
  state_->core.set_adapter_factory(std::move(factory));
  return *this;
}

template <class Config>
template <class Context>
Server<Config>& Server<Config>::tls_context(std::shared_ptr<Context> context) {
  state_->transport.set_tls_context(std::move(context));
  return *this;
}

template <class Config>
std::uint16_t Server<Config>::listen(const std::string& host, std::uint16_t port) {
  state_->check_client_bundle();
  return state_->transport.listen(host, port);
}

template <class Config>
template <class TlsServerConfig>
std::uint16_t Server<Config>::listen_plain(const std::string& host, std::uint16_t port) {
  static_assert(transport::Traits<TlsServerConfig>::tls, "listen_plain adds a plain listener to a TLS server; this one is plain: listen()");
  state_->check_client_bundle();
  return state_->plain->listen(host, port);
}

template <class Config>
void Server<Config>::listen(const WorkerSlot& slot) {
#ifdef _WIN32
  (void)slot;
  throw std::logic_error("chat: worker processes need POSIX (fork, Unix sockets)");
#else
  auto& transport = [this]() -> auto& {
    if constexpr (transport::Traits<Config>::routable) return state_->transport;
    else return *state_->plain;
  }();
  if (state_->handover) throw std::logic_error("chat: this server takes a worker's connections already");
  state_->check_client_bundle();
  transport.set_sid_prefix(std::string(1, detail::shard_tag(slot.index())));
  state_->handover = std::make_unique<detail::HandoverReceiver>(
      state_->core.io(), slot.channel(), [&transport](detail::NativeSocket socket) { transport.adopt(std::move(socket)); },
      [this] {
        state_->core.report_error(nullptr, "chat: the supervising process closed this worker's channel; stopping");
        stop();
      });
  state_->handover->start();
#endif
}

template <class Config>
void Server<Config>::run() {
  if (state_->stopped.load()) return;
  state_->core.set_io_thread(std::this_thread::get_id());
  state_->work_guard.emplace(state_->core.io().get_executor());
  state_->core.io().run();
  state_->core.set_io_thread(std::thread::id());
}

template <class Config>
void Server<Config>::stop() {
  if (state_->stopped.exchange(true)) return;
  detail::ServerState<Config>* state = state_.get();
  state->core.post([state] {
#ifndef _WIN32
    if (state->handover) state->handover->stop();
#endif
    state->each_transport([](auto& transport) { transport.stop(); });
    state->core.close_adapters();
    if (auto* observer = state->core.observer()) observer->stopping();
    for (auto& weak : std::exchange(state->local_clients, {})) {
      if (auto client = weak.lock(); client && !client->closed()) client->close(DisconnectReason::server_shutting_down);
    }
    state->work_guard.reset();
    // The loop ends when the last connection has closed; at the deadline at the latest (a peer
    // that never answers must not hold the process).
    if (state->live_connections() == 0) return;
    state->drain_timer.expires_after(std::chrono::seconds(2));
    detail::Core::wait(state->drain_timer, [state](const std::error_code& ec) {
      if (!ec) state->core.io().stop();
    });
    // The last connection object may go on another thread (a hook's responder): the timer is
    // cancelled on the io thread, once every transport is idle.
    auto busy = std::make_shared<int>(state->plain ? 2 : 1);
    state->each_transport([state, busy](auto& transport) {
      transport.when_idle([state, busy] {
        state->core.post([state, busy] {
          if (--*busy == 0) state->drain_timer.cancel();
        });
      });
    });
  });
}

template <class Config>
std::shared_ptr<LocalClient> Server<Config>::connect_local(Handshake handshake) {
  auto client = std::make_shared<LocalClient>(state_->core, std::move(handshake));
  auto& clients = state_->local_clients;
  clients.erase(std::remove_if(clients.begin(), clients.end(), [](const auto& weak) { return weak.expired(); }),
                clients.end());
  clients.push_back(client);
  client->on_open();
  return client;
}

template <class Config>
void Server<Config>::post(std::function<void()> work) {
  state_->core.dispatch(std::move(work));
}

template <class Config>
detail::Core& Server<Config>::core() {
  return state_->core;
}

template <class Config>
const Options& Server<Config>::options() const {
  return state_->core.options();
}

template <class Config>
asio::io_context& Server<Config>::io_context() {
  return state_->core.io();
}

template <class Config>
std::size_t Server<Config>::session_count() const {
  return state_->transport.session_count() + (state_->plain ? state_->plain->session_count() : 0);
}

}  // namespace chat

#endif  // CHAT_IMPL_SERVER_HPP
