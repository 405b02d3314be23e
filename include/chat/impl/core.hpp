// Bodies of the transport-independent classes: Socket, Namespace, InMemoryAdapter,
// BroadcastOperator, detail::Core and detail::Client. Included at the bottom of each public
// header that declares one of them, so that any of those headers compiles on its own.
#ifndef CHAT_IMPL_CORE_HPP
#define CHAT_IMPL_CORE_HPP

#include <algorithm>  // sort, find
#include <chrono>     // system_clock
#include <exception>  // exception
#include <iostream>   // cerr
#include <vector>     // vector

#include "../adapter.hpp"
#include "../broadcast.hpp"
#include "../detail/client.hpp"
#include "../detail/core.hpp"
#include "../detail/random_id.hpp"
#include "../namespace.hpp"
#include "../socket.hpp"

namespace chat {

// ---- Adapter ------------------------------------------------------------------------------

inline void Adapter::add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) {
  for (const SocketId& id : sockets(options)) add_all(id, rooms);
}

inline void Adapter::del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) {
  for (const SocketId& id : sockets(options))
    for (const Room& room : rooms) del(id, room);
}

inline void Adapter::disconnect_sockets(Namespace& nsp, const BroadcastOptions& options, bool close) {
  // Ids first: disconnecting changes the rooms being walked.
  for (const SocketId& id : sockets(options))
    if (Socket* socket = nsp.socket(id)) socket->disconnect(close);
}

// ---- InMemoryAdapter ----------------------------------------------------------------------

inline void InMemoryAdapter::add_all(const SocketId& id, const std::vector<Room>& rooms) {
  auto& joined = sids_[id];
  for (const Room& room : rooms) {
    joined.insert(room);
    rooms_[room].insert(id);
  }
}

inline void InMemoryAdapter::del(const SocketId& id, const Room& room) {
  const auto sid = sids_.find(id);
  if (sid != sids_.end()) sid->second.erase(room);
  const auto members = rooms_.find(room);
  if (members == rooms_.end()) return;
  members->second.erase(id);
  if (members->second.empty()) rooms_.erase(members);  // empty rooms must not pile up
}

inline void InMemoryAdapter::del_all(const SocketId& id) {
  const auto sid = sids_.find(id);
  if (sid == sids_.end()) return;
  for (const Room& room : sid->second) {
    const auto members = rooms_.find(room);
    if (members == rooms_.end()) continue;
    members->second.erase(id);
    if (members->second.empty()) rooms_.erase(members);
  }
  sids_.erase(sid);
}

template <class Visit>
void InMemoryAdapter::for_each_selected(const BroadcastOptions& options, Visit&& visit) const {
  auto excluded = [&](const SocketId& id) {
    if (options.except.empty()) return false;
    const auto sid = sids_.find(id);
    if (sid == sids_.end()) return false;
    for (const Room& room : options.except)
      if (sid->second.count(room)) return true;
    return false;
  };
  if (options.rooms.empty()) {
    for (const auto& entry : sids_)
      if (!excluded(entry.first)) visit(entry.first);
    return;
  }
  if (options.rooms.size() == 1) {
    const auto members = rooms_.find(*options.rooms.begin());
    if (members == rooms_.end()) return;
    for (const SocketId& id : members->second)
      if (!excluded(id)) visit(id);
    return;
  }
  std::unordered_set<SocketId> seen;
  for (const Room& room : options.rooms) {
    const auto members = rooms_.find(room);
    if (members == rooms_.end()) continue;
    for (const SocketId& id : members->second)
      if (seen.insert(id).second && !excluded(id)) visit(id);
  }
}

inline void InMemoryAdapter::broadcast(const std::shared_ptr<const EncodedPacket>& packet,
                                       const BroadcastOptions& options) {
  if (options.rooms.empty() && options.except.empty()) {
    // The whole namespace, the commonest broadcast: walk its sockets directly instead of
    // looking each id up again.
    nsp_.for_each_socket([&](Socket& socket) { socket.write(packet); });
    return;
  }
  for_each_selected(options, [&](const SocketId& id) {
    if (Socket* socket = nsp_.socket(id)) socket->write(packet);
  });
}

inline std::vector<Room> InMemoryAdapter::socket_rooms(const SocketId& id) const {
  const auto sid = sids_.find(id);
  if (sid == sids_.end()) return {};
  return std::vector<Room>(sid->second.begin(), sid->second.end());
}

inline std::vector<SocketId> InMemoryAdapter::sockets(const BroadcastOptions& options) const {
  std::vector<SocketId> ids;
  for_each_selected(options, [&](const SocketId& id) { ids.push_back(id); });
  return ids;
}

