// A client's address for the per-address limits: the peer's, or, when the peer is a trusted
// proxy, the one it names in X-Forwarded-For (Options::trusted_proxies). Sans-I/O.
#ifndef CHAT_DETAIL_CLIENT_ADDRESS_HPP
#define CHAT_DETAIL_CLIENT_ADDRESS_HPP

#include <cstddef>      // size_t
#include <stdexcept>    // invalid_argument
#include <string>       // string
#include <string_view>  // string_view
#include <system_error> // error_code
#include <vector>       // vector

#include <asio/ip/address.hpp>
#include <asio/ip/network_v4.hpp>
#include <asio/ip/network_v6.hpp>

namespace chat::detail {

/// The proxies whose X-Forwarded-For a server believes: addresses and networks, parsed once.
class TrustedProxies {
 public:
  TrustedProxies() = default;

  /// Each entry an address ("10.0.0.1", "::1") or a network ("10.0.0.0/8", "fd00::/8").
  /// Throws std::invalid_argument naming an entry that is neither.
  explicit TrustedProxies(const std::vector<std::string>& entries) {
    for (const auto& entry : entries) {
      std::error_code ec;
      if (entry.find('/') == std::string::npos) {
        const auto address = unmapped(asio::ip::make_address(entry, ec));
        if (!ec) {
          addresses_.push_back(address);
          continue;
        }
      } else if (entry.find(':') == std::string::npos) {
        const auto network = asio::ip::make_network_v4(entry, ec);
        if (!ec) {
          v4_.push_back(network.canonical());
          continue;
        }
      } else {
        const auto network = asio::ip::make_network_v6(entry, ec);
        if (!ec) {
          v6_.push_back(network.canonical());
          continue;
        }
      }
      throw std::invalid_argument("chat::Options::trusted_proxies: \"" + entry +
                                  "\" is neither an IP address nor a network such as 10.0.0.0/8");
    }
  }

  bool empty() const { return addresses_.empty() && v4_.empty() && v6_.empty(); }

  /// Whether `text` is the address of a trusted proxy (false when it is not an address).
  bool trusts(std::string_view text) const {
    std::error_code ec;
    const auto address = unmapped(asio::ip::make_address(std::string(trim(text)), ec));
    if (ec) return false;
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

  /// The client's address: `peer` itself unless it is trusted; then X-Forwarded-For read from
  /// the right (each proxy appends the address it got the request from), skipping trusted
  /// proxies: the first address not trusted is the client. Entries left of it were written by
  /// the client and prove nothing. With every entry trusted, the leftmost; with no header, `peer`.
  std::string client_of(std::string_view peer, std::string_view forwarded_for) const {
    if (empty() || forwarded_for.empty() || !trusts(peer)) return std::string(peer);
    std::string_view rest = forwarded_for;
    std::string_view leftmost;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const std::string_view entry = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
      if (entry.empty()) continue;
      if (!trusts(entry)) return std::string(entry);
      leftmost = entry;
    }
    return std::string(leftmost.empty() ? peer : leftmost);
  }

 private:
  static asio::ip::address unmapped(const asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
      return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    return address;
  }

  static std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
  }

  std::vector<asio::ip::address> addresses_;
  std::vector<asio::ip::network_v4> v4_;
  std::vector<asio::ip::network_v6> v6_;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_CLIENT_ADDRESS_HPP
