// What the fuzz harnesses share: an invariant check that aborts with a message (libFuzzer then
// saves the input as a crash), independent of NDEBUG, and bytes made readable for that message.
#ifndef CHAT_TESTS_FUZZ_CHECK_HPP
#define CHAT_TESTS_FUZZ_CHECK_HPP

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

/// Bytes as a C-like literal: printable ASCII as is, everything else as \xNN (long ones cut).
inline std::string printable(std::string_view bytes) {
  std::string out = "\"";
  std::size_t shown = 0;
  for (unsigned char c : bytes) {
    if (++shown > 400) {
      out += "...";
      break;
    }
    if (c == '\\' || c == '"') {
      out += '\\';
      out += char(c);
    } else if (c >= 0x20 && c < 0x7f) {
      out += char(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  return out + "\"";
}

[[noreturn]] inline void violated(const char* condition, const char* file, int line, const std::string& detail) {
  std::fprintf(stderr, "\n%s:%d: invariant violated: %s\n%s\n", file, line, condition, detail.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace fuzz

/// Aborts with `detail` (a std::string expression, evaluated only on failure) unless `condition`.
#define FUZZ_CHECK(condition, detail) \
  do {                                \
    if (!(condition)) ::fuzz::violated(#condition, __FILE__, __LINE__, (detail)); \
  } while (0)

#endif  // CHAT_TESTS_FUZZ_CHECK_HPP
