// Where a plain HTTP request goes: decided from the request line and the options, with no I/O
// (the transport does what it says).
#ifndef CHAT_DETAIL_HTTP_ROUTER_HPP
#define CHAT_DETAIL_HTTP_ROUTER_HPP

#include <algorithm>    // find
#include <iterator>     // begin, end
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view

#include "../options.hpp"
#include "url.hpp"

namespace chat::detail {

/// What to try for a request that is not a WebSocket handshake, in order: each step serves it or
/// passes it on (a missing file passes it on).
struct HttpPlan {
  bool bad_target = false;  ///< not an origin-form target: 400
  bool engine = false;      ///< the Socket.IO path: Engine.IO polling (and nothing else)
  std::string bundle_file;  ///< a file of the client bundle to serve when there ("" none)
  bool static_file = false; ///< a static file under the server's root (GET only)
  bool hook = false;        ///< the application's HTTP hook
  // Then 404.
};

/// The client bundle's files, served under the Socket.IO path (Node's serveClient).
inline bool is_client_bundle_file(std::string_view name) {
  static constexpr std::string_view files[] = {
      "socket.io.js",         "socket.io.js.map",         "socket.io.min.js",         "socket.io.min.js.map",
      "socket.io.esm.min.js", "socket.io.esm.min.js.map", "socket.io.msgpack.min.js", "socket.io.msgpack.min.js.map"};
  return std::find(std::begin(files), std::end(files), name) != std::end(files);
}

/// Whether `path` is the Socket.IO path, with or without its trailing slash.
inline bool is_engine_path(std::string_view path, const Options& options) {
  const std::string& engine = options.path();
  return path == engine || (path.size() + 1 == engine.size() && engine.compare(0, path.size(), path) == 0);
}

inline HttpPlan plan_http(std::string_view method, const std::optional<Target>& target, const Options& options,
                          bool has_static_root, bool has_hook) {
  HttpPlan plan;
  if (!target) {
    plan.bad_target = true;
    return plan;
  }
  if (is_engine_path(target->path, options)) {
    plan.engine = true;
    return plan;
  }
  const std::string& engine = options.path();
  if (!options.client_bundle_dir().empty() && target->path.compare(0, engine.size(), engine) == 0) {
    const std::string_view name = std::string_view(target->path).substr(engine.size());
    if (is_client_bundle_file(name)) plan.bundle_file = std::string(name);
  }
  plan.static_file = has_static_root && method == "GET";
  plan.hook = has_hook;
  return plan;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_HTTP_ROUTER_HPP
