// Passing an accepted TCP connection's descriptor from one process to another over a Unix
// socket (SCM_RIGHTS): how WorkerProcesses' supervisor hands connections to its workers.
// POSIX only.
#ifndef CHAT_DETAIL_DESCRIPTOR_PASSING_HPP
#define CHAT_DETAIL_DESCRIPTOR_PASSING_HPP

#include <cerrno>   // errno, EAGAIN, EINTR
#include <cstring>  // memcpy, memset

#include <fcntl.h>       // fcntl, O_NONBLOCK
#include <sys/socket.h>  // sendmsg, recvmsg, socketpair, SCM_RIGHTS
#include <unistd.h>      // close

namespace chat::detail {

/// Sends `descriptor` (a TCP connection) over the Unix stream socket `channel`, with one byte
/// that says its address family, without blocking and without SIGPIPE. Returns 0, or the errno:
/// EAGAIN when the receiver's queue is full (it is not reading), EPIPE or ECONNRESET when the
/// receiver is gone. The caller still owns `descriptor`: the receiver gets its own copy.
inline int send_descriptor(int channel, int descriptor, bool ipv6) {
  char family = ipv6 ? '6' : '4';
  iovec data{&family, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  std::memset(control, 0, sizeof control);
  msghdr message{};
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  cmsghdr* header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(header), &descriptor, sizeof(int));
  for (;;) {
    if (::sendmsg(channel, &message, MSG_DONTWAIT | MSG_NOSIGNAL) == 1) return 0;
    if (errno != EINTR) return errno;
  }
}

/// What one receive_descriptor found.
struct ReceivedDescriptor {
  enum class Status {
    received,     ///< `descriptor` is a connection, now the caller's to close
    would_block,  ///< nothing waiting: wait until the channel is readable
    closed,       ///< the sender is gone (end of stream, or an error on the channel)
  };
  Status status;
  int descriptor = -1;
  bool ipv6 = false;
};

/// Takes the next descriptor send_descriptor sent on `channel`, without blocking. Reads one
/// byte per call: on a stream socket the descriptor travels with its byte, so each call takes
/// exactly one. A byte that arrives without its descriptor (the receiver's limit on open files
/// was reached: the kernel drops it) is skipped.
inline ReceivedDescriptor receive_descriptor(int channel) {
  for (;;) {
    char family = 0;
    iovec data{&family, 1};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
    msghdr message{};
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    message.msg_control = control;
    message.msg_controllen = sizeof control;
    int flags = MSG_DONTWAIT;
#ifdef MSG_CMSG_CLOEXEC
    flags |= MSG_CMSG_CLOEXEC;  // a worker that runs another program does not leak its clients into it
#endif
    const auto got = ::recvmsg(channel, &message, flags);
    if (got < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return {ReceivedDescriptor::Status::would_block};
      return {ReceivedDescriptor::Status::closed};
    }
    if (got == 0) return {ReceivedDescriptor::Status::closed};
    int descriptor = -1;
    for (cmsghdr* header = CMSG_FIRSTHDR(&message); header; header = CMSG_NXTHDR(&message, header)) {
      if (header->cmsg_level == SOL_SOCKET && header->cmsg_type == SCM_RIGHTS &&
          header->cmsg_len >= CMSG_LEN(sizeof(int)))
        std::memcpy(&descriptor, CMSG_DATA(header), sizeof(int));
    }
    if (descriptor < 0) continue;
    return {ReceivedDescriptor::Status::received, descriptor, family == '6'};
  }
}

/// A connected pair of Unix stream sockets, close-on-exec, or {-1, -1} with errno set.
struct DescriptorChannel {
  int supervisor = -1;  ///< the end that sends (non-blocking)
  int worker = -1;      ///< the end that receives

  static DescriptorChannel open() {
    int ends[2];
    int type = SOCK_STREAM;
#ifdef SOCK_CLOEXEC
    type |= SOCK_CLOEXEC;
#endif
    if (::socketpair(AF_UNIX, type, 0, ends) != 0) return {};
    ::fcntl(ends[0], F_SETFL, ::fcntl(ends[0], F_GETFL) | O_NONBLOCK);
    return {ends[0], ends[1]};
  }
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_DESCRIPTOR_PASSING_HPP
