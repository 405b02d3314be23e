// chat::Socket: one client in one namespace. chat::Event: one event it sent.
// chat::ConnectResult: what a connect hook decides.
#ifndef CHAT_SOCKET_HPP
#define CHAT_SOCKET_HPP

#include <chrono>         // milliseconds
#include <cstdint>        // uint64_t
#include <future>         // future
#include <memory>         // shared_ptr, unique_ptr, enable_shared_from_this
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <utility>        // forward, move
#include <vector>         // vector

#include "args.hpp"
#include "broadcast_flags.hpp"
#include "detail/config.hpp"
#include "errors.hpp"
#include "fwd.hpp"
#include "handshake.hpp"
#include "middleware.hpp"
#include "reason.hpp"
#include "socketio/types.hpp"

namespace chat {

namespace detail {
class Client;
struct AckTimer;
struct AnyListeners;
struct PacketChain;
CHAT_DECL void run_packet_chain(const std::shared_ptr<PacketChain>& chain);
}  // namespace detail

/// The outcome of a connect hook: accept, reject with a message and data (sent as
/// CONNECT_ERROR {"message","data"}), or decide later with `Socket::accept` / `Socket::reject`.
class ConnectResult {
 public:
  /// `true` accepts; `false` rejects with "Connection rejected by server".
  ConnectResult(bool accept) : kind_(accept ? Kind::accept : Kind::reject) {}  // NOLINT: implicit by design

  /// Rejects with CONNECT_ERROR {"message": message, "data": data} (Node's `next(err)` with
  /// `err.data`).
  static ConnectResult reject(std::string message, json data = json()) {
    ConnectResult result(false);
    result.message_ = std::move(message);
    result.data_ = std::move(data);
    return result;
  }
  /// The hook will call `Socket::accept()` or `Socket::reject()` later, on the io thread.
  static ConnectResult defer() {
    ConnectResult result(false);
    result.kind_ = Kind::defer;
    return result;
  }

  /// What the hook decided.
  enum class Kind {
    accept,  ///< the socket joins the namespace now
    reject,  ///< the client gets CONNECT_ERROR with `message()` and `data()`
    defer    ///< decided later with Socket::accept or Socket::reject
  };
  /// What the hook decided.
  Kind kind() const { return kind_; }
  /// A rejection's message ("Connection rejected by server" unless `reject` said otherwise).
  const std::string& message() const { return message_; }
  /// A rejection's data (null when none).
  const json& data() const { return data_; }

 private:
  Kind kind_;
  std::string message_ = "Connection rejected by server";
  json data_;
};

/// One event a client sent: its name, arguments, and the means to acknowledge it.
class Event {
 public:
  /// An event `socket`'s client sent; `ack_id` when it asked for an acknowledgement. The server
  /// makes these; tests and in-process clients may too.
  Event(Socket& socket, std::string name, Args args, std::optional<std::uint64_t> ack_id)
      : socket_(socket), name_(std::move(name)), args_(std::move(args)), ack_id_(ack_id) {}

  /// The event's name (the first element of the client's array).
  const std::string& name() const { return name_; }
  /// The event's arguments, after its name.
  const Args& args() const { return args_; }
  /// The event's arguments, to change (a packet middleware may).
  Args& args() { return args_; }

  /// Whether the client asked for an acknowledgement (and none has been sent yet).
  bool wants_ack() const { return ack_id_.has_value(); }
  /// The client's ack id, for acknowledging later through `Socket::send_ack`.
  std::optional<std::uint64_t> ack_id() const { return ack_id_; }

  /// Acknowledges the event with these arguments (an Args is spread). Only the first call
  /// sends; later calls, or calls when no ack was asked for, do nothing.
  template <class... Values>
  void ack(Values&&... values) {
    if (!ack_id_) return;
    send_ack(Args::of(std::forward<Values>(values)...));
  }

 private:
  void send_ack(Args args);

  Socket& socket_;
  std::string name_;
  Args args_;
  std::optional<std::uint64_t> ack_id_;
};

/// One client's membership of one namespace (Node's `Socket`). Each has a fresh id, never the
/// Engine.IO session id, and is in the room named by that id.
///
/// @par Thread Safety
/// Use a Socket only on the server's io thread: inside hooks, or in work given to
/// `Server::post`. From other threads, address sockets by id through the namespace's
/// broadcast operators (`io.of(nsp).to(id).emit(...)`).
class Socket : public std::enable_shared_from_this<Socket> {
 public:
  /// Made by the connection when a client joins a namespace; `auth` is null when the CONNECT
  /// packet carried none.
  Socket(Namespace& nsp, detail::Client& client, std::string id, json auth);
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  ~Socket();

