// A client's address for the per-address limits: the peer's, or, when the peer is a trusted
// proxy, the one it names in X-Forwarded-For (Options::trusted_proxies); and the key an address
// counts under. Sans-I/O.
#ifndef CHAT_DETAIL_CLIENT_ADDRESS_HPP
#define CHAT_DETAIL_CLIENT_ADDRESS_HPP

#include <cstddef>       // size_t
#include <optional>      // optional
#include <stdexcept>     // invalid_argument
#include <string>        // string
#include <string_view>   // string_view
#include <system_error>  // error_code
#include <vector>        // vector

#include <asio/ip/address.hpp>
#include <asio/ip/network_v4.hpp>
#include <asio/ip/network_v6.hpp>

namespace chat::detail {

/// An address as a proxy may write it in X-Forwarded-For: "1.2.3.4", "1.2.3.4:5678",
/// "2001:db8::1", "[2001:db8::1]:443", "::ffff:1.2.3.4", with spaces around. IPv4-mapped IPv6
/// addresses come back as IPv4. Nothing when it is not an address.
inline std::optional<asio::ip::address> parse_forwarded_address(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  if (!text.empty() && text.front() == '[') {  // "[v6]" or "[v6]:port"
    const auto close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    text = text.substr(1, close - 1);
  } else if (const auto colon = text.find(':'); colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    text = text.substr(0, colon);  // one colon: "v4:port" (an IPv6 address has at least two)
  }
  std::error_code ec;
  auto address = asio::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  return address;
}

/// The key an address counts under for the per-address limits: an IPv4 address itself, an
/// IPv6 address its /64 (one subscriber line holds a whole /64, so counting each address would
/// give one client 2^64 allowances). Text that is not an address counts as itself.
inline std::string address_key(const std::string& address) {
  const auto parsed = parse_forwarded_address(address);
  if (!parsed) return address;
  if (parsed->is_v4()) return parsed->to_string();
  return asio::ip::make_network_v6(parsed->to_v6(), 64).canonical().to_string();
}

/// The proxies whose X-Forwarded-For a server believes: addresses and networks, parsed once.
class TrustedProxies {
 public:
  TrustedProxies() = default;

  /// Each entry an address ("10.0.0.1", "::1") or a network with a prefix length
  /// ("10.0.0.0/8", "fd00::/8"; an IPv4-mapped one such as "::ffff:10.0.0.0/104" is taken as
  /// the IPv4 network). Throws std::invalid_argument naming an entry that is neither.
  explicit TrustedProxies(const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
      if (!add(entry))
        throw std::invalid_argument("chat::Options::trusted_proxies: \"" + entry +
                                    "\" is neither an IP address nor a network such as 10.0.0.0/8");
    }
  }

  bool empty() const { return addresses_.empty() && v4_.empty() && v6_.empty(); }

  /// Whether `text` is the address of a trusted proxy (false when it is not an address).
  bool trusts(std::string_view text) const {
    const auto address = parse_forwarded_address(text);
    return address && trusts(*address);
  }

  /// The client's address: `peer` itself unless it is trusted; then X-Forwarded-For read from
  /// the right (each proxy appends the address it got the request from), skipping trusted
  /// proxies: the first address not trusted is the client. Entries left of it were written by
  /// the client and prove nothing. An entry that is not an address stops the walk at the last
  /// trusted hop (it cannot be told apart from a client's own words); with every entry trusted,
  /// the leftmost; with no header, `peer`. The address comes back in one spelling (no port,
  /// IPv4-mapped addresses as IPv4).
  std::string client_of(std::string_view peer, std::string_view forwarded_for) const {
    if (empty() || forwarded_for.empty() || !trusts(peer)) return std::string(peer);
    std::string last_trusted(peer);
    std::string_view rest = forwarded_for;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const std::string_view entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      if (entry.find_first_not_of(" \t") == std::string_view::npos) continue;  // empty
      const auto address = parse_forwarded_address(entry);
      if (!address) return last_trusted;
      if (!trusts(*address)) return address->to_string();
      last_trusted = address->to_string();
    }
    return last_trusted;
  }

 private:
  bool add(const std::string& entry) {
    std::error_code ec;
    const auto slash = entry.find('/');
    if (slash == std::string::npos) {
      const auto address = asio::ip::make_address(entry, ec);
      if (ec) return false;
      addresses_.push_back(unmapped(address));
      return true;
    }
    // A prefix length, not a netmask: digits only (as the Python package checks it).
    const std::string length = entry.substr(slash + 1);
    if (length.empty() || length.size() > 3 || length.find_first_not_of("0123456789") != std::string::npos) return false;
    if (entry.find(':') == std::string::npos) {
      const auto network = asio::ip::make_network_v4(entry, ec);
      if (ec) return false;
      v4_.push_back(network.canonical());
      return true;
    }
    const auto network = asio::ip::make_network_v6(entry, ec);
    if (ec) return false;
    if (network.address().is_v4_mapped() && network.prefix_length() >= 96) {
      v4_.push_back(asio::ip::make_network_v4(asio::ip::make_address_v4(asio::ip::v4_mapped, network.address()),
                                              network.prefix_length() - 96)
                        .canonical());
    } else {
      v6_.push_back(network.canonical());
    }
    return true;
  }

  bool trusts(const asio::ip::address& address) const {
    for (const auto& trusted : addresses_)
      if (trusted == address) return true;
    if (address.is_v4()) {
      for (const auto& network : v4_)
        if (asio::ip::make_network_v4(address.to_v4(), network.prefix_length()).canonical() == network) return true;
    } else {
      for (const auto& network : v6_)
        if (asio::ip::make_network_v6(address.to_v6(), network.prefix_length()).canonical() == network) return true;
    }
    return false;
  }

  static asio::ip::address unmapped(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
  }

  std::vector<asio::ip::address> addresses_;
  std::vector<asio::ip::network_v4> v4_;
  std::vector<asio::ip::network_v6> v6_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_CLIENT_ADDRESS_HPP
