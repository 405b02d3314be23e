// A file that only registers hooks: with CHAT_SEPARATE_COMPILATION it includes no Asio and no
// websocketpp (checked below) and compiles none of chat's bodies.
#include <chat/chat.hpp>

#if defined(ASIO_VERSION) || defined(WEBSOCKETPP_SERVER_HPP)
#error "chat's headers pulled Asio or websocketpp into a file that only registers hooks"
#endif

void register_hooks(chat::Server<>& io) {
  io.on_connect([](chat::Socket& socket, const chat::json& auth) -> chat::ConnectResult {
    if (auth.value("token", "") != "secret") return chat::ConnectResult::reject("Not authorized");
    socket.join("lobby");
    return true;
  });
  io.on("message", [&io](chat::Socket& socket, chat::Event& event) {
    io.to("lobby").except(socket.id()).emit("message", event.args());
    event.ack("delivered");
  });
  io.on_disconnect([](chat::Socket&, chat::DisconnectReason) {});
}