  /// The socket id (also the name of its own room).
  const std::string& id() const { return id_; }
  /// The namespace it joined.
  Namespace& nsp() const { return nsp_; }
  /// The id of the Engine.IO connection it rides on (Node's `socket.conn.id`): the sockets of
  /// one client's namespaces share it. Never the socket id.
  const std::string& connection_id() const;
  /// What carries that connection now: "polling" or "websocket" (Node's
  /// `socket.conn.transport.name`); "local" for a LocalClient's.
  std::string_view transport() const;
  /// The request that opened the connection.
  const Handshake& handshake() const;
  /// The CONNECT packet's auth object ({} when the client sent none).
  const json& auth() const;
  /// Whether the CONNECT packet carried an auth object at all.
  bool auth_sent() const { return auth_sent_; }
  ///@{
  /// Free storage for the application (Node's `socket.data`).
  json& data() { return data_; }
  const json& data() const { return data_; }
  ///@}
  /// Whether the socket is connected: accepted and not yet disconnected.
  bool connected() const { return state_ == State::connected; }
  /// Whether connection state recovery gave this socket back to a client that had lost its
  /// connection: same id, rooms and data, the missed events sent (Node's `socket.recovered`).
  /// Always false unless Options::connection_state_recovery is set.
  bool recovered() const { return recovered_; }

  /// Joins a room. Does nothing once disconnected.
  void join(const Room& room);
  /// Leaves a room.
  void leave(const Room& room);
  /// The rooms this socket is in, its own id included.
  std::vector<Room> rooms() const;

  /// Sends an event to this client. Arguments are anything convertible to JSON (binary values
  /// included); an `Args` is spread. With connection state recovery it goes through the
  /// adapter (Node does the same), which gives it an offset and keeps it.
  template <class... Values>
  void emit(std::string_view event, Values&&... values) {
    emit_array(std::move(Args::of(std::string(event), std::forward<Values>(values)...)).array());
  }
  /// Sends an event given as one JSON array: its name followed by its arguments.
  void emit_array(json event_and_args);
  /// Sends an event only if the transport can take it at once, and drops it otherwise (Node's
  /// `socket.volatile.emit`; see BroadcastOperator::volatile_).
  template <class... Values>
  void emit_volatile(std::string_view event, Values&&... values) {
    BroadcastFlags flags;
    flags.is_volatile = true;
    write_packet(socketio::PacketType::event, std::nullopt,
                 std::move(Args::of(std::string(event), std::forward<Values>(values)...)).array(), flags);
  }
  /// Sends an event that the transport does not compress, whatever per_message_deflate and
  /// http_compression say (Node's `socket.compress(false).emit`): for data that compresses
  /// badly (already compressed media) or small and frequent.
  template <class... Values>
  void emit_uncompressed(std::string_view event, Values&&... values) {
    BroadcastFlags flags;
    flags.compress = false;
    write_packet(socketio::PacketType::event, std::nullopt,
                 std::move(Args::of(std::string(event), std::forward<Values>(values)...)).array(), flags);
  }

