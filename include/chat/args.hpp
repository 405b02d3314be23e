// chat::Args: the arguments of an event or an acknowledgement, and binary values inside them.
#ifndef CHAT_ARGS_HPP
#define CHAT_ARGS_HPP

#include <cstddef>      // size_t, byte
#include <cstdint>      // uint8_t
#include <string>       // string
#include <string_view>  // string_view
#include <type_traits>  // decay_t, is_same_v
#include <utility>      // forward, move
#include <vector>       // vector

#include <nlohmann/json.hpp>

#if defined(CHAT_SEPARATE_COMPILATION)
// nlohmann::json's members are compiled once, with chat's bodies, in chat/src.hpp: instantiated
// again in every file that handles a payload they cost a file that only registers hooks about a
// seventh of its compile time. (Explicit instantiations are weak symbols: a library that makes
// its own does not clash.)
extern template class nlohmann::basic_json<>;
#endif

namespace chat {

/// A JSON value; every payload is one. Binary values (`chat::binary(...)`) may sit anywhere
/// inside and travel as Socket.IO binary attachments.
using json = nlohmann::json;

/// Makes a binary JSON value from raw bytes; it reaches the client as an ArrayBuffer/Buffer
/// (bytes in Python).
inline json binary(std::string_view bytes) {
  return json::binary(std::vector<std::uint8_t>(bytes.begin(), bytes.end()));
}

/// Makes a binary JSON value from a byte vector.
inline json binary(std::vector<std::uint8_t> bytes) { return json::binary(std::move(bytes)); }

/// The bytes of a binary JSON value as a string (empty if `value` is not binary).
inline std::string bytes_of(const json& value) {
  if (!value.is_binary()) return {};
  const auto& bytes = value.get_binary();
  return std::string(bytes.begin(), bytes.end());
}

/// The ordered arguments of an event or acknowledgement: a JSON array.
///
/// Passing an `Args` to `emit` or `ack` spreads its elements, so handlers can forward what they
/// received: `io.emit("message", event.args())`.
///
/// @par Thread Safety
/// A plain value: distinct objects may be used from distinct threads.
class Args {
 public:
  Args() : values_(json::array()) {}

  /// Wraps a JSON array; any other value becomes the single argument.
  explicit Args(json values) : values_(values.is_array() ? std::move(values) : json::array({std::move(values)})) {}

  /// Builds arguments from values convertible to JSON (an Args among them is spread).
  template <class... Values>
  static Args of(Values&&... values) {
    Args args;
    (args.append(std::forward<Values>(values)), ...);
    return args;
  }

  /// How many arguments there are.
  std::size_t size() const { return values_.size(); }
  /// Whether there are no arguments.
  bool empty() const { return values_.empty(); }
  /// The argument at `i`. @throws nlohmann::json::out_of_range when `i >= size()`.
  const json& operator[](std::size_t i) const { return values_.at(i); }
  /// The argument at `i`, to change. @throws nlohmann::json::out_of_range when `i >= size()`.
  json& operator[](std::size_t i) { return values_.at(i); }
  /// Iterates over the arguments in order (each a `json`).
  auto begin() const { return values_.begin(); }
  /// The end of the iteration begun by `begin()`.
  auto end() const { return values_.end(); }

  /// The arguments as one JSON array.
  const json& array() const& { return values_; }
  /// The arguments as one JSON array, moved out of a temporary.
  json array() && { return std::move(values_); }

  /// Appends one value; an Args is spread.
  template <class Value>
  void append(Value&& value) {
    if constexpr (std::is_same_v<std::decay_t<Value>, Args>) {
      for (const auto& element : value.values_) values_.push_back(element);
    } else {
      values_.push_back(json(std::forward<Value>(value)));
    }
  }

  /// Whether both hold equal arguments in the same order.
  friend bool operator==(const Args& a, const Args& b) { return a.values_ == b.values_; }

 private:
  json values_;
};

}  // namespace chat

#endif  // CHAT_ARGS_HPP
