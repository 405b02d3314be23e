#include <chat/chat.hpp>

int second_unit() {
  chat::Server<> server;
  const auto packet = chat::socketio::encode(chat::socketio::PacketType::event, "/", std::nullopt, chat::json::array({"a"}));
  return static_cast<int>(packet.data.size());  // "2[\"a\"]"
}
