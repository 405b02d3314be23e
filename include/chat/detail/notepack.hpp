// MessagePack in the dialect of notepack.io (3.0.1, the codec of Node's @socket.io/redis-adapter
// and @socket.io/redis-emitter; 2.2, the codec of socket.io-msgpack-parser), over nlohmann::json.
// Sans-I/O. Used by the Redis adapter's wire (chat/redis/detail/wire.hpp) and by the msgpack
// parser (chat/socketio/msgpack.hpp).
//
// Not nlohmann's to_msgpack/from_msgpack: nlohmann writes a binary value that has a subtype as an
// ext (Node would then see [type, Buffer] instead of a Buffer), reads every ext as binary so a
// Date or the legacy undefined (d4 00 00) arrives as bytes, has no nesting bound, and keeps
// invalid UTF-8 that a later dump() throws on; its reader recurses without bound, so hostile
// input nested deeply enough overflows the stack. This codec writes and reads what notepack does:
//   json binary        <-> bin 8/16/32 (Node Buffer)
//   Timestamp ext (-1)  -> the string Node's Date.toJSON gives ("2000-06-13T00:00:00.000Z"; null
//                          for a date outside JavaScript's range, as toJSON says)
//   legacy d7 00 (Date in ms) -> the same string; legacy d4 00 00 (undefined) -> null
//   ext 8/16/32 type 0  -> binary (notepack's ArrayBuffer); any other ext -> [type, binary]
#ifndef CHAT_DETAIL_NOTEPACK_HPP
#define CHAT_DETAIL_NOTEPACK_HPP

#include <cmath>        // floor, isfinite, trunc
#include <cstdint>      // int64_t, uint8_t, uint64_t
#include <cstdio>       // snprintf
#include <cstdlib>      // llabs
#include <cstring>      // memcpy
#include <limits>       // numeric_limits
#include <optional>     // optional
#include <stdexcept>    // runtime_error
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // move

#include <nlohmann/json.hpp>

