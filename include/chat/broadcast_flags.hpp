// chat::BroadcastFlags: how an emit travels (Node's broadcast and emit flags).
#ifndef CHAT_BROADCAST_FLAGS_HPP
#define CHAT_BROADCAST_FLAGS_HPP

#include <chrono>  // milliseconds

namespace chat {

/// How a packet travels, to one socket or in a broadcast (Node's emit and broadcast flags).
struct BroadcastFlags {
  /// This server only: a cluster adapter does not send it to the other servers (Node's `local`).
  /// A ShardedServer is one server: its shards all deliver it.
  bool local = false;
  /// Sockets whose transport is not writable at once skip it (Node's `volatile`).
  bool is_volatile = false;
  /// Whether transports may compress it: permessage-deflate, and HTTP compression of a polling
  /// response (which stays uncompressed when nothing in it may be). Node's `compress`.
  bool compress = true;
  /// A broadcast with acks: how long its answers are awaited (Node's `flags.timeout`). Each
  /// socket it reaches stops counting the answer against max_pending_acks after that.
  std::chrono::milliseconds timeout{0};
};

}  // namespace chat

#endif  // CHAT_BROADCAST_FLAGS_HPP
