// chat_loadgen: a single-threaded Socket.IO v5 load generator (Engine.IO v4 over WebSocket, spoken
// by hand on standalone Asio, one io_context, no locks), cheap enough that the server under test,
// not the generator, saturates.
//
//   chat_loadgen --port P[,P2...] [--host 127.0.0.1] [--mode fanout|echo|rate|idle] [--clients C]
//                [--payload BYTES] [--inflight K] [--rate DELIVERIES_PER_S] [--warmup S]
//                [--duration S] [--drain S] [--server-pid PID[,PID2...]] [--source-addrs A,B,..|auto]
//                [--connect-concurrency N] [--read-buffer BYTES] [--tls] [--msgpack] [--verbose]
//
// Modes (every client connects first: HTTP upgrade, `0{..}`, `40`, `40{"sid":..}`; every `2` is
// answered with `3` throughout):
//   fanout  one sender (client 0) emits 42["message","<timestamp><padding>"] and keeps K broadcasts
//           in flight: it sends a new one each time it receives one of its own back. Counts the
//           deliveries to all C clients per second, and each delivery's latency from the timestamp.
//   echo    every client emits 42<id>["echo","<timestamp><padding>"] and waits for 43<id>[..]
//           (K outstanding per client, default 1): acks per second and round-trip latency.
//   rate    fan-out at a fixed delivery rate (open loop: one broadcast every C/rate seconds, stamped
//           with its scheduled time, so a late send shows as latency); latency p50/p99.
//   idle    C connections held for --duration with pings answered; the server's RSS per connection
//           (with --server-pid) and how many are still connected at the end.
//
// After warm-up, the measured window lasts --duration seconds; then sending stops and the generator
// waits (up to --drain seconds) for everything sent to arrive, so that `lost` is exact. With
// --server-pid it reads the server's utime+stime (/proc/PID/stat) and its own at the window's edges,
// and the server's VmRSS. Prints one JSON line on stdout. A cluster: several ports (the servers
// of one cluster; clients dealt over them in turn, the sender on the first) and several pids
// (its servers and its Redis), whose CPU and memory are summed.
//
// --msgpack: socket.io-msgpack-parser's format instead of JSON text: every Socket.IO packet a
// binary message holding a MessagePack map {type, data, nsp, id}, written by hand as the text ones
// are; a received packet's type is the value after its "type" key, its timestamp the first run of
// 16 digits (the payload's), as in the JSON case.
//
// --tls: wss:// (OpenSSL; built where CMake finds it). Each client's TLS handshake is done
// blocking as it connects (before the load starts); the server's certificate is not verified
// (loopback, a certificate made for the run). Reads then drain until OpenSSL wants more bytes,
// since a TLS read returns one record at most and a short one says nothing about the socket.
//
// Cost: Asio connects the sockets and runs the timers; once connected, a socket is released from
// Asio into the generator's own edge-triggered epoll set, which the io_context waits on as one
// descriptor. Each wake-up then costs one recv per ready socket (drained until a short read) and
// one send per socket with something to say: no EAGAIN probe and no epoll_ctl per read, which
// Asio's per-socket reads would add.
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#ifdef CHAT_LOADGEN_TLS
#include <openssl/err.h>
#include <openssl/ssl.h>
#endif

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

namespace {

using tcp = asio::ip::tcp;

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// ---- latency histogram: log-linear buckets, 128 per power of two (under 1% error) ----

class Histogram {
 public:
  static constexpr int kSubBits = 7;
  static constexpr int kSub = 1 << kSubBits;
  Histogram() : counts_((64 - kSubBits + 1) * kSub, 0) {}

  void record(std::uint64_t v) {
    counts_[index(v)]++;
    ++count_;
    sum_ += static_cast<double>(v);
    if (v > max_) max_ = v;
  }
  std::uint64_t count() const { return count_; }
  std::uint64_t max() const { return max_; }
  double mean() const { return count_ ? sum_ / static_cast<double>(count_) : 0.0; }
  /// The value at quantile q (0..1): the middle of the bucket holding it.
  std::uint64_t quantile(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
    if (rank < 1) rank = 1;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank) return std::min<std::uint64_t>(middle(i), max_);
    }
    return max_;
  }

 private:
  static std::size_t index(std::uint64_t v) {
    if (v < static_cast<std::uint64_t>(kSub)) return static_cast<std::size_t>(v);
    const int e = 63 - __builtin_clzll(v);  // >= kSubBits
    const std::uint64_t sub = (v >> (e - kSubBits)) & (kSub - 1);
    return static_cast<std::size_t>((e - kSubBits + 1) * kSub + static_cast<int>(sub));
  }
  static std::uint64_t middle(std::size_t i) {
    if (i < static_cast<std::size_t>(kSub)) return i;
    const int e = static_cast<int>(i / kSub) + kSubBits - 1;
    const std::uint64_t sub = i % kSub;
    const std::uint64_t low = (static_cast<std::uint64_t>(kSub) + sub) << (e - kSubBits);
    const std::uint64_t width = 1ull << (e - kSubBits);
    return low + width / 2;
  }
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::uint64_t max_ = 0;
  double sum_ = 0;
};

/// The parts of a comma-separated list.
std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    const auto comma = list.find(',', start);
    parts.push_back(list.substr(start, comma - start));
    if (comma == std::string::npos) return parts;
    start = comma + 1;
  }
}

// ---- /proc ----

