// A TLS server through chat::tls: proof that the exported target carries OpenSSL and the TLS
// transport's headers. It binds a free port and stops before serving anyone.
#include <chat/chat.hpp>
#include <chat/transport/websocketpp/tls.hpp>

#include <iostream>

int main() {
  chat::Server<chat::transport::TlsConfig> io;
  io.tls_context(std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server));
  const auto port = io.listen("127.0.0.1", 0);
  io.stop();
  io.run();
  std::cout << "chat::tls listened on port " << port << "\n";
  return port > 0 ? 0 : 1;
}
