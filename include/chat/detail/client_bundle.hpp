// Whether the client bundle directory (Options::client_bundle_dir) can serve the browser bundle:
// checked once when a server starts, so that a missing bundle is one clear line then rather than
// a page that later fails with "io is not defined".
#ifndef CHAT_DETAIL_CLIENT_BUNDLE_HPP
#define CHAT_DETAIL_CLIENT_BUNDLE_HPP

#include <filesystem>    // path, is_regular_file
#include <optional>      // optional
#include <string>        // string
#include <system_error>  // error_code

namespace chat::detail {

/// What is wrong with `dir` as the client bundle directory, or nothing when it holds
/// socket.io.js or is "" (no bundle served). `path` is the Socket.IO path, for the message.
inline std::optional<std::string> client_bundle_problem(const std::string& dir, const std::string& path) {
  if (dir.empty()) return std::nullopt;
  std::error_code ec;
  if (std::filesystem::is_regular_file(std::filesystem::path(dir) / "socket.io.js", ec)) return std::nullopt;
  const bool exists = std::filesystem::is_directory(dir, ec);
  return "client bundle: " + std::string(exists ? "no socket.io.js in " : "no directory ") + dir + ", so " + path +
         "socket.io.js answers 404 (a page loading it fails with \"io is not defined\"). Fix: put socket.io-client's "
         "dist/ files there (npm install socket.io-client; chat's CMake install copies them to "
         "share/chat/socket.io-client), or point Options::client_bundle_dir at such a directory, or set it to \"\" "
         "to serve no bundle.";
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_CLIENT_BUNDLE_HPP