/// utime+stime of a whole process (all its threads), in seconds; negative when unreadable.
double proc_cpu_seconds(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  const auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  // fields after ")": state(3) ppid(4) ... utime(14) stime(15)
  unsigned long long utime = 0, stime = 0;
  for (int n = 3; n <= 15 && (fields >> field); ++n) {
    if (n == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

/// A "Name: N kB" line of /proc/PID/status (or smaps_rollup), in kB; -1 when unreadable.
long proc_kb(const std::string& pid, const char* file, const char* name) {
  std::ifstream in("/proc/" + pid + "/" + file);
  std::string line;
  const std::size_t n = std::strlen(name);
  while (std::getline(in, line)) {
    if (line.compare(0, n, name) == 0 && line.size() > n && line[n] == ':')
      return std::strtol(line.c_str() + n + 1, nullptr, 10);
  }
  return -1;
}

/// The sum over a comma-separated list of pids (a cluster's servers, and its Redis); negative
/// when one is unreadable.
double all_cpu_seconds(const std::string& pids) {
  double total = 0;
  for (const auto& pid : split(pids)) {
    const double one = proc_cpu_seconds(pid);
    if (one < 0) return -1;
    total += one;
  }
  return total;
}
long all_kb(const std::string& pids, const char* file, const char* name) {
  long total = 0;
  for (const auto& pid : split(pids)) {
    const long one = proc_kb(pid, file, name);
    if (one < 0) return -1;
    total += one;
  }
  return total;
}

// ---- options ----

struct Options {
  std::string mode = "fanout";
  std::string host = "127.0.0.1";
  std::string port;
  std::string path = "/socket.io/";
  int clients = 1000;
  int payload = 32;
  int inflight = -1;  // default by mode: fanout 16, echo 1
  double rate = 100000;
  double warmup = 5;
  double duration = 10;
  double drain = 10;
  double connect_timeout = 120;
  int connect_concurrency = 100;
  std::size_t read_buffer = 0;  // default by mode
  std::string server_pid;
  std::vector<std::string> source_addrs;
  bool auto_source = false;
  bool tls = false;
  bool msgpack = false;
  bool verbose = false;
};

[[noreturn]] void usage(const std::string& error) {
  std::cerr << "chat_loadgen: " << error << "\n"
            << "usage: chat_loadgen --port P [--host H] [--mode fanout|echo|rate|idle] [--clients C]\n"
               "       [--payload BYTES] [--inflight K] [--rate DELIVERIES_PER_S] [--warmup S]\n"
               "       [--duration S] [--drain S] [--server-pid PID] [--source-addrs A,B,..|auto]\n"
               "       [--connect-concurrency N] [--connect-timeout S] [--read-buffer BYTES] [--path P]\n"
               "       [--tls] [--msgpack] [--verbose]\n";
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--verbose") {
      o.verbose = true;
      continue;
    }
    if (flag == "--tls") {
#ifndef CHAT_LOADGEN_TLS
      usage("--tls: built without OpenSSL");
#endif
      o.tls = true;
      continue;
    }
    if (flag == "--msgpack") {
      o.msgpack = true;
      continue;
    }
    if (flag == "--help" || flag == "-h") usage("help");
    if (i + 1 >= argc) usage("missing value for " + flag);
    const std::string v = argv[++i];
    if (flag == "--mode") o.mode = v;
    else if (flag == "--host") o.host = v;
    else if (flag == "--port") o.port = v;
    else if (flag == "--path") o.path = v;
    else if (flag == "--clients") o.clients = std::stoi(v);
    else if (flag == "--payload") o.payload = std::stoi(v);
    else if (flag == "--inflight") o.inflight = std::stoi(v);
    else if (flag == "--rate") o.rate = std::stod(v);
    else if (flag == "--warmup") o.warmup = std::stod(v);
    else if (flag == "--duration") o.duration = std::stod(v);
    else if (flag == "--drain") o.drain = std::stod(v);
    else if (flag == "--connect-timeout") o.connect_timeout = std::stod(v);
    else if (flag == "--connect-concurrency") o.connect_concurrency = std::stoi(v);
    else if (flag == "--read-buffer") o.read_buffer = static_cast<std::size_t>(std::stoul(v));
    else if (flag == "--server-pid") o.server_pid = v;
    else if (flag == "--source-addrs") {
      if (v == "auto") {
        o.auto_source = true;
      } else {
        std::stringstream list(v);
        std::string addr;
        while (std::getline(list, addr, ',')) if (!addr.empty()) o.source_addrs.push_back(addr);
      }
    } else usage("unknown option " + flag);
  }
  if (o.port.empty()) usage("--port is required");
  if (o.mode != "fanout" && o.mode != "echo" && o.mode != "rate" && o.mode != "idle") usage("bad --mode " + o.mode);
  if (o.clients < 1) usage("--clients must be at least 1");
  if (o.inflight < 0) o.inflight = o.mode == "fanout" ? 16 : 1;
  if (o.inflight < 1) o.inflight = 1;
  if (o.payload < 16) o.payload = 16;  // the timestamp takes 16 digits
  if (o.read_buffer == 0) o.read_buffer = o.mode == "idle" ? 2048 : 16384;
  if (o.auto_source) {
    // Each source address has about 28k ephemeral ports towards one server address and port.
    const int n = std::max(1, (o.clients + 24999) / 25000);
    for (int i = 0; i < n; ++i) o.source_addrs.push_back("127.0.0." + std::to_string(1 + i));
  }
  return o;
}

// ---- the generator ----

class Generator;

enum class State { idle, connecting, upgrading, wait_open, wait_connect, ready, closed };

struct Client {
  Client(asio::io_context& io, int i) : socket(io), index(i) {}
  tcp::socket socket;  // while connecting; then released into `fd`
  int fd = -1;
#ifdef CHAT_LOADGEN_TLS
  SSL* ssl = nullptr;  // with --tls, over fd
#endif
  int index;
  State state = State::idle;
  int attempts = 0;
  unsigned generation = 0;  // bumped by each (re)connect: handlers of an older socket do nothing
  std::uint64_t connect_start = 0;
  std::vector<char> rbuf;
  std::size_t rbeg = 0, rend = 0;
  std::size_t need = 0;  // size of a frame that did not fit in the buffer
  std::string out;       // frames waiting to be written
  bool want_out = false; // waiting for EPOLLOUT (the socket's send buffer was full)
  bool epollout = false; // EPOLLOUT is in the socket's epoll interest
  bool dirty = false;    // in the generator's flush list
  std::string fragment;  // a fragmented message being reassembled
  int fragment_op = 0;
  std::uint64_t received = 0;  // 'message' events
  std::uint64_t acks = 0;
  std::uint64_t next_id = 0;
  std::uint32_t mask_state = 0;
};

class Generator {
 public:
  explicit Generator(Options o)
      : o_(std::move(o)), io_(1), timer_(io_), send_timer_(io_), watchdog_(io_), epoll_(io_) {
    epoch_ = now_ns();
    filler_.assign(static_cast<std::size_t>(o_.payload - 16), 'x');
    const int epfd = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
    epoll_.assign(epfd);
    events_.resize(1024);
#ifdef CHAT_LOADGEN_TLS
    if (o_.tls) {
      tls_ = SSL_CTX_new(TLS_client_method());
      SSL_CTX_set_min_proto_version(tls_, TLS1_2_VERSION);
      SSL_CTX_set_verify(tls_, SSL_VERIFY_NONE, nullptr);
      // A write that fills the socket is retried later from the same queue, which may have moved.
      SSL_CTX_set_mode(tls_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    }
#endif
  }

  int run() {
    tcp::resolver resolver(io_);
    std::error_code ec;
    // Several ports: the clients are dealt over them in turn (a cluster of servers), the
    // sender (client 0) on the first.
    for (const auto& port : split(o_.port)) {
      auto results = resolver.resolve(o_.host, port, ec);
      if (ec || results.empty()) {
        std::cerr << "chat_loadgen: cannot resolve " << o_.host << ":" << port << ": " << ec.message() << "\n";
        return 2;
      }
      endpoints_.push_back(results.begin()->endpoint());
    }
    for (const auto& addr : o_.source_addrs) sources_.push_back(asio::ip::make_address(addr));
    request_ = "GET " + o_.path + "?EIO=4&transport=websocket HTTP/1.1\r\nHost: " + o_.host + ":" + o_.port +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n";
    if (!o_.server_pid.empty()) {
      rss_baseline_kb_ = all_kb(o_.server_pid, "status", "VmRSS");
      pss_baseline_kb_ = all_kb(o_.server_pid, "smaps_rollup", "Pss");
    }
    clients_.reserve(static_cast<std::size_t>(o_.clients));
    for (int i = 0; i < o_.clients; ++i) clients_.push_back(std::make_unique<Client>(io_, i));
    connect_begin_ = now_ns();
    for (int i = 0; i < o_.clients && i < o_.connect_concurrency; ++i) start_next_connect();
    watchdog_.expires_after(std::chrono::milliseconds(static_cast<long>(o_.connect_timeout * 1000)));
    watchdog_.async_wait([this](std::error_code e) {
      if (e || started_) return;
      error_ = "connect timeout: " + std::to_string(ready_) + " of " + std::to_string(o_.clients) + " connected";
      finish();
    });
    arm_epoll();
    io_.run();
    report();
    return error_.empty() ? 0 : 1;
  }

 private:
  // ---- connecting ----

  void start_next_connect() {
    if (next_connect_ >= clients_.size()) return;
    Client& c = *clients_[next_connect_++];
    ++active_connects_;
    connect(c);
  }

  void connect(Client& c) {
    c.state = State::connecting;
    ++c.generation;
    c.connect_start = now_ns();
    c.rbuf.assign(o_.read_buffer, 0);
    c.rbeg = c.rend = 0;
    c.out.clear();
    c.want_out = false;
    c.epollout = false;
    c.fragment.clear();
    c.mask_state = 0x9e3779b9u ^ static_cast<std::uint32_t>(c.index * 2654435761u + c.attempts);
    std::error_code ec;
    close_socket(c);
    const tcp::endpoint& endpoint = endpoints_[static_cast<std::size_t>(c.index) % endpoints_.size()];
    c.socket.open(endpoint.protocol(), ec);
    if (!ec && !sources_.empty()) {
      const int one = 1;
      ::setsockopt(c.socket.native_handle(), IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
      c.socket.bind(tcp::endpoint(sources_[static_cast<std::size_t>(c.index) % sources_.size()], 0), ec);
    }
    if (ec) return connect_failed(c, "socket: " + ec.message());
    c.socket.async_connect(endpoint, [this, &c, gen = c.generation](std::error_code e) {
      if (gen != c.generation) return;
      if (e) return connect_failed(c, "connect: " + e.message());
      std::error_code ec2;
      c.socket.set_option(tcp::no_delay(true), ec2);
      c.fd = c.socket.release(ec2);
      if (ec2 || c.fd < 0) return connect_failed(c, "release: " + ec2.message());
#ifdef CHAT_LOADGEN_TLS
      if (tls_) {
        std::string why = handshake(c);
        if (!why.empty()) return connect_failed(c, "TLS handshake: " + why);
      }
#endif
      ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) | O_NONBLOCK);
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
      ev.data.u64 = tag(c);
      if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, c.fd, &ev) != 0)
        return connect_failed(c, std::string("epoll_ctl: ") + std::strerror(errno));
      c.state = State::upgrading;
      c.out = request_;
      mark_dirty(c);
      flush_dirty();
    });
  }

