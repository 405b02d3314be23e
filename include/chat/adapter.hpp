// chat::Adapter: where a namespace's rooms live and how a broadcast, and every request that may
// span servers (fetch sockets, server-side emits, broadcasts with acks, session persistence),
// finds its way. The in-memory adapter is the default; a cluster adapter (Redis, ...)
// implements the same interface and plugs in through Server::set_adapter_factory without
// touching sessions or transports. This header needs neither Asio nor the rest of the server.
#ifndef CHAT_ADAPTER_HPP
#define CHAT_ADAPTER_HPP

#include <chrono>       // milliseconds
#include <cstddef>        // size_t
#include <cstdint>        // uint64_t
#include <deque>          // deque
#include <functional>     // function
#include <memory>         // shared_ptr
#include <optional>       // optional
#include <string>         // string
#include <string_view>    // string_view
#include <unordered_map>  // unordered_map
#include <unordered_set>  // unordered_set
#include <utility>        // move
#include <vector>         // vector

#include "args.hpp"
#include "broadcast_flags.hpp"
#include "detail/config.hpp"
#include "fwd.hpp"
#include "handshake.hpp"
#include "options.hpp"
#include "parser.hpp"

namespace chat {

/// A packet on its way to one or more sockets: the packet itself (what a cluster adapter sends
/// to the other servers) and its encoding, made once by the server's parser and shared by every
/// local recipient.
///
/// @par Thread Safety
/// Immutable: one may be read by several threads (the shards of a ShardedServer) at once.
class OutgoingPacket {
 public:
  /// `flags`: how it travels to each socket; `is_volatile` and `compress` apply here (a socket
  /// whose transport is not writable at once skips a volatile packet: data that is stale by
  /// the time a backlog would deliver it).
  OutgoingPacket(socketio::Packet packet, const Parser& parser, const BroadcastFlags& flags = {})
      : packet_(std::move(packet)), flags_(flags) {
    auto encoded = std::make_shared<socketio::Encoded>(parser.encode(packet_));
    encoded->compress = flags.compress;
    encoded_ = std::move(encoded);
  }

  /// The packet, as given.
  const socketio::Packet& packet() const { return packet_; }
  /// The packet encoded once by the namespace's parser: what every recipient is written.
  const socketio::Encoded& encoded() const { return *encoded_; }
  /// How it travels (volatile, compressed, local, timeout).
  const BroadcastFlags& flags() const { return flags_; }
  /// Whether a socket whose transport is not writable at once skips it.
  bool is_volatile() const { return flags_.is_volatile; }

  /// The encoding, as an Engine.IO session queues it. Owned apart from the packet, so that a
  /// broadcast hands each recipient's session a reference rather than a pointer of its own
  /// (a reference count changed twice per delivery, atomically once a process has threads).
  const std::shared_ptr<const engineio::Messages>& messages() const { return encoded_; }

