// Bodies of JsonParser (chat/parser.hpp).
#ifndef CHAT_IMPL_PARSER_HPP
#define CHAT_IMPL_PARSER_HPP

#include <memory>  // make_shared, make_unique

#include "../parser.hpp"
#include "../socketio/packet.hpp"

namespace chat {

namespace detail {

class JsonDecoder final : public PacketDecoder {
 public:
  Status feed(std::string_view message, bool binary) override { return decoder_.feed(message, binary); }
  socketio::Packet& packet() override { return decoder_.packet(); }

 private:
  socketio::Decoder decoder_;
};

}  // namespace detail

CHAT_DECL socketio::Encoded JsonParser::encode(const socketio::Packet& packet) const { return socketio::encode(packet); }

CHAT_DECL std::unique_ptr<PacketDecoder> JsonParser::decoder() const { return std::make_unique<detail::JsonDecoder>(); }

CHAT_DECL const std::shared_ptr<const Parser>& JsonParser::shared() {
  static const std::shared_ptr<const Parser> instance = std::make_shared<JsonParser>();
  return instance;
}

}  // namespace chat

#endif  // CHAT_IMPL_PARSER_HPP
