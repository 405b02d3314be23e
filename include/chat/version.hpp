// chat's version.
#ifndef CHAT_VERSION_HPP
#define CHAT_VERSION_HPP

#define CHAT_VERSION_MAJOR 0
#define CHAT_VERSION_MINOR 1
#define CHAT_VERSION_PATCH 0

namespace chat {
/// The library version, "major.minor.patch".
inline constexpr const char* version = "0.1.0";
}  // namespace chat

#endif  // CHAT_VERSION_HPP
