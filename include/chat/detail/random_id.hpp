// Unguessable identifiers for Engine.IO sessions and Socket.IO sockets.
#ifndef CHAT_DETAIL_RANDOM_ID_HPP
#define CHAT_DETAIL_RANDOM_ID_HPP

#include <cstdint>  // uint32_t
#include <random>   // random_device
#include <string>   // string

namespace chat::detail {

/// 20 characters of base64url (120 random bits), the shape Node's base64id produces.
/// Why random_device for every id: ids are bearer credentials for a session (Node calls the
/// Engine.IO sid "sensitive"), so they come from the OS's unpredictable source, never from a
/// seeded generator whose state can be recovered from the ids it has handed out.
inline std::string random_id() {
  static constexpr char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  thread_local std::random_device device;
  std::string id(20, '\0');
  std::uint32_t bits = 0;
  int available = 0;
  for (char& c : id) {
    if (available < 6) {
      bits = device();
      available = 30;  // five 6-bit groups per 32-bit draw
    }
    c = alphabet[bits & 63];
    bits >>= 6;
    available -= 6;
  }
  return id;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_RANDOM_ID_HPP
