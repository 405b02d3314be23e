// Bodies of detail::Core (chat/detail/core.hpp).
#ifndef CHAT_IMPL_CORE_HPP
#define CHAT_IMPL_CORE_HPP

#include <algorithm>  // find, remove
#include <exception>  // exception
#include <stdexcept>  // invalid_argument
#include <cstdio>     // fprintf, stderr

#include <asio/post.hpp>

#include "../adapter.hpp"
#include "../detail/parent_adapter.hpp"
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
  // The initial packet is text in socket.io-parser's format; a client with another parser (a
  // msgpack client reads binary messages only) would fail on it and close its connection.
  if (options_.initial_packet() && !dynamic_cast<const JsonParser*>(parser_.get()))
    throw std::invalid_argument("chat::Options::initial_packet: only the JSON parser's clients can read it (the "
                                "initial packet is socket.io-parser text); leave it out with another parser");
  of("/");
}

CHAT_DECL Core::~Core() = default;

CHAT_DECL Namespace& Core::of(std::string name) {
  name = normalize(std::move(name));
  {
    std::lock_guard<std::mutex> lock(namespaces_mutex_);
    const auto found = namespaces_.find(name);
    if (found != namespaces_.end()) return *found->second;
  }
  // Made by the application (an emit to it, hooks for it): a parent that accepts the name, or
  // "*", gives it its hooks, as a client naming it would have; it is not cleaned up when empty.
  Namespace* parent = name == "/" ? nullptr : matching_parent(name, json());
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  return *make_namespace(name, parent, false);
}

CHAT_DECL Namespace* Core::find(std::string name) {
  name = normalize(std::move(name));
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second.get();
}

CHAT_DECL Namespace* Core::find_for_connect(const std::string& name, const json& auth) {
  {
    std::lock_guard<std::mutex> lock(namespaces_mutex_);
    const auto found = namespaces_.find(name);
    if (found != namespaces_.end() && name != "*") return found->second.get();
  }
  Namespace* parent = matching_parent(name, auth);
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  if (found != namespaces_.end() && name != "*") return found->second.get();  // made meanwhile
  if (!parent) {
    const auto& listed = options_.namespaces();
    const bool any = std::find(listed.begin(), listed.end(), "*") != listed.end() || namespaces_.count("/*");
    const bool named = std::find(listed.begin(), listed.end(), name) != listed.end();
    if (!any && !named) return nullptr;
  }
  // Made for a client through a parent or "*" (not a name the options list): dynamic.
  const auto& listed = options_.namespaces();
  return make_namespace(name, parent, parent || std::find(listed.begin(), listed.end(), name) == listed.end());
}

CHAT_DECL Namespace* Core::matching_parent(const std::string& name, const json& auth) {
  std::vector<std::pair<NamespaceMatcher, Namespace*>> parents;
  {
    std::lock_guard<std::mutex> lock(namespaces_mutex_);
    for (const auto& parent : parents_) parents.emplace_back(parent.matcher, parent.nsp.get());
  }
  // Matchers are the application's code: they run without the lock, so they may call of().
  for (const auto& [matcher, candidate] : parents) {
    try {
      if (matcher(name, auth)) return candidate;
    } catch (const std::exception& e) {
      report_error(nullptr, "namespace matcher of " + candidate->name() + " failed on " + name + ": " + e.what());
    } catch (...) {
      report_error(nullptr, "namespace matcher of " + candidate->name() + " failed on " + name);
    }
  }
  return nullptr;
}

CHAT_DECL Namespace* Core::make_namespace(const std::string& name, Namespace* parent, bool dynamic) {
  auto created = std::make_unique<Namespace>(*this, name);
  if (parent) {
    created->copy_hooks_from(*parent);
    created->parent_ = parent;
    parent->children_.push_back(created.get());
  } else if (const auto wildcard = namespaces_.find("/*"); wildcard != namespaces_.end() && name != "/*") {
    created->copy_hooks_from(*wildcard->second);
  }
  created->dynamic_ = dynamic;
  Namespace* result = created.get();
  namespaces_.emplace(name, std::move(created));
  return result;
}

CHAT_DECL Namespace& Core::add_parent(NamespaceMatcher matcher) {
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  // Named as Node names them; never joined by that name (parents are not in namespaces_).
  auto nsp = std::make_unique<Namespace>(*this, "/_" + std::to_string(parents_.size()), true);
  Namespace& result = *nsp;
  parents_.push_back(Parent{std::move(matcher), std::move(nsp)});
  return result;
}

CHAT_DECL void Core::child_emptied(const std::string& name) {
  if (!options_.cleanup_empty_child_namespaces()) return;
  post([this, name] {
    std::unique_ptr<Namespace> removed;
    {
      std::lock_guard<std::mutex> lock(namespaces_mutex_);
      const auto found = namespaces_.find(name);
      if (found == namespaces_.end() || !found->second->dynamic_ || found->second->size() != 0 ||
          found->second->restoring_ != 0)
        return;
      removed = std::move(found->second);
      namespaces_.erase(found);
    }
    if (Namespace* parent = removed->parent_) {
      auto& children = parent->children_;
      children.erase(std::remove(children.begin(), children.end(), removed.get()), children.end());
    }
  });
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
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  for (auto& parent : parents_) parent.nsp->adapter_ = make_adapter(*parent.nsp);
}

CHAT_DECL void Core::close_adapters() {
  for_each_namespace([](Namespace& nsp) { nsp.adapter_->close(); });
}

CHAT_DECL std::unique_ptr<Adapter> Core::make_adapter(Namespace& nsp) {
  LocalSockets& sockets = nsp;
  // With connection state recovery and no adapter of the application's, the one that keeps
  // sessions (Node does the same); an application's adapter keeps them, or not, itself. A parent
  // namespace's adapter reaches its children's.
  const auto& recovery = options_.connection_state_recovery();
  std::unique_ptr<Adapter> adapter =
      nsp.is_parent_     ? std::make_unique<ParentAdapter>(nsp)
      : adapter_factory_ ? adapter_factory_(sockets)
      : recovery         ? std::unique_ptr<Adapter>(std::make_unique<SessionAwareAdapter>(sockets, *recovery))
                         : std::make_unique<InMemoryAdapter>(sockets);
  nsp.own_adapter_ = adapter.get();
  if (adapter_decorator_) adapter = adapter_decorator_(std::move(adapter), sockets);
  return adapter;
}

CHAT_DECL std::string Core::new_socket_id() { return random_id(); }

}  // namespace chat::detail

#endif  // CHAT_IMPL_CORE_HPP