#ifdef CHAT_LOADGEN_TLS
  /// The TLS handshake on c.fd, blocking (bounded by a socket timeout). Empty when it succeeded.
  std::string handshake(Client& c) {
    ::fcntl(c.fd, F_SETFL, ::fcntl(c.fd, F_GETFL) & ~O_NONBLOCK);
    timeval limit{10, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    c.ssl = SSL_new(tls_);
    SSL_set_fd(c.ssl, c.fd);
    SSL_set_tlsext_host_name(c.ssl, o_.host.c_str());
    if (SSL_connect(c.ssl) == 1) return "";
    char error[256];
    ERR_error_string_n(ERR_get_error(), error, sizeof error);
    return error;
  }

  /// SSL_read or SSL_write's result as recv and send give it: bytes, or -1 with errno EAGAIN
  /// when OpenSSL waits for the socket, or -1 with errno EPROTO (0 for a closed connection).
  static ssize_t tls_result(SSL* ssl, int result) {
    if (result > 0) return result;
    switch (SSL_get_error(ssl, result)) {
      case SSL_ERROR_WANT_READ:
      case SSL_ERROR_WANT_WRITE:
        errno = EAGAIN;
        return -1;
      case SSL_ERROR_ZERO_RETURN:
        return 0;
      default:
        errno = EPROTO;
        return -1;
    }
  }
#endif

  /// recv, through TLS with --tls.
  ssize_t receive(Client& c, char* into, std::size_t size) {
#ifdef CHAT_LOADGEN_TLS
    if (c.ssl) return tls_result(c.ssl, SSL_read(c.ssl, into, static_cast<int>(std::min<std::size_t>(size, INT_MAX))));
#endif
    return ::recv(c.fd, into, size, 0);
  }

  /// send, through TLS with --tls.
  ssize_t transmit(Client& c, const char* data, std::size_t size) {
#ifdef CHAT_LOADGEN_TLS
    if (c.ssl) return tls_result(c.ssl, SSL_write(c.ssl, data, static_cast<int>(std::min<std::size_t>(size, INT_MAX))));
#endif
    return ::send(c.fd, data, size, MSG_NOSIGNAL);
  }

  void connect_failed(Client& c, const std::string& why) {
    ++c.generation;  // whatever is still pending on this socket is stale now
    close_socket(c);
    if (++c.attempts < 5 && !finished_) {
      ++retries_;
      auto timer = std::make_shared<asio::steady_timer>(io_, std::chrono::milliseconds(100 * c.attempts));
      timer->async_wait([this, &c, timer](std::error_code) {
        if (!finished_) connect(c);
      });
      return;
    }
    c.state = State::closed;
    ++failed_;
    if (last_connect_error_.empty()) last_connect_error_ = why;
    connect_settled();
  }

  void on_ready(Client& c) {
    c.state = State::ready;
    ++ready_;
    ++connected_now_;
    connect_ns_total_ += now_ns() - c.connect_start;
    connect_settled();
  }

  void connect_settled() {
    --active_connects_;
    start_next_connect();
    if (!started_ && ready_ + failed_ == static_cast<std::size_t>(o_.clients)) {
      started_ = true;
      connect_end_ = now_ns();
      watchdog_.cancel();
      if (ready_ == 0) {
        error_ = "no client connected (" + last_connect_error_ + ")";
        return finish();
      }
      if (failed_ > 0) error_ = std::to_string(failed_) + " clients failed to connect (" + last_connect_error_ + ")";
      if (o_.verbose) std::cerr << "chat_loadgen: " << ready_ << " connected\n";
      start_load();
    }
  }

  // ---- the load ----

  void start_load() {
    sending_ = o_.mode != "idle";
    if (o_.mode == "fanout") {
      sender_ = first_ready();
      for (int k = 0; k < o_.inflight; ++k) send_broadcast(now_ns() - epoch_);
    } else if (o_.mode == "echo") {
      for (auto& c : clients_)
        if (c->state == State::ready)
          for (int k = 0; k < o_.inflight; ++k) send_echo(*c);
    } else if (o_.mode == "rate") {
      sender_ = first_ready();
      interval_ns_ = static_cast<double>(ready_) * 1e9 / o_.rate;
      next_due_ = static_cast<double>(now_ns() - epoch_);
      schedule_sends();
    }
    flush_dirty();
    timer_.expires_after(std::chrono::microseconds(static_cast<long>(o_.warmup * 1e6)));
    timer_.async_wait([this](std::error_code e) {
      if (!e) begin_window();
    });
  }

  Client* first_ready() {
    for (auto& c : clients_)
      if (c->state == State::ready) return c.get();
    return nullptr;
  }

  void begin_window() {
    if (!o_.server_pid.empty()) {
      server_cpu0_ = all_cpu_seconds(o_.server_pid);
      rss_connected_kb_ = all_kb(o_.server_pid, "status", "VmRSS");
      pss_connected_kb_ = all_kb(o_.server_pid, "smaps_rollup", "Pss");
    }
    gen_cpu0_ = proc_cpu_seconds("self");
    window_start_ = now_ns();
    measuring_ = true;
    timer_.expires_after(std::chrono::microseconds(static_cast<long>(o_.duration * 1e6)));
    timer_.async_wait([this](std::error_code e) {
      if (!e) end_window();
    });
  }

  void end_window() {
    measuring_ = false;
    sending_ = false;
    window_end_ = now_ns();
    gen_cpu1_ = proc_cpu_seconds("self");
    if (!o_.server_pid.empty()) {
      server_cpu1_ = all_cpu_seconds(o_.server_pid);
      rss_end_kb_ = all_kb(o_.server_pid, "status", "VmRSS");
      pss_end_kb_ = all_kb(o_.server_pid, "smaps_rollup", "Pss");
    }
    send_timer_.cancel();
    drain_deadline_ = now_ns() + static_cast<std::uint64_t>(o_.drain * 1e9);
    if (o_.mode == "idle") return finish();
    check_drained();
  }

  void check_drained() {
    if (drained() || now_ns() >= drain_deadline_ || connected_now_ == 0) return finish();
    timer_.expires_after(std::chrono::milliseconds(20));
    timer_.async_wait([this](std::error_code e) {
      if (!e) check_drained();
    });
  }

  bool drained() const {
    if (o_.mode == "echo") return acks_total_ >= echo_sent_;
    return received_total_ >= broadcasts_sent_ * static_cast<std::uint64_t>(ready_);
  }

  void finish() {
    if (finished_) return;
    finished_ = true;
    timer_.cancel();
    send_timer_.cancel();
    watchdog_.cancel();
    // What is still connected at the end, before we close anything.
    still_connected_ = 0;
    for (auto& c : clients_)
      if (c->state == State::ready) ++still_connected_;
    for (auto& c : clients_) close_socket(*c);
    io_.stop();
  }

  std::string stamped_payload(std::uint64_t ts) {
    char digits[17];
    std::snprintf(digits, sizeof digits, "%016" PRIu64, ts);
    return std::string(digits, 16) + filler_;
  }

  // ---- socket.io-msgpack-parser's packets, by hand ----

  static void msgpack_str(std::string& out, std::string_view text) {
    const std::size_t n = text.size();
    if (n < 32) out += static_cast<char>(0xa0 | n);
    else if (n < 256) out += {'\xd9', static_cast<char>(n)};
    else out += {'\xda', static_cast<char>(n >> 8), static_cast<char>(n)};
    out.append(text);
  }

  static void msgpack_uint(std::string& out, std::uint64_t v) {
    if (v < 0x80) {
      out += static_cast<char>(v);
      return;
    }
    out += '\xcf';
    for (int i = 7; i >= 0; --i) out += static_cast<char>(v >> (8 * i));
  }

  /// {type: 2, data: [event, payload], nsp: "/"} (and id when given).
  static std::string msgpack_event(std::string_view event, std::string_view payload, const std::uint64_t* id) {
    std::string out;
    out += static_cast<char>(0x80 | (id ? 4 : 3));
    out += "\xa4type\x02\xa4" "data\x92";
    msgpack_str(out, event);
    msgpack_str(out, payload);
    if (id) {
      out += "\xa2id";
      msgpack_uint(out, *id);
    }
    out += "\xa3nsp\xa1/";
    return out;
  }

  void send_binary(Client& c, const std::string& bytes) { send_frame(c, 0x2, bytes.data(), bytes.size()); }

  void send_broadcast(std::uint64_t ts) {
    if (!sender_) return;
    if (o_.msgpack) {
      send_binary(*sender_, msgpack_event("message", stamped_payload(ts), nullptr));
    } else {
      const std::string text = "42[\"message\",\"" + stamped_payload(ts) + "\"]";
      send_text(*sender_, text.data(), text.size());
    }
    ++broadcasts_sent_;
    if (measuring_) ++window_sent_;
  }

  void send_echo(Client& c) {
    if (o_.msgpack) {
      const std::uint64_t id = c.next_id++;
      send_binary(c, msgpack_event("echo", stamped_payload(now_ns() - epoch_), &id));
    } else {
      const std::string text =
          "42" + std::to_string(c.next_id++) + "[\"echo\",\"" + stamped_payload(now_ns() - epoch_) + "\"]";
      send_text(c, text.data(), text.size());
    }
    ++echo_sent_;
    if (measuring_) ++window_sent_;
  }

  void schedule_sends() {
    if (!sending_) return;
    const std::uint64_t now = now_ns() - epoch_;
    while (next_due_ <= static_cast<double>(now) && sending_) {
      const auto due = static_cast<std::uint64_t>(next_due_);
      const std::uint64_t late = now - due;
      if (measuring_ && late > max_send_lateness_) max_send_lateness_ = late;
      send_broadcast(due);
      next_due_ += interval_ns_;
    }
    flush_dirty();
    send_timer_.expires_at(std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(static_cast<std::uint64_t>(next_due_) + epoch_)));
    send_timer_.async_wait([this](std::error_code e) {
      if (!e) schedule_sends();
    });
  }

  // ---- WebSocket I/O ----

  static std::uint64_t tag(const Client& c) {
    return (static_cast<std::uint64_t>(c.generation) << 32) | static_cast<std::uint32_t>(c.index);
  }

  void close_socket(Client& c) {
#ifdef CHAT_LOADGEN_TLS
    if (c.ssl) {
      SSL_free(c.ssl);
      c.ssl = nullptr;
    }
#endif
    if (c.fd >= 0) {
      ::close(c.fd);  // also leaves the epoll set
      c.fd = -1;
    }
    std::error_code ignored;
    if (c.socket.is_open()) c.socket.close(ignored);
  }

  /// The io_context wakes us when the epoll set has ready sockets.
  void arm_epoll() {
    epoll_.async_wait(asio::posix::stream_descriptor::wait_read, [this](std::error_code e) {
      if (e || finished_) return;
      poll_sockets();
      if (!finished_) arm_epoll();
    });
  }

  void poll_sockets() {
    for (;;) {
      const int n = ::epoll_wait(epoll_.native_handle(), events_.data(), static_cast<int>(events_.size()), 0);
      for (int i = 0; i < n && !finished_; ++i) {
        const std::uint64_t t = events_[static_cast<std::size_t>(i)].data.u64;
        const std::uint32_t ev = events_[static_cast<std::size_t>(i)].events;
        Client& c = *clients_[static_cast<std::uint32_t>(t)];
        if (t != tag(c) || c.fd < 0) continue;  // an event of an older socket of this client
        if ((ev & EPOLLOUT) && c.want_out) {
          c.want_out = false;
          mark_dirty(c);
        }
        if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) drain(c);
      }
      flush_dirty();
      if (n < static_cast<int>(events_.size()) || finished_) return;
    }
  }

  /// Reads until the socket is empty (a short read), parsing as it goes. False when the client is
  /// gone.
  bool drain(Client& c) {
    for (;;) {
      // Room for at least 1 KB more, or for the whole frame being read.
      if (c.rbeg == c.rend) c.rbeg = c.rend = 0;
      if (c.rbuf.size() - c.rend < 1024 || c.need > c.rbuf.size() - c.rbeg) {
        if (c.rbeg > 0) {
          std::memmove(c.rbuf.data(), c.rbuf.data() + c.rbeg, c.rend - c.rbeg);
          c.rend -= c.rbeg;
          c.rbeg = 0;
        }
        std::size_t want = std::max(c.rbuf.size(), c.need + 1024);
        if (c.rbuf.size() - c.rend < 1024) want = std::max(want, c.rbuf.size() * 2);
        if (want > c.rbuf.size()) c.rbuf.resize(want);
      }
      c.need = 0;
      const std::size_t space = c.rbuf.size() - c.rend;
      const ssize_t n = receive(c, c.rbuf.data() + c.rend, space);
      if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
        if (errno == EINTR) continue;
        lost(c, std::string("recv: ") + std::strerror(errno));
        return false;
      }
      if (n == 0) {
        lost(c, "connection closed by the server");
        return false;
      }
      c.rend += static_cast<std::size_t>(n);
      if (!process(c)) return false;
      if (static_cast<std::size_t>(n) < space && !o_.tls) return true;
    }
  }

  /// Parses what was read. Returns false when the client is gone.
  bool process(Client& c) {
    char* buf = c.rbuf.data();
    if (c.state == State::upgrading) {
      const char* end = buf + c.rend;
      const char* head_end = nullptr;
      for (const char* p = buf + c.rbeg; p + 3 < end; ++p)
        if (p[0] == '\r' && p[1] == '\n' && p[2] == '\r' && p[3] == '\n') {
          head_end = p + 4;
          break;
        }
      if (!head_end) return true;
      if (std::strncmp(buf + c.rbeg, "HTTP/1.1 101", 12) != 0) {
        const std::string status(buf + c.rbeg, std::min<std::size_t>(40, static_cast<std::size_t>(head_end - buf)));
        connect_failed(c, "upgrade refused: " + status.substr(0, status.find('\r')));
        return false;
      }
      c.rbeg = static_cast<std::size_t>(head_end - buf);
      c.state = State::wait_open;
    }
    const std::uint64_t now = now_ns();
    while (c.rend - c.rbeg >= 2) {
      const auto* h = reinterpret_cast<const unsigned char*>(buf + c.rbeg);
      const std::size_t avail = c.rend - c.rbeg;
      std::size_t header = 2;
      std::uint64_t len = h[1] & 0x7f;
      if (len == 126) {
        if (avail < 4) break;
        len = (static_cast<std::uint64_t>(h[2]) << 8) | h[3];
        header = 4;
      } else if (len == 127) {
        if (avail < 10) break;
        len = 0;
        for (int i = 2; i < 10; ++i) len = (len << 8) | h[i];
        header = 10;
      }
      const bool masked = (h[1] & 0x80) != 0;
      if (masked) header += 4;
      if (avail < header + len) {
        c.need = static_cast<std::size_t>(header + len);
        break;
      }
      char* payload = buf + c.rbeg + header;
      if (masked) {
        const unsigned char* key = h + header - 4;
        for (std::uint64_t i = 0; i < len; ++i) payload[i] = static_cast<char>(payload[i] ^ key[i & 3]);
      }
      c.rbeg += header + static_cast<std::size_t>(len);
      if (!on_frame(c, (h[0] & 0x80) != 0, h[0] & 0x0f, payload, static_cast<std::size_t>(len), now)) return false;
      buf = c.rbuf.data();
    }
    if (c.rbeg == c.rend) c.rbeg = c.rend = 0;
    return true;
  }

  bool on_frame(Client& c, bool fin, int op, const char* p, std::size_t n, std::uint64_t now) {
    switch (op) {
      case 0x0:  // continuation
        c.fragment.append(p, n);
        if (!fin) return true;
        if (c.fragment_op == 0x1 || c.fragment_op == 0x2) {
          const std::string whole = std::move(c.fragment);
          c.fragment.clear();
          if (c.fragment_op == 0x2) return on_binary(c, whole.data(), whole.size(), now);
          return on_text(c, whole.data(), whole.size(), now);
        }
        c.fragment.clear();
        return true;
      case 0x1:
        if (!fin) {
          c.fragment_op = op;
          c.fragment.assign(p, n);
          return true;
        }
        return on_text(c, p, n, now);
      case 0x2:
        if (!fin) {
          c.fragment_op = op;
          c.fragment.assign(p, n);
          return true;
        }
        return on_binary(c, p, n, now);
      case 0x8:
        lost(c, "close frame");
        return false;
      case 0x9:
        send_frame(c, 0xA, p, n);
        return true;
      default:
        return true;
    }
  }

  /// The timestamp of a msgpack packet: its first run of 16 digits (the payload's start).
  static std::uint64_t msgpack_timestamp_in(const char* p, std::size_t n) {
    std::size_t run = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (p[i] < '0' || p[i] > '9') {
        run = 0;
        continue;
      }
      if (++run == 16) {
        std::uint64_t v = 0;
        for (std::size_t j = i + 1 - 16; j <= i; ++j) v = v * 10 + static_cast<std::uint64_t>(p[j] - '0');
        return v;
      }
    }
    return 0;
  }

  /// A socket.io-msgpack-parser packet (--msgpack): its type is the fixint after the "type" key
  /// (servers order the keys differently: Node writes an ack's id first).
  bool on_binary(Client& c, const char* p, std::size_t n, std::uint64_t now) {
    if (!o_.msgpack) return true;
    static constexpr std::string_view key = "\xa4type";
    const std::string_view bytes(p, n);
    const std::size_t at = bytes.find(key);
    if (at == std::string_view::npos || at + key.size() >= n) return true;
    switch (p[at + key.size()]) {
      case 0:
        if (c.state == State::wait_connect) on_ready(c);
        return true;
      case 1:
        lost(c, "socket.io disconnect");
        return false;
      case 2:
        on_event(c, p, n, now);
        return true;
      case 3:
        on_ack(c, p, n, now);
        return true;
      case 4:
        if (c.state == State::wait_connect) {
          connect_failed(c, "connect error (msgpack)");
          return false;
        }
        return true;
      default:
        return true;
    }
  }

  static std::uint64_t timestamp_in(const char* p, std::size_t n) {
    // The first string argument that starts with a digit: 16 digits of nanoseconds.
    for (std::size_t i = 0; i + 1 < n; ++i) {
      if (p[i] == '"' && p[i + 1] >= '0' && p[i + 1] <= '9') {
        std::uint64_t v = 0;
        for (std::size_t j = i + 1; j < n && p[j] >= '0' && p[j] <= '9'; ++j) v = v * 10 + static_cast<std::uint64_t>(p[j] - '0');
        return v;
      }
    }
    return 0;
  }

  bool on_text(Client& c, const char* p, std::size_t n, std::uint64_t now) {
    if (n == 0) return true;
    switch (p[0]) {
      case '0':
        if (c.state == State::wait_open) {
          if (o_.msgpack) send_binary(c, std::string("\x82\xa4type\x00\xa3nsp\xa1/", 13));
          else send_text(c, "40", 2);
          c.state = State::wait_connect;
        }
        return true;
      case '2':
        send_text(c, "3", 1);
        ++pings_answered_;
        return true;
      case '1':
        lost(c, "engine.io close");
        return false;
      case '4':
        if (n < 2) return true;
        switch (p[1]) {
          case '0':
            if (c.state == State::wait_connect) on_ready(c);
            return true;
          case '2':
            on_event(c, p, n, now);
            return true;
          case '3':
            on_ack(c, p, n, now);
            return true;
          case '1':
            lost(c, "socket.io disconnect");
            return false;
          case '4':
            if (c.state == State::wait_connect) {
              connect_failed(c, "connect error: " + std::string(p, std::min<std::size_t>(n, 80)));
              return false;
            }
            return true;
          default:
            return true;
        }
      default:
        return true;
    }
  }

  void on_event(Client& c, const char* p, std::size_t n, std::uint64_t now) {
    ++c.received;
    ++received_total_;
    if (measuring_) {
      ++window_ops_;
      const std::uint64_t ts = o_.msgpack ? msgpack_timestamp_in(p, n) : timestamp_in(p, n);
      const std::uint64_t t = now - epoch_;
      latency_.record(t > ts ? t - ts : 0);
    }
    if (&c == sender_ && o_.mode == "fanout" && sending_) send_broadcast(now - epoch_);
  }

  void on_ack(Client& c, const char* p, std::size_t n, std::uint64_t now) {
    ++c.acks;
    ++acks_total_;
    if (measuring_) {
      ++window_ops_;
      const std::uint64_t ts = o_.msgpack ? msgpack_timestamp_in(p, n) : timestamp_in(p, n);
      const std::uint64_t t = now - epoch_;
      latency_.record(t > ts ? t - ts : 0);
    }
    if (sending_ && o_.mode == "echo") send_echo(c);
  }

  void send_text(Client& c, const char* p, std::size_t n) { send_frame(c, 0x1, p, n); }

  void send_frame(Client& c, int op, const char* p, std::size_t n) {
    unsigned char h[14];
    std::size_t hn = 0;
    h[hn++] = static_cast<unsigned char>(0x80 | op);
    if (n < 126) {
      h[hn++] = static_cast<unsigned char>(0x80 | n);
    } else if (n < 65536) {
      h[hn++] = 0x80 | 126;
      h[hn++] = static_cast<unsigned char>(n >> 8);
      h[hn++] = static_cast<unsigned char>(n);
    } else {
      h[hn++] = 0x80 | 127;
      for (int i = 7; i >= 0; --i) h[hn++] = static_cast<unsigned char>(static_cast<std::uint64_t>(n) >> (8 * i));
    }
    // xorshift32: a fresh masking key per frame (client frames must be masked).
    std::uint32_t x = c.mask_state ? c.mask_state : 0x1234567u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    c.mask_state = x;
    unsigned char key[4] = {static_cast<unsigned char>(x), static_cast<unsigned char>(x >> 8),
                            static_cast<unsigned char>(x >> 16), static_cast<unsigned char>(x >> 24)};
    std::memcpy(h + hn, key, 4);
    hn += 4;
    const std::size_t at = c.out.size();
    c.out.append(reinterpret_cast<const char*>(h), hn);
    c.out.append(p, n);
    char* q = &c.out[at + hn];
    for (std::size_t i = 0; i < n; ++i) q[i] = static_cast<char>(q[i] ^ key[i & 3]);
    mark_dirty(c);
  }

  void mark_dirty(Client& c) {
    if (c.dirty) return;
    c.dirty = true;
    dirty_.push_back(&c);
  }

  /// Writes what each client has queued: directly when the socket takes it, else asynchronously.
  void flush_dirty() {
    // flush() cannot add to dirty_ (only send_frame does), so iterating by index is safe.
    for (std::size_t i = 0; i < dirty_.size(); ++i) {
      Client& c = *dirty_[i];
      c.dirty = false;
      flush(c);
    }
    dirty_.clear();
  }

  void flush(Client& c) {
    if (c.want_out || c.out.empty() || c.fd < 0) return;
    std::size_t done = 0;
    while (done < c.out.size()) {
      const ssize_t n = transmit(c, c.out.data() + done, c.out.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        return lost(c, std::string("send: ") + std::strerror(errno));
      }
      done += static_cast<std::size_t>(n);
    }
    c.out.erase(0, done);
    if (c.out.empty()) {
      if (c.epollout) {
        c.epollout = false;
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
        ev.data.u64 = tag(c);
        ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_MOD, c.fd, &ev);
      }
      return;
    }
    // The send buffer is full: wait for EPOLLOUT.
    c.want_out = true;
    if (!c.epollout) {
      c.epollout = true;
      epoll_event ev{};
      ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
      ev.data.u64 = tag(c);
      ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_MOD, c.fd, &ev);
    }
  }

  void lost(Client& c, const std::string& why) {
    if (c.state == State::closed) return;
    if (finished_) {
      c.state = State::closed;
      return;
    }
    if (c.state != State::ready) {
      // Still connecting: retry.
      connect_failed(c, why);
      return;
    }
    c.state = State::closed;
    --connected_now_;
    ++disconnects_;
    if (last_disconnect_.empty()) last_disconnect_ = why;
    ++c.generation;
    close_socket(c);
    if (connected_now_ == 0 && started_) finish();
  }

  // ---- the report ----

  void report() {
    const double window_s = window_end_ > window_start_ ? static_cast<double>(window_end_ - window_start_) / 1e9 : 0;
    const std::uint64_t expected =
        o_.mode == "echo" ? echo_sent_ : (o_.mode == "idle" ? 0 : broadcasts_sent_ * static_cast<std::uint64_t>(ready_));
    const std::uint64_t got = o_.mode == "echo" ? acks_total_ : received_total_;
    std::ostringstream j;
    j.setf(std::ios::fixed);
    j.precision(3);
    j << "{\"mode\":\"" << o_.mode << "\",\"clients\":" << o_.clients << ",\"connected\":" << ready_
      << ",\"connect_failures\":" << failed_ << ",\"connect_retries\":" << retries_ << ",\"payload\":" << o_.payload
      << ",\"inflight\":" << o_.inflight;
    if (o_.mode == "rate") j << ",\"rate_target\":" << o_.rate;
    j << ",\"warmup_s\":" << o_.warmup << ",\"window_s\":" << window_s;
    if (connect_end_ > connect_begin_ && ready_ > 0) {
      const double connect_s = static_cast<double>(connect_end_ - connect_begin_) / 1e9;
      j << ",\"connect_s\":" << connect_s << ",\"connects_per_s\":" << static_cast<double>(ready_) / connect_s
        << ",\"connect_mean_ms\":" << static_cast<double>(connect_ns_total_) / static_cast<double>(ready_) / 1e6;
    }
    if (o_.mode != "idle") {
      const double per_s = window_s > 0 ? static_cast<double>(window_ops_) / window_s : 0;
      j << ",\"sent\":" << (o_.mode == "echo" ? echo_sent_ : broadcasts_sent_) << ",\"expected\":" << expected
        << ",\"received\":" << got << ",\"lost\":" << (expected > got ? expected - got : 0)
        << ",\"extra\":" << (got > expected ? got - expected : 0) << ",\"window_sent\":" << window_sent_
        << ",\"window_ops\":" << window_ops_ << ",\"ops_per_s\":" << per_s;
      j << ",\"latency_us\":{\"count\":" << latency_.count() << ",\"mean\":" << latency_.mean() / 1e3
        << ",\"p50\":" << static_cast<double>(latency_.quantile(0.50)) / 1e3
        << ",\"p90\":" << static_cast<double>(latency_.quantile(0.90)) / 1e3
        << ",\"p99\":" << static_cast<double>(latency_.quantile(0.99)) / 1e3
        << ",\"p999\":" << static_cast<double>(latency_.quantile(0.999)) / 1e3
        << ",\"max\":" << static_cast<double>(latency_.max()) / 1e3 << "}";
      if (o_.mode == "rate") j << ",\"max_send_lateness_us\":" << static_cast<double>(max_send_lateness_) / 1e3;
    }
    if (window_s > 0 && server_cpu1_ >= 0 && server_cpu0_ >= 0 && !o_.server_pid.empty()) {
      const double cpu = server_cpu1_ - server_cpu0_;
      j << ",\"server_cpu_s\":" << cpu << ",\"server_cpu_pct\":" << 100.0 * cpu / window_s;
      if (window_ops_ > 0) j << ",\"server_cpu_us_per_op\":" << cpu * 1e6 / static_cast<double>(window_ops_);
    }
    if (window_s > 0 && gen_cpu1_ >= 0) j << ",\"gen_cpu_pct\":" << 100.0 * (gen_cpu1_ - gen_cpu0_) / window_s;
    j << ",\"pings_answered\":" << pings_answered_ << ",\"disconnects\":" << disconnects_
      << ",\"still_connected\":" << still_connected_;
    if (!o_.server_pid.empty()) {
      j << ",\"rss_baseline_kb\":" << rss_baseline_kb_ << ",\"rss_connected_kb\":" << rss_connected_kb_
        << ",\"rss_end_kb\":" << rss_end_kb_ << ",\"pss_baseline_kb\":" << pss_baseline_kb_
        << ",\"pss_connected_kb\":" << pss_connected_kb_ << ",\"pss_end_kb\":" << pss_end_kb_;
      if (ready_ > 0 && rss_end_kb_ > 0 && rss_baseline_kb_ > 0)
        j << ",\"rss_per_conn_bytes\":"
          << static_cast<double>(rss_end_kb_ - rss_baseline_kb_) * 1024.0 / static_cast<double>(ready_);
    }
    if (!last_disconnect_.empty()) j << ",\"first_disconnect\":\"" << escape(last_disconnect_) << "\"";
    j << ",\"error\":" << (error_.empty() ? std::string("null") : "\"" + escape(error_) + "\"") << "}";
    std::cout << j.str() << std::endl;
  }

  static std::string escape(const std::string& s) {
    std::string r;
    for (char ch : s) {
      if (ch == '"' || ch == '\\') r += '\\';
      if (static_cast<unsigned char>(ch) < 0x20) continue;
      r += ch;
    }
    return r;
  }

  Options o_;
