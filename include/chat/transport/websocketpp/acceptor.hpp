// The accept loop of a websocketpp endpoint, in place of its own (start_accept), which accepts
// again at once after any error: out of descriptors, that spins a core (detail/accept_backoff.hpp).
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_ACCEPTOR_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_ACCEPTOR_HPP

#include <system_error>  // error_code

#include <asio/steady_timer.hpp>
#include <websocketpp/error.hpp>

#include "../../detail/accept_backoff.hpp"
#include "../../detail/core.hpp"

namespace chat::transport {

/// Accepts into a fresh websocketpp connection and starts it, as websocketpp's loop does; after
/// a failure it waits as AcceptBackoff says and reports the episode once. Io thread only.
template <class Endpoint>
class Acceptor {
 public:
  Acceptor(Endpoint& endpoint, detail::Core& core) : endpoint_(endpoint), core_(core), retry_(core.io()) {}

  /// Starts the loop on a listening endpoint. Returns websocketpp's error when it cannot.
  std::error_code start() { return accept(); }

  /// Accepts nothing more (the endpoint stops listening separately).
  void stop() {
    stopped_ = true;
    retry_.cancel();
  }

 private:
  using ConnectionPtr = typename Endpoint::connection_ptr;

  std::error_code accept() {
    std::error_code ec;
    ConnectionPtr con = endpoint_.get_connection();
    if (!con) return websocketpp::error::make_error_code(websocketpp::error::con_creation_failed);
    endpoint_.async_accept(con, [this, con](const std::error_code& error) { accepted(con, error); }, ec);
    if (ec) con->terminate(ec);  // not listening: the endpoint stopped
    return ec;
  }

  void accepted(const ConnectionPtr& con, const std::error_code& ec) {
    if (!ec) {
      backoff_.succeeded();
      con->start();
      if (!stopped_) accept();
      return;
    }
    con->terminate(ec);  // never started: frees the connection object
    if (stopped_ || ec == websocketpp::error::operation_canceled) return;
    const auto decision = backoff_.failed(ec);
    if (!decision.message.empty()) core_.report_error(nullptr, decision.message);
    if (decision.delay.count() == 0) {
      accept();
      return;
    }
    retry_.expires_after(decision.delay);
    detail::Core::wait(retry_, [this](const std::error_code& error) {
      if (!error && !stopped_) accept();
    });
  }

  Endpoint& endpoint_;
  detail::Core& core_;
  asio::steady_timer retry_;
  detail::AcceptBackoff backoff_;
  bool stopped_ = false;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_ACCEPTOR_HPP
