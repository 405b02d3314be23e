// The errors of chat's message store (chat/store/sqlite_store.hpp).
#ifndef CHAT_STORE_STORE_ERROR_HPP
#define CHAT_STORE_STORE_ERROR_HPP

#include <stdexcept>  // runtime_error
#include <string>     // string

namespace chat::store {

/// Why a store call failed.
enum class StoreErrc {
  cannot_open,       ///< the file cannot be opened or created
  read_only,         ///< the file (or its directory) cannot be written
  corrupt,           ///< the file is not a SQLite database, or is damaged
  incompatible,      ///< the file's schema is newer than this code understands
  name_taken,        ///< another user has that name
  not_found,         ///< no such user or room
  invalid_argument,  ///< a limit out of range, an empty name, a room with oneself
  failed,            ///< anything else SQLite reports (disk full, I/O error)
};

/// The name of a StoreErrc, as the Python bindings expose it ("name_taken", ...).
inline const char* to_string(StoreErrc code) noexcept {
  switch (code) {
    case StoreErrc::cannot_open: return "cannot_open";
    case StoreErrc::read_only: return "read_only";
    case StoreErrc::corrupt: return "corrupt";
    case StoreErrc::incompatible: return "incompatible";
    case StoreErrc::name_taken: return "name_taken";
    case StoreErrc::not_found: return "not_found";
    case StoreErrc::invalid_argument: return "invalid_argument";
    case StoreErrc::failed: return "failed";
  }
  return "failed";
}

/// The exception every SqliteStore call throws on failure. what() names the file and SQLite's
/// own explanation.
class StoreError : public std::runtime_error {
 public:
  /// An error of kind `code`, explained by `what`.
  StoreError(StoreErrc code, const std::string& what) : std::runtime_error(what), code_(code) {}
  /// What kind of failure it was.
  StoreErrc code() const noexcept { return code_; }

 private:
  StoreErrc code_;
};

}  // namespace chat::store

#endif  // CHAT_STORE_STORE_ERROR_HPP
