// Lookups in a request's name/value pairs, shared by Handshake, HttpRequest and Target: headers
// (names without regard to case) and query parameters (exact names).
#ifndef CHAT_DETAIL_HEADERS_HPP
#define CHAT_DETAIL_HEADERS_HPP

#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

namespace chat::detail {

/// The first value of a header in `headers`, its name matched without regard to ASCII case.
inline std::optional<std::string_view> find_header(const std::vector<std::pair<std::string, std::string>>& headers,
                                                   std::string_view name) {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
  for (const auto& [key, value] : headers) {
    if (key.size() != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < key.size() && same; ++i) same = lower(key[i]) == lower(name[i]);
    if (same) return std::string_view(value);
  }
  return std::nullopt;
}

/// The first value of a query parameter in `query`, its name matched exactly.
inline std::optional<std::string_view> find_param(const std::vector<std::pair<std::string, std::string>>& query,
                                                  std::string_view name) {
  for (const auto& [key, value] : query)
    if (key == name) return std::string_view(value);
  return std::nullopt;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_HEADERS_HPP
