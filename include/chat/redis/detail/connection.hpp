// One connection to Redis on the server's own io_context: hiredis's RESP reader and command
// formatter, the I/O on Asio. Not hiredis's async layer: it resolves names with a blocking
// getaddrinfo, has no timeouts, cannot SSUBSCRIBE and loses a subscriber's PINGs; here the name
// is resolved by Asio's resolver (off the io thread), connecting has a deadline, and a lost
// connection comes back by itself with backoff, its subscriptions made again.
#ifndef CHAT_REDIS_DETAIL_CONNECTION_HPP
#define CHAT_REDIS_DETAIL_CONNECTION_HPP

#include <algorithm>      // min
#include <array>          // array
#include <chrono>         // milliseconds, seconds
#include <cstddef>        // size_t
#include <cstdint>        // uint16_t
#include <deque>          // deque
#include <functional>     // function
#include <memory>         // shared_ptr, enable_shared_from_this
#include <set>            // set
#include <string>         // string
#include <string_view>    // string_view
#include <utility>        // move
#include <vector>         // vector

#include <asio/connect.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <hiredis/hiredis.h>

#include "endpoint.hpp"

namespace chat::redis::detail {

/// One RESP reply, copied out of hiredis's reply object (which is freed at once).
struct Reply {
  enum class Type { string, array, integer, nil, status, error };
  Type type = Type::nil;
  std::string str;              ///< string, status and error
  long long integer = 0;        ///< integer
  std::vector<Reply> elements;  ///< array

  bool is_error() const { return type == Type::error; }
  static Reply error(std::string message) {
    Reply reply;
    reply.type = Type::error;
    reply.str = std::move(message);
    return reply;
  }
};

/// How a connection behaves: its deadlines, its backoff and the bound of what it has not written.
struct ConnectionLimits {
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds first_retry{100};  ///< the first reconnection's delay, doubled up to `last_retry`
  std::chrono::milliseconds last_retry{5000};
  /// Bytes of commands not yet written to Redis: past it a command is refused (Redis is not
  /// keeping up, or the network is gone without the kernel noticing yet).
  std::size_t max_unwritten_bytes = 64 * 1024 * 1024;
};

/// A connection that reconnects. A subscriber connection (`Role::subscriber`) delivers the
/// messages of its channels and patterns; a command connection answers commands in order.
///
/// @par Thread Safety
/// The io_context's thread only: every method, and every callback.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  enum class Role { commands, subscriber };

  struct Hooks {
    /// Connected, authenticated, subscriptions made again: each time, after every (re)connection.
    std::function<void()> on_ready;
    /// The connection failed or was lost (why); it retries by itself.
    std::function<void(const std::string& why)> on_lost;
    /// A message (subscriber): its channel, the pattern that matched it (empty for a channel
    /// subscription) and its payload.
    std::function<void(const std::string& channel, const std::string& pattern, std::string payload)> on_message;
  };

