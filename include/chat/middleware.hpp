// chat::Next: how a middleware goes on, or stops the chain (Node's `next`).
#ifndef CHAT_MIDDLEWARE_HPP
#define CHAT_MIDDLEWARE_HPP

#include <atomic>      // atomic
#include <functional>  // function
#include <memory>      // shared_ptr, make_shared
#include <optional>    // optional
#include <string>      // string
#include <utility>     // move

#include "args.hpp"
#include "fwd.hpp"

namespace chat {

/// Why a middleware stopped its chain: for a connect middleware (Namespace::use), the
/// CONNECT_ERROR the client gets ({"message", "data"}, Node's `err.message` and `err.data`);
/// for a packet middleware (Socket::use), what the server's error hook gets.
struct MiddlewareError {
  std::string message;  ///< the error's message
  json data;            ///< details for the client (null: none)
};

/// Handed to each middleware: call it once to go on to the next middleware (then the hook), or
/// `fail` to stop. Either may come later, from any thread: a middleware may check a token
/// elsewhere and answer when it knows; the chain goes on on the io thread. Calls after the
/// first, and calls once the socket is gone, do nothing.
class Next {
 public:
  /// What goes on with the chain: nullopt to go on, an error to stop it.
  using Continuation = std::function<void(std::optional<MiddlewareError>)>;

  /// A handle that calls `continuation` once (the server makes these).
  explicit Next(Continuation continuation) : state_(std::make_shared<State>(std::move(continuation))) {}

  /// Goes on.
  void operator()() const { state_->finish(std::nullopt); }
  /// Stops the chain with an error.
  void fail(std::string message, json data = json()) const {
    state_->finish(MiddlewareError{std::move(message), std::move(data)});
  }

 private:
  struct State {
    explicit State(Continuation continuation) : continuation(std::move(continuation)) {}
    void finish(std::optional<MiddlewareError> error) {
      if (called.exchange(true)) return;
      continuation(std::move(error));
    }
    Continuation continuation;
    std::atomic<bool> called{false};
  };
  std::shared_ptr<State> state_;
};

}  // namespace chat

#endif  // CHAT_MIDDLEWARE_HPP
