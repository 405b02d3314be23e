// chat's error codes, as a std::error_category.
#ifndef CHAT_ERRORS_HPP
#define CHAT_ERRORS_HPP

#include <string>        // string
#include <system_error>  // error_category, error_code, is_error_code_enum

namespace chat {

/// Why an acknowledgement never came.
enum class errc {
  ack_timeout = 1,       ///< the client did not acknowledge within the timeout
  socket_disconnected,   ///< the socket disconnected before acknowledging
  too_many_pending_acks, ///< Options::max_pending_acks answers already awaited: nothing was sent
};

/// The category of chat::errc.
inline const std::error_category& error_category() {
  struct Category : std::error_category {
    const char* name() const noexcept override { return "chat"; }
    std::string message(int value) const override {
      switch (errc(value)) {
        case errc::ack_timeout: return "operation has timed out";
        case errc::socket_disconnected: return "socket has been disconnected";
        case errc::too_many_pending_acks: return "too many acknowledgements pending";
      }
      return "unknown chat error";
    }
  };
  static const Category category;
  return category;
}

inline std::error_code make_error_code(errc e) { return {int(e), error_category()}; }

}  // namespace chat

/// @cond
// Lets a chat::errc compare with and convert to a std::error_code (not in the reference:
// Doxygen cannot place a specialization of a std template).
template <>
struct std::is_error_code_enum<chat::errc> : std::true_type {};
/// @endcond

#endif  // CHAT_ERRORS_HPP
