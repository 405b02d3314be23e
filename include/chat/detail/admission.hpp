// Who may open a session: the server's limit on sessions, and per client address the number of
// sessions and the rate of handshakes (Options::max_connections, max_sessions_per_ip,
// handshake_rate_per_ip). Sans-I/O: the caller passes the time.
#ifndef CHAT_DETAIL_ADMISSION_HPP
#define CHAT_DETAIL_ADMISSION_HPP

#include <algorithm>      // min
#include <chrono>         // steady_clock, duration
#include <cmath>          // ceil
#include <cstddef>        // size_t
#include <memory>         // shared_ptr, enable_shared_from_this
#include <mutex>          // mutex, lock_guard
#include <string>         // string
#include <unordered_map>  // unordered_map
#include <utility>        // move, exchange
#include <variant>        // variant

#include "../options.hpp"

namespace chat::detail {

/// Why a handshake was refused, and how it is answered.
struct Refusal {
  enum class Kind {
    server_full,          ///< max_connections sessions open: 503
    too_many_sessions,    ///< max_sessions_per_ip sessions from this address: 429
    too_many_handshakes,  ///< the address spent its handshake rate: 429
  };
  Kind kind;
  std::chrono::seconds retry_after{0};  ///< for too_many_handshakes: when a handshake is allowed again
  /// server_full: the first refusal since a session was last admitted (worth one log line).
  bool first = false;

  int status() const { return kind == Kind::server_full ? 503 : 429; }
  const char* message() const {
    switch (kind) {
      case Kind::server_full: return "Server is at its connection limit";
      case Kind::too_many_sessions: return "Too many sessions from this address";
      case Kind::too_many_handshakes: return "Too many handshakes from this address";
    }
    return "Forbidden";
  }
};

/// Counts sessions, in total and per address, and spends each address's handshake tokens. The
/// shards of a ShardedServer share one, so it locks: once per handshake and once per session's
/// end, never per message.
class Admission : public std::enable_shared_from_this<Admission> {
 public:
  using Clock = std::chrono::steady_clock;

  /// Holds one admitted session's place; gives it back when destroyed or released.
  class Ticket {
   public:
    Ticket() = default;
    Ticket(Ticket&& other) noexcept
        : admission_(std::move(other.admission_)), address_(std::move(other.address_)) {}
    Ticket& operator=(Ticket&& other) noexcept {
      if (this != &other) {
        release();
        admission_ = std::move(other.admission_);
        address_ = std::move(other.address_);
      }
      return *this;
    }
    ~Ticket() { release(); }

    void release() {
      if (auto admission = std::exchange(admission_, nullptr)) admission->leave(address_);
    }

   private:
    friend class Admission;
    Ticket(std::shared_ptr<Admission> admission, std::string address)
        : admission_(std::move(admission)), address_(std::move(address)) {}
    std::shared_ptr<Admission> admission_;
    std::string address_;
  };

  explicit Admission(const Options& options)
      : max_sessions_(options.max_connections()),
        max_per_address_(options.max_sessions_per_ip()),
        rate_(options.handshake_rate_per_ip()) {}

  /// Admits a handshake from `address` (see address_key) at `now`, or says why not. Any
  /// thread.
  std::variant<Ticket, Refusal> admit(const std::string& address, Clock::time_point now) {
    std::lock_guard<std::mutex> lock(mutex_);
    sweep(now);
    Entry* entry = nullptr;
    if (rate_.per_second > 0) {
      // Every handshake an address attempts spends a token, admitted or not, so the address is
      // remembered from its first attempt.
      entry = &entries_.try_emplace(address, Entry{0, double(rate_.burst), now}).first->second;
      refill(*entry, now);
      if (entry->tokens < 1) {
        const double wait = (1 - entry->tokens) / rate_.per_second;
        return Refusal{Refusal::Kind::too_many_handshakes, std::chrono::seconds(static_cast<long long>(std::ceil(wait)))};
      }
      entry->tokens -= 1;
    } else if (max_per_address_ != 0) {
      // Only sessions count: an address is remembered once admitted, not for being refused.
      const auto found = entries_.find(address);
      if (found != entries_.end()) entry = &found->second;
    }
    if (entry && max_per_address_ != 0 && entry->sessions >= max_per_address_) return Refusal{Refusal::Kind::too_many_sessions};
    if (max_sessions_ != 0 && sessions_ >= max_sessions_) {
      Refusal refusal{Refusal::Kind::server_full};
      refusal.first = !full_;
      full_ = true;
      return refusal;
    }
    full_ = false;
    ++sessions_;
    if (!per_address()) return Ticket(shared_from_this(), std::string());
    if (!entry) entry = &entries_.try_emplace(address, Entry{0, double(rate_.burst), now}).first->second;
    ++entry->sessions;
    return Ticket(shared_from_this(), address);
  }

  /// Sessions admitted and not yet ended. Any thread.
  std::size_t sessions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return sessions_;
  }
  /// Addresses remembered (with sessions, or with handshake tokens still refilling). Any thread.
  std::size_t addresses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return entries_.size();
  }

 private:
  struct Entry {
    std::size_t sessions;
    double tokens;
    Clock::time_point refilled;
  };

  void refill(Entry& entry, Clock::time_point now) const {
    // `now` is read before the lock: another thread may have refilled with a later one.
    if (now <= entry.refilled) return;
    const double elapsed = std::chrono::duration<double>(now - entry.refilled).count();
    entry.tokens = std::min(double(rate_.burst), entry.tokens + elapsed * rate_.per_second);
    entry.refilled = now;
  }

  bool forgettable(Entry& entry, Clock::time_point now) const {
    if (entry.sessions != 0) return false;
    if (rate_.per_second <= 0) return true;
    refill(entry, now);
    return entry.tokens >= double(rate_.burst);
  }

  /// Forgets addresses with no session and a full bucket (they would be made anew as they
  /// are), each time the map has doubled since the last sweep, on every handshake admitted or
  /// refused: the map stays within twice the addresses that hold sessions or spent a handshake
  /// within one refill, at a constant cost per handshake on average.
  void sweep(Clock::time_point now) {
    if (entries_.size() < swept_size_ * 2 || entries_.size() < 64) return;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (forgettable(it->second, now)) it = entries_.erase(it);
      else ++it;
    }
    swept_size_ = entries_.size();
  }

  bool per_address() const { return max_per_address_ != 0 || rate_.per_second > 0; }

  void leave(const std::string& address) {
    std::lock_guard<std::mutex> lock(mutex_);
    --sessions_;
    if (!per_address()) return;
    const auto found = entries_.find(address);
    if (found == entries_.end()) return;
    --found->second.sessions;
    if (rate_.per_second <= 0 && found->second.sessions == 0) entries_.erase(found);
  }

  const std::size_t max_sessions_;
  const std::size_t max_per_address_;
  const HandshakeRate rate_;
  mutable std::mutex mutex_;
  std::size_t sessions_ = 0;
  bool full_ = false;  // the last handshake that reached the server-wide check was refused
  std::unordered_map<std::string, Entry> entries_;
  std::size_t swept_size_ = 0;
};

}  // namespace chat::detail

#endif  // CHAT_DETAIL_ADMISSION_HPP
