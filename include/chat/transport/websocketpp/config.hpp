// websocketpp configurations of chat's transport, and what the server needs to know of a
// configuration (its traits). This file and the others of transport/websocketpp/ are the only
// code that touches websocketpp.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_CONFIG_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_CONFIG_HPP

#include <atomic>       // atomic
#include <cstddef>      // size_t
#include <functional>   // function
#include <memory>       // shared_ptr, weak_ptr
#include <utility>      // exchange
#include <string_view>  // string_view
#include <type_traits>  // is_same_v

#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>

#include "../../detail/admission.hpp"
#include "../../detail/client.hpp"
#include "../fwd.hpp"
#include "deflate.hpp"

namespace chat::transport {

/// @cond
// Not in the API reference: what websocketpp needs of a configuration (names it requires) and
// what each connection carries. A user names PlainConfig or TlsConfig, never these.

/// How many connection objects of a transport are alive, so that stopping can tell when every
/// connection has finished closing.
struct LiveConnections {
  std::atomic<std::size_t> count{0};
  /// Called once when the count drops to zero (set while stopping).
  std::function<void()> on_idle;

  void add() { ++count; }
  void remove() {
    if (--count == 0 && on_idle) std::exchange(on_idle, nullptr)();
  }
};

/// Links a websocketpp connection to its Engine.IO session (websocketpp's connection_base hook:
/// every connection object carries one, so no lookup table is needed per message).
struct ConnectionData {
  ConnectionData() = default;
  ConnectionData(const ConnectionData&) = delete;
  ConnectionData& operator=(const ConnectionData&) = delete;
  ~ConnectionData() {
    if (live_connections) live_connections->remove();
  }

  std::weak_ptr<detail::Client> session;
  bool probe = false;          ///< a WebSocket probing to upgrade a polling session
  bool close_at_once = false;  ///< a WebSocket to accept and close (Node's answer to a late probe)
  bool cors_allowed = false;   ///< an Engine.IO request from an Origin the policy allows
  bool deflate = false;        ///< a WebSocket that negotiated permessage-deflate
  /// A WebSocket handshake's place among the sessions, taken when it is validated and handed
  /// to its session once open (given back if it never opens).
  detail::Admission::Ticket admission;
  std::shared_ptr<LiveConnections> live_connections;
};

/// What chat reads from websocketpp's defaults for every configuration: one io thread (no
/// locks, no strand), logging compiled out, a small read buffer (idle connections dominate
/// memory), permessage-deflate that each connection may decline (deflate.hpp).
template <class Base, class SocketType>
struct ConfigOf : public Base {
  using type = ConfigOf;
  using base = Base;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using connection_base = ConnectionData;
  using request_type = Request;
  using permessage_deflate_type = BoundedDeflate<typename Base::permessage_deflate_config>;

  struct transport_config : public Base::transport_config {
    using concurrency_type = typename type::concurrency_type;
    using alog_type = typename type::alog_type;
    using elog_type = typename type::elog_type;
    using request_type = Request;
    using response_type = typename Base::response_type;
    using socket_type = SocketType;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  /// Held inline by every connection for its whole life; 1 KiB reads a chat message or an HTTP
  /// request in a few reads, and idle connections are what dominates memory.
  static const std::size_t connection_read_buffer_size = 1024;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

/// @endcond

/// Plain TCP (http:// and ws://).
struct PlainConfig final : ConfigOf<websocketpp::config::asio, websocketpp::transport::asio::basic_socket::endpoint> {};

/// What the server needs to know of a transport configuration.
template <class Config>
struct Traits {
  /// Whether connections are TLS (https:// and wss://); TLS configurations set it.
  static constexpr bool tls = false;
  /// The scheme of the server's own origin ("http", "https").
  static constexpr std::string_view scheme = "http";
  /// Whether a ShardedServer's router can hand its connections over by reading the plain
  /// request line.
  static constexpr bool routable =
      std::is_same_v<typename Config::transport_config::socket_type, websocketpp::transport::asio::basic_socket::endpoint>;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_CONFIG_HPP
