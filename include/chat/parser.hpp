// chat::Parser: how Socket.IO packets become Engine.IO messages and back (Node's `parser`
// option). The default speaks socket.io-parser's format (JSON, binary values as attachments);
// another format (msgpack, ...) plugs in through Options::parser, and every packet the server
// encodes or decodes goes through it.
#ifndef CHAT_PARSER_HPP
#define CHAT_PARSER_HPP

#include <cstdint>      // uint64_t
#include <memory>       // shared_ptr, unique_ptr
#include <string_view>  // string_view

#include "detail/config.hpp"
#include "socketio/types.hpp"

namespace chat {

/// Reassembles Socket.IO packets from the Engine.IO messages of one connection. A packet may
/// span several messages (the JSON format's attachments), so a decoder keeps state between
/// calls: one per connection.
class PacketDecoder {
 public:
  /// What `feed` says: a packet is complete, more messages are needed, or the input is bad.
  using Status = socketio::DecodeStatus;

  virtual ~PacketDecoder() = default;
  /// Feeds one Engine.IO message (text without its `4`, or binary bytes). `complete`: `packet()`
  /// holds a packet; `need_more`: wait for the next message; `error`: the protocol requires
  /// closing the connection.
  virtual Status feed(std::string_view message, bool binary) = 0;
  /// The packet of the last `feed` that returned `complete` (the caller may move from it).
  virtual socketio::Packet& packet() = 0;
};

/// A Socket.IO wire format.
///
/// @par Thread Safety
/// `encode` and `decoder` may be called from any thread at once: a parser holds no state (its
/// decoders do, each used by one connection on the io thread).
class Parser {
 public:
  virtual ~Parser() = default;
  /// Encodes a packet into the Engine.IO messages that carry it.
  virtual socketio::Encoded encode(const socketio::Packet& packet) const = 0;
  /// A decoder for one new connection.
  virtual std::unique_ptr<PacketDecoder> decoder() const = 0;
  /// The id of the first packet each namespace sends asking for an acknowledgement (the next
  /// ones count up from it). 0, as in Node, unless a format's clients cannot carry id 0.
  virtual std::uint64_t first_ack_id() const { return 0; }
};

/// socket.io-parser's format, the default: a packet as JSON text, binary values as attachments
/// (chat/socketio/packet.hpp).
class JsonParser final : public Parser {
 public:
  socketio::Encoded encode(const socketio::Packet& packet) const override;
  std::unique_ptr<PacketDecoder> decoder() const override;

  /// The one instance servers share when Options name no parser.
  static const std::shared_ptr<const Parser>& shared();
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/parser.hpp"
#endif

#endif  // CHAT_PARSER_HPP
