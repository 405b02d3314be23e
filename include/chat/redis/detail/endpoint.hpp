// Where a Redis server is, read from a redis:// URL as redis-py and node-redis read it.
#ifndef CHAT_REDIS_DETAIL_ENDPOINT_HPP
#define CHAT_REDIS_DETAIL_ENDPOINT_HPP

#include <cstdint>      // uint16_t
#include <stdexcept>    // invalid_argument
#include <string>       // string, stoul
#include <string_view>  // string_view

#include "../../detail/url.hpp"

namespace chat::redis::detail {

struct Endpoint {
  std::string host = "127.0.0.1";
  std::uint16_t port = 6379;
  std::string username;  ///< with `password`: Redis 6's ACL user (AUTH user password)
  std::string password;
  int db = 0;

  /// host:port/db, never the password: for log lines.
  std::string describe() const {
    const bool ipv6 = host.find(':') != std::string::npos;
    return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port) + (db ? "/" + std::to_string(db) : "");
  }
};

/// Reads `redis://[[user]:password@]host[:port][/db]` (user and password percent-encoded, an
/// IPv6 host in brackets, `?db=N` accepted too).
/// @throws std::invalid_argument for anything else, naming what is wrong: `rediss://` (TLS)
///         and `unix://` are refused rather than read as something they are not.
inline Endpoint parse_endpoint(std::string_view url) {
  const auto refuse = [&](const std::string& why) {
    return std::invalid_argument("Redis URL \"" + std::string(url) + "\": " + why);
  };
  constexpr std::string_view scheme = "redis://";
  if (url.rfind("rediss://", 0) == 0)
    throw refuse("rediss:// (Redis over TLS) is not supported; use redis:// (a TLS tunnel such as stunnel can "
                 "carry it)");
  if (url.rfind(scheme, 0) != 0) throw refuse("expected redis://host[:port][/db]");
  std::string_view rest = url.substr(scheme.size());
  Endpoint endpoint;

  const auto decoded = [&](std::string_view text, const char* what) {
    auto value = chat::detail::percent_decode(text, false);
    if (!value) throw refuse(std::string("bad percent-encoding in the ") + what);
    return *value;
  };
  const auto number = [&](std::string_view text, unsigned long most, const char* what) {
    if (text.empty() || text.size() > 10 || text.find_first_not_of("0123456789") != std::string_view::npos)
      throw refuse(std::string("the ") + what + " is not a number");
    const unsigned long value = std::stoul(std::string(text));
    if (value > most) throw refuse(std::string("the ") + what + " is out of range");
    return value;
  };

  std::string_view query;
  if (const auto mark = rest.find('?'); mark != std::string_view::npos) {
    query = rest.substr(mark + 1);
    rest = rest.substr(0, mark);
  }
  std::string_view path;
  if (const auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  if (const auto at = rest.rfind('@'); at != std::string_view::npos) {
    const std::string_view credentials = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const auto colon = credentials.find(':');
    if (colon == std::string_view::npos) {
      endpoint.password = decoded(credentials, "password");  // redis://secret@host, as redis-py reads it
    } else {
      endpoint.username = decoded(credentials.substr(0, colon), "user name");
      endpoint.password = decoded(credentials.substr(colon + 1), "password");
    }
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) throw refuse("unclosed [ in the host");
    endpoint.host = std::string(rest.substr(1, close - 1));
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') throw refuse("unexpected text after the host");
      port = rest.substr(1);
    }
  } else {
    const auto colon = rest.find(':');
    endpoint.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) port = rest.substr(colon + 1);
  }
  if (endpoint.host.empty()) endpoint.host = "127.0.0.1";
  if (!port.empty() || rest.find(':') != std::string_view::npos)
    endpoint.port = static_cast<std::uint16_t>(number(port, 65535, "port"));
  if (endpoint.port == 0) throw refuse("port 0");
  if (!path.empty()) endpoint.db = static_cast<int>(number(path, 2147483647ul, "database number"));
  while (!query.empty()) {
    const auto amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.rfind("db=", 0) == 0) endpoint.db = static_cast<int>(number(pair.substr(3), 2147483647ul, "database number"));
    else if (!pair.empty()) throw refuse("unknown option \"" + std::string(pair) + "\" (only db= is read)");
  }
  return endpoint;
}

}  // namespace chat::redis::detail

#endif  // CHAT_REDIS_DETAIL_ENDPOINT_HPP
