// permessage-deflate (RFC 7692) on chat's connections, chosen per server at run time
// (Options::per_message_deflate) though websocketpp chooses its extension by type: every
// configuration carries the enabled extension, and each connection's request says whether the
// client's offer may be accepted, and how large a message may inflate to.
#ifndef CHAT_TRANSPORT_WEBSOCKETPP_DEFLATE_HPP
#define CHAT_TRANSPORT_WEBSOCKETPP_DEFLATE_HPP

#include <cstddef>       // size_t
#include <cstdint>       // uint8_t
#include <sstream>       // stringstream, which enabled.hpp uses without including it
#include <string>        // string, to_string, stoull
#include <system_error>  // error_code

// Before enabled.hpp, which uses websocketpp's http types without including them.
#include <websocketpp/http/request.hpp>
#include <websocketpp/extensions/permessage_deflate/enabled.hpp>
#include <websocketpp/processors/base.hpp>

namespace chat::transport {

/// The attribute through which a connection's request hands its inflate bound to the extension
/// (the processor gives the extension nothing but the offer's attributes). Not a registered
/// RFC 7692 parameter; the extension takes it out before negotiating, and a client's own is
/// overwritten.
inline constexpr const char* inflate_limit_attribute = "x-chat-inflate-limit";

/// websocketpp's HTTP request with the transport's say over the permessage-deflate offer: the
/// transport sets both fields before the request is read (its TCP pre-init handler).
class Request : public websocketpp::http::parser::request {
 public:
  bool deflate_allowed = false;          ///< Options::per_message_deflate
  std::size_t inflate_limit = 1000000;   ///< Options::max_payload

  /// What websocketpp reads the offer through (hybi13::negotiate_extensions; it hides the
  /// parser's own): no offer at all when the server declines, else the offer with the bound.
  bool get_header_as_plist(const std::string& key, websocketpp::http::parameter_list& out) const {
    if (key != "Sec-WebSocket-Extensions") return parser::get_header_as_plist(key, out);
    if (!deflate_allowed) return false;  // as if the client offered nothing
    const bool error = parser::get_header_as_plist(key, out);
    for (auto& [name, attributes] : out)
      if (name == "permessage-deflate") attributes[inflate_limit_attribute] = std::to_string(inflate_limit);
    return error;
  }
};

/// websocketpp's permessage-deflate, with a bound on what one message inflates to: websocketpp
/// checks a message's size on the wire only, so a small compressed frame could otherwise grow
/// without limit in memory. Past the bound the connection is closed with 1009 (message too big).
template <class ExtensionConfig>
class BoundedDeflate : public websocketpp::extensions::permessage_deflate::enabled<ExtensionConfig> {
  using Base = websocketpp::extensions::permessage_deflate::enabled<ExtensionConfig>;

 public:
  websocketpp::err_str_pair negotiate(const websocketpp::http::attribute_list& offer) {
    websocketpp::http::attribute_list own = offer;
    const auto limit = own.find(inflate_limit_attribute);
    if (limit != own.end()) {
      inflate_limit_ = std::stoull(limit->second);
      own.erase(limit);
    }
    return Base::negotiate(own);
  }

  /// websocketpp hands over at most a read buffer's worth (1 KiB) per call, so a message is
  /// refused at most that much inflated past the bound.
  std::error_code decompress(const std::uint8_t* buffer, std::size_t length, std::string& out) {
    const std::error_code ec = Base::decompress(buffer, length, out);
    if (!ec && out.size() > inflate_limit_)
      return websocketpp::processor::error::make_error_code(websocketpp::processor::error::message_too_big);
    return ec;
  }

 private:
  std::size_t inflate_limit_ = 1000000;
};

}  // namespace chat::transport

#endif  // CHAT_TRANSPORT_WEBSOCKETPP_DEFLATE_HPP
