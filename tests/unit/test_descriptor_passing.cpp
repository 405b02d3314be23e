// Handing a descriptor from one process to another (WorkerProcesses' supervisor to a worker):
// descriptor_passing.hpp over a real socketpair, within one process (the kernel does the same
// across processes; tests/node/shards.test.mjs with CHAT_TEST_WORKERS does it across them).
#include <chat/detail/descriptor_passing.hpp>

#include <catch2/catch.hpp>

#include <cerrno>
#include <string>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

using chat::detail::DescriptorChannel;
using chat::detail::receive_descriptor;
using chat::detail::ReceivedDescriptor;
using chat::detail::send_descriptor;
using Status = ReceivedDescriptor::Status;

namespace {

/// A connected pair standing in for a client's TCP connection: what is written on `far` is read
/// on the descriptor that travelled.
struct Connection {
  Connection() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, ends) == 0); }
  ~Connection() {
    ::close(ends[0]);
    ::close(ends[1]);
  }
  int ends[2];
};

std::string read_some(int descriptor) {
  char buffer[64];
  const auto got = ::read(descriptor, buffer, sizeof buffer);
  return got > 0 ? std::string(buffer, std::size_t(got)) : std::string();
}

}  // namespace

TEST_CASE("descriptor passing: a connection arrives as a new descriptor for the same socket, family included",
          "[workers]") {
  const auto channel = DescriptorChannel::open();
  REQUIRE(channel.supervisor >= 0);
  Connection four, six;
  REQUIRE(send_descriptor(channel.supervisor, four.ends[0], false) == 0);
  REQUIRE(send_descriptor(channel.supervisor, six.ends[0], true) == 0);

  const auto first = receive_descriptor(channel.worker);
  REQUIRE(first.status == Status::received);
  CHECK_FALSE(first.ipv6);
  CHECK(first.descriptor != four.ends[0]);  // the receiver's own copy
  const auto second = receive_descriptor(channel.worker);
  REQUIRE(second.status == Status::received);
  CHECK(second.ipv6);
  // One per call, in order: the first is the first connection.
  REQUIRE(::write(four.ends[1], "GET /", 5) == 5);
  CHECK(read_some(first.descriptor) == "GET /");
  CHECK((fcntl(first.descriptor, F_GETFD) & FD_CLOEXEC) != 0);

  CHECK(receive_descriptor(channel.worker).status == Status::would_block);
  ::close(first.descriptor);
  ::close(second.descriptor);
  ::close(channel.supervisor);
  ::close(channel.worker);
}

TEST_CASE("descriptor passing: a receiver that is gone is a closed channel on both sides, with no SIGPIPE",
          "[workers]") {
  SECTION("the supervisor closed its end: the worker sees closed") {
    const auto channel = DescriptorChannel::open();
    ::close(channel.supervisor);
    CHECK(receive_descriptor(channel.worker).status == Status::closed);
    ::close(channel.worker);
  }
  SECTION("the worker is gone: sending fails with EPIPE (the test process would die of SIGPIPE otherwise)") {
    const auto channel = DescriptorChannel::open();
    ::close(channel.worker);
    Connection connection;
    CHECK(send_descriptor(channel.supervisor, connection.ends[0], false) == EPIPE);
    ::close(channel.supervisor);
  }
}

TEST_CASE("descriptor passing: a worker that does not read fills its channel, and sending then says EAGAIN",
          "[workers]") {
  const auto channel = DescriptorChannel::open();
  Connection connection;
  int error = 0;
  int sent = 0;
  for (; sent < 100000 && error == 0; ++sent) error = send_descriptor(channel.supervisor, connection.ends[0], false);
  CHECK(error == EAGAIN);  // bounded: the socket buffer, not memory without end
  // Everything sent before is there to take.
  int taken = 0;
  for (;;) {
    const auto received = receive_descriptor(channel.worker);
    if (received.status != Status::received) break;
    ::close(received.descriptor);
    ++taken;
  }
  CHECK(taken == sent - 1);
  ::close(channel.supervisor);
  ::close(channel.worker);
}