 private:
  socketio::Packet packet_;
  std::shared_ptr<const socketio::Encoded> encoded_;  // never null
  BroadcastFlags flags_;
};

/// Who a broadcast reaches: sockets in any of `rooms` (every socket of the namespace when
/// empty), minus sockets in any of `except`.
struct BroadcastOptions {
  std::unordered_set<Room> rooms;   ///< rooms (or socket ids) selected; empty: the whole namespace
  std::unordered_set<Room> except;  ///< rooms (or socket ids) left out, whatever `rooms` says
  BroadcastFlags flags;             ///< how the packets travel
};

/// A socket as fetch_sockets reports it, wherever it is (Node's RemoteSocket's data).
struct SocketInfo {
  SocketId id;               ///< the socket's id (Socket::id)
  Handshake handshake;       ///< the request that opened its connection
  json auth;                 ///< the CONNECT packet's auth object ({} when none)
  std::vector<Room> rooms;   ///< its own id included
  json data;                 ///< Socket::data()
  std::string connection_id; ///< Socket::connection_id() (empty when the adapter does not carry it)
  std::string transport;     ///< Socket::transport() (empty when the adapter does not carry it)
};

/// What connection state recovery keeps of a socket that lost its connection (Node's
/// persisted session).
struct PersistedSession {
  SocketId sid;               ///< the socket id it had, and gets back
  std::string pid;            ///< the private id the client shows to recover it
  std::vector<Room> rooms;    ///< its own id included
  json data;                  ///< its Socket::data()
  /// Restored only: the packets sent to it since the offset the client showed, in the order
  /// they were sent, each with its offset as the last element of its data.
  std::vector<std::shared_ptr<const OutgoingPacket>> missed;
};

/// What an adapter may do with the sockets of its namespace on this server: implemented by the
/// namespace, handed to the adapter factory.
///
/// @par Thread Safety
/// The server's io thread only.
class LocalSockets {
 public:
  /// The namespace's name ("/", "/chat").
  virtual const std::string& name() const = 0;
  /// The server's parser, to encode packets for these sockets.
  virtual const Parser& parser() const = 0;
  /// How many sockets the namespace has here.
  virtual std::size_t size() const = 0;
  /// Sends a packet to one socket (nothing when it is not here).
  virtual void deliver(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet) = 0;
  /// Sends a packet to every socket of the namespace.
  virtual void deliver_to_all(const std::shared_ptr<const OutgoingPacket>& packet) = 0;
  /// Sends a packet that asks for an acknowledgement (its id set by `next_ack_id`), and gives
  /// the socket's answer to `on_ack` (never called when the socket leaves first, or after
  /// `timeout`: pass the broadcast's `flags.timeout`). False, sending nothing, when the socket
  /// is not here or already awaits Options::max_pending_acks answers.
  virtual bool deliver_expecting_ack(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet,
                                     std::chrono::milliseconds timeout, std::function<void(Args)> on_ack) = 0;
  /// A fresh ack id of this namespace: one id serves every socket a broadcast reaches.
  virtual std::uint64_t next_ack_id() = 0;
  /// Disconnects one socket; with `close`, its whole connection.
  virtual void disconnect(const SocketId& id, bool close) = 0;
  /// A socket's details (its rooms left empty: the adapter knows them), or nullopt.
  virtual std::optional<SocketInfo> describe(const SocketId& id) const = 0;
  /// Runs the namespace's server-side emit hook on an event another server sent; `reply`
  /// answers it (once at most).
  virtual void receive_server_side_emit(Args event_and_args, std::function<void(Args)> reply) = 0;
  /// The namespace's adapter as the server uses it: the one the factory made, or on a
  /// ShardedServer the shard adapter around it, which reaches the sockets of every shard. A
  /// cluster adapter does what other servers ask through it, with `flags.local` set.
  virtual Adapter& adapter() = 0;
  /// Reports a problem of the adapter's (a lost connection, a malformed message) to the
  /// server's on_error hook, or stderr without one.
  virtual void report_error(std::string_view message) = 0;
  /// Connection state recovery: a client shows `pid` to recover a socket that this server
  /// still holds, connected (its old connection died unnoticed). That connection is closed
  /// ("transport close"), so that its session is persisted before it is restored, and the old
  /// socket cannot outlive the recovered one. Nothing when no such socket is here.
  virtual void release_session(const std::string& pid) = 0;
  /// Called by the adapter when one of these sockets entered a room (Node's adapter event
  /// "join-room"); only for actual changes. The default does nothing.
  virtual void room_joined(const SocketId& /*id*/, const Room& /*room*/) {}
  /// Called by the adapter when one of these sockets left a room (Node's "leave-room"); only
  /// for actual changes. The default does nothing.
  virtual void room_left(const SocketId& /*id*/, const Room& /*room*/) {}

 protected:
  ~LocalSockets() = default;
};

/// The room registry and message router of one namespace (Node's socket.io-adapter). Requests
/// that span servers answer through callbacks, so a cluster adapter may answer later, once the
/// other servers have. Every request's options may say `flags.local`: this server only.
///
/// @par Thread Safety
/// Called only on the server's io thread; callbacks are called on it too.
///
/// @par Errors
/// A method should not throw: an adapter that cannot reach the other servers answers from this
/// one (a callback still comes, with what this server knows) and reports the failure its own way.
/// An exception thrown while a hook runs (an emit or a join inside an event hook) is that hook's
/// error, reported as one; chat catches none thrown where the server calls on its own (the
/// room cleanup of a disconnect).
class Adapter {
 public:
  /// How many clients a broadcast with acks reached on one server (or all of them).
  using ClientCount = std::function<void(std::size_t clients)>;

  virtual ~Adapter() = default;

