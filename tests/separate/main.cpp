// A program built with separate compilation: it runs a server, connects an in-process client,
// and checks the hooks registered in another file answer it. Exit status 0 when they do.
#include <chat/chat.hpp>

#include <chrono>
#include <future>
#include <iostream>
#include <thread>

void register_hooks(chat::Server<>& io);

int main() {
  chat::Server<> io;
  register_hooks(io);
  io.listen("127.0.0.1", 0);
  std::thread loop([&io] { io.run(); });
  std::promise<std::shared_ptr<chat::LocalClient>> connected;
  io.post([&] {
    auto client = io.connect_local();
    chat::socketio::Packet connect;
    connect.type = chat::socketio::PacketType::connect;
    connect.data = {{"token", "secret"}};
    client->send(connect);
    chat::socketio::Packet message;
    message.type = chat::socketio::PacketType::event;
    message.id = 1;
    message.data = chat::json::array({"message", "hi"});
    client->send(message);
    connected.set_value(client);
  });
  const auto client = connected.get_future().get();
  std::vector<chat::socketio::Packet> got;
  for (int i = 0; i < 1000 && got.size() < 2; ++i) {  // bounded: 10 s at most
    for (auto& p : client->take_received()) got.push_back(std::move(p));
    if (got.size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  io.stop();
  loop.join();
  const bool ok = got.size() == 2 && got[0].type == chat::socketio::PacketType::connect &&
                  got[1].type == chat::socketio::PacketType::ack && got[1].data == chat::json::array({"delivered"});
  std::cout << (ok ? "separate compilation: hooks answered\n" : "separate compilation: no answer\n");
  return ok ? 0 : 1;
}
