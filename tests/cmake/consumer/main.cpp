// Binds a server on a free port and stops it: proof that the headers and dependencies found
// through CMake are enough to build and run a chat server.
#include <chat/chat.hpp>

#include <iostream>

int main() {
  chat::Server<> io;
  io.on("ping", [](chat::Socket&, chat::Event& event) { event.ack("pong"); });
  const auto port = io.listen("127.0.0.1", 0);
  io.stop();
  io.run();
  std::cout << "chat " << chat::version << " listened on port " << port << '\n';
  return port > 0 ? 0 : 1;
}
