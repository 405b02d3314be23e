// Plain HTTP beside Socket.IO: the request and response an HTTP fallback hook sees.
#ifndef CHAT_HTTP_HPP
#define CHAT_HTTP_HPP

#include <functional>   // function
#include <memory>       // shared_ptr
#include <mutex>        // mutex, lock_guard
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair, move
#include <vector>       // vector

#include "detail/headers.hpp"

namespace chat {

/// An HTTP request outside the Socket.IO path.
struct HttpRequest {
  std::string method;                                         ///< "GET", "POST", ...
  std::string target;                                         ///< the request target as sent ("/a?b=c")
  std::string path;                                           ///< the decoded path ("/a")
  std::vector<std::pair<std::string, std::string>> query;     ///< decoded query parameters, in order
  std::vector<std::pair<std::string, std::string>> headers;   ///< request headers, in order
  std::string body;                                           ///< the request body
  std::string remote_address;                                 ///< the peer's IP address

  /// The first value of a header, matched without regard to case; nullopt when absent.
  std::optional<std::string_view> header(std::string_view name) const {
    return detail::find_header(headers, name);
  }
};

/// An HTTP response. `Connection: close` is always added: the server closes plain HTTP
/// connections after one response.
struct HttpResponse {
  int status = 200;                                          ///< the status code
  std::vector<std::pair<std::string, std::string>> headers;  ///< Content-Length is computed
  std::string body;                                          ///< the body, sent as it is
};

/// Sends the response to one HTTP request, once, from any thread. Copies share one request:
/// the first `send` wins. If every copy is dropped unsent, the client gets 500.
///
/// @par Thread Safety
/// `send` may be called from any thread.
class HttpResponder {
 public:
  /// What sends the response for real (the transport's, posted to the io thread).
  using SendFunction = std::function<void(HttpResponse)>;

  /// A responder that hands the first response to `send` (the server makes these).
  explicit HttpResponder(SendFunction send) : state_(std::make_shared<State>(std::move(send))) {}

  /// Sends the response; returns false if one was already sent.
  bool send(HttpResponse response) const { return state_->send(std::move(response)); }

 private:
  struct State {
    explicit State(SendFunction function) : function(std::move(function)) {}
    ~State() {
      if (function) function(HttpResponse{500, {{"Content-Type", "text/plain"}}, "Internal Server Error"});
    }
    bool send(HttpResponse response) {
      SendFunction taken;
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (!function) return false;
        taken = std::move(function);
        function = nullptr;
      }
      taken(std::move(response));
      return true;
    }
    std::mutex mutex;
    SendFunction function;
  };
  std::shared_ptr<State> state_;
};

/// Answers HTTP requests outside the Socket.IO path that no static file matched. Returns false
/// to decline (the client gets 404); returning true promises a `responder.send`, now or later,
/// from any thread. Runs on the io thread: hand slow work to another thread.
using HttpHandler = std::function<bool(const HttpRequest& request, HttpResponder responder)>;

/// Adds headers to an Engine.IO response (Node's `headers` and `initial_headers` events; see
/// Server::on_headers): `headers` starts empty, and each pair the hook leaves in it is set on the
/// response, replacing a header of that name. `request` is the request answered (its body
/// empty). Runs on the io thread.
using HeadersHook = std::function<void(std::vector<std::pair<std::string, std::string>>& headers, const HttpRequest& request)>;

}  // namespace chat

#endif  // CHAT_HTTP_HPP
