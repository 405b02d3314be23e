// Bodies of Socket and Event (chat/socket.hpp).
#ifndef CHAT_IMPL_SOCKET_HPP
#define CHAT_IMPL_SOCKET_HPP

#include <algorithm>  // remove_if, sort
#include <future>     // promise
#include <exception>  // exception
#include <memory>     // make_shared, make_unique

#include <asio/steady_timer.hpp>

#include "../broadcast.hpp"
#include "../detail/client.hpp"
#include "../detail/core.hpp"
#include "../namespace.hpp"
#include "../socket.hpp"

namespace chat {

namespace detail {

/// The timer of an acknowledgement that has a timeout.
struct AckTimer {
  AckTimer(asio::io_context& io, std::chrono::milliseconds timeout) : timer(io, timeout) {}
  asio::steady_timer timer;
};

/// A socket's any-listeners, incoming and outgoing, each list in calling order.
struct AnyListeners {
  std::vector<std::pair<ListenerId, EventHandler>> incoming;
  std::vector<std::pair<ListenerId, OutgoingListener>> outgoing;
  ListenerId next_id = 1;

  template <class Listener>
  ListenerId add(std::vector<std::pair<ListenerId, Listener>>& list, Listener listener, bool first) {
    const ListenerId id = next_id++;
    if (first) list.emplace(list.begin(), id, std::move(listener));
    else list.emplace_back(id, std::move(listener));
    return id;
  }
  template <class Listener>
  static void remove(std::vector<std::pair<ListenerId, Listener>>& list, ListenerId id) {
    list.erase(std::remove_if(list.begin(), list.end(), [id](const auto& entry) { return entry.first == id; }), list.end());
  }
};

/// An event on its way through a socket's middlewares.
struct PacketChain {
  std::shared_ptr<Socket> socket;
  Event event;
  std::size_t next = 0;
};

}  // namespace detail

// ---- Event ---------------------------------------------------------------------------------

CHAT_DECL void Event::send_ack(Args args) {
  const std::uint64_t id = *ack_id_;
  ack_id_.reset();
  socket_.send_ack(id, std::move(args));
}

// ---- Socket --------------------------------------------------------------------------------

CHAT_DECL Socket::Socket(Namespace& nsp, detail::Client& client, std::string id, json auth)
    : nsp_(nsp), client_(client.shared_from_this()), id_(std::move(id)), auth_sent_(!auth.is_null()) {
  if (auth_sent_) auth_ = std::move(auth);
}

CHAT_DECL Socket::~Socket() = default;

CHAT_DECL const Handshake& Socket::handshake() const { return client_->handshake(); }
CHAT_DECL const std::string& Socket::connection_id() const { return client_->connection_id(); }
CHAT_DECL std::string_view Socket::transport() const { return client_->transport_name(); }

CHAT_DECL const json& Socket::auth() const {
  // Without auth, one shared empty object: an empty object of every socket's own would be an
  // allocation per idle connection.
  static const json no_auth = json::object();
  return auth_sent_ ? auth_ : no_auth;
}

CHAT_DECL void Socket::join(const Room& room) {
  if (state_ == State::closed) return;
  nsp_.adapter().add_all(id_, {room});
}

CHAT_DECL void Socket::leave(const Room& room) { nsp_.adapter().del(id_, room); }

CHAT_DECL std::vector<Room> Socket::rooms() const {
  auto rooms = nsp_.adapter().socket_rooms(id_);
  std::sort(rooms.begin(), rooms.end());
  return rooms;
}

CHAT_DECL void Socket::write_packet(socketio::PacketType type, std::optional<std::uint64_t> id, json data,
                                  const BroadcastFlags& flags) {
  socketio::Packet packet;
  packet.type = type;
  packet.nsp = nsp_.name();
  packet.id = id;
  packet.data = std::move(data);
  write(std::make_shared<const OutgoingPacket>(std::move(packet), nsp_.core().parser(), flags));
}

CHAT_DECL void Socket::emit_array(json event_and_args) {
  if (!nsp_.core().options().connection_state_recovery()) {
    write_packet(socketio::PacketType::event, std::nullopt, std::move(event_and_args));
    return;
  }
  // Through the adapter, to the socket's own room, so that it is kept (and given its offset)
  // like a broadcast; `local`: it concerns this server only.
  BroadcastOptions options;
  options.rooms.insert(id_);
  options.flags.local = true;
  nsp_.adapter().broadcast(
      std::make_shared<const OutgoingPacket>(
          socketio::Packet{socketio::PacketType::event, nsp_.name(), std::nullopt, std::move(event_and_args)},
          nsp_.core().parser()),
      options);
}

CHAT_DECL void Socket::emit_with_ack(std::string_view event, Args args, AckCallback callback,
                                  std::chrono::milliseconds timeout) {
  if (state_ == State::closed) {
    if (callback) callback(errc::socket_disconnected, Args());
    return;
  }
  if (!may_expect_ack()) {
    if (callback) callback(errc::too_many_pending_acks, Args());
    return;
  }
  const std::uint64_t ack_id = nsp_.next_ack_id();
  PendingAck pending{std::move(callback), nullptr, std::nullopt};
  if (timeout.count() > 0) {
    pending.timer = std::make_unique<detail::AckTimer>(nsp_.core().io(), timeout);
    detail::Core::wait(pending.timer->timer, [self = weak_from_this(), ack_id](const std::error_code& ec) {
      if (ec) return;
      if (auto socket = self.lock()) socket->fail_ack(ack_id, errc::ack_timeout);
    });
  }
  pending_acks_.emplace(ack_id, std::move(pending));
  json data = json::array();
  data.push_back(std::string(event));
  for (const auto& value : args) data.push_back(value);
  write_packet(socketio::PacketType::event, ack_id, std::move(data));
}

CHAT_DECL std::future<Args> Socket::emit_with_ack(std::string_view event, Args args, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<Args>>();
  auto future = promise->get_future();
  emit_with_ack(event, std::move(args), [promise](std::error_code error, Args answer) {
    if (error) promise->set_exception(std::make_exception_ptr(std::system_error(error)));
    else promise->set_value(std::move(answer));
  }, timeout);
  return future;
}

CHAT_DECL bool Socket::may_expect_ack() {
  const std::size_t bound = nsp_.core().options().max_pending_acks();
  if (bound == 0 || pending_acks_.size() < bound) return true;
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> expired;
  for (const auto& [id, pending] : pending_acks_)
    if (pending.expires && *pending.expires <= now) expired.push_back(id);
  for (const auto id : expired) fail_ack(id, errc::ack_timeout);
  return pending_acks_.size() < bound;
}

CHAT_DECL bool Socket::expect_ack(std::uint64_t ack_id, std::chrono::milliseconds timeout, AckCallback callback) {
  if (!may_expect_ack()) return false;
  PendingAck pending{std::move(callback), nullptr, std::nullopt};
  if (timeout.count() > 0) pending.expires = std::chrono::steady_clock::now() + timeout;
  pending_acks_.emplace(ack_id, std::move(pending));
  return true;
}

CHAT_DECL void Socket::send_ack(std::uint64_t ack_id, Args args) {
  write_packet(socketio::PacketType::ack, ack_id, std::move(args).array());
}

CHAT_DECL void Socket::on_ack(std::uint64_t ack_id, Args args) {
  const auto found = pending_acks_.find(ack_id);
  if (found == pending_acks_.end()) return;  // late (timed out) or unknown: Node ignores it too
  PendingAck pending = std::move(found->second);
  pending_acks_.erase(found);
  if (pending.callback) pending.callback(std::error_code(), std::move(args));
}

CHAT_DECL void Socket::fail_ack(std::uint64_t ack_id, errc error) {
  const auto found = pending_acks_.find(ack_id);
  if (found == pending_acks_.end()) return;
  PendingAck pending = std::move(found->second);
  pending_acks_.erase(found);
  if (pending.callback) pending.callback(error, Args());
}

CHAT_DECL BroadcastOperator Socket::to(Room room) const { return broadcast().to(std::move(room)); }

CHAT_DECL BroadcastOperator Socket::except(Room room) const { return broadcast().except(std::move(room)); }

CHAT_DECL BroadcastOperator Socket::broadcast() const { return nsp_.all().except(id_); }

CHAT_DECL Socket& Socket::use(PacketMiddleware middleware) {
  middlewares_.push_back(std::move(middleware));
  return *this;
}

CHAT_DECL ListenerId Socket::on_any(EventHandler listener) {
  if (!listeners_) listeners_ = std::make_unique<detail::AnyListeners>();
  return listeners_->add(listeners_->incoming, std::move(listener), false);
}

CHAT_DECL ListenerId Socket::prepend_any(EventHandler listener) {
  if (!listeners_) listeners_ = std::make_unique<detail::AnyListeners>();
  return listeners_->add(listeners_->incoming, std::move(listener), true);
}

CHAT_DECL void Socket::off_any(ListenerId id) {
  if (listeners_) detail::AnyListeners::remove(listeners_->incoming, id);
}

CHAT_DECL void Socket::off_any() {
  if (listeners_) listeners_->incoming.clear();
}

CHAT_DECL ListenerId Socket::on_any_outgoing(OutgoingListener listener) {
  if (!listeners_) listeners_ = std::make_unique<detail::AnyListeners>();
  return listeners_->add(listeners_->outgoing, std::move(listener), false);
}

CHAT_DECL ListenerId Socket::prepend_any_outgoing(OutgoingListener listener) {
  if (!listeners_) listeners_ = std::make_unique<detail::AnyListeners>();
  return listeners_->add(listeners_->outgoing, std::move(listener), true);
}

CHAT_DECL void Socket::off_any_outgoing(ListenerId id) {
  if (listeners_) detail::AnyListeners::remove(listeners_->outgoing, id);
}

CHAT_DECL void Socket::off_any_outgoing() {
  if (listeners_) listeners_->outgoing.clear();
}

CHAT_DECL void Socket::notify_outgoing(const socketio::Packet& packet) {
  if (packet.type != socketio::PacketType::event && packet.type != socketio::PacketType::binary_event) return;
  if (!packet.data.is_array() || packet.data.empty() || !packet.data[0].is_string()) return;
  const std::string& event = packet.data[0].get_ref<const std::string&>();
  const Args args(json(packet.data.begin() + 1, packet.data.end()));
  // A copy: a listener may add or remove listeners.
  const auto listeners = listeners_->outgoing;
  for (const auto& entry : listeners) {
    try {
      entry.second(*this, event, args);
    } catch (const std::exception& e) {
      nsp_.core().report_error(this, e.what());
    } catch (...) {
      nsp_.core().report_error(this, "unknown exception in an outgoing listener");
    }
  }
}

CHAT_DECL void Socket::on_event(Event event) {
  if (auto* observer = nsp_.core().observer()) observer->event_received(*this, event);
  if (listeners_ && !listeners_->incoming.empty()) {
    const auto listeners = listeners_->incoming;  // a listener may add or remove listeners
    for (const auto& entry : listeners) {
      try {
        entry.second(*this, event);
      } catch (const std::exception& e) {
        nsp_.core().report_error(this, e.what());
      } catch (...) {
        nsp_.core().report_error(this, "unknown exception in an any-listener");
      }
      if (state_ != State::connected) return;  // a listener disconnected it
    }
  }
  if (middlewares_.empty()) {
    nsp_.dispatch(*this, event);
    return;
  }
  detail::run_packet_chain(std::make_shared<detail::PacketChain>(detail::PacketChain{shared_from_this(), std::move(event)}));
}

/// Runs the next middleware of `chain`, or, after the last, the event's handler.
CHAT_DECL void detail::run_packet_chain(const std::shared_ptr<PacketChain>& chain) {
  Socket& socket = *chain->socket;
  if (socket.state_ != Socket::State::connected) return;  // it left meanwhile: the event goes with it
  if (chain->next == socket.middlewares_.size()) {
    socket.nsp_.dispatch(socket, chain->event);
    return;
  }
  const PacketMiddleware& middleware = socket.middlewares_[chain->next++];
  Core& core = socket.nsp_.core();
  Next next([chain, &core](std::optional<MiddlewareError> error) {
    core.dispatch([chain, &core, error = std::move(error)] {
      if (!error) {
        run_packet_chain(chain);
        return;
      }
      core.report_error(chain->socket.get(), "event \"" + chain->event.name() + "\" refused by a middleware: " +
                                                 error->message);
    });
  });
  try {
    middleware(socket, chain->event, next);
  } catch (const std::exception& e) {
    next.fail(e.what());
  } catch (...) {
    next.fail("unknown exception in a middleware");
  }
}

CHAT_DECL void Socket::write(const std::shared_ptr<const OutgoingPacket>& packet) {
  switch (state_) {
    case State::connected:
      if (packet->is_volatile() && !client_->writable()) return;
      if (listeners_ && !listeners_->outgoing.empty()) notify_outgoing(packet->packet());
      if (auto* observer = nsp_.core().observer()) observer->event_sent(*this, packet->packet());
      client_->write(packet);
      break;
    case State::connecting:
      if (!packet->is_volatile()) held_.push_back(packet);  // a volatile packet does not wait
      break;
    case State::closed: break;
  }
}

CHAT_DECL void Socket::accept() {
  if (state_ != State::connecting) return;
  state_ = State::connected;
  // What a recovered socket missed goes first, then CONNECT: Node's order (the client hands
  // the events to the application before its `connect` event).
  auto missed = std::move(missed_);
  missed_.clear();
  for (const auto& packet : missed) client_->write(packet);
  if (client_->speaks_v2()) {
    write_packet(socketio::PacketType::connect, std::nullopt, json(json::value_t::discarded));  // v2: no payload
  } else {
    json reply{{"sid", id_}};
    if (!pid_.empty()) reply["pid"] = pid_;
    write_packet(socketio::PacketType::connect, std::nullopt, std::move(reply));
  }
  auto held = std::move(held_);
  held_.clear();
  for (const auto& pending : held) client_->write(pending);
  if (auto* observer = nsp_.core().observer()) observer->socket_connected(*this);
}

CHAT_DECL void Socket::reject(const std::string& message, const json& data) {
  if (state_ != State::connecting) return;
  json payload{{"message", message}};
  if (!data.is_null()) payload["data"] = data;
  // Socket.IO v2's ERROR packet carries the error's data, or else its message (Node's).
  if (client_->speaks_v2()) payload = data.is_null() ? json(message) : data;
  client_->write(std::make_shared<const OutgoingPacket>(
      socketio::Packet{socketio::PacketType::connect_error, nsp_.name(), std::nullopt, std::move(payload)},
      nsp_.core().parser()));
  state_ = State::closed;
  held_.clear();
  missed_.clear();
  auto self = shared_from_this();  // the maps below hold the last references
  if (nsp_.owns(*this)) nsp_.adapter().del_all(id_);
  nsp_.remove(*this);
  client_->remove_socket(nsp_.name());
}

CHAT_DECL void Socket::disconnect(bool close) {
  if (close) {
    client_->disconnect_all();  // as Node's client._disconnect(): every namespace, then the connection
    return;
  }
  if (state_ == State::closed) return;
  auto self = shared_from_this();
  if (state_ == State::connected) write_packet(socketio::PacketType::disconnect, std::nullopt, json(json::value_t::discarded));
  client_->remove_socket(nsp_.name());
  on_close(DisconnectReason::server_namespace_disconnect);
}

CHAT_DECL void Socket::on_close(DisconnectReason reason) {
  if (state_ == State::closed) return;
  auto self = shared_from_this();
  const bool was_connected = state_ == State::connected;
  state_ = State::closed;
  held_.clear();
  // The hook runs while the socket is still in its rooms, so it can tell them it left.
  if (was_connected && nsp_.disconnect_handler_) {
    try {
      nsp_.disconnect_handler_(*this, reason);
    } catch (const std::exception& e) {
      nsp_.core().report_error(this, e.what());
    } catch (...) {
      nsp_.core().report_error(this, "unknown exception in disconnect hook");
    }
  }
  auto pending = std::move(pending_acks_);
  pending_acks_.clear();
  for (auto& entry : pending)
    if (entry.second.callback) entry.second.callback(errc::socket_disconnected, Args());
  // A socket another one with its id has replaced (recovered) leaves that one's rooms and
  // session alone.
  if (nsp_.owns(*this)) {
    if (was_connected && !pid_.empty() && recoverable(reason))
      nsp_.adapter().persist_session(PersistedSession{id_, pid_, nsp_.adapter().socket_rooms(id_), data_, {}});
    nsp_.adapter().del_all(id_);
  }
  if (was_connected)
    if (auto* observer = nsp_.core().observer()) observer->socket_disconnected(*this, reason);
  nsp_.remove(*this);
}

CHAT_DECL bool Socket::recoverable(DisconnectReason reason) {
  // Node's list: the connection was lost or closed by the server, not left on purpose.
  switch (reason) {
    case DisconnectReason::transport_error:
    case DisconnectReason::transport_close:
    case DisconnectReason::forced_close:
    case DisconnectReason::ping_timeout:
    case DisconnectReason::server_shutting_down:
    case DisconnectReason::forced_server_close: return true;
    default: return false;
  }
}

}  // namespace chat

#endif  // CHAT_IMPL_SOCKET_HPP