// ---- BroadcastOperator --------------------------------------------------------------------

inline void BroadcastOperator::emit_array(json event_and_args) const {
  auto packet = std::make_shared<EncodedPacket>();
  packet->encoded = socketio::encode(socketio::PacketType::event, nsp_->name(), std::nullopt, std::move(event_and_args));
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, packet = std::shared_ptr<const EncodedPacket>(std::move(packet)), options = options_] {
    nsp->adapter().broadcast(packet, options);
  });
}

inline std::vector<SocketId> BroadcastOperator::socket_ids() const { return nsp_->adapter().sockets(options_); }

inline void BroadcastOperator::sockets_join(Room room) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, room = std::move(room)] {
    nsp->adapter().add_sockets(options, {room});
  });
}

inline void BroadcastOperator::sockets_leave(Room room) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, room = std::move(room)] {
    nsp->adapter().del_sockets(options, {room});
  });
}

inline void BroadcastOperator::disconnect_sockets(bool close) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, close] { nsp->adapter().disconnect_sockets(*nsp, options, close); });
}

// ---- Socket -------------------------------------------------------------------------------

inline Socket::Socket(Namespace& nsp, detail::Client& client, std::string id, json auth)
    : nsp_(nsp), client_(client.shared_from_this()), id_(std::move(id)), auth_sent_(!auth.is_null()) {
  if (auth_sent_) auth_ = std::move(auth);
}

inline Socket::~Socket() = default;

inline const Handshake& Socket::handshake() const { return client_->handshake(); }

inline void Socket::join(const Room& room) {
  if (state_ == State::closed) return;
  nsp_.adapter().add_all(id_, {room});
}

inline void Socket::leave(const Room& room) { nsp_.adapter().del(id_, room); }

inline std::vector<Room> Socket::rooms() const {
  auto rooms = nsp_.adapter().socket_rooms(id_);
  std::sort(rooms.begin(), rooms.end());
  return rooms;
}

inline void Socket::write_packet(socketio::PacketType type, std::optional<std::uint64_t> id, json data) {
  auto packet = std::make_shared<EncodedPacket>();
  packet->encoded = socketio::encode(type, nsp_.name(), id, std::move(data));
  write(packet);
}

inline void Socket::emit_array(json event_and_args) {
  write_packet(socketio::PacketType::event, std::nullopt, std::move(event_and_args));
}

