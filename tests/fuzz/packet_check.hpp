// What the Socket.IO decoders' harnesses (JSON and msgpack) both check of a decoded packet.
#ifndef CHAT_TESTS_FUZZ_PACKET_CHECK_HPP
#define CHAT_TESTS_FUZZ_PACKET_CHECK_HPP

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "fuzz_check.hpp"

namespace fuzz {

/// How deep arrays and objects nest in `value` (a scalar: 0).
inline int depth(const nlohmann::json& value) {
  if (!value.is_array() && !value.is_object()) return 0;
  int deepest = 0;
  for (const auto& element : value) deepest = std::max(deepest, depth(element));
  return deepest + 1;
}

/// An EVENT's data, whatever the format: a non-empty array whose first element, the event's
/// name, is a number or a string that is none of the names Socket.IO reserves (the decoders must
/// refuse those).
inline void check_event_data(const nlohmann::json& data, const std::string& what) {
  FUZZ_CHECK(data.is_array() && !data.empty(), what);
  const nlohmann::json& name = data[0];
  FUZZ_CHECK(name.is_number() || name.is_string(), what);
  if (!name.is_string()) return;
  const auto& event = name.get_ref<const std::string&>();
  for (const char* reserved : {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"})
    FUZZ_CHECK(event != reserved, what);
}

}  // namespace fuzz

#endif  // CHAT_TESTS_FUZZ_PACKET_CHECK_HPP
