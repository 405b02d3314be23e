// A real redis-server for a test: Debian's binary on a free loopback port, with no persistence,
// stopped (and restartable on the same port) by the test.
#ifndef CHAT_TESTS_REDIS_SERVER_HPP
#define CHAT_TESTS_REDIS_SERVER_HPP

#include <arpa/inet.h>
#include <csignal>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <thread>

namespace redis_test {

/// A TCP port nothing listens on now (the kernel's pick for port 0).
inline std::uint16_t free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t size = sizeof address;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size) != 0) {
    ::close(fd);
    throw std::runtime_error("no free port");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

inline bool accepts(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  ::close(fd);
  return ok;
}

class RedisServer {
 public:
  /// Starts redis-server (CHAT_REDIS_SERVER, or redis-server on the PATH), with `requirepass`
  /// when `password` is not empty.
  explicit RedisServer(std::string password = {}) : port_(free_port()), password_(std::move(password)) { start(); }
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  std::uint16_t port() const { return port_; }
  std::string url() const {
    return "redis://" + (password_.empty() ? std::string() : ":" + password_ + "@") + "127.0.0.1:" + std::to_string(port_);
  }

  void start() {
    if (pid_ > 0) return;
    const char* configured = std::getenv("CHAT_REDIS_SERVER");
    const std::string binary = configured && *configured ? configured : "redis-server";
    const std::string port = std::to_string(port_);
    pid_ = ::fork();
    if (pid_ == 0) {
      // Its log (warnings about this machine's memory settings) would bury the tests' output.
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, STDOUT_FILENO);
      if (password_.empty())
        ::execlp(binary.c_str(), binary.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--loglevel", "warning", static_cast<char*>(nullptr));
      else
        ::execlp(binary.c_str(), binary.c_str(), "--port", port.c_str(), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--loglevel", "warning", "--requirepass", password_.c_str(),
                 static_cast<char*>(nullptr));
      std::_Exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepts(port_)) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw std::runtime_error(binary + " did not start (is Debian's redis-server installed? scripts/setup installs it)");
      }
      if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error(binary + " did not listen within 10 s");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  /// Kills the server at once (SIGKILL: connections drop without a goodbye).
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  std::uint16_t port_;
  std::string password_;
  pid_t pid_ = -1;
};

}  // namespace redis_test

#endif  // CHAT_TESTS_REDIS_SERVER_HPP
