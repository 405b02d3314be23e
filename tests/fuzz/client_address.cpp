// Fuzzes how a server finds a client's address for its per-address limits
// (chat/detail/client_address.hpp): the trusted proxies option parsed, and X-Forwarded-For read
// behind them. Checks:
//   - a trusted_proxies entry is taken or refused with std::invalid_argument, nothing else;
//   - every address taken is trusted, in any spelling asio reads (an IPv4-mapped IPv6 too);
//   - an entry is read as asio reads it (IPv4-mapped addresses as IPv4), with a port or not;
//   - the client is the peer unless the peer is trusted and the header names someone; then it is
//     the rightmost entry not trusted, every entry right of it being trusted (a client cannot
//     name itself past an untrusted hop); an entry that is no address stops the walk at the last
//     trusted hop; all trusted, the leftmost one.
//
// Input: line 1 the peer's address; line 2 X-Forwarded-For; each further line one entry of
// trusted_proxies.
#include <chat/detail/client_address.hpp>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include <asio/ip/address.hpp>

#include "fuzz_check.hpp"

namespace {

std::string_view next_line(std::string_view& input) {
  const std::size_t end = input.find('\n');
  const std::string_view line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

/// The non-empty entries of X-Forwarded-For, trimmed, left to right.
std::vector<std::string_view> entries_of(std::string_view header) {
  std::vector<std::string_view> entries;
  for (;;) {
    const std::size_t comma = header.find(',');
    const std::string_view entry = trim(header.substr(0, comma));
    if (!entry.empty()) entries.push_back(entry);
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
  return entries;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  const std::string_view peer = next_line(input);
  const std::string_view header = next_line(input);
  std::vector<std::string> proxies;
  while (!input.empty()) proxies.emplace_back(next_line(input));

  chat::detail::TrustedProxies trusted;
  try {
    trusted = chat::detail::TrustedProxies(proxies);
  } catch (const std::invalid_argument&) {
    // Refused by name; each entry alone says which.
    std::vector<std::string> accepted;
    for (const auto& entry : proxies) {
      try {
        (void)chat::detail::TrustedProxies(std::vector<std::string>{entry});
        accepted.push_back(entry);
      } catch (const std::invalid_argument&) {
      }
    }
    FUZZ_CHECK(accepted.size() < proxies.size(), "refused, though every entry alone is taken");
    trusted = chat::detail::TrustedProxies(accepted);
  }

  // Every plain address taken is trusted, as written and as asio spells it (v4: also mapped).
  for (const auto& entry : proxies) {
    if (entry.find('/') != std::string::npos) continue;
    std::error_code ec;
    const auto address = asio::ip::make_address(entry, ec);
    if (ec || trusted.empty()) continue;
    FUZZ_CHECK(trusted.trusts(address.to_string()), fuzz::printable(entry));
    if (address.is_v4())
      FUZZ_CHECK(trusted.trusts("::ffff:" + address.to_string()), fuzz::printable(entry) + " as IPv4-mapped");
  }

  // An entry asio reads as it is reads the same through parse_forwarded_address (unmapped),
  // and so does one written as IPv4 with a port after it.
  for (const auto& entry : entries_of(header)) {
    std::error_code ec;
    auto direct = asio::ip::make_address(std::string(entry), ec);
    if (ec) continue;
    if (direct.is_v6() && direct.to_v6().is_v4_mapped()) direct = asio::ip::make_address_v4(asio::ip::v4_mapped, direct.to_v6());
    const auto parsed = chat::detail::parse_forwarded_address(entry);
    FUZZ_CHECK(parsed && *parsed == direct, fuzz::printable(entry) + " read differently");
    if (entry.find(':') == std::string_view::npos) {  // written as IPv4: "a.b.c.d:port" too
      const auto with_port = chat::detail::parse_forwarded_address(std::string(entry) + ":8080");
      FUZZ_CHECK(with_port && *with_port == direct, fuzz::printable(entry) + " with a port read differently");
    }
  }

  const std::string client = trusted.client_of(peer, header);
  const std::string what = "peer " + fuzz::printable(peer) + " X-Forwarded-For " + fuzz::printable(header) +
                           " gives " + fuzz::printable(client);
  const auto entries = entries_of(header);
  if (trusted.empty() || header.empty() || !trusted.trusts(peer) || entries.empty()) {
    FUZZ_CHECK(client == peer, what);
    return 0;
  }
  // From the right: trusted hops are passed; the first untrusted address is the client; an
  // entry that is no address stops at the last trusted hop (the peer, if none yet).
  std::string expected(peer);
  for (std::size_t index = entries.size(); index > 0; --index) {
    const auto address = chat::detail::parse_forwarded_address(entries[index - 1]);
    if (!address) break;
    expected = address->to_string();
    if (!trusted.trusts(expected)) break;
  }
  FUZZ_CHECK(client == expected, what + ", not " + fuzz::printable(expected));
  return 0;
}
