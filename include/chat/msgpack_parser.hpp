// chat::MsgpackParser: socket.io-msgpack-parser's wire format (Node's
// `parser: require("socket.io-msgpack-parser")`, python-socketio's `serializer='msgpack'`).
#ifndef CHAT_MSGPACK_PARSER_HPP
#define CHAT_MSGPACK_PARSER_HPP

#include <cstdint>  // uint64_t
#include <memory>   // shared_ptr, unique_ptr

#include "detail/config.hpp"
#include "parser.hpp"

namespace chat {

/// socket.io-msgpack-parser's format: each packet is one binary Engine.IO message holding a
/// MessagePack map {type, nsp, data, id}, binary values inline as MessagePack bin (no
/// attachments). Clients must use the same parser: socket.io-client with
/// socket.io-msgpack-parser, its browser bundle socket.io.msgpack.min.js, or python-socketio's
/// `Client(serializer='msgpack')`.
///
/// A message that is not such a map (text, malformed MessagePack, an unknown packet type, a
/// payload that type may not carry, nesting deeper than JSON packets may) is a protocol error:
/// the server closes that connection.
///
/// @par Thread Safety
/// As every Parser: stateless, shared by all connections.
class MsgpackParser final : public Parser {
 public:
  socketio::Encoded encode(const socketio::Packet& packet) const override;
  std::unique_ptr<PacketDecoder> decoder() const override;
  /// 1: python-socketio's msgpack packet leaves out an id that is 0, so the server's acks start
  /// at 1 (Node's at 0, which socket.io-msgpack-parser keeps).
  std::uint64_t first_ack_id() const override { return 1; }

  /// One instance for every server that uses this format.
  static const std::shared_ptr<const Parser>& shared();
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/msgpack_parser.hpp"
#endif

#endif  // CHAT_MSGPACK_PARSER_HPP
