// websocketpp used the plain way: a bare websocketpp 0.8.2 relay with the same single-thread config
// ideas as chat (no locks, no strand, logging compiled out, 4 KB read buffer, TCP_NODELAY). It
// answers the Engine.IO/Socket.IO handshake minimally (`0{..}` on open, `40{"sid":..}` for `40`),
// pings everyone every 25 s (dropping who has not answered the previous ping), forwards each
// 42["message",...] frame unchanged to every connection as one prepared, shared websocketpp message,
// and answers 42<id>["echo",args...] with 43<id>[args...]. No JSON is parsed.
//
//   chat_bench_relay [--host 127.0.0.1] [--port 0]
// Prints "READY <port>" once listening; SIGINT/SIGTERM stop it.
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>
#include <websocketpp/concurrency/none.hpp>
#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace {

/// Per-connection data, carried by every websocketpp connection (its connection_base).
struct RelayData {
  std::size_t index = std::numeric_limits<std::size_t>::max();  // in Relay::connections_
  bool awaiting_pong = false;
};

struct RelayConfig : public websocketpp::config::asio {
  using type = RelayConfig;
  using base = websocketpp::config::asio;
  using concurrency_type = websocketpp::concurrency::none;
  using elog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::elevel>;
  using alog_type = websocketpp::log::basic<concurrency_type, websocketpp::log::alevel>;
  using connection_base = RelayData;

  struct transport_config : public base::transport_config {
    using concurrency_type = type::concurrency_type;
    using alog_type = type::alog_type;
    using elog_type = type::elog_type;
    using request_type = type::request_type;
    using response_type = type::response_type;
    using socket_type = websocketpp::transport::asio::basic_socket::endpoint;
    static const bool enable_multithreading = false;
  };
  using transport_type = websocketpp::transport::asio::endpoint<transport_config>;

  static const std::size_t connection_read_buffer_size = 4096;
  static const websocketpp::log::level elog_level = websocketpp::log::elevel::none;
  static const websocketpp::log::level alog_level = websocketpp::log::alevel::none;
};

using Endpoint = websocketpp::server<RelayConfig>;
using ConnectionPtr = Endpoint::connection_ptr;
using MessagePtr = Endpoint::message_ptr;
using Hdl = websocketpp::connection_hdl;

/// A text frame built once, sent as is to any number of connections.
MessagePtr make_frame(const std::string& payload) {
  const auto op = websocketpp::frame::opcode::text;
  auto message = std::make_shared<RelayConfig::message_type>(RelayConfig::con_msg_manager_type::ptr(), op, payload.size());
  message->set_header(websocketpp::frame::prepare_header(websocketpp::frame::basic_header(op, payload.size(), true, false),
                                                         websocketpp::frame::extended_header(payload.size())));
  message->set_payload(payload);
  message->set_prepared(true);
  return message;
}

class Relay {
 public:
  explicit Relay(asio::io_context& io) : io_(io), ping_timer_(io), ping_(make_frame("2")) {
    endpoint_.init_asio(&io_);
    endpoint_.set_reuse_addr(true);
    endpoint_.set_tcp_pre_init_handler([this](Hdl hdl) {
      std::error_code ec;
      auto con = endpoint_.get_con_from_hdl(hdl, ec);
      if (!ec) con->get_raw_socket().set_option(asio::ip::tcp::no_delay(true), ec);
    });
    endpoint_.set_open_handler([this](Hdl hdl) { on_open(hdl); });
    endpoint_.set_close_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_fail_handler([this](Hdl hdl) { on_closed(hdl); });
    endpoint_.set_message_handler([this](Hdl hdl, MessagePtr message) { on_message(hdl, message); });
  }

  std::uint16_t listen(const std::string& host, std::uint16_t port) {
    endpoint_.listen(asio::ip::tcp::endpoint(asio::ip::make_address(host), port));
    endpoint_.start_accept();
    arm_ping();
    return endpoint_.get_local_endpoint(ec_).port();
  }

