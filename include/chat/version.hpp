// chat's version: written here and nowhere else (CMake, setup.py and the Python package read it).
#ifndef CHAT_VERSION_HPP
#define CHAT_VERSION_HPP

#define CHAT_VERSION_MAJOR 0
#define CHAT_VERSION_MINOR 1
#define CHAT_VERSION_PATCH 0

#define CHAT_VERSION_STRINGIFY_(x) #x
#define CHAT_VERSION_STRINGIFY(x) CHAT_VERSION_STRINGIFY_(x)

namespace chat {
/// The library version, "major.minor.patch".
inline constexpr const char* version = CHAT_VERSION_STRINGIFY(CHAT_VERSION_MAJOR) "." CHAT_VERSION_STRINGIFY(
    CHAT_VERSION_MINOR) "." CHAT_VERSION_STRINGIFY(CHAT_VERSION_PATCH);
}  // namespace chat

#endif  // CHAT_VERSION_HPP
