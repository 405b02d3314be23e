// Fuzzes the base64 of Engine.IO's binary polling packets (chat/detail/base64.hpp). Checks:
//   - any bytes encode to canonical base64 (padded, 4 characters per 3 bytes) that decodes back;
//   - the input as base64 is accepted exactly when, once its trailing '=' are dropped, it holds
//     only the alphabet and its length is not 1 more than a multiple of 4; what it decodes to has
//     the length those characters carry, and is decoded the same from its canonical encoding.
#include <chat/detail/base64.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"

namespace {

bool in_alphabet(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
}

void check_encode(std::string_view bytes) {
  const std::string encoded = chat::detail::base64_encode(bytes);
  const std::string what = fuzz::printable(bytes) + " encoded as " + fuzz::printable(encoded);
  FUZZ_CHECK(encoded.size() == (bytes.size() + 2) / 3 * 4, what);
  const std::size_t padding = (3 - bytes.size() % 3) % 3;
  for (std::size_t i = 0; i < encoded.size(); ++i)
    FUZZ_CHECK(i >= encoded.size() - padding ? encoded[i] == '=' : in_alphabet(encoded[i]), what);
  const auto decoded = chat::detail::base64_decode(encoded);
  FUZZ_CHECK(decoded && *decoded == bytes, what);
}

void check_decode(std::string_view text) {
  const auto decoded = chat::detail::base64_decode(text);
  std::string_view body = text;
  while (!body.empty() && body.back() == '=') body.remove_suffix(1);
  bool acceptable = body.size() % 4 != 1;
  for (char c : body) acceptable = acceptable && in_alphabet(c);
  FUZZ_CHECK(decoded.has_value() == acceptable, fuzz::printable(text));
  if (!decoded) return;
  const std::string what = fuzz::printable(text) + " decoded as " + fuzz::printable(*decoded);
  FUZZ_CHECK(decoded->size() == body.size() * 6 / 8, what);
  const auto again = chat::detail::base64_decode(chat::detail::base64_encode(*decoded));
  FUZZ_CHECK(again && *again == *decoded, what);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input = fuzz::as_text(data, size);
  check_encode(input);
  check_decode(input);
  return 0;
}
