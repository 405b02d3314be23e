// Fuzzes the HTTP side of a server without sockets: percent_decode and parse_target
// (chat/detail/url.hpp), Engine.IO's request classification and error bodies
// (chat/engineio/request.hpp), the router of plain HTTP requests (chat/detail/http_router.hpp) and the
// CORS headers (chat/detail/cors.hpp).
// Checks:
//   - percent_decode accepts exactly the texts whose every '%' starts a hex escape other than
//     %00, shrinks by 2 bytes per escape, reads '+' as a space only when asked, and what it
//     gives, escaped again, decodes to itself;
//   - a parsed target keeps a path that starts with '/', and written back (every byte escaped
//     that could be misread) parses to the same path and query, in order;
//   - classify_request gives a verdict only with the conditions Engine.IO sets for it (and a
//     handshake whenever they all hold); each error's body is {"code":N,"message":"..."};
//   - plan_http sends the Socket.IO path (with or without its trailing slash) to Engine.IO and
//     nothing else there, files of the client bundle only under that path, static files only
//     to GET; CORS and preflight headers say what they were given.
//
// Input: line 1 "<METHOD> <target>"; line 2 flags: 'u' a WebSocket handshake, 'a'/'p'/'g'/'w'
// the sid's session absent/polling/upgrading/websocket (last wins), 'P'/'W' polling/WebSocket not
// allowed, 's' a static root, 'h' an HTTP hook, 'b' a client bundle dir, 'c' no CORS
// credentials; line 3 the `path` option; line 4 an Origin; line 5 the requested headers.
#include <chat/detail/cors.hpp>
#include <chat/detail/http_router.hpp>
#include <chat/detail/url.hpp>
#include <chat/engineio/request.hpp>
#include <chat/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"