namespace chat::detail {

using json = nlohmann::json;

/// Bytes that are not one notepack value: malformed, truncated, nested too deeply, or (for the
/// users of this codec) not the shape a message must have.
class NotepackError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// ---- UTF-8 ----

/// `bytes` with every invalid UTF-8 sequence replaced by U+FFFD, one per maximal subpart: the
/// WHATWG decoder Node's Buffer.toString runs, so a C++ server reads the string a Node server
/// reads (and dump() never throws on it). Valid input comes back unchanged.
inline std::string valid_utf8(std::string_view bytes) {
  static constexpr char replacement[] = "\xEF\xBF\xBD";
  std::string out;
  bool replaced = false;
  std::size_t start = 0;  // first byte of the sequence being read
  int needed = 0, seen = 0;
  unsigned lower = 0x80, upper = 0xBF;
  auto fail = [&](std::size_t copy_to) {
    if (!replaced) out.assign(bytes.data(), copy_to);
    replaced = true;
    out += replacement;
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const unsigned b = static_cast<unsigned char>(bytes[i]);
    if (needed == 0) {
      start = i;
      if (b <= 0x7F) needed = 0;
      else if (b >= 0xC2 && b <= 0xDF) needed = 1;
      else if (b >= 0xE0 && b <= 0xEF) {
        if (b == 0xE0) lower = 0xA0;
        if (b == 0xED) upper = 0x9F;
        needed = 2;
      } else if (b >= 0xF0 && b <= 0xF4) {
        if (b == 0xF0) lower = 0x90;
        if (b == 0xF4) upper = 0x8F;
        needed = 3;
      } else {
        fail(i);
        continue;
      }
      if (needed == 0 && replaced) out += char(b);
      continue;
    }
    if (b < lower || b > upper) {
      // The sequence so far is one maximal subpart: one replacement, then this byte afresh.
      fail(start);
      needed = seen = 0;
      lower = 0x80, upper = 0xBF;
      --i;
      continue;
    }
    lower = 0x80, upper = 0xBF;
    if (++seen == needed) {
      if (replaced) out.append(bytes.data() + start, i + 1 - start);
      needed = seen = 0;
    }
  }
  if (needed != 0) fail(start);
  return replaced ? out : std::string(bytes);
}

// ---- dates as Node prints them ----

/// Days since 1970-01-01 to a proleptic Gregorian date (the civil calendar JavaScript uses).
struct CivilDate {
  std::int64_t year;
  int month, day;  // 1-based
};
inline CivilDate civil_from_days(std::int64_t days) {
  days += 719468;  // shift the epoch to 0000-03-01: leap days then end each 400-year era
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const std::int64_t day_of_era = days - era * 146097;
  const std::int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t month_index = (5 * day_of_year + 2) / 153;  // 0 = March
  const int day = int(day_of_year - (153 * month_index + 2) / 5 + 1);
  const int month = int(month_index < 10 ? month_index + 3 : month_index - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

/// JavaScript's largest time value: ±100,000,000 days from the epoch (ECMA-262 TimeClip).
inline constexpr double max_time_ms = 8.64e15;

/// Node's Date.prototype.toJSON for a time value in ms: "YYYY-MM-DDTHH:mm:ss.sssZ" (years
/// outside 0..9999 as ±YYYYYY), or null for an invalid date.
inline json date_to_json(double time_ms) {
  if (!std::isfinite(time_ms) || std::fabs(time_ms) > max_time_ms) return nullptr;
  const auto ms = static_cast<std::int64_t>(std::trunc(time_ms));
  const std::int64_t days = (ms >= 0 ? ms : ms - 86399999) / 86400000;
  const std::int64_t in_day = ms - days * 86400000;
  const CivilDate date = civil_from_days(days);
  char year[24];  // room for any 64-bit year, though JavaScript dates stop at ±275760
  if (date.year >= 0 && date.year <= 9999) std::snprintf(year, sizeof year, "%04lld", static_cast<long long>(date.year));
  else std::snprintf(year, sizeof year, "%c%06lld", date.year < 0 ? '-' : '+', static_cast<long long>(std::llabs(date.year)));
  char text[96];
  std::snprintf(text, sizeof text, "%s-%02d-%02dT%02d:%02d:%02d.%03dZ", year, date.month, date.day,
                int(in_day / 3600000), int(in_day / 60000 % 60), int(in_day / 1000 % 60), int(in_day % 1000));
  return text;
}

// ---- encoding ----

/// Writes MessagePack as notepack.io does: integers in the smallest form (non-negative ones
/// always unsigned), strings as str, binary as bin. Maps and arrays may be written piece by piece
/// (`map(n)` then n keys and values) so an envelope keeps Node's key order.
class NotepackWriter {
 public:
  void nil() { out_ += '\xc0'; }
  void boolean(bool value) { out_ += value ? '\xc3' : '\xc2'; }

  void integer(std::int64_t value) {
    if (value >= 0) return unsigned_integer(static_cast<std::uint64_t>(value));
    if (value >= -0x20) byte(static_cast<std::uint8_t>(value));
    else if (value >= -0x80) head(0xd0, static_cast<std::uint64_t>(value), 1);
    else if (value >= -0x8000) head(0xd1, static_cast<std::uint64_t>(value), 2);
    else if (value >= -0x80000000LL) head(0xd2, static_cast<std::uint64_t>(value), 4);
    else head(0xd3, static_cast<std::uint64_t>(value), 8);
  }

  void unsigned_integer(std::uint64_t value) {
    if (value < 0x80) byte(static_cast<std::uint8_t>(value));
    else if (value < 0x100) head(0xcc, value, 1);
    else if (value < 0x10000) head(0xcd, value, 2);
    else if (value < 0x100000000ULL) head(0xce, value, 4);
    else head(0xcf, value, 8);
  }

  /// Always float64, as notepack writes every number that is not an integer. (A json float that
  /// holds an integral value stays a float too: Node reads the same number either way, and a C++
  /// peer keeps the type.)
  void float64(double value) {
    std::uint64_t bits;
    std::memcpy(&bits, &value, sizeof bits);
    head(0xcb, bits, 8);
  }

  void string(std::string_view text) {
    sized(text.size(), 0xa0, 0x20, 0xd9, 0xda, 0xdb);
    out_.append(text);
  }

  void binary(const std::uint8_t* data, std::size_t size) {
    if (size < 0x100) head(0xc4, size, 1);
    else if (size < 0x10000) head(0xc5, size, 2);
    else head(0xc6, checked_32(size), 4);
    out_.append(reinterpret_cast<const char*>(data), size);
  }

  void array(std::size_t size) { sized(size, 0x90, 0x10, 0, 0xdc, 0xdd); }
  void map(std::size_t size) { sized(size, 0x80, 0x10, 0, 0xde, 0xdf); }

  /// Any JSON value. Binary values lose their subtype (a bin has none); a discarded value is
  /// written as nil, as notepack writes undefined inside an array.
  void value(const json& value) {
    switch (value.type()) {
      case json::value_t::null:
      case json::value_t::discarded: return nil();
      case json::value_t::boolean: return boolean(value.get<bool>());
      case json::value_t::number_integer: return integer(value.get<std::int64_t>());
      case json::value_t::number_unsigned: return unsigned_integer(value.get<std::uint64_t>());
      case json::value_t::number_float: return float64(value.get<double>());
      case json::value_t::string: return string(value.get_ref<const std::string&>());
      case json::value_t::binary: {
        const auto& bytes = value.get_binary();
        return binary(bytes.data(), bytes.size());
      }
      case json::value_t::array:
        array(value.size());
        for (const auto& element : value) this->value(element);
        return;
      case json::value_t::object:
        map(value.size());
        for (const auto& [key, element] : value.items()) {
          string(key);
          this->value(element);
        }
        return;
    }
  }

  const std::string& bytes() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void byte(std::uint8_t b) { out_ += static_cast<char>(b); }

  /// A marker byte and `width` big-endian bytes of `value`.
  void head(std::uint8_t marker, std::uint64_t value, int width) {
    byte(marker);
    for (int shift = (width - 1) * 8; shift >= 0; shift -= 8) byte(static_cast<std::uint8_t>(value >> shift));
  }

  static std::uint64_t checked_32(std::size_t size) {
    if (static_cast<std::uint64_t>(size) > 0xffffffffULL) throw NotepackError("notepack: value too large for MessagePack");
    return size;
  }

  /// A header with a fix form (below `fix_limit`), then 8 (when `marker8` is not 0), 16 and
  /// 32-bit length forms.
  void sized(std::size_t size, std::uint8_t fix, std::size_t fix_limit, std::uint8_t marker8, std::uint8_t marker16,
             std::uint8_t marker32) {
    if (size < fix_limit) byte(static_cast<std::uint8_t>(fix | size));
    else if (marker8 != 0 && size < 0x100) head(marker8, size, 1);
    else if (size < 0x10000) head(marker16, size, 2);
    else head(marker32, checked_32(size), 4);
  }

  std::string out_;
};

/// A JSON value as notepack.io would encode the JavaScript value it stands for.
inline std::string to_notepack(const json& value) {
  NotepackWriter writer;
  writer.value(value);
  return writer.take();
}

// ---- decoding ----

/// Reads one notepack value; throws NotepackError on anything notepack would not produce. Arrays
/// and maps may nest `max_depth` levels at most: the reader recurses once per level, and input
/// comes from peers that may be hostile.
class NotepackReader {
 public:
  NotepackReader(std::string_view bytes, int max_depth) : bytes_(bytes), max_depth_(max_depth) {}

  json value(int depth = 0) {
    if (depth >= max_depth_) throw NotepackError("notepack: nested too deeply");
    const std::uint8_t prefix = byte();
    if (prefix < 0x80) return prefix;
    if (prefix < 0x90) return map(prefix & 0x0f, depth);
    if (prefix < 0xa0) return array(prefix & 0x0f, depth);
    if (prefix < 0xc0) return string(prefix & 0x1f);
    if (prefix >= 0xe0) return static_cast<std::int8_t>(prefix);
    switch (prefix) {
      case 0xc0: return nullptr;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return binary(number(1));
      case 0xc5: return binary(number(2));
      case 0xc6: return binary(number(4));
      case 0xc7: return ext(number(1), true);
      case 0xc8: return ext(number(2), false);
      case 0xc9: return ext(number(4), false);
      case 0xca: {
        const auto bits = static_cast<std::uint32_t>(number(4));
        float value;
        std::memcpy(&value, &bits, sizeof value);
        return static_cast<double>(value);
      }
      case 0xcb: {
        const std::uint64_t bits = number(8);
        double value;
        std::memcpy(&value, &bits, sizeof value);
        return value;
      }
      case 0xcc: return number(1);
      case 0xcd: return number(2);
      case 0xce: return number(4);
      case 0xcf: return number(8);
      case 0xd0: return static_cast<std::int8_t>(number(1));
      case 0xd1: return static_cast<std::int16_t>(number(2));
      case 0xd2: return static_cast<std::int32_t>(number(4));
      case 0xd3: return static_cast<std::int64_t>(number(8));
      case 0xd4: return fixext(1);
      case 0xd5: return fixext(2);
      case 0xd6: return fixext(4);
      case 0xd7: return fixext(8);
      case 0xd8: return fixext(16);
      case 0xd9: return string(number(1));
      case 0xda: return string(number(2));
      case 0xdb: return string(number(4));
      case 0xdc: return array(number(2), depth);
      case 0xdd: return array(number(4), depth);
      case 0xde: return map(number(2), depth);
      case 0xdf: return map(number(4), depth);
      default: throw NotepackError("notepack: unknown type byte");  // 0xc1: never used
    }
  }

  bool at_end() const { return offset_ == bytes_.size(); }

 private:
  std::uint8_t byte() {
    need(1);
    return static_cast<std::uint8_t>(bytes_[offset_++]);
  }

  void need(std::uint64_t count) const {
    if (count > bytes_.size() - offset_) throw NotepackError("notepack: truncated");
  }

  /// `width` big-endian bytes as an unsigned number.
  std::uint64_t number(int width) {
    need(width);
    std::uint64_t value = 0;
    for (int i = 0; i < width; ++i) value = (value << 8) | static_cast<std::uint8_t>(bytes_[offset_++]);
    return value;
  }

  std::string_view take(std::uint64_t count) {
    need(count);
    const auto taken = bytes_.substr(offset_, count);
    offset_ += count;
    return taken;
  }

  json string(std::uint64_t size) { return valid_utf8(take(size)); }

  json binary(std::uint64_t size) {
    const auto bytes = take(size);
    return json::binary(json::binary_t::container_type(bytes.begin(), bytes.end()));
  }

  json array(std::uint64_t size, int depth) {
    need(size);  // every element takes a byte at least: a forged count cannot make us allocate
    json out = json::array();
    for (std::uint64_t i = 0; i < size; ++i) out.push_back(value(depth + 1));
    return out;
  }

  /// Keys must be strings: notepack would turn any other key into its string form, which no
  /// Node peer produces; refusing keeps a malformed message from passing as a different one.
  json map(std::uint64_t size, int depth) {
    need(size * 2);  // a key and a value per entry (size < 2^32: no overflow)
    json out = json::object();
    for (std::uint64_t i = 0; i < size; ++i) {
      json key = value(depth + 1);
      if (!key.is_string()) throw NotepackError("notepack: a map key is not a string");
      out[key.get_ref<const std::string&>()] = value(depth + 1);
    }
    return out;
  }

  /// ext 8/16/32; notepack reads a timestamp only from ext 8 (`may_be_timestamp`).
  json ext(std::uint64_t size, bool may_be_timestamp) {
    const auto type = static_cast<std::int8_t>(byte());
    if (type == 0) return binary(size);  // notepack 2's ArrayBuffer
    if (type == -1 && may_be_timestamp) {
      if (size != 12) throw NotepackError("notepack: a timestamp ext that is not 96-bit");
      const std::uint64_t nanoseconds = number(4);
      const auto seconds = static_cast<std::int64_t>(number(8));
      // notepack: new Date(seconds * 1e3 + ns / 1e6), in doubles, as JavaScript rounds it.
      return date_to_json(static_cast<double>(seconds) * 1e3 + static_cast<double>(nanoseconds) / 1e6);
    }
    return json::array({type, binary(size)});
  }

  json fixext(std::uint64_t size) {
    const auto type = static_cast<std::int8_t>(byte());
    if (size == 1 && type == 0) {  // notepack 2's undefined
      take(1);
      return nullptr;
    }
    if (size == 8 && type == 0) {  // notepack 2's Date: ms as a signed 64-bit number
      const double high = static_cast<double>(static_cast<std::int32_t>(number(4))) * 4294967296.0;
      return date_to_json(high + static_cast<double>(number(4)));
    }
    if (type == -1 && size == 4) return date_to_json(static_cast<double>(number(4)) * 1e3);
    if (type == -1 && size == 8) {
      const std::uint64_t packed = number(8);  // 30 bits of ns, 34 bits of seconds
      const double seconds = static_cast<double>(packed & 0x3ffffffffULL);
      return date_to_json(seconds * 1e3 + static_cast<double>(packed >> 34) / 1e6);
    }
    return json::array({type, binary(size)});
  }

  std::string_view bytes_;
  int max_depth_;
  std::size_t offset_ = 0;
};

/// One notepack value from `bytes`, which it must fill exactly, nesting `max_depth` levels at most.
/// Strings with invalid UTF-8 are repaired as Node repairs them (valid_utf8), never refused.
/// Throws NotepackError.
inline json from_notepack(std::string_view bytes, int max_depth) {
  NotepackReader reader(bytes, max_depth);
  json value = reader.value();
  if (!reader.at_end()) throw NotepackError("notepack: trailing bytes");
  return value;
}

}  // namespace chat::detail

#endif  // CHAT_DETAIL_NOTEPACK_HPP
