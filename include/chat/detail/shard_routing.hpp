// Which shard of a ShardedServer a new TCP connection belongs to, from the first bytes of its
// HTTP request (peeked, not consumed) and the shard tag every sid of a sharded server carries.
// Sans-I/O.
#ifndef CHAT_DETAIL_SHARD_ROUTING_HPP
#define CHAT_DETAIL_SHARD_ROUTING_HPP

#include <cstddef>      // size_t
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view

#include "url.hpp"

namespace chat::detail {

/// The most shards a sid's one-character tag can name (the base64url alphabet).
inline constexpr std::size_t max_shards = 64;

/// The tag a sharded server puts in front of the random part of each sid it hands out.
inline char shard_tag(std::size_t shard) {
  static constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  return alphabet[shard % max_shards];
}

/// The shard a sid's tag names, or nullopt when its first character is no tag or names a shard
/// beyond `shard_count` (such a sid is unknown everywhere: any shard answers it with the
/// Engine.IO "Session ID unknown" error).
inline std::optional<std::size_t> shard_of_sid(std::string_view sid, std::size_t shard_count) {
  if (sid.empty()) return std::nullopt;
  const char c = sid.front();
  std::size_t index;
  if (c >= 'A' && c <= 'Z') index = std::size_t(c - 'A');
  else if (c >= 'a' && c <= 'z') index = 26 + std::size_t(c - 'a');
  else if (c >= '0' && c <= '9') index = 52 + std::size_t(c - '0');
  else if (c == '-') index = 62;
  else if (c == '_') index = 63;
  else return std::nullopt;
  if (index >= shard_count) return std::nullopt;
  return index;
}

/// What the first bytes of a connection say about where it should go.
struct RequestPeek {
  enum class Status {
    need_more,  ///< the request line is not complete yet: wait for more bytes
    no_sid,     ///< complete, and not an Engine.IO request carrying a sid: any shard will do
    sid,        ///< an Engine.IO request (polling or WebSocket) naming session `sid`
    oversize,   ///< `limit` bytes and still no end of line: any shard (it refuses the request)
  };
  Status status;
  std::string sid;  ///< percent-decoded, as the transport will look it up (status sid only)
};

/// Reads the request line ("GET /socket.io/?EIO=4&transport=polling&sid=... HTTP/1.1") from the
/// start of `bytes` and finds the sid an Engine.IO request under `engine_path` names. Anything
/// else, malformed or not, is `no_sid`: the shard that gets it answers as a single server would.
/// Why only the request line: the sid is in the target, and every HTTP response of the server
/// closes its connection, so a connection never carries a second request for another session.
inline RequestPeek peek_request(std::string_view bytes, std::string_view engine_path, std::size_t limit) {
  const std::size_t end = bytes.find('\n');
  if (end == std::string_view::npos) {
    if (bytes.size() >= limit) return {RequestPeek::Status::oversize, {}};
    return {RequestPeek::Status::need_more, {}};
  }
  std::string_view line = bytes.substr(0, end);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t first = line.find(' ');
  if (first == std::string_view::npos) return {RequestPeek::Status::no_sid, {}};
  std::string_view rest = line.substr(first + 1);
  const std::size_t second = rest.find(' ');
  const std::string_view raw_target = rest.substr(0, second);
  const auto target = parse_target(raw_target);
  if (!target) return {RequestPeek::Status::no_sid, {}};
  // The transport's own test of "is this the Engine.IO path" (the path option ends in '/').
  if (target->path != engine_path && target->path + "/" != engine_path) return {RequestPeek::Status::no_sid, {}};
  const auto sid = target->param("sid");
  if (!sid) return {RequestPeek::Status::no_sid, {}};
  return {RequestPeek::Status::sid, std::string(*sid)};
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_SHARD_ROUTING_HPP
