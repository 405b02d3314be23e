// The transport-independent part of a server: io context, options, parser, namespaces, error hook.
#ifndef CHAT_DETAIL_CORE_HPP
#define CHAT_DETAIL_CORE_HPP

#include <atomic>         // atomic
#include <functional>     // function
#include <memory>         // unique_ptr, shared_ptr
#include <mutex>          // mutex, lock_guard
#include <string>         // string
#include <string_view>    // string_view
#include <thread>         // thread::id, this_thread
#include <unordered_map>  // unordered_map
#include <utility>        // forward, move
#include <vector>         // vector

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "../fwd.hpp"
#include "../options.hpp"
#include "../parser.hpp"
#include "admission.hpp"
#include "client_address.hpp"
#include "config.hpp"
#include "observer.hpp"

namespace chat::detail {

class Core {
 public:
  explicit Core(Options options);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;
  ~Core();

  asio::io_context& io() { return io_; }
  const Options& options() const { return options_; }
  /// The parser every packet of this server goes through (Options::parser, or JSON).
  const Parser& parser() const { return *parser_; }

  /// The namespace with this name, created if needed ("chat" means "/chat"), with the hooks of
  /// a parent that accepts the name (its matcher then runs on the calling thread, with a null
  /// auth) or of "*". Thread-safe.
  Namespace& of(std::string name);
  /// The namespace with this name, or nullptr when it does not exist (never creates one).
  /// Thread-safe.
  Namespace* find(std::string name);
  /// The namespace a CONNECT names: registered, listed in the options, a child of the first
  /// parent namespace whose matcher accepts it, or dynamic through "*". nullptr when none may
  /// be joined. Io thread.
  Namespace* find_for_connect(const std::string& name, const json& auth);
  /// A parent namespace: its hooks are given to every namespace `matcher` accepts, made when a
  /// client first names it; its broadcasts reach them all (Node's ParentNamespace). Thread-safe.
  Namespace& add_parent(NamespaceMatcher matcher);
  /// A dynamic namespace lost its last socket: with Options::cleanup_empty_child_namespaces,
  /// it goes (later, from a fresh stack, if still empty).
  void child_emptied(const std::string& name);
  /// Calls `visit(Namespace&)` for each namespace.
  template <class Visit>
  void for_each_namespace(Visit&& visit) {
    std::lock_guard<std::mutex> lock(namespaces_mutex_);
    for (auto& entry : namespaces_) visit(*entry.second);
  }

  /// Runs `work` on the io thread: now if called there, else posted. (One function type for
  /// every caller: each distinct handler type asio posts costs its own instantiation of asio's
  /// operation machinery, in every program that includes chat.)
  void dispatch(std::function<void()> work) {
    if (in_io_thread()) work();
    else post(std::move(work));
  }
  /// Runs `work` on the io thread later, from a fresh stack, even when called there.
  void post(std::function<void()> work);
  /// Calls `handler` when `timer` expires or is cancelled.
  static void wait(asio::steady_timer& timer, std::function<void(const std::error_code&)> handler);
  bool in_io_thread() const { return io_thread_.load() == std::this_thread::get_id(); }
  /// Marks the calling thread as the io thread (done by run()).
  void set_io_thread(std::thread::id id) { io_thread_.store(id); }

  void set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }
  void report_error(Socket* socket, std::string_view message);

  /// Wraps the adapter each namespace would have on its own (ShardedServer's shard adapter).
  using AdapterDecorator = std::function<std::unique_ptr<Adapter>(std::unique_ptr<Adapter> inner, LocalSockets& sockets)>;

  /// Sets the adapter factory and gives the existing namespaces an adapter from it.
  void set_adapter_factory(AdapterFactory factory);
  /// Sets the decorator and gives the existing namespaces an adapter through it.
  void set_adapter_decorator(AdapterDecorator decorator);
  std::unique_ptr<Adapter> make_adapter(Namespace& nsp);

  /// Who may open a session. The shards of a ShardedServer share one (share_admission).
  Admission& admission() { return *admission_; }
  const std::shared_ptr<Admission>& shared_admission() const { return admission_; }
  void share_admission(std::shared_ptr<Admission> admission) { admission_ = std::move(admission); }
  /// Options::trusted_proxies, parsed.
  const TrustedProxies& trusted_proxies() const { return trusted_proxies_; }

  /// Who learns what happens on this server (the Admin UI's instrumentation), or nullptr. Set
  /// before run(); read on the io thread.
  ServerObserver* observer() const { return observer_.get(); }
  void set_observer(std::shared_ptr<ServerObserver> observer) { observer_ = std::move(observer); }

  /// A new socket's id: fresh and unguessable.
  std::string new_socket_id();
  /// Tells every namespace's adapter that the server is stopping (Adapter::close).
  void close_adapters();

 private:
  /// The first parent whose matcher accepts the name, or nullptr. Without the lock.
  Namespace* matching_parent(const std::string& name, const json& auth);
  /// Makes and registers a namespace; the lock is held.
  Namespace* make_namespace(const std::string& name, Namespace* parent, bool dynamic);
  /// Gives every existing namespace a new adapter, from the factory and decorator now set.
  void rebuild_adapters();

  static std::string normalize(std::string name) {
    return !name.empty() && name[0] == '/' ? name : "/" + name;
  }

  asio::io_context io_{1};
  Options options_;
  std::shared_ptr<const Parser> parser_;
  TrustedProxies trusted_proxies_;
  std::shared_ptr<Admission> admission_;
  std::atomic<std::thread::id> io_thread_{};
  // Before the namespaces: it outlives them, and the sockets they close on the way out.
  std::shared_ptr<ServerObserver> observer_;
  std::mutex namespaces_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  struct Parent {
    NamespaceMatcher matcher;
    std::unique_ptr<Namespace> nsp;
  };
  std::vector<Parent> parents_;  // in the order added: the first that accepts a name has it
  ErrorHandler error_handler_;
  AdapterFactory adapter_factory_;
  AdapterDecorator adapter_decorator_;
};

}  // namespace chat::detail

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "../impl/core.hpp"
#endif

#endif  // CHAT_DETAIL_CORE_HPP
