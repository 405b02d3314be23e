// Request-target parsing: path and query string, percent-decoding. Sans-I/O.
#ifndef CHAT_DETAIL_URL_HPP
#define CHAT_DETAIL_URL_HPP

#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

#include "headers.hpp"

namespace chat::detail {

/// Decodes %XX escapes (and '+' as space when `plus_is_space`, as in query strings).
/// Returns nullopt for a truncated or non-hex escape, or an encoded NUL byte.
inline std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex(text[i + 1]);
      const int low = hex(text[i + 2]);
      if (high < 0 || low < 0 || (high == 0 && low == 0)) return std::nullopt;
      out += char(high * 16 + low);
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

/// A request target split into its decoded path and its query parameters, in order.
struct Target {
  std::string path;
  std::vector<std::pair<std::string, std::string>> query;

  /// The first value of a query parameter, or nullopt when absent.
  std::optional<std::string_view> param(std::string_view name) const { return find_param(query, name); }
};

/// Parses an origin-form request target ("/path?a=1&b=2"). Returns nullopt when it does not
/// start with '/' or holds a malformed escape.
inline std::optional<Target> parse_target(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') return std::nullopt;
  const std::size_t question = raw.find('?');
  const std::string_view raw_path = raw.substr(0, question);
  auto path = percent_decode(raw_path, false);
  if (!path) return std::nullopt;
  Target target{std::move(*path), {}};
  if (question == std::string_view::npos) return target;
  std::string_view rest = raw.substr(question + 1);
  const std::size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (!pair.empty()) {
      const std::size_t eq = pair.find('=');
      auto key = percent_decode(pair.substr(0, eq), true);
      auto value = percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
      if (!key || !value) return std::nullopt;
      target.query.emplace_back(std::move(*key), std::move(*value));
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return target;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_URL_HPP