  static std::shared_ptr<Connection> create(asio::io_context& io, Endpoint endpoint, Role role, Hooks hooks,
                                            ConnectionLimits limits = {}) {
    return std::shared_ptr<Connection>(new Connection(io, std::move(endpoint), role, std::move(hooks), limits));
  }
  ~Connection() { release_reader(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  /// Starts connecting (once).
  void start() {
    if (started_) return;
    started_ = true;
    connect();
  }
  /// Closes the connection for good: no more callbacks but those of commands still waiting,
  /// which get an error reply.
  void close() {
    closed_ = true;
    drop_connection("closed");
  }

  bool ready() const { return state_ == State::ready; }

  /// Sends a command; `done` gets its reply, or an error reply if the connection is lost first.
  /// False, and `done` never called, when the connection is not ready or `max_unwritten_bytes`
  /// are waiting already. (Subscriber connections take their subscriptions below instead.)
  bool command(const std::vector<std::string_view>& argv, std::function<void(Reply)> done) {
    if (state_ != State::ready) return false;
    if (!append_command(argv)) return false;
    waiting_.push_back(std::move(done));
    flush();
    return true;
  }

  /// Subscribes to a channel (SUBSCRIBE) or a pattern (PSUBSCRIBE), now if connected and again
  /// after every reconnection.
  void subscribe(const std::string& channel) { change(channels_, channel, true, "SUBSCRIBE"); }
  void unsubscribe(const std::string& channel) { change(channels_, channel, false, "UNSUBSCRIBE"); }
  void psubscribe(const std::string& pattern) { change(patterns_, pattern, true, "PSUBSCRIBE"); }
  void punsubscribe(const std::string& pattern) { change(patterns_, pattern, false, "PUNSUBSCRIBE"); }

 private:
  enum class State { idle, resolving, connecting, handshaking, ready };

  Connection(asio::io_context& io, Endpoint endpoint, Role role, Hooks hooks, ConnectionLimits limits)
      : endpoint_(std::move(endpoint)), role_(role), hooks_(std::move(hooks)), limits_(limits),
        resolver_(io), socket_(io), timer_(io), retry_delay_(limits.first_retry) {}

  void connect() {
    if (closed_) return;
    state_ = State::resolving;
    const auto generation = ++generation_;
    arm_deadline(generation);
    auto self = shared_from_this();
    resolver_.async_resolve(endpoint_.host, std::to_string(endpoint_.port),
                            [this, self, generation](const asio::error_code& error,
                                                     asio::ip::tcp::resolver::results_type results) {
                              if (generation != generation_ || closed_) return;
                              if (error) return fail("cannot resolve " + endpoint_.host + ": " + error.message());
                              state_ = State::connecting;
                              asio::async_connect(socket_, results,
                                                  [this, self, generation](const asio::error_code& error,
                                                                           const asio::ip::tcp::endpoint&) {
                                                    if (generation != generation_ || closed_) return;
                                                    if (error) return fail("cannot connect: " + error.message());
                                                    connected(generation);
                                                  });
                            });
  }

  void arm_deadline(unsigned generation) {
    timer_.expires_after(limits_.connect_timeout);
    auto self = shared_from_this();
    timer_.async_wait([this, self, generation](const asio::error_code& error) {
      if (error || generation != generation_ || closed_ || state_ == State::ready) return;
      fail("no answer within " + std::to_string(limits_.connect_timeout.count()) + " ms");
    });
  }

  void connected(unsigned generation) {
    asio::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
    socket_.set_option(asio::socket_base::keep_alive(true), ignored);
    reader_ = redisReaderCreate();
    state_ = State::handshaking;
    read(generation);
    // AUTH and SELECT first; their replies come before anything else's.
    handshake_replies_ = 0;
    if (!endpoint_.password.empty()) {
      if (endpoint_.username.empty()) append_command({"AUTH", endpoint_.password});
      else append_command({"AUTH", endpoint_.username, endpoint_.password});
      ++handshake_replies_;
    }
    if (endpoint_.db != 0 && role_ == Role::commands) {
      const std::string db = std::to_string(endpoint_.db);
      append_command({"SELECT", db});
      ++handshake_replies_;
    }
    // PING: the server answers at all (a TCP listener that is not Redis fails here).
    append_command({"PING"});
    ++handshake_replies_;
    flush();
  }

  void handshake_reply(const Reply& reply) {
    if (reply.is_error()) return fail("Redis refused the connection's set-up: " + reply.str);
    if (--handshake_replies_ > 0) return;
    state_ = State::ready;
    timer_.cancel();
    retry_delay_ = limits_.first_retry;
    for (const auto& channel : channels_) append_command({"SUBSCRIBE", channel});
    for (const auto& pattern : patterns_) append_command({"PSUBSCRIBE", pattern});
    flush();
    if (hooks_.on_ready) hooks_.on_ready();
  }

  void read(unsigned generation) {
    auto self = shared_from_this();
    socket_.async_read_some(asio::buffer(input_), [this, self, generation](const asio::error_code& error,
                                                                          std::size_t size) {
      if (generation != generation_ || closed_) return;
      if (error) return fail(error == asio::error::eof ? "Redis closed the connection" : error.message());
      if (redisReaderFeed(reader_, input_.data(), size) != REDIS_OK) return fail("unreadable reply");
      for (;;) {
        void* raw = nullptr;
        if (redisReaderGetReply(reader_, &raw) != REDIS_OK)
          return fail(std::string("unreadable reply: ") + redisReaderGetError(reader_));
        if (!raw) break;
        Reply reply = copy(static_cast<const redisReply*>(raw));
        freeReplyObject(raw);
        dispatch(std::move(reply));
        // A hook may have closed the connection, or it may have failed and started again.
        if (generation != generation_ || closed_) return;
      }
      read(generation);
    });
  }

  void dispatch(Reply reply) {
    if (state_ == State::handshaking) return handshake_reply(reply);
    if (role_ == Role::subscriber && reply.type == Reply::Type::array && !reply.elements.empty()) {
      const std::string& kind = reply.elements[0].str;
      if (kind == "message" && reply.elements.size() == 3) {
        if (hooks_.on_message) hooks_.on_message(reply.elements[1].str, std::string(), std::move(reply.elements[2].str));
        return;
      }
      if (kind == "pmessage" && reply.elements.size() == 4) {
        if (hooks_.on_message)
          hooks_.on_message(reply.elements[2].str, reply.elements[1].str, std::move(reply.elements[3].str));
        return;
      }
      // Confirmations of (p)(un)subscribe: nothing waits for them.
      if (kind == "subscribe" || kind == "psubscribe" || kind == "unsubscribe" || kind == "punsubscribe") return;
    }
    if (waiting_.empty()) {
      // An error the server sends on its own (it is closing the connection, e.g. max clients).
      if (reply.is_error()) fail("Redis: " + reply.str);
      return;
    }
    auto done = std::move(waiting_.front());
    waiting_.pop_front();
    if (done) done(std::move(reply));
  }

  static Reply copy(const redisReply* raw) {
    Reply reply;
    switch (raw->type) {
      case REDIS_REPLY_STRING: reply.type = Reply::Type::string; break;
      case REDIS_REPLY_ARRAY: reply.type = Reply::Type::array; break;
      case REDIS_REPLY_INTEGER: reply.type = Reply::Type::integer; break;
      case REDIS_REPLY_STATUS: reply.type = Reply::Type::status; break;
      case REDIS_REPLY_ERROR: reply.type = Reply::Type::error; break;
      default: reply.type = Reply::Type::nil; break;
    }
    if (raw->type == REDIS_REPLY_STRING || raw->type == REDIS_REPLY_STATUS || raw->type == REDIS_REPLY_ERROR)
      reply.str.assign(raw->str, raw->len);
    reply.integer = raw->integer;
    if (raw->type == REDIS_REPLY_ARRAY) {
      reply.elements.reserve(raw->elements);
      for (std::size_t i = 0; i < raw->elements; ++i) reply.elements.push_back(copy(raw->element[i]));
    }
    return reply;
  }

  bool append_command(const std::vector<std::string_view>& argv) {
    if (unwritten_.size() + writing_.size() > limits_.max_unwritten_bytes) return false;
    std::vector<const char*> pointers;
    std::vector<std::size_t> sizes;
    pointers.reserve(argv.size());
    sizes.reserve(argv.size());
    for (const auto& arg : argv) {
      pointers.push_back(arg.data());
      sizes.push_back(arg.size());
    }
    char* formatted = nullptr;
    const int size = redisFormatCommandArgv(&formatted, static_cast<int>(argv.size()), pointers.data(), sizes.data());
    if (size < 0) return false;  // out of memory
    unwritten_.append(formatted, static_cast<std::size_t>(size));
    redisFreeCommand(formatted);
    return true;
  }

  void flush() {
    if (writing_in_flight_ || unwritten_.empty() || state_ < State::handshaking) return;
    writing_.swap(unwritten_);
    unwritten_.clear();
    writing_in_flight_ = true;
    auto self = shared_from_this();
    const auto generation = generation_;
    asio::async_write(socket_, asio::buffer(writing_), [this, self, generation](const asio::error_code& error, std::size_t) {
      if (generation != generation_ || closed_) return;
      writing_in_flight_ = false;
      writing_.clear();
      if (error) return fail(error.message());
      flush();
    });
  }

  void change(std::set<std::string>& names, const std::string& name, bool add, const char* verb) {
    const bool changed = add ? names.insert(name).second : names.erase(name) > 0;
    if (!changed || state_ != State::ready) return;
    append_command({verb, name});
    flush();
  }

  /// The connection failed: everything waiting gets an error, and a new attempt is scheduled.
  void fail(const std::string& why) {
    const bool was_ready = state_ == State::ready;
    drop_connection(why);
    if (closed_) return;
    if (hooks_.on_lost) hooks_.on_lost(was_ready ? why : "cannot connect to " + endpoint_.describe() + ": " + why);
    if (closed_) return;  // the hook closed it
    const auto generation = generation_;
    timer_.expires_after(retry_delay_);
    retry_delay_ = std::min(retry_delay_ * 2, limits_.last_retry);
    auto self = shared_from_this();
    timer_.async_wait([this, self, generation](const asio::error_code& error) {
      if (!error && generation == generation_ && !closed_) connect();
    });
  }

  void drop_connection(const std::string& why) {
    ++generation_;  // every handler of the old connection now does nothing
    state_ = State::idle;
    asio::error_code ignored;
    resolver_.cancel();
    socket_.close(ignored);
    timer_.cancel();
    release_reader();
    unwritten_.clear();
    writing_.clear();
    writing_in_flight_ = false;
    auto waiting = std::move(waiting_);
    waiting_.clear();
    for (auto& done : waiting)
      if (done) done(Reply::error("connection lost: " + why));
  }

  void release_reader() {
    if (reader_) redisReaderFree(reader_);
    reader_ = nullptr;
  }

  const Endpoint endpoint_;
  const Role role_;
  Hooks hooks_;
  const ConnectionLimits limits_;
  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;  // the connection's deadline, then the next attempt's delay
  std::chrono::milliseconds retry_delay_;
  State state_ = State::idle;
  unsigned generation_ = 0;  // which connection attempt a handler belongs to
  bool started_ = false, closed_ = false;
  int handshake_replies_ = 0;
  redisReader* reader_ = nullptr;
  std::array<char, 16 * 1024> input_{};
  std::string unwritten_, writing_;
  bool writing_in_flight_ = false;
  std::deque<std::function<void(Reply)>> waiting_;
  std::set<std::string> channels_, patterns_;
};

}  // namespace chat::redis::detail

#endif  // CHAT_REDIS_DETAIL_CONNECTION_HPP
