// The chat app's rate limits (docs/protocol.md, "Rate limits"): token buckets per user, per
// connection and per IP address, and the options that set them. The Python host
// (examples/python_chat/app.py) implements the same buckets with the same defaults.
//
// Everything here runs on the server's io thread, like the rest of the app: no lock.
#ifndef CHAT_EXAMPLE_RATE_LIMITS_HPP
#define CHAT_EXAMPLE_RATE_LIMITS_HPP

#include <asio/ip/address.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <system_error>
#include <unordered_map>

namespace chat_app {

/// A token bucket's size: `burst` requests at once, then one more every `every_seconds`. A
/// limit that is not `on` lets everything through.
struct Limit {
  bool on = false;
  double burst = 0;
  double every_seconds = 0;

  static Limit of(double burst, double every_seconds) { return {true, burst, every_seconds}; }

  /// "BURST,SECONDS" (a whole BURST of at least 1, SECONDS above 0) or "off"; nothing when the
  /// text is neither.
  static std::optional<Limit> parse(const std::string& text) {
    if (text == "off") return Limit{};
    const auto comma = text.find(',');
    if (comma == std::string::npos) return std::nullopt;
    const auto number = [](const std::string& digits) -> std::optional<double> {
      // Digits and at most one point, as Python's float() takes them (no sign, no exponent,
      // no "inf"), so both hosts accept the same flags.
      if (digits.empty() || digits.find_first_not_of("0123456789.") != std::string::npos ||
          std::count(digits.begin(), digits.end(), '.') > 1 || digits == ".") {
        return std::nullopt;
      }
      return std::stod(digits);
    };
    const auto burst = number(text.substr(0, comma));
    const auto every = number(text.substr(comma + 1));
    if (!burst || !every || *burst < 1 || *burst != std::floor(*burst) || *every <= 0) return std::nullopt;
    return of(*burst, *every);
  }
};

/// Every limit of the app, with the defaults docs/protocol.md explains.
struct Limits {
  Limit messages = Limit::of(20, 0.5);          // per user
  Limit signups = Limit::of(3, 600);            // new users per connection
  Limit signups_per_ip = Limit::of(30, 60);     // new users per IP address (an IPv6 /64)
  Limit rooms = Limit::of(5, 60);               // new public rooms per user
  Limit renames = Limit::of(5, 60);             // per user
  Limit typing = Limit::of(10, 1);              // typing notices (true) per user

  static Limits none() { return {Limit{}, Limit{}, Limit{}, Limit{}, Limit{}, Limit{}}; }
};

using Clock = std::chrono::steady_clock;

/// One token bucket. It starts full; a request takes a token; tokens come back one every
/// `every_seconds`, up to `burst`.
class Bucket {
 public:
  Bucket(const Limit& limit, Clock::time_point now) : tokens_(limit.burst), updated_(now) {}

  /// Whole seconds (at least 1) until a token is back, or 0 when one is there now.
  std::int64_t wait(const Limit& limit, Clock::time_point now) {
    refill(limit, now);
    if (tokens_ >= 1) return 0;
    return std::max<std::int64_t>(1, std::int64_t(std::ceil((1 - tokens_) * limit.every_seconds)));
  }

  /// Takes a token; call after wait() said 0.
  void take() { tokens_ -= 1; }

  /// Whether the bucket is full again, so that forgetting it changes nothing.
  bool full(const Limit& limit, Clock::time_point now) {
    refill(limit, now);
    return tokens_ >= limit.burst;
  }

 private:
  void refill(const Limit& limit, Clock::time_point now) {
    const double seconds = std::chrono::duration<double>(now - updated_).count();
    tokens_ = std::min(limit.burst, tokens_ + seconds / limit.every_seconds);
    updated_ = now;
  }

  double tokens_;
  Clock::time_point updated_;
};

/// The buckets of one limit, one per key (a user id, an address). A full bucket is the same as
/// none, so the table forgets full ones whenever it has doubled since it last did: its size
/// follows the keys active within one refill of the burst, not every key ever seen.
template <class Key>
class Buckets {
 public:
  explicit Buckets(Limit limit) : limit_(limit) {}

  /// 0 if `key` may go ahead now, else the whole seconds to wait. Takes nothing.
  std::int64_t wait(const Key& key, Clock::time_point now) {
    if (!limit_.on) return 0;
    const auto it = buckets_.find(key);
    return it == buckets_.end() ? 0 : it->second.wait(limit_, now);
  }

  /// Takes a token of `key` (after wait() said 0).
  void take(const Key& key, Clock::time_point now) {
    if (!limit_.on) return;
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      forget_full(now);
      it = buckets_.emplace(key, Bucket(limit_, now)).first;
    }
    it->second.wait(limit_, now);  // brings it up to `now` before the token goes
    it->second.take();
  }

  /// Takes a token of `key` if it has one: returns 0 then, else the whole seconds to wait.
  std::int64_t try_take(const Key& key, Clock::time_point now = Clock::now()) {
    const auto seconds = wait(key, now);
    if (seconds == 0) take(key, now);
    return seconds;
  }

  /// Drops the bucket of a key that is gone (a closed connection).
  void forget(const Key& key) { buckets_.erase(key); }

 private:
  void forget_full(Clock::time_point now) {
    if (buckets_.size() < std::max<std::size_t>(1024, 2 * kept_)) return;
    for (auto it = buckets_.begin(); it != buckets_.end();) {
      it = it->second.full(limit_, now) ? buckets_.erase(it) : std::next(it);
    }
    kept_ = buckets_.size();
  }

  Limit limit_;
  std::unordered_map<Key, Bucket> buckets_;
  std::size_t kept_ = 0;
};

/// "12 seconds", "10 minutes", "2 hours": a wait as a person reads it, rounded up.
inline std::string wait_phrase(std::int64_t seconds) {
  const auto say = [](std::int64_t count, const char* unit) {
    return std::to_string(count) + " " + unit + (count == 1 ? "" : "s");
  };
  if (seconds < 120) return say(seconds, "second");
  if (seconds < 7200) return say((seconds + 59) / 60, "minute");
  return say((seconds + 3599) / 3600, "hour");
}

/// The key of the per-address limit: the address itself, but for IPv6 its /64 network, which a
/// single subscriber usually holds whole (one address each would be no limit at all).
inline std::string address_key(const std::string& address) {
  std::error_code ec;
  const auto parsed = asio::ip::make_address(address, ec);
  if (ec || !parsed.is_v6()) return address;
  auto bytes = parsed.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

}  // namespace chat_app

#endif  // CHAT_EXAMPLE_RATE_LIMITS_HPP
