// A TCP socket on its way from one io_context to another, as a bare OS handle that closes itself.
#ifndef CHAT_DETAIL_NATIVE_SOCKET_HPP
#define CHAT_DETAIL_NATIVE_SOCKET_HPP

#include <utility>  // exchange

#include <asio/ip/tcp.hpp>

#ifdef _WIN32
#include <winsock2.h>  // closesocket
#else
#include <unistd.h>  // close
#endif

namespace chat::detail {

/// An accepted TCP connection released from the io_context that accepted it (ShardedServer's
/// router) and not yet adopted by the one that will serve it. Why a class: the hand-off is a
/// posted handler, and a handler an io_context destroys unrun (it stopped first) must still
/// close the connection rather than leak it.
class NativeSocket {
 public:
  using Handle = asio::ip::tcp::socket::native_handle_type;

  NativeSocket(asio::ip::tcp protocol, Handle handle) : protocol_(protocol), handle_(handle) {}
  NativeSocket(NativeSocket&& other) noexcept
      : protocol_(other.protocol_), handle_(std::exchange(other.handle_, invalid())) {}
  NativeSocket& operator=(NativeSocket&& other) noexcept {
    if (this != &other) {
      close();
      protocol_ = other.protocol_;
      handle_ = std::exchange(other.handle_, invalid());
    }
    return *this;
  }
  NativeSocket(const NativeSocket&) = delete;
  NativeSocket& operator=(const NativeSocket&) = delete;
  ~NativeSocket() { close(); }

  const asio::ip::tcp& protocol() const { return protocol_; }
  Handle handle() const { return handle_; }
  /// Gives up ownership: the caller closes the handle from now on.
  Handle release() { return std::exchange(handle_, invalid()); }

  void close() {
    if (handle_ == invalid()) return;
#ifdef _WIN32
    ::closesocket(handle_);
#else
    ::close(handle_);
#endif
    handle_ = invalid();
  }

 private:
  static Handle invalid() { return Handle(-1); }

  asio::ip::tcp protocol_;
  Handle handle_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_NATIVE_SOCKET_HPP
