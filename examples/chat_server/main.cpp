// The chat app from pure C++: serves the chat page, and broadcasts each 'message' event to
// every connected client, the sender included.
//
//   chat_server [--host 127.0.0.1] [--port 5000] [--static DIR] [--client-dir DIR]
#include <chat/chat.hpp>

#include <asio/signal_set.hpp>

#include <csignal>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  unsigned short port = 5000;
  std::string static_dir = CHAT_EXAMPLE_STATIC_DIR;
  std::string client_dir = CHAT_EXAMPLE_CLIENT_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::string value = argv[i + 1];
    if (flag == "--host") host = value;
    else if (flag == "--port") port = static_cast<unsigned short>(std::stoi(value));
    else if (flag == "--static") static_dir = value;
    else if (flag == "--client-dir") client_dir = value;
    else {
      std::cerr << "usage: chat_server [--host H] [--port P] [--static DIR] [--client-dir DIR]\n";
      return 2;
    }
  }

  chat::Server<> io(chat::Options{}.cors_allowed_origins({"*"}).client_bundle_dir(client_dir));
  io.serve_static(static_dir);
  io.on("message", [&io](chat::Socket&, chat::Event& event) { io.emit("message", event.args()); });

  asio::signal_set signals(io.io_context(), SIGINT, SIGTERM);
  signals.async_wait([&io](const std::error_code& ec, int) {
    if (!ec) io.stop();
  });
  const auto bound = io.listen(host, port);
  std::cout << "chat server on http://" << host << ":" << bound << std::endl;
  io.run();
  return 0;
}
