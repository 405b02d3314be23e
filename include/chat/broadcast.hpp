// chat::BroadcastOperator: an emit to a selection of sockets (rooms, exceptions) of a namespace,
// and what else acts on such a selection (join, leave, disconnect, fetch).
#ifndef CHAT_BROADCAST_HPP
#define CHAT_BROADCAST_HPP

#include <chrono>       // milliseconds
#include <functional>   // function
#include <future>       // future
#include <system_error> // system_error
#include <string>       // string
#include <string_view>  // string_view
#include <utility>      // forward, move
#include <vector>       // vector

#include "adapter.hpp"
#include "args.hpp"
#include "detail/config.hpp"
#include "errors.hpp"
#include "fwd.hpp"

namespace chat {

/// What the future of a broadcast with acks throws when not every recipient answered within
/// the timeout: errc::ack_timeout, and the answers that did come (Node's `responses` beside
/// the error).
class AcksTimeoutError : public std::system_error {
 public:
  /// The error, with the answers that came in time.
  explicit AcksTimeoutError(std::vector<Args> responses)
      : std::system_error(make_error_code(errc::ack_timeout)), responses_(std::move(responses)) {}
  /// The answers that came within the timeout, in the order they came.
  const std::vector<Args>& responses() const { return responses_; }

 private:
  std::vector<Args> responses_;
};

/// Selects sockets of one namespace, then emits to them, makes them join or leave rooms,
/// disconnects or fetches them: Node's `io.to(room).except(other).emit(...)`. Every request
/// goes through the namespace's adapter, so with a cluster adapter it spans the cluster.
///
/// The selection is a value: `to`, `except` and `local` return new operators and never change
/// this one. A broadcast is encoded once, on the calling thread, and delivered on the io thread,
/// with one prepared WebSocket frame shared by every WebSocket recipient.
///
/// @par Thread Safety
/// Every member may be called from any thread (work is posted to the io thread), except
/// `socket_ids`, which must run on the io thread. Callbacks run on the io thread.
class BroadcastOperator {
 public:
  /// Selects the sockets of `nsp` that `options` names; `Namespace::to`, `except` and `all` are
  /// the usual ways to get one.
  BroadcastOperator(Namespace& nsp, BroadcastOptions options) : nsp_(&nsp), options_(std::move(options)) {}

  /// Adds a room (or a socket id: each socket is in the room named by its id) to the targets.
  BroadcastOperator to(Room room) const {
    BroadcastOperator next = *this;
    next.options_.rooms.insert(std::move(room));
    return next;
  }
  /// Adds several rooms to the targets.
  BroadcastOperator to(const std::vector<Room>& rooms) const {
    BroadcastOperator next = *this;
    next.options_.rooms.insert(rooms.begin(), rooms.end());
    return next;
  }
  /// Same as `to` (Node's `in`).
  BroadcastOperator in(Room room) const { return to(std::move(room)); }
  /// Leaves out the sockets in a room (or the socket with that id).
  BroadcastOperator except(Room room) const {
    BroadcastOperator next = *this;
    next.options_.except.insert(std::move(room));
    return next;
  }
  /// Leaves out the sockets in several rooms.
  BroadcastOperator except(const std::vector<Room>& rooms) const {
    BroadcastOperator next = *this;
    next.options_.except.insert(rooms.begin(), rooms.end());
    return next;
  }
  /// This server only: a cluster adapter keeps it from the other servers (Node's `local`).
  BroadcastOperator local() const {
    BroadcastOperator next = *this;
    next.options_.flags.local = true;
    return next;
  }

  /// Sockets whose transport cannot take the packet at once skip it, rather than queue it
  /// (Node's `volatile`): over WebSocket, one still sending earlier frames; over polling, one
  /// with no GET waiting or with packets already queued for it. For data a backlog would make
  /// stale (positions, typing indicators).
  BroadcastOperator volatile_() const {
    BroadcastOperator next = *this;
    next.options_.flags.is_volatile = true;
    return next;
  }

  /// With `false`, transports do not compress the packet (Node's `compress(false)`): no
  /// permessage-deflate, and a polling response holding only such packets is not compressed.
  BroadcastOperator compress(bool compress) const {
    BroadcastOperator next = *this;
    next.options_.flags.compress = compress;
    return next;
  }

  /// Emits an event to every selected socket. Arguments are anything convertible to JSON
  /// (binary values included); an `Args` is spread.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) const {
    emit_array(std::move(Args::of(std::string(event), std::forward<Values>(values)...)).array());
  }
  /// Emits an event given as one JSON array: the event name followed by its arguments.
  void emit_array(json event_and_args) const;

  /// Emits an event to every selected socket and gathers their acknowledgements: `callback`
  /// gets every answer once all came, or errc::ack_timeout with those that came within
  /// `timeout` (Node's `io.timeout(ms).emit(..., (err, responses) => ...)`).
  /// @throws std::invalid_argument without a timeout; std::logic_error on a parent namespace.
  void emit_with_ack(std::string_view event, Args args, AcksCallback callback,
                     std::chrono::milliseconds timeout) const;
  /// The same, as a future: every answer, or AcksTimeoutError (carrying the answers that came)
  /// once `timeout` has passed. Wait for it on a thread other than the io thread, which
  /// delivers the answers.
  std::future<std::vector<Args>> emit_with_ack(std::string_view event, Args args,
                                               std::chrono::milliseconds timeout) const;

  /// Makes every selected socket join a room (Node's socketsJoin).
  void sockets_join(Room room) const;
  /// Makes every selected socket leave a room (Node's socketsLeave).
  void sockets_leave(Room room) const;
  /// Disconnects every selected socket; with `close`, their whole connections.
  void disconnect_sockets(bool close = false) const;
  /// The selected sockets, wherever they are: ids, handshakes, rooms and data (Node's
  /// fetchSockets).
  void fetch_sockets(std::function<void(std::vector<SocketInfo>)> done) const;

  /// The ids of the selected sockets this server holds (with ShardedServer: those of the
  /// namespace's own shard only). Io thread only.
  std::vector<SocketId> socket_ids() const;

  /// The selection and flags so far.
  const BroadcastOptions& options() const { return options_; }

 private:
  Namespace* nsp_;
  BroadcastOptions options_;
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/broadcast.hpp"
#endif

#endif  // CHAT_BROADCAST_HPP
