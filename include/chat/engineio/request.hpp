// Engine.IO request validation: which HTTP or WebSocket request opens, reaches or is refused a
// session, and the error JSON Node's engine.io answers with. Sans-I/O.
#ifndef CHAT_ENGINEIO_REQUEST_HPP
#define CHAT_ENGINEIO_REQUEST_HPP

#include <chrono>       // milliseconds
#include <cstddef>      // size_t
#include <string>       // string, to_string
#include <string_view>  // string_view
#include <variant>      // variant

#include "../detail/url.hpp"

namespace chat::engineio {

/// Engine.IO's error codes, with Node's numbering.
enum class Error {
  unknown_transport = 0,
  unknown_sid = 1,
  bad_handshake_method = 2,
  bad_request = 3,
  forbidden = 4,
  unsupported_protocol_version = 5,
};

inline std::string_view error_message(Error error) {
  switch (error) {
    case Error::unknown_transport: return "Transport unknown";
    case Error::unknown_sid: return "Session ID unknown";
    case Error::bad_handshake_method: return "Bad handshake method";
    case Error::bad_request: return "Bad request";
    case Error::forbidden: return "Forbidden";
    case Error::unsupported_protocol_version: return "Unsupported protocol version";
  }
  return "Bad request";
}

/// The HTTP status Node answers each error with: 403 for Forbidden, 400 for the rest.
inline int error_status(Error error) { return error == Error::forbidden ? 403 : 400; }

/// The body of an error response: {"code":N,"message":"..."}. (Written by hand, as the open
/// packet below: the Engine.IO layer does without a JSON library.) The message is escaped as a
/// JSON string: an application's refusal (Options::allow_request) may say anything.
inline std::string error_body(Error error, std::string_view message) {
  std::string body = "{\"code\":";
  body += std::to_string(int(error));
  body += ",\"message\":\"";
  static constexpr char hex[] = "0123456789abcdef";
  for (const char c : message) {
    if (c == '"' || c == '\\') {
      body += '\\';
      body += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      body += "\\u00";
      body += hex[(c >> 4) & 0xf];
      body += hex[c & 0xf];
    } else {
      body += c;
    }
  }
  body += "\"}";
  return body;
}

inline std::string error_body(Error error) { return error_body(error, error_message(error)); }

enum class Transport { polling, websocket };

/// What the server knows of the session a request names.
enum class SessionState {
  absent,     ///< no session with that sid
  polling,    ///< polling, no upgrade under way
  upgrading,  ///< polling, a WebSocket probe attached
  websocket,  ///< upgraded to (or opened over) WebSocket
};

/// What a valid request asks for.
enum class Intent {
  open_session,  ///< a handshake: create a session on the request's transport
  poll,          ///< GET on a polling session
  post,          ///< POST on a polling session
  upgrade,       ///< a WebSocket request carrying the sid of a polling session
  close_at_once, ///< a WebSocket request carrying the sid of a session that upgraded, or is
                 ///< upgrading: Node accepts it and closes it at once
};

/// The verdict on a request: an intent, or an error to answer with.
using Verdict = std::variant<Intent, Error>;

/// The Engine.IO protocol a request speaks, read from its query as Node's engine.io reads it.
struct Protocol {
  /// 4, or 3 (socket.io-client 2.x): `EIO=4` is 4, anything else (absent included) is 3.
  int revision = 4;
  /// v3 only: the client asked for binary messages as base64 text (`b64` present), having no
  /// binary support on this transport.
  bool base64 = false;

  /// Whether it is Engine.IO v3 (socket.io-client 2.x).
  bool legacy() const { return revision == 3; }
};

/// The protocol of a request (a handshake, an upgrade): see Protocol.
inline Protocol protocol_of(const detail::Target& target) {
  const auto revision = target.param("EIO");
  Protocol protocol;
  protocol.revision = revision && *revision == "4" ? 4 : 3;
  protocol.base64 = protocol.revision == 3 && target.param("b64").has_value();
  return protocol;
}

/// The transports a server accepts (Node's `transports` option).
struct AllowedTransports {
  bool polling = true;    ///< HTTP long-polling
  bool websocket = true;  ///< WebSocket, opened directly or by upgrade
};

/// Validates a request against Engine.IO v4's rules in Node's order: the transport, then the sid
/// (or, for a handshake, the method, the transport matching the request kind, and the protocol
/// version, which only a handshake is asked for). `websocket_upgrade` is whether the request is
/// a WebSocket handshake; `state` is the state of the session its sid names (absent when it
/// carries no sid); a transport not in `allowed` is unknown, as in Node. With `allow_eio3`
/// (Options::allow_eio3) a handshake of protocol 3 opens a session too, and a request on a
/// session must speak the protocol the session was opened with (`session_revision`), else it
/// is a bad request, as in Node; without it every session is 4 and the check is not made.
inline Verdict classify_request(std::string_view method, const detail::Target& target,
                                bool websocket_upgrade, SessionState state, AllowedTransports allowed = {},
                                bool allow_eio3 = false, int session_revision = 4) {
  const auto transport = target.param("transport");
  if (!transport || (*transport != "polling" && *transport != "websocket"))
    return Error::unknown_transport;
  const bool wants_websocket = *transport == "websocket";
  if (!(wants_websocket ? allowed.websocket : allowed.polling)) return Error::unknown_transport;

  if (!target.param("sid")) {
    if (method != "GET") return Error::bad_handshake_method;
    if (wants_websocket != websocket_upgrade) return Error::bad_request;
    if (protocol_of(target).legacy() && !allow_eio3) return Error::unsupported_protocol_version;
    return Intent::open_session;
  }
  if (state == SessionState::absent) return Error::unknown_sid;
  if (allow_eio3 && protocol_of(target).revision != session_revision) return Error::bad_request;
  if (websocket_upgrade) {
    // Only a polling session with no probe under way may upgrade, and only once; Node accepts a
    // later WebSocket for the same sid and closes it (engine.io server.ts onWebSocket).
    if (!wants_websocket) return Error::bad_request;
    return state == SessionState::polling ? Intent::upgrade : Intent::close_at_once;
  }
  if (wants_websocket || state == SessionState::websocket) return Error::bad_request;
  if (method == "GET") return Intent::poll;
  if (method == "POST") return Intent::post;
  return Error::bad_request;
}

/// The open packet's JSON: exactly the five fields the protocol test-suite requires.
inline std::string open_packet_data(std::string_view sid, bool can_upgrade,
                                    std::chrono::milliseconds ping_interval,
                                    std::chrono::milliseconds ping_timeout, std::size_t max_payload) {
  std::string data = "{\"sid\":\"";
  data += sid;
  data += can_upgrade ? "\",\"upgrades\":[\"websocket\"]" : "\",\"upgrades\":[]";
  data += ",\"pingInterval\":" + std::to_string(ping_interval.count());
  data += ",\"pingTimeout\":" + std::to_string(ping_timeout.count());
  data += ",\"maxPayload\":" + std::to_string(max_payload) + "}";
  return data;
}

}  // namespace chat::engineio

#endif  // CHAT_ENGINEIO_REQUEST_HPP
