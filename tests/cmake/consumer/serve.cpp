// A server with the default options answers a handshake and serves the Socket.IO browser bundle
// from the directory its build named (CMake's package, or pkg-config's client_bundle_dir):
// proof that an installed chat serves /socket.io/socket.io.js with no npm and no configuration.
// EXPECTED_BUNDLE_DIR is where the build says the bundle must come from.
#include <chat/chat.hpp>

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/read_until.hpp>
#include <asio/streambuf.hpp>
#include <asio/write.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Reply {
  int status = 0;
  std::string body;
};

/// One HTTP/1.1 GET, read to the end of its Content-Length.
Reply get(std::uint16_t port, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  asio::write(socket, asio::buffer(request));
  asio::streambuf buffer;
  const std::size_t head_size = asio::read_until(socket, buffer, "\r\n\r\n");
  std::string head(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + head_size);
  buffer.consume(head_size);
  Reply reply;
  std::istringstream(head.substr(head.find(' ') + 1)) >> reply.status;
  std::size_t length = 0;
  std::istringstream lines(head);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("Content-Length:", 0) == 0 || line.rfind("content-length:", 0) == 0) length = std::stoul(line.substr(15));
  }
  if (buffer.size() < length) asio::read(socket, buffer, asio::transfer_exactly(length - buffer.size()));
  reply.body.assign(asio::buffers_begin(buffer.data()), asio::buffers_begin(buffer.data()) + length);
  return reply;
}

int fail(const std::string& why) {
  std::cerr << "serve consumer: " << why << '\n';
  return 1;
}

}  // namespace

int main() {
  namespace fs = std::filesystem;
  const chat::Options options;
  std::error_code ec;
  if (!fs::equivalent(options.client_bundle_dir(), EXPECTED_BUNDLE_DIR, ec))
    return fail("the default client bundle directory is \"" + options.client_bundle_dir() + "\", not " +
                EXPECTED_BUNDLE_DIR);
  std::ifstream file(fs::path(EXPECTED_BUNDLE_DIR) / "socket.io.js", std::ios::binary);
  const std::string expected((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (expected.empty()) return fail(std::string("no socket.io.js in ") + EXPECTED_BUNDLE_DIR);

  chat::Server<> io(options);
  std::vector<std::string> errors;
  io.on_error([&](chat::Socket*, std::string_view message) { errors.emplace_back(message); });
  const auto port = io.listen("127.0.0.1", 0);
  std::thread loop([&] { io.run(); });
  Reply handshake, bundle;
  try {
    handshake = get(port, "/socket.io/?EIO=4&transport=polling");
    bundle = get(port, "/socket.io/socket.io.js");
  } catch (const std::exception& e) {
    io.stop();
    loop.join();
    return fail(std::string("request failed: ") + e.what());
  }
  io.stop();
  loop.join();
  for (const auto& error : errors) std::cerr << "serve consumer: on_error: " << error << '\n';
  if (!errors.empty()) return 1;
  if (handshake.status != 200 || handshake.body.rfind("0{\"sid\":", 0) != 0)
    return fail("handshake answered " + std::to_string(handshake.status) + ": " + handshake.body);
  if (bundle.status != 200 || bundle.body != expected)
    return fail("/socket.io/socket.io.js answered " + std::to_string(bundle.status) + " with " +
                std::to_string(bundle.body.size()) + " bytes, not the " + std::to_string(expected.size()) +
                " of the bundle");
  std::cout << "chat " << chat::version << " answered a handshake and served socket.io.js from "
            << options.client_bundle_dir() << '\n';
  return 0;
}