inline void Socket::emit_with_ack(std::string_view event, Args args, AckCallback callback,
                                  std::chrono::milliseconds timeout) {
  if (state_ == State::closed) {
    if (callback) callback(errc::socket_disconnected, Args());
    return;
  }
  const std::uint64_t ack_id = next_ack_id_++;
  PendingAck pending{std::move(callback), nullptr};
  if (timeout.count() > 0) {
    pending.timer = std::make_unique<asio::steady_timer>(nsp_.core().io(), timeout);
    pending.timer->async_wait([self = weak_from_this(), ack_id](const std::error_code& ec) {
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

inline void Socket::send_ack(std::uint64_t ack_id, Args args) {
  write_packet(socketio::PacketType::ack, ack_id, std::move(args).array());
}

inline void Socket::on_ack(std::uint64_t ack_id, Args args) {
  const auto found = pending_acks_.find(ack_id);
  if (found == pending_acks_.end()) return;  // late (timed out) or unknown: Node ignores it too
  PendingAck pending = std::move(found->second);
  pending_acks_.erase(found);
  if (pending.callback) pending.callback(std::error_code(), std::move(args));
}

inline void Socket::fail_ack(std::uint64_t ack_id, errc error) {
  const auto found = pending_acks_.find(ack_id);
  if (found == pending_acks_.end()) return;
  PendingAck pending = std::move(found->second);
  pending_acks_.erase(found);
  if (pending.callback) pending.callback(error, Args());
}

inline BroadcastOperator Socket::to(Room room) const { return broadcast().to(std::move(room)); }

inline BroadcastOperator Socket::except(Room room) const { return broadcast().except(std::move(room)); }

inline BroadcastOperator Socket::broadcast() const { return nsp_.all().except(id_); }

inline void Socket::write(const std::shared_ptr<const EncodedPacket>& packet) {
  switch (state_) {
    case State::connected: client_->write(packet); break;
    case State::connecting: held_.push_back(packet); break;
    case State::closed: break;
  }
}

inline void Socket::accept() {
  if (state_ != State::connecting) return;
  state_ = State::connected;
  auto packet = std::make_shared<EncodedPacket>();
  packet->encoded = socketio::encode(socketio::PacketType::connect, nsp_.name(), std::nullopt, json{{"sid", id_}});
  client_->write(packet);
  auto held = std::move(held_);
  held_.clear();
  for (const auto& pending : held) client_->write(pending);
}

inline void Socket::reject(const std::string& message, const json& data) {
  if (state_ != State::connecting) return;
  state_ = State::closed;
  json payload{{"message", message}};
  if (!data.is_null()) payload["data"] = data;
  auto packet = std::make_shared<EncodedPacket>();
  packet->encoded = socketio::encode(socketio::PacketType::connect_error, nsp_.name(), std::nullopt, std::move(payload));
  client_->write(packet);
  held_.clear();
  auto self = shared_from_this();  // the maps below hold the last references
  nsp_.adapter().del_all(id_);
  nsp_.remove(*this);
  client_->remove_socket(nsp_.name());
}

inline void Socket::disconnect(bool close) {
  if (close) {
    client_->disconnect_all();  // as Node's client._disconnect(): every namespace, then the connection
    return;
  }
  if (state_ == State::closed) return;
  auto self = shared_from_this();
  if (state_ == State::connected) write_packet(socketio::PacketType::disconnect, std::nullopt, json(json::value_t::discarded));
  client_->remove_socket(nsp_.name());
  on_close("server namespace disconnect");
}

inline void Socket::on_close(std::string_view reason) {
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
  nsp_.adapter().del_all(id_);
  nsp_.remove(*this);
}

// ---- Namespace ----------------------------------------------------------------------------

inline Namespace::Namespace(detail::Core& core, std::string name)
    : core_(core), name_(std::move(name)), adapter_(core.make_adapter(*this)) {}

inline void Namespace::add(const std::shared_ptr<Socket>& socket) {
  sockets_[socket->id()] = socket;
  adapter_->add_all(socket->id(), {socket->id()});
  ConnectResult result = true;
  if (connect_handler_) {
    try {
      result = connect_handler_(*socket, socket->auth());
    } catch (const std::exception& e) {
      result = ConnectResult::reject(e.what());
    } catch (...) {
      result = ConnectResult::reject("Connection rejected by server");
    }
  }
  switch (result.kind()) {
    case ConnectResult::Kind::accept: socket->accept(); break;
    case ConnectResult::Kind::reject: socket->reject(result.message(), result.data()); break;
    case ConnectResult::Kind::defer: break;
  }
}

inline void Namespace::remove(const Socket& socket) { sockets_.erase(socket.id()); }

inline void Namespace::dispatch(Socket& socket, Event& event) {
  const auto found = handlers_.find(event.name());
  const EventHandler* handler = found != handlers_.end() ? &found->second : any_handler_ ? &any_handler_ : nullptr;
  if (!handler) return;
  try {
    (*handler)(socket, event);
  } catch (const std::exception& e) {
    core_.report_error(&socket, e.what());
  } catch (...) {
    core_.report_error(&socket, "unknown exception in event handler");
  }
}

inline void Namespace::copy_hooks_from(const Namespace& other) {
  handlers_ = other.handlers_;
  any_handler_ = other.any_handler_;
  connect_handler_ = other.connect_handler_;
  disconnect_handler_ = other.disconnect_handler_;
}

// ---- detail::Core -------------------------------------------------------------------------

namespace detail {

inline Core::Core(Options options) : options_(std::move(options)) { of("/"); }

inline Core::~Core() = default;

inline Namespace& Core::of(std::string name) {
  name = normalize(std::move(name));
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  auto& slot = namespaces_[name];
  if (!slot) slot = std::make_unique<Namespace>(*this, name);
  return *slot;
}

inline Namespace* Core::find(std::string name) {
  name = normalize(std::move(name));
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  return found == namespaces_.end() ? nullptr : found->second.get();
}

inline Namespace* Core::find_for_connect(const std::string& name) {
  std::lock_guard<std::mutex> lock(namespaces_mutex_);
  const auto found = namespaces_.find(name);
  if (found != namespaces_.end() && name != "*") return found->second.get();
  const auto& listed = options_.namespaces();
  const auto wildcard = namespaces_.find("/*");
  const bool any = std::find(listed.begin(), listed.end(), "*") != listed.end() || wildcard != namespaces_.end();
  const bool named = std::find(listed.begin(), listed.end(), name) != listed.end();
  if (!any && !named) return nullptr;
  auto created = std::make_unique<Namespace>(*this, name);
  if (wildcard != namespaces_.end()) created->copy_hooks_from(*wildcard->second);
  Namespace* result = created.get();
  namespaces_.emplace(name, std::move(created));
  return result;
}

inline void Core::report_error(Socket* socket, std::string_view message) {
  if (error_handler_) {
    error_handler_(socket, message);
    return;
  }
  std::cerr << "chat: " << (socket ? "socket " + socket->id() + ": " : std::string()) << message << '\n';
}

inline void Core::set_adapter_factory(AdapterFactory factory) {
  adapter_factory_ = std::move(factory);
  for_each_namespace([this](Namespace& nsp) { nsp.adapter_ = make_adapter(nsp); });
}

inline std::unique_ptr<Adapter> Core::make_adapter(Namespace& nsp) {
  if (adapter_factory_) return adapter_factory_(nsp);
  return std::make_unique<InMemoryAdapter>(nsp);
}

// ---- detail::Client -----------------------------------------------------------------------

inline Client::Client(Core& core, Handshake handshake)
    : core_(core), handshake_(std::move(handshake)), connect_timer_(core.io()) {}

inline void Client::on_open() {
  const auto timeout = core_.options().connect_timeout();
  if (timeout.count() <= 0) return;
  connect_timer_.expires_after(timeout);
  connect_timer_.async_wait([self = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    auto client = self.lock();
    if (client && !client->joined_any_) client->close("forced close");
  });
}

inline std::shared_ptr<Socket> Client::find(const std::string& nsp) const {
  const auto found = sockets_.find(nsp);
  return found == sockets_.end() ? nullptr : found->second;
}

inline void Client::remove_socket(const std::string& nsp) { sockets_.erase(nsp); }

inline void Client::on_message(std::string_view data, bool binary) {
  if (closed_) return;
  const auto status = binary ? decoder_.feed_binary(data) : decoder_.feed_text(data);
  if (status == socketio::Decoder::Status::need_more) return;
  if (status == socketio::Decoder::Status::error) {
    close("parse error");
    return;
  }
  handle(decoder_.packet());
}

inline void Client::handle(socketio::Packet& packet) {
  using socketio::PacketType;
  if (packet.type == PacketType::connect) {
    on_connect_packet(packet);
    return;
  }
  auto socket = find(packet.nsp);
  if (!socket || packet.type == PacketType::connect_error) {
    close("parse error");  // a packet for a namespace not joined: Node closes the connection
    return;
  }
  switch (packet.type) {
    case PacketType::disconnect:
      sockets_.erase(packet.nsp);
      socket->on_close("client namespace disconnect");
      break;
    case PacketType::event:
    case PacketType::binary_event: {
      json& data = packet.data;
      std::string name = data[0].is_string() ? data[0].get<std::string>() : data[0].dump();
      data.erase(data.begin());
      Event event(*socket, std::move(name), Args(std::move(data)), packet.id);
      socket->nsp().dispatch(*socket, event);
      break;
    }
    case PacketType::ack:
    case PacketType::binary_ack:
      socket->on_ack(*packet.id, Args(std::move(packet.data)));
      break;
    default:
      break;
  }
}

inline void Client::on_connect_packet(socketio::Packet& packet) {
  if (sockets_.count(packet.nsp)) {
    close("parse error");  // a second CONNECT to a joined namespace
    return;
  }
  Namespace* nsp = core_.find_for_connect(packet.nsp);
  if (!nsp) {
    auto error = std::make_shared<EncodedPacket>();
    error->encoded = socketio::encode(socketio::PacketType::connect_error, packet.nsp, std::nullopt,
                                      json{{"message", "Invalid namespace"}});
    write(error);
    return;
  }
  if (!joined_any_) {
    joined_any_ = true;
    connect_timer_.cancel();
  }
  json auth = packet.has_data() ? std::move(packet.data) : json();
  auto socket = std::make_shared<Socket>(*nsp, *this, random_id(), std::move(auth));
  sockets_[packet.nsp] = socket;
  nsp->add(socket);
}

inline void Client::on_transport_closed(std::string_view reason) {
  if (closed_) return;
  closed_ = true;
  connect_timer_.cancel();
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& entry : sockets) entry.second->on_close(reason);
}

inline void Client::disconnect_all() {
  auto self = shared_from_this();
  std::vector<std::shared_ptr<Socket>> sockets;
  for (const auto& entry : sockets_) sockets.push_back(entry.second);
  for (const auto& socket : sockets) socket->disconnect(false);
  closing_gracefully_ = true;
  close("forced server close");
}

inline void Client::close(std::string_view reason) {
  if (closed_) return;
  auto self = shared_from_this();
  on_transport_closed(reason);
  close_transport();
}

}  // namespace detail
}  // namespace chat

#endif  // CHAT_IMPL_CORE_HPP