  /// Sends an event and asks for an acknowledgement. `callback` runs on the io thread with the
  /// client's arguments, or with errc::ack_timeout once `timeout` has passed (zero: wait
  /// forever), or with errc::socket_disconnected if the socket goes first. Exactly once. When
  /// Options::max_pending_acks answers are already awaited from this socket, nothing is sent
  /// and `callback` runs at once with errc::too_many_pending_acks.
  void emit_with_ack(std::string_view event, Args args, AckCallback callback,
                     std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  /// The same, as a future: the client's arguments, or a std::system_error carrying the
  /// errc above (Node's `socket.timeout(ms).emitWithAck`). Call it on the io thread and wait for
  /// the future on another: the io thread delivers the answer.
  std::future<Args> emit_with_ack(std::string_view event, Args args, std::chrono::milliseconds timeout);

  /// Acknowledges the client's event `ack_id` (see Event::ack_id).
  void send_ack(std::uint64_t ack_id, Args args);

  /// Every socket in `room` except this one (Node's `socket.to(room)`).
  BroadcastOperator to(Room room) const;
  /// Every socket of the namespace except those in `room` and this one.
  BroadcastOperator except(Room room) const;
  /// Every socket of the namespace except this one (Node's `socket.broadcast`).
  BroadcastOperator broadcast() const;

  /// Adds a middleware every event of this socket goes through before its handler, in the
  /// order added (Node's `socket.use`). One that calls `next.fail(...)` drops the event; the
  /// error goes to the server's error hook.
  Socket& use(PacketMiddleware middleware);

  /// Adds a listener that sees every event the client sends, before the middlewares and the
  /// handler, in the order added (Node's `socket.onAny`; unlike Namespace::on_any, which
  /// handles only events without a handler of their own). It may acknowledge the event.
  ListenerId on_any(EventHandler listener);
  /// Adds a listener that runs before those already added (Node's `prependAny`).
  ListenerId prepend_any(EventHandler listener);
  /// Removes one listener added by on_any or prepend_any (Node's `offAny(listener)`).
  void off_any(ListenerId id);
  /// Removes every such listener (Node's `offAny()`).
  void off_any();
  /// Adds a listener that sees every event sent to this client, its own emits and broadcasts
  /// alike, as it is written (Node's `socket.onAnyOutgoing`). Acknowledgements are not events.
  ListenerId on_any_outgoing(OutgoingListener listener);
  /// Adds an outgoing listener that runs before those already added.
  ListenerId prepend_any_outgoing(OutgoingListener listener);
  ///@{
  /// Removes one outgoing listener, or (without an id) every one.
  void off_any_outgoing(ListenerId id);
  void off_any_outgoing();
  ///@}

  /// Disconnects this socket from its namespace (the client sees "io server disconnect"); with
  /// `close`, closes the whole connection, every namespace of it.
  void disconnect(bool close = false);

  /// Completes a connect hook that returned ConnectResult::defer(): sends CONNECT, then the
  /// packets emitted meanwhile.
  void accept();
  /// Completes a deferred connect hook by refusing (CONNECT_ERROR with message and data).
  void reject(const std::string& message, const json& data = json());

 private:
  friend class Namespace;
  friend class detail::Client;
  friend class Event;
  friend void detail::run_packet_chain(const std::shared_ptr<detail::PacketChain>& chain);

  enum class State { connecting, connected, closed };
  struct PendingAck {
    AckCallback callback;
    std::unique_ptr<detail::AckTimer> timer;
    /// A broadcast's answer, awaited without a timer of its own (one per recipient would cost
    /// too much): past this it is forgotten when room is needed (may_expect_ack).
    std::optional<std::chrono::steady_clock::time_point> expires;
  };

  /// Writes a packet, or holds it until the connect hook accepts.
  void write(const std::shared_ptr<const OutgoingPacket>& packet);
  /// Encodes and writes a packet of this namespace.
  void write_packet(socketio::PacketType type, std::optional<std::uint64_t> id, json data,
                    const BroadcastFlags& flags = {});
  /// Tells the outgoing listeners of an event packet on its way out.
  void notify_outgoing(const socketio::Packet& packet);
  /// Registers an answer handler for `ack_id` (a broadcast with acks reached this socket),
  /// awaited for `timeout` (0: until the socket goes). False, registering nothing, when
  /// max_pending_acks answers are already awaited.
  bool expect_ack(std::uint64_t ack_id, std::chrono::milliseconds timeout, AckCallback callback);
  /// Whether one more answer may be awaited; at the bound, forgets broadcasts' answers whose
  /// timeout has passed first.
  bool may_expect_ack();
  /// The client acknowledged `ack_id`.
  void on_ack(std::uint64_t ack_id, Args args);
  void fail_ack(std::uint64_t ack_id, errc error);
  /// The client sent an event: the middlewares, then the handler.
  void on_event(Event event);
  /// The socket is gone (client disconnect, transport closed, ...). Runs the disconnect hook
  /// once.
  void on_close(DisconnectReason reason);
  /// Whether a socket that closed for `reason` keeps its session for recovery.
  static bool recoverable(DisconnectReason reason);

  Namespace& nsp_;
  std::shared_ptr<detail::Client> client_;  // a socket keeps its connection's object alive
  std::string id_;
  json auth_;
  bool auth_sent_;
  json data_;
  State state_ = State::connecting;
  std::unordered_map<std::uint64_t, PendingAck> pending_acks_;
  std::vector<std::shared_ptr<const OutgoingPacket>> held_;  // emitted before accept()
  std::string pid_;        // connection state recovery: the private id its client shows to come back
  bool recovered_ = false;
  std::vector<std::shared_ptr<const OutgoingPacket>> missed_;  // recovered: sent before CONNECT
  std::vector<PacketMiddleware> middlewares_;
  std::unique_ptr<detail::AnyListeners> listeners_;  // made by the first on_any*: most sockets have none
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/socket.hpp"
#endif

#endif  // CHAT_SOCKET_HPP