  void stop() {
    std::error_code ec;
    endpoint_.stop_listening(ec);
    ping_timer_.cancel();
    io_.stop();
  }

 private:
  void on_open(Hdl hdl) {
    auto con = endpoint_.get_con_from_hdl(hdl);
    con->index = connections_.size();
    connections_.push_back(con);
    const std::string sid = "relay" + std::to_string(++next_sid_);
    con->send(make_frame("0{\"sid\":\"" + sid +
                         "\",\"upgrades\":[],\"pingInterval\":25000,\"pingTimeout\":20000,\"maxPayload\":1000000}"));
  }

  void on_closed(Hdl hdl) {
    std::error_code ec;
    auto con = endpoint_.get_con_from_hdl(hdl, ec);
    if (ec || con->index >= connections_.size()) return;
    const std::size_t i = con->index;
    connections_[i] = connections_.back();
    connections_[i]->index = i;
    connections_.pop_back();
    con->index = std::numeric_limits<std::size_t>::max();
  }

  void on_message(Hdl hdl, const MessagePtr& message) {
    auto con = endpoint_.get_con_from_hdl(hdl);
    const std::string& p = message->get_payload();
    if (p == "3") {
      con->awaiting_pong = false;
    } else if (p.size() >= 2 && p[0] == '4' && p[1] == '0') {
      con->send(make_frame("40{\"sid\":\"relay-s" + std::to_string(++next_sid_) + "\"}"));
    } else if (p.size() >= 3 && p[0] == '4' && p[1] == '2') {
      std::size_t j = 2;
      while (j < p.size() && p[j] >= '0' && p[j] <= '9') ++j;
      if (j == 2 && p.compare(j, 11, "[\"message\",") == 0) {
        const auto frame = make_frame(p);  // the same bytes: 42["message",...]
        for (const auto& c : connections_) c->send(frame);
      } else if (j > 2 && p.compare(j, 7, "[\"echo\"") == 0) {
        // 42<id>["echo",a,b] -> 43<id>[a,b]
        std::string ack = "43" + p.substr(2, j - 2) + "[";
        if (p.size() > j + 8 && p[j + 7] == ',') ack.append(p, j + 8, std::string::npos);
        else ack += "]";
        con->send(make_frame(ack));
      }
    } else if (p.size() >= 2 && p[0] == '4' && p[1] == '1') {
      con->close(websocketpp::close::status::normal, "", ec_);
    }
  }

  /// Every 25 s: drop who has not answered the previous ping, ping everyone else.
  void arm_ping() {
    ping_timer_.expires_after(std::chrono::seconds(25));
    ping_timer_.async_wait([this](std::error_code ec) {
      if (ec) return;
      std::vector<ConnectionPtr> silent;
      for (const auto& c : connections_) {
        if (c->awaiting_pong) {
          silent.push_back(c);
        } else {
          c->awaiting_pong = true;
          c->send(ping_);
        }
      }
      for (const auto& c : silent) c->close(websocketpp::close::status::normal, "ping timeout", ec_);
      arm_ping();
    });
  }

  asio::io_context& io_;
  Endpoint endpoint_;
  asio::steady_timer ping_timer_;
  MessagePtr ping_;
  std::vector<ConnectionPtr> connections_;
  std::uint64_t next_sid_ = 0;
  std::error_code ec_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--host") host = argv[i + 1];
    else if (flag == "--port") port = static_cast<unsigned short>(std::stoi(argv[i + 1]));
    else {
      std::cerr << "usage: chat_bench_relay [--host H] [--port P]\n";
      return 2;
    }
  }
  asio::io_context io(1);
  Relay relay(io);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&relay](const std::error_code& ec, int) {
    if (!ec) relay.stop();
  });
  const auto bound = relay.listen(host, port);
  std::cout << "READY " << bound << std::endl;
  io.run();
  return 0;
}