  // ---- the rooms of local sockets ----

  /// Adds a local socket to rooms.
  virtual void add_all(const SocketId& id, const std::vector<Room>& rooms) = 0;
  /// Removes a local socket from one room.
  virtual void del(const SocketId& id, const Room& room) = 0;
  /// Removes a local socket from every room (it disconnected).
  virtual void del_all(const SocketId& id) = 0;
  /// The rooms a local socket is in.
  virtual std::vector<Room> socket_rooms(const SocketId& id) const = 0;
  /// The ids of the local sockets the options select.
  virtual std::vector<SocketId> sockets(const BroadcastOptions& options) const = 0;

  // ---- what may span servers ----

  /// Delivers `packet` to every socket the options select.
  virtual void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) = 0;
  /// Delivers `packet` (its id set) to every socket the options select, each answer going to
  /// `on_ack`; `on_client_count` learns how many sockets it reached, once per server that
  /// reports (Node's broadcastWithAck). With a `server_count` of N, N reports come; the first
  /// is this server's, before the call returns.
  virtual void broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options,
                                  ClientCount on_client_count, std::function<void(Args)> on_ack) = 0;
  /// How many servers the adapter spans (this one included).
  virtual void server_count(std::function<void(std::size_t servers)> done) = 0;
  /// Makes the selected sockets join `rooms` (Node's addSockets).
  virtual void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) = 0;
  /// Makes the selected sockets leave `rooms` (Node's delSockets).
  virtual void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) = 0;
  /// Disconnects the selected sockets; with `close`, their whole connections (Node's
  /// disconnectSockets).
  virtual void disconnect_sockets(const BroadcastOptions& options, bool close) = 0;
  /// The selected sockets, wherever they are (Node's fetchSockets).
  virtual void fetch_sockets(const BroadcastOptions& options, std::function<void(std::vector<SocketInfo>)> done) = 0;
  /// Every room that has a socket, wherever it is, socket ids included (Node's allRooms).
  virtual void all_rooms(BroadcastFlags flags, std::function<void(std::vector<Room>)> done) = 0;
  /// Sends an event to the namespace of the same name on every other server (Node's
  /// serverSideEmit). `on_server_count` learns how many servers were sent it (0 with no other
  /// server); each of their replies goes to `on_reply`. Never delivered to this server. An empty
  /// `on_reply` asks for no reply.
  virtual void server_side_emit(const Args& event_and_args, ClientCount on_server_count,
                                std::function<void(Args)> on_reply) = 0;
  /// The server is stopping (Node's adapter.close()): let go of what would keep its io loop
  /// running (connections, timers). Nothing by default.
  virtual void close() {}
  /// Keeps a disconnected socket's state for connection state recovery (called only when
  /// Options::connection_state_recovery is set, for a socket whose connection was lost).
  virtual void persist_session(const PersistedSession& session) = 0;
  /// Gives back a session kept by `persist_session` for the client that shows `pid`, with the
  /// packets sent to it since `offset` (`missed`), or nullopt (unknown or expired, or `offset`
  /// no longer known: the client then gets a fresh socket). An adapter that keeps sessions
  /// also gives the packets it broadcasts their offsets (see SessionAwareAdapter).
  virtual void restore_session(const std::string& pid, const std::string& offset,
                               std::function<void(std::optional<PersistedSession>)> done) = 0;
};

/// The default adapter: the rooms of local sockets in two hash maps; every request answered
/// from this server alone (a server_count of 1, no server-side emit reaching anyone, no session
/// kept: Node's base adapter).
class InMemoryAdapter : public Adapter {
 public:
  /// An adapter for the namespace whose sockets `sockets` gives (it outlives the adapter).
  explicit InMemoryAdapter(LocalSockets& sockets) : sockets_(sockets) {}

  void add_all(const SocketId& id, const std::vector<Room>& rooms) override;
  void del(const SocketId& id, const Room& room) override;
  void del_all(const SocketId& id) override;
  std::vector<Room> socket_rooms(const SocketId& id) const override;
  std::vector<SocketId> sockets(const BroadcastOptions& options) const override;

