// Fuzzes how a ShardedServer routes a new connection (chat/detail/shard_routing.hpp, used by
// chat/detail/shard_router.hpp): peek_request on the connection's first bytes, shard_of_sid on
// the sid it finds, shard_tag. Checks, for several engine paths and peek limits:
//   - without a LF the request line is incomplete: need_more, or oversize from `limit` bytes on;
//   - with one, only the request line matters (the same answer for the line alone), and every
//     shorter prefix of it is still incomplete;
//   - the sid found is the one the transport will look up (the target's first `sid`, percent-
//     decoded, on the Engine.IO path as chat::Options and is_engine_path see it), and a request
//     the transport would find a sid in is never sent to any shard;
//   - shard_of_sid names a shard below the count, the one whose tag starts the sid.
//
// Input: the first bytes of a connection, as they come.
#include <chat/detail/http_router.hpp>
#include <chat/detail/shard_routing.hpp>
#include <chat/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

using chat::detail::RequestPeek;
using Status = RequestPeek::Status;

std::string describe(const RequestPeek& peek) {
  static constexpr const char* names[] = {"need_more", "no_sid", "sid", "oversize"};
  return std::string(names[int(peek.status)]) + " " + fuzz::printable(peek.sid);
}

bool same(const RequestPeek& a, const RequestPeek& b) { return a.status == b.status && a.sid == b.sid; }

/// The sid the transport finds in a request line: the target between the first two spaces,
/// parsed as the transport parses it, on the Engine.IO path as the transport tests it.
std::optional<std::string> transport_sid(std::string_view line, const chat::Options& options) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  const std::size_t first = line.find(' ');
  if (first == std::string_view::npos) return std::nullopt;
  const std::string_view rest = line.substr(first + 1);
  const auto target = chat::detail::parse_target(rest.substr(0, rest.find(' ')));
  if (!target || !chat::detail::is_engine_path(target->path, options)) return std::nullopt;
  const auto sid = target->param("sid");
  if (!sid) return std::nullopt;
  return std::string(*sid);
}

void check_shards(std::string_view sid) {
  static constexpr std::string_view tags = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const std::size_t tag = sid.empty() ? std::string_view::npos : tags.find(sid.front());
  for (const std::size_t count : {std::size_t(0), std::size_t(1), std::size_t(2), std::size_t(3), std::size_t(27),
                                  std::size_t(63), std::size_t(64), std::size_t(65)}) {
    const auto shard = chat::detail::shard_of_sid(sid, count);
    const std::string what = fuzz::printable(sid) + " of " + std::to_string(count) + " shards";
    FUZZ_CHECK(shard.has_value() == (tag != std::string_view::npos && tag < count), what);
    if (shard) FUZZ_CHECK(*shard == tag && *shard < count && chat::detail::shard_tag(*shard) == sid.front(), what);
  }
  // Every shard's tag in front of any rest names that shard (tags wrap beyond max_shards).
  for (std::size_t shard = 0; shard < chat::detail::max_shards + 3; ++shard) {
    const std::string tagged = chat::detail::shard_tag(shard) + std::string(sid);
    FUZZ_CHECK(chat::detail::shard_of_sid(tagged, chat::detail::max_shards) == shard % chat::detail::max_shards,
               fuzz::printable(tagged));
  }
}

void check_peek(std::string_view bytes, const std::string& engine_path, std::size_t limit) {
  const chat::Options options = chat::Options{}.path(engine_path);
  const RequestPeek peek = chat::detail::peek_request(bytes, options.path(), limit);
  const std::string what = fuzz::printable(bytes) + " under " + fuzz::printable(options.path()) + " limit " +
                           std::to_string(limit) + ": " + describe(peek);
  const std::size_t end = bytes.find('\n');
  if (end == std::string_view::npos) {
    FUZZ_CHECK(peek.status == (bytes.size() >= limit ? Status::oversize : Status::need_more) && peek.sid.empty(), what);
    return;
  }
  FUZZ_CHECK(peek.status == Status::sid || peek.status == Status::no_sid, what);
  if (peek.status == Status::no_sid) FUZZ_CHECK(peek.sid.empty(), what);
  FUZZ_CHECK(same(peek, chat::detail::peek_request(bytes.substr(0, end + 1), options.path(), limit)), what);
  for (const std::size_t prefix : {end, end / 2, std::size_t(0)}) {
    const auto partial = chat::detail::peek_request(bytes.substr(0, prefix), options.path(), limit);
    FUZZ_CHECK(partial.status == (prefix >= limit ? Status::oversize : Status::need_more),
               what + "\nprefix of " + std::to_string(prefix) + ": " + describe(partial));
  }
  const auto expected = transport_sid(bytes.substr(0, end), options);
  FUZZ_CHECK((peek.status == Status::sid) == expected.has_value(), what);
  if (expected) FUZZ_CHECK(peek.sid == *expected, what + " where the transport sees " + fuzz::printable(*expected));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_text(data, size);
  for (const char* path : {"/socket.io/", "/", "/chat"}) {
    check_peek(bytes, path, 16 * 1024);
    check_peek(bytes, path, 16);
  }
  const auto peek = chat::detail::peek_request(bytes, "/socket.io/", 16 * 1024);
  check_shards(peek.status == Status::sid ? std::string_view(peek.sid) : bytes.substr(0, bytes.find(' ')));
  return 0;
}