#ifdef CHAT_LOADGEN_TLS
  SSL_CTX* tls_ = nullptr;  // with --tls; lives as long as the process
#endif
  asio::io_context io_;
  asio::steady_timer timer_, send_timer_, watchdog_;
  asio::posix::stream_descriptor epoll_;  // the generator's own epoll set of connected sockets
  std::vector<epoll_event> events_;
  std::vector<tcp::endpoint> endpoints_;
  std::vector<asio::ip::address> sources_;
  std::string request_;
  std::string filler_;
  std::uint64_t epoch_ = 0;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> dirty_;

  std::size_t next_connect_ = 0;
  int active_connects_ = 0;
  std::size_t ready_ = 0, failed_ = 0, retries_ = 0;
  std::size_t connected_now_ = 0, still_connected_ = 0, disconnects_ = 0;
  std::uint64_t connect_begin_ = 0, connect_end_ = 0, connect_ns_total_ = 0;
  std::string last_connect_error_, last_disconnect_, error_;
  bool started_ = false, sending_ = false, measuring_ = false, finished_ = false;

  Client* sender_ = nullptr;
  double interval_ns_ = 0, next_due_ = 0;
  std::uint64_t max_send_lateness_ = 0;
  std::uint64_t broadcasts_sent_ = 0, echo_sent_ = 0, window_sent_ = 0;
  std::uint64_t received_total_ = 0, acks_total_ = 0, window_ops_ = 0, pings_answered_ = 0;
  std::uint64_t window_start_ = 0, window_end_ = 0, drain_deadline_ = 0;
  double server_cpu0_ = -1, server_cpu1_ = -1, gen_cpu0_ = -1, gen_cpu1_ = -1;
  long rss_baseline_kb_ = -1, rss_connected_kb_ = -1, rss_end_kb_ = -1;
  long pss_baseline_kb_ = -1, pss_connected_kb_ = -1, pss_end_kb_ = -1;
  Histogram latency_;
};

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  try {
    Generator generator(std::move(options));
    return generator.run();
  } catch (const std::exception& e) {
    std::cerr << "chat_loadgen: " << e.what() << "\n";
    return 2;
  }
}
