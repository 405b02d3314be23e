// The Origin policy of Options (cors_allowed_origins, cors_allow_same_origin, cors_origin_check)
// applied to one request, and the CORS headers of the answer (cors_credentials, cors_methods,
// cors_allowed_headers, cors_exposed_headers, cors_max_age). Sans-I/O: the transport passes the
// headers in.
#ifndef CHAT_DETAIL_CORS_HPP
#define CHAT_DETAIL_CORS_HPP

#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // pair
#include <vector>       // vector

#include "../options.hpp"

namespace chat::detail {

/// The headers of a request the Origin policy reads.
struct OriginHeaders {
  std::string_view origin;                          ///< empty when the request sent none
  std::optional<std::string_view> host;
  std::optional<std::string_view> forwarded_proto;  ///< X-Forwarded-Proto
  std::optional<std::string_view> forwarded_host;   ///< X-Forwarded-Host
};

enum class OriginVerdict {
  unchecked,  ///< no policy, or no Origin header: no check and no CORS headers
  allowed,    ///< answer with the CORS headers
  refused,    ///< answer 403
};

/// The first element of a comma-separated header value, without surrounding spaces (a proxy
/// chain appends its own values after the client's).
inline std::string_view first_listed(std::string_view value) {
  value = value.substr(0, value.find(','));
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

/// Whether `headers.origin` is the server's own: `scheme://Host`, or the origin a proxy names
/// with X-Forwarded-Proto and X-Forwarded-Host (python-engineio accepts both the same way).
inline bool is_own_origin(const OriginHeaders& headers, std::string_view scheme) {
  if (!headers.host) return false;
  auto matches = [&](std::string_view proto, std::string_view host) {
    return headers.origin.size() == proto.size() + 3 + host.size() && headers.origin.substr(0, proto.size()) == proto &&
           headers.origin.substr(proto.size(), 3) == "://" && headers.origin.substr(proto.size() + 3) == host;
  };
  if (matches(scheme, *headers.host)) return true;
  if (!headers.forwarded_proto && !headers.forwarded_host) return false;
  return matches(headers.forwarded_proto ? first_listed(*headers.forwarded_proto) : scheme,
                 headers.forwarded_host ? first_listed(*headers.forwarded_host) : *headers.host);
}

/// What `options` say of a request with these headers, on a connection whose scheme is
/// `scheme` ("http" or "https"). `make_request()` builds the HttpRequest a custom check gets;
/// it is called only when one is set. An exception from the check propagates.
template <class MakeRequest>
OriginVerdict check_origin(const Options& options, const OriginHeaders& headers, std::string_view scheme,
                           MakeRequest&& make_request) {
  if (headers.origin.empty() || !options.checks_origin()) return OriginVerdict::unchecked;
  if (const auto& check = options.cors_origin_check()) {
    return check(headers.origin, make_request()) ? OriginVerdict::allowed : OriginVerdict::refused;
  }
  for (const auto& allowed : options.cors_allowed_origins())
    if (allowed == "*" || allowed == headers.origin) return OriginVerdict::allowed;
  if (options.cors_allow_same_origin() && is_own_origin(headers, scheme)) return OriginVerdict::allowed;
  return OriginVerdict::refused;
}

using HeaderList = std::vector<std::pair<std::string, std::string>>;

/// `values` joined with commas, as npm cors joins its lists.
inline std::string comma_list(const std::vector<std::string>& values) {
  std::string joined;
  for (const auto& value : values) {
    if (!joined.empty()) joined += ',';
    joined += value;
  }
  return joined;
}

/// The CORS headers of an Engine.IO response to a request from an allowed Origin (npm cors'
/// "actual response" headers; a preflight gets `preflight_headers` too). `Vary` is to be added
/// to, not replaced: a preflight's own goes with it.
inline HeaderList cors_headers(const Options& options, std::string_view origin) {
  HeaderList headers;
  headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  if (options.cors_credentials()) headers.emplace_back("Access-Control-Allow-Credentials", "true");
  if (!options.cors_exposed_headers().empty())
    headers.emplace_back("Access-Control-Expose-Headers", comma_list(options.cors_exposed_headers()));
  headers.emplace_back("Vary", "Origin");
  return headers;
}

/// The headers of the answer to a CORS preflight (OPTIONS) on the Socket.IO path: the methods
/// allowed, the request headers allowed (those listed, or else those `requested_headers`, the
/// preflight's Access-Control-Request-Headers, names: echoed, with `Vary` saying so), and the
/// max age when set.
inline HeaderList preflight_headers(const Options& options, std::string_view requested_headers) {
  HeaderList headers;
  headers.emplace_back("Access-Control-Allow-Methods", comma_list(options.cors_methods()));
  if (!options.cors_allowed_headers().empty()) {
    headers.emplace_back("Access-Control-Allow-Headers", comma_list(options.cors_allowed_headers()));
  } else {
    headers.emplace_back("Vary", "Access-Control-Request-Headers");
    if (!requested_headers.empty()) headers.emplace_back("Access-Control-Allow-Headers", std::string(requested_headers));
  }
  if (const auto& max_age = options.cors_max_age())
    headers.emplace_back("Access-Control-Max-Age", std::to_string(max_age->count()));
  return headers;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_CORS_HPP