  void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) override;
  void broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options,
                          ClientCount on_client_count, std::function<void(Args)> on_ack) override;
  /// One server: this one.
  void server_count(std::function<void(std::size_t)> done) override { done(1); }
  void add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override;
  void del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) override;
  void disconnect_sockets(const BroadcastOptions& options, bool close) override;
  void fetch_sockets(const BroadcastOptions& options, std::function<void(std::vector<SocketInfo>)> done) override;
  void all_rooms(BroadcastFlags flags, std::function<void(std::vector<Room>)> done) override;
  void server_side_emit(const Args&, ClientCount on_server_count, std::function<void(Args)>) override {
    on_server_count(0);
  }
  void persist_session(const PersistedSession&) override {}
  void restore_session(const std::string&, const std::string&,
                       std::function<void(std::optional<PersistedSession>)> done) override {
    done(std::nullopt);
  }

 protected:
  /// The namespace's sockets on this server, for adapters built on this one.
  LocalSockets& local() const { return sockets_; }

 private:
  /// Calls `visit(id)` once for each local socket the options select.
  template <class Visit>
  void for_each_selected(const BroadcastOptions& options, Visit&& visit) const;

  LocalSockets& sockets_;
  std::unordered_map<Room, std::unordered_set<SocketId>> rooms_;
  std::unordered_map<SocketId, std::unordered_set<Room>> sids_;
};

/// The in-memory adapter that connection state recovery needs, and the server's default while
/// Options::connection_state_recovery is set (Node's SessionAwareAdapter). Every event it
/// broadcasts without an ack gets an offset appended to its data, and is kept with its
/// selection for `max_disconnection_duration`, as are the sessions of sockets whose connection
/// was lost; `restore_session` gives a session back once, with the kept packets after the
/// client's offset that its rooms select.
///
/// Memory is bounded by the window and by `max_kept_bytes` (the oldest packets go first);
/// every eligible broadcast of the namespace is kept whether or not anyone is disconnected, as
/// in Node. Sessions live on the server (shard) where their socket was.
class SessionAwareAdapter : public InMemoryAdapter {
 public:
  /// An adapter for the namespace whose sockets `sockets` gives, keeping what `options` says.
  SessionAwareAdapter(LocalSockets& sockets, ConnectionStateRecovery options);

  void broadcast(const std::shared_ptr<const OutgoingPacket>& packet, const BroadcastOptions& options) override;
  void persist_session(const PersistedSession& session) override;
  void restore_session(const std::string& pid, const std::string& offset,
                       std::function<void(std::optional<PersistedSession>)> done) override;

  /// Whether a broadcast is kept and given an offset: an event without an ack id. The one place
  /// that decides it: acks, CONNECT/DISCONNECT and broadcasts with acks are not (neither are
  /// volatile broadcasts in Node: a volatile flag, once BroadcastFlags has one, is excluded here).
  static bool keeps(const OutgoingPacket& packet, const BroadcastOptions& options);

  /// What is kept now: packets, their encoded bytes, sessions.
  ///@{
  std::size_t kept_packets() const { return packets_.size(); }
  std::size_t kept_bytes() const { return bytes_; }
  std::size_t kept_sessions() const { return sessions_.size(); }
  ///@}

 private:
  using Clock = std::chrono::steady_clock;
  struct Kept {
    std::uint64_t sequence;
    BroadcastOptions options;
    std::shared_ptr<const OutgoingPacket> packet;  // with its offset
    Clock::time_point sent;
    std::size_t bytes;
  };
  struct Session {
    PersistedSession state;
    Clock::time_point lost;
  };

  /// Forgets what is older than the window, and the oldest packets past max_kept_bytes.
  void prune(Clock::time_point now);
  std::string offset_of(std::uint64_t sequence) const;
  /// The sequence number an offset of this adapter names, or nullopt (another adapter's, or
  /// not an offset).
  std::optional<std::uint64_t> sequence_of(const std::string& offset) const;

  ConnectionStateRecovery options_;
  std::string prefix_;  // makes this adapter's offsets its own (another shard's, or process's, differ)
  std::uint64_t next_sequence_ = 0;
  std::deque<Kept> packets_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, Session> sessions_;
  std::deque<std::pair<Clock::time_point, std::string>> session_ages_;  // in order persisted
};

}  // namespace chat

#if !defined(CHAT_SEPARATE_COMPILATION)
#include "impl/adapter.hpp"
#endif

#endif  // CHAT_ADAPTER_HPP