namespace {

using chat::detail::Target;
using chat::engineio::Error;
using chat::engineio::Intent;
using chat::engineio::SessionState;

int hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/// Every byte escaped but the unreserved ones and '/' (and NUL, which no escape may carry).
std::string escape(std::string_view text) {
  static constexpr char digits[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                       c == '.' || c == '_' || c == '~' || c == '/' || c == 0;
    if (plain) {
      out += char(c);
    } else {
      out += '%';
      out += digits[c >> 4];
      out += digits[c & 15];
    }
  }
  return out;
}

void check_percent_decode(std::string_view text) {
  std::size_t escapes = 0;
  bool valid = true;
  for (std::size_t i = 0; i < text.size() && valid; ++i) {
    if (text[i] != '%') continue;
    valid = i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0 &&
            !(text[i + 1] == '0' && text[i + 2] == '0');
    ++escapes;
    i += 2;
  }
  const auto plain = chat::detail::percent_decode(text, false);
  const auto query = chat::detail::percent_decode(text, true);
  FUZZ_CHECK(plain.has_value() == valid && query.has_value() == valid, fuzz::printable(text));
  if (!valid) return;
  const std::string what = fuzz::printable(text) + " decoded as " + fuzz::printable(*plain);
  FUZZ_CHECK(plain->size() == text.size() - 2 * escapes && query->size() == plain->size(), what);
  // '+' is a space in a query only: the same as the escape %20 in its place.
  std::string spaced;
  for (char c : text) spaced += c == '+' ? std::string("%20") : std::string(1, c);
  FUZZ_CHECK(chat::detail::percent_decode(spaced, false) == query, what + " / " + fuzz::printable(*query));
  const auto again = chat::detail::percent_decode(escape(*plain), false);
  FUZZ_CHECK(again == plain, what);
}

std::string describe(const Target& target) {
  std::string out = "path " + fuzz::printable(target.path);
  for (const auto& [key, value] : target.query) out += " " + fuzz::printable(key) + "=" + fuzz::printable(value);
  return out;
}

void check_target(std::string_view raw, const std::optional<Target>& target) {
  if (raw.empty() || raw.front() != '/') FUZZ_CHECK(!target, fuzz::printable(raw));
  if (!target) return;
  const std::string what = fuzz::printable(raw) + " parsed as " + describe(*target);
  FUZZ_CHECK(!target->path.empty() && target->path.front() == '/', what);
  FUZZ_CHECK(target->path == chat::detail::percent_decode(raw.substr(0, raw.find('?')), false), what);
  std::string written = escape(target->path);
  for (std::size_t i = 0; i < target->query.size(); ++i) {
    written += i == 0 ? "?" : "&";
    written += escape(target->query[i].first) + "=" + escape(target->query[i].second);
  }
  const auto again = chat::detail::parse_target(written);
  FUZZ_CHECK(again && again->path == target->path && again->query == target->query,
             what + "\nwritten " + fuzz::printable(written));
  for (const auto& [key, value] : target->query) {
    const auto found = target->param(key);
    FUZZ_CHECK(found.has_value(), what);
    for (const auto& [earlier_key, earlier_value] : target->query) {
      if (earlier_key != key) continue;
      FUZZ_CHECK(*found == earlier_value, what);  // the first one with that name
      break;
    }
  }
}

void check_error_body(Error error) {
  const std::string body = chat::engineio::error_body(error);
  const std::string expected = "{\"code\":" + std::to_string(int(error)) + ",\"message\":\"" +
                               std::string(chat::engineio::error_message(error)) + "\"}";
  FUZZ_CHECK(body == expected, body);
  FUZZ_CHECK(chat::engineio::error_status(error) == (error == Error::forbidden ? 403 : 400), body);
}

void check_classify(std::string_view method, const Target& target, bool upgrade, SessionState state,
                    chat::engineio::AllowedTransports allowed) {
  const auto verdict = chat::engineio::classify_request(method, target, upgrade, state, allowed);
  const auto transport = target.param("transport");
  const bool polling = transport == std::optional<std::string_view>("polling");
  const bool websocket = transport == std::optional<std::string_view>("websocket");
  const bool transport_ok = (polling && allowed.polling) || (websocket && allowed.websocket);
  const bool sid = target.param("sid").has_value();
  const bool handshake_ok = !sid && method == "GET" && websocket == upgrade && target.param("EIO") == std::optional<std::string_view>("4");
  const std::string what = std::string(method) + " " + describe(target) + (upgrade ? " (WebSocket)" : "") +
                           " state " + std::to_string(int(state));
  if (const auto* error = std::get_if<Error>(&verdict)) {
    check_error_body(*error);
    switch (*error) {
      case Error::unknown_transport: FUZZ_CHECK(!transport_ok, what); break;
      case Error::unknown_sid: FUZZ_CHECK(transport_ok && sid && state == SessionState::absent, what); break;
      case Error::bad_handshake_method: FUZZ_CHECK(transport_ok && !sid && method != "GET", what); break;
      case Error::unsupported_protocol_version:
        FUZZ_CHECK(transport_ok && !sid && method == "GET" && websocket == upgrade &&
                       target.param("EIO") != std::optional<std::string_view>("4"),
                   what);
        break;
      case Error::bad_request: FUZZ_CHECK(transport_ok && !handshake_ok && (sid ? state != SessionState::absent : true), what); break;
      case Error::forbidden: FUZZ_CHECK(false, "classify_request does not check origins: " + what); break;
    }
    FUZZ_CHECK(!(transport_ok && handshake_ok), "a valid handshake refused: " + what);
    return;
  }
  const bool polling_session = state == SessionState::polling || state == SessionState::upgrading;
  switch (std::get<Intent>(verdict)) {
    case Intent::open_session: FUZZ_CHECK(transport_ok && handshake_ok, what); break;
    case Intent::poll: FUZZ_CHECK(polling && transport_ok && sid && !upgrade && method == "GET" && polling_session, what); break;
    case Intent::post: FUZZ_CHECK(polling && transport_ok && sid && !upgrade && method == "POST" && polling_session, what); break;
    case Intent::upgrade: FUZZ_CHECK(websocket && transport_ok && sid && upgrade && state == SessionState::polling, what); break;
    case Intent::close_at_once:
      FUZZ_CHECK(websocket && transport_ok && sid && upgrade &&
                     (state == SessionState::upgrading || state == SessionState::websocket),
                 what);
      break;
  }
}

void check_plan(std::string_view method, const std::optional<Target>& target, const chat::Options& options,
                bool static_root, bool hook) {
  const auto plan = chat::detail::plan_http(method, target, options, static_root, hook);
  const std::string what = std::string(method) + " " + (target ? describe(*target) : "no target") + " path option " +
                           fuzz::printable(options.path());
  FUZZ_CHECK(plan.bad_target == !target, what);
  if (!target) {
    FUZZ_CHECK(!plan.engine && plan.bundle_file.empty() && !plan.static_file && !plan.hook, what);
    return;
  }
  const bool engine_path = target->path == options.path() || target->path + "/" == options.path();
  FUZZ_CHECK(chat::detail::is_engine_path(target->path, options) == engine_path, what);
  FUZZ_CHECK(plan.engine == engine_path, what);
  if (plan.engine) {
    FUZZ_CHECK(plan.bundle_file.empty() && !plan.static_file && !plan.hook, what);
    return;
  }
  if (!plan.bundle_file.empty()) {
    FUZZ_CHECK(!options.client_bundle_dir().empty() && chat::detail::is_client_bundle_file(plan.bundle_file) &&
                   target->path == options.path() + plan.bundle_file,
               what);
  } else if (!options.client_bundle_dir().empty() && target->path.rfind(options.path(), 0) == 0) {
    FUZZ_CHECK(!chat::detail::is_client_bundle_file(target->path.substr(options.path().size())), what);
  }
  FUZZ_CHECK(plan.static_file == (static_root && method == "GET"), what);
  FUZZ_CHECK(plan.hook == hook, what);
}

void check_headers(const chat::Options& options, std::string_view origin, std::string_view requested) {
  const auto cors = chat::detail::cors_headers(options, origin);
  FUZZ_CHECK(cors.size() == (options.cors_credentials() ? 3u : 2u), fuzz::printable(origin));
  FUZZ_CHECK(cors.front().first == "Access-Control-Allow-Origin" && cors.front().second == origin, fuzz::printable(origin));
  FUZZ_CHECK(cors.back().first == "Vary" && cors.back().second == "Origin", fuzz::printable(origin));
  // Without a list of allowed headers (the default), the requested ones are echoed.
  const auto preflight = chat::detail::preflight_headers(options, requested);
  FUZZ_CHECK(preflight.size() == (requested.empty() ? 2u : 3u), fuzz::printable(requested));
  if (!requested.empty()) FUZZ_CHECK(preflight.back().second == requested, fuzz::printable(requested));
}

std::string_view next_line(std::string_view& input) {
  const std::size_t end = input.find('\n');
  const std::string_view line = input.substr(0, end);
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return line;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view input = fuzz::as_text(data, size);
  const std::string_view request_line = next_line(input);
  const std::string_view flags = next_line(input);
  const std::string_view path_option = next_line(input);
  const std::string_view origin = next_line(input);
  const std::string_view requested_headers = next_line(input);

  const std::size_t space = request_line.find(' ');
  const std::string_view method = space == std::string_view::npos ? std::string_view() : request_line.substr(0, space);
  const std::string_view raw_target = space == std::string_view::npos ? request_line : request_line.substr(space + 1);

  check_percent_decode(raw_target);
  check_percent_decode(request_line);
  const auto target = chat::detail::parse_target(raw_target);
  check_target(raw_target, target);

  SessionState state = SessionState::absent;
  chat::engineio::AllowedTransports allowed;
  chat::Options options;
  for (char flag : flags) {
    switch (flag) {
      case 'a': state = SessionState::absent; break;
      case 'p': state = SessionState::polling; break;
      case 'g': state = SessionState::upgrading; break;
      case 'w': state = SessionState::websocket; break;
      case 'P': allowed.polling = false; break;
      case 'W': allowed.websocket = false; break;
      case 'b': options.client_bundle_dir("bundle"); break;
      case 'c': options.cors_credentials(false); break;
      default: break;
    }
  }
  const bool upgrade = flags.find('u') != std::string_view::npos;
  if (!path_option.empty()) options.path(std::string(path_option));
  FUZZ_CHECK(!options.path().empty() && options.path().front() == '/' && options.path().back() == '/',
             fuzz::printable(options.path()));

  if (target) check_classify(method, *target, upgrade, state, allowed);
  check_plan(method, target, options, flags.find('s') != std::string_view::npos,
             flags.find('h') != std::string_view::npos);
  check_headers(options, origin, requested_headers);
  return 0;
}
