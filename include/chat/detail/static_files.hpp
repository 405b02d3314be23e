// Static files: mapping a request path to a file under a root directory, safely, and MIME types.
#ifndef CHAT_DETAIL_STATIC_FILES_HPP
#define CHAT_DETAIL_STATIC_FILES_HPP

#include <filesystem>   // path, canonical, is_directory
#include <fstream>      // ifstream
#include <iterator>     // istreambuf_iterator
#include <optional>     // optional
#include <string>       // string
#include <string_view>  // string_view
#include <system_error> // error_code
#include <variant>      // variant


namespace chat::detail {

inline std::string_view mime_type(std::string_view path) {
  const auto dot = path.rfind('.');
  const std::string_view ext = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
  if (ext == "html" || ext == "htm") return "text/html; charset=utf-8";
  if (ext == "js" || ext == "mjs") return "application/javascript; charset=utf-8";
  if (ext == "css") return "text/css; charset=utf-8";
  if (ext == "json" || ext == "map") return "application/json; charset=utf-8";
  if (ext == "svg") return "image/svg+xml";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "gif") return "image/gif";
  if (ext == "webp") return "image/webp";
  if (ext == "ico") return "image/x-icon";
  if (ext == "txt") return "text/plain; charset=utf-8";
  if (ext == "wasm") return "application/wasm";
  if (ext == "woff2") return "font/woff2";
  if (ext == "woff") return "font/woff";
  return "application/octet-stream";
}

/// Why a path was not served.
enum class StaticError { not_found, forbidden };

/// Resolves a decoded request path against `root`: "/" and directories mean their index.html.
/// A path with a ".." segment, a backslash or a NUL is forbidden, and so is anything that
/// resolves (through symlinks) outside the root.
inline std::variant<std::filesystem::path, StaticError> resolve_static(const std::filesystem::path& root,
                                                                       std::string_view request_path) {
  if (request_path.empty() || request_path.front() != '/') return StaticError::forbidden;
  if (request_path.find('\\') != std::string_view::npos || request_path.find('\0') != std::string_view::npos)
    return StaticError::forbidden;
  std::filesystem::path relative;
  std::string_view rest = request_path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    if (segment == "..") return StaticError::forbidden;
    if (!segment.empty() && segment != ".") relative /= std::string(segment);
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  std::error_code ec;
  const auto canonical_root = std::filesystem::canonical(root, ec);
  if (ec) return StaticError::not_found;
  auto candidate = canonical_root / relative;
  if (std::filesystem::is_directory(candidate, ec)) candidate /= "index.html";
  const auto resolved = std::filesystem::canonical(candidate, ec);
  if (ec || !std::filesystem::is_regular_file(resolved, ec)) return StaticError::not_found;
  const auto root_text = canonical_root.native() + '/';
  if (resolved.native().compare(0, root_text.size(), root_text) != 0) return StaticError::forbidden;
  return resolved;
}

/// Reads a whole file; nullopt if it cannot be read.
inline std::optional<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return std::nullopt;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_STATIC_FILES_HPP
