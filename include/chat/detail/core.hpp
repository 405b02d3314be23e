// The transport-independent part of a server: io context, options, namespaces, error hook.
#ifndef CHAT_DETAIL_CORE_HPP
#define CHAT_DETAIL_CORE_HPP

#include <atomic>         // atomic
#include <functional>     // function
#include <memory>         // unique_ptr
#include <mutex>          // mutex, lock_guard
#include <string>         // string
#include <string_view>    // string_view
#include <thread>         // thread::id, this_thread
#include <unordered_map>  // unordered_map
#include <utility>        // move

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include "../adapter.hpp"
#include "../options.hpp"

namespace chat {

class Namespace;
class Socket;

/// Receives exceptions thrown by hooks, and other errors worth a log line. `socket` is the
/// socket whose hook threw, or nullptr.
using ErrorHandler = std::function<void(Socket* socket, std::string_view message)>;

/// Makes the adapter of each namespace (see `Server::set_adapter_factory`).
using AdapterFactory = std::function<std::unique_ptr<Adapter>(Namespace&)>;

namespace detail {

class Core {
 public:
  explicit Core(Options options);
  Core(const Core&) = delete;
  Core& operator=(const Core&) = delete;
  ~Core();

  asio::io_context& io() { return io_; }
  const Options& options() const { return options_; }

  /// The namespace with this name, created if needed ("chat" means "/chat"). Thread-safe.
  Namespace& of(std::string name);
  /// The namespace with this name, or nullptr when it does not exist (never creates one).
  /// Thread-safe.
  Namespace* find(std::string name);
  /// The namespace a CONNECT names: registered, listed in the options, or dynamic through "*".
  /// nullptr when none may be joined.
  Namespace* find_for_connect(const std::string& name);
  /// Calls `visit(Namespace&)` for each namespace. Io thread only.
  template <class Visit>
  void for_each_namespace(Visit&& visit) {
    std::lock_guard<std::mutex> lock(namespaces_mutex_);
    for (auto& entry : namespaces_) visit(*entry.second);
  }

  /// Runs `work` on the io thread: now if called there, else posted.
  template <class Work>
  void dispatch(Work&& work) {
    if (in_io_thread()) work();
    else asio::post(io_, std::forward<Work>(work));
  }
  bool in_io_thread() const { return io_thread_.load() == std::this_thread::get_id(); }
  /// Marks the calling thread as the io thread (done by run()).
  void set_io_thread(std::thread::id id) { io_thread_.store(id); }

  void set_error_handler(ErrorHandler handler) { error_handler_ = std::move(handler); }
  void report_error(Socket* socket, std::string_view message);

  /// Sets the adapter factory and gives the existing namespaces an adapter from it.
  void set_adapter_factory(AdapterFactory factory);
  std::unique_ptr<Adapter> make_adapter(Namespace& nsp);

 private:
  static std::string normalize(std::string name) {
    return !name.empty() && name[0] == '/' ? name : "/" + name;
  }

  asio::io_context io_{1};
  Options options_;
  std::atomic<std::thread::id> io_thread_{};
  std::mutex namespaces_mutex_;
  std::unordered_map<std::string, std::unique_ptr<Namespace>> namespaces_;
  ErrorHandler error_handler_;
  AdapterFactory adapter_factory_;
};

}  // namespace detail
}  // namespace chat

#endif  // CHAT_DETAIL_CORE_HPP
