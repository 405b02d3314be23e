// Bodies of detail::Core (chat/detail/core.hpp).
#ifndef CHAT_IMPL_CORE_HPP
#define CHAT_IMPL_CORE_HPP

#include <algorithm>  // find
#include <cstdio>     // fprintf, stderr

#include <asio/post.hpp>

#include "../adapter.hpp"
#include "../detail/core.hpp"
#include "../detail/random_id.hpp"
#include "../namespace.hpp"
#include "../socket.hpp"

namespace chat::detail {

CHAT_DECL Core::Core(Options options)
    : options_(std::move(options)),
      parser_(options_.parser() ? options_.parser() : JsonParser::shared()),
      trusted_proxies_(options_.trusted_proxies()),
      admission_(std::make_shared<Admission>(options_)) {
  of("/");
}

CHAT_DECL Core::~Core() = default;

CHAT_DECL Namespace& Core::of(std::string name) {
  name = normalize(std::move(name));
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  auto& slot = namespaces_[name];
  if (!slot) slot = std::make_unique<Namespace>(*this, name);
  return *slot;
}

CHAT_DECL Namespace* Core::find(std::string name) {
  name = normalize(std::move(name));
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second.get();
}

CHAT_DECL Namespace* Core::find_for_connect(const std::string& name) {
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  if (found != namespaces_.end() && name != "*") return found->second.get();
  const auto& listed = options_.namespaces();
  const auto wildcard = namespaces_.find("/*");
  const bool any = std::find(listed.begin(), listed.end(), "*") != listed.end() || wildcard != namespaces_.end();
  const bool named = std::find(listed.begin(), listed.end(), name) != listed.end();
  if (!any && !named) return nullptr;
  auto created = std::make_unique<Namespace>(*this, name);
  if (wildcard != namespaces_.end()) created->copy_hooks_from(*wildcard->second);
  Namespace* result = created.get();
  namespaces_.emplace(name, std::move(created));
  return result;
}

CHAT_DECL void Core::post(std::function<void()> work) { asio::post(io_, std::move(work)); }

CHAT_DECL void Core::wait(asio::steady_timer& timer, std::function<void(const std::error_code&)> handler) {
  timer.async_wait(std::move(handler));
}

CHAT_DECL void Core::report_error(Socket* socket, std::string_view message) {
  if (error_handler_) {
    error_handler_(socket, message);
    return;
  }
  const std::string line = "chat: " + (socket ? "socket " + socket->id() + ": " : std::string()) + std::string(message) + "\n";
  std::fputs(line.c_str(), stderr);
}

CHAT_DECL void Core::set_adapter_factory(AdapterFactory factory) {
  adapter_factory_ = std::move(factory);
  rebuild_adapters();
}

CHAT_DECL void Core::set_adapter_decorator(AdapterDecorator decorator) {
  adapter_decorator_ = std::move(decorator);
  rebuild_adapters();
}

CHAT_DECL void Core::rebuild_adapters() {
  for_each_namespace([this](Namespace& nsp) { nsp.adapter_ = make_adapter(nsp); });
}

CHAT_DECL void Core::close_adapters() {
  for_each_namespace([](Namespace& nsp) { nsp.adapter_->close(); });
}

CHAT_DECL std::unique_ptr<Adapter> Core::make_adapter(Namespace& nsp) {
  LocalSockets& sockets = nsp;
  // With connection state recovery and no adapter of the application's, the one that keeps
  // sessions (Node does the same); an application's adapter keeps them, or not, itself.
  const auto& recovery = options_.connection_state_recovery();
  std::unique_ptr<Adapter> adapter =
      adapter_factory_ ? adapter_factory_(sockets)
      : recovery       ? std::unique_ptr<Adapter>(std::make_unique<SessionAwareAdapter>(sockets, *recovery))
                       : std::make_unique<InMemoryAdapter>(sockets);
  if (adapter_decorator_) adapter = adapter_decorator_(std::move(adapter), sockets);
  return adapter;
}

CHAT_DECL std::string Core::new_socket_id() { return random_id(); }

}  // namespace chat::detail

#endif  // CHAT_IMPL_CORE_HPP
