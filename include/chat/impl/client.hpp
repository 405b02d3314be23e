// Bodies of detail::Client (chat/detail/client.hpp).
#ifndef CHAT_IMPL_CLIENT_HPP
#define CHAT_IMPL_CLIENT_HPP

#include <memory>  // make_shared, make_unique
#include <vector>  // vector

#include <asio/steady_timer.hpp>

#include "../adapter.hpp"
#include "../detail/client.hpp"
#include "../detail/core.hpp"
#include "../detail/random_id.hpp"
#include "../detail/url.hpp"
#include "../namespace.hpp"
#include "../socket.hpp"

namespace chat::detail {

/// The connect timeout's timer.
struct ConnectTimer {
  explicit ConnectTimer(asio::io_context& io) : timer(io) {}
  asio::steady_timer timer;
};

CHAT_DECL Client::Client(Core& core, Handshake handshake, std::optional<std::string> v2_engine_sid)
    : core_(core),
      handshake_(std::move(handshake)),
      engine_sid_(std::move(v2_engine_sid)),
      decoder_(core.parser().decoder()),
      connect_timer_(std::make_unique<ConnectTimer>(core.io())) {}

CHAT_DECL Client::~Client() = default;

CHAT_DECL void Client::on_open() {
  if (auto* observer = core_.observer()) observer->connection_opened(*this);
  const auto timeout = core_.options().connect_timeout();
  if (timeout.count() > 0) {
    connect_timer_->timer.expires_after(timeout);
    Core::wait(connect_timer_->timer, [self = weak_from_this()](const std::error_code& ec) {
      if (ec) return;
      auto client = self.lock();
      if (client && !client->joined_any_) client->close(DisconnectReason::forced_close);
    });
  }
  if (speaks_v2()) {
    // A Socket.IO v2 client is in the main namespace from the start, with an empty auth (Node
    // connects it so), and sends CONNECT only for the others.
    socketio::Packet connect{socketio::PacketType::connect, "/", std::nullopt, json::object()};
    on_connect_packet(connect);
  }
}

CHAT_DECL bool Client::split_v2_namespace(socketio::Packet& packet) {
  const auto target = parse_target(packet.nsp);
  if (!target) return false;
  json auth = json::object();
  for (auto& [name, value] : target->query) auth[name] = std::move(value);  // the last of a name wins, as in Node
  packet.nsp = target->path;
  packet.data = std::move(auth);
  return true;
}

CHAT_DECL std::shared_ptr<Socket> Client::find(const std::string& nsp) const {
  const auto found = sockets_.find(nsp);
  return found == sockets_.end() ? nullptr : found->second;
}

CHAT_DECL void Client::remove_socket(const std::string& nsp) { sockets_.erase(nsp); }

CHAT_DECL void Client::on_message(std::string_view data, bool binary) {
  if (closed_) return;
  if (auto* observer = core_.observer()) observer->message_received(data.size() + (binary ? 0 : 1));  // with the `4`, as Node counts
  const auto status = decoder_->feed(data, binary);
  if (status == PacketDecoder::Status::need_more) return;
  if (status == PacketDecoder::Status::error) {
    close(DisconnectReason::parse_error);
    return;
  }
  handle(decoder_->packet());
}

CHAT_DECL void Client::handle(socketio::Packet& packet) {
  using socketio::PacketType;
  if (packet.type == PacketType::connect) {
    if (speaks_v2() && !split_v2_namespace(packet)) {
      close(DisconnectReason::parse_error);
      return;
    }
    on_connect_packet(packet);
    return;
  }
  auto socket = find(packet.nsp);
  if (!socket || packet.type == PacketType::connect_error) {
    close(DisconnectReason::parse_error);  // a packet for a namespace not joined: Node closes the connection
    return;
  }
  switch (packet.type) {
    case PacketType::disconnect:
      sockets_.erase(packet.nsp);
      socket->on_close(DisconnectReason::client_namespace_disconnect);
      break;
    case PacketType::event:
    case PacketType::binary_event: {
      json& data = packet.data;
      std::string name = data[0].is_string() ? data[0].get<std::string>() : data[0].dump();
      data.erase(data.begin());
      socket->on_event(Event(*socket, std::move(name), Args(std::move(data)), packet.id));
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

CHAT_DECL void Client::on_connect_packet(socketio::Packet& packet) {
  if (sockets_.count(packet.nsp) || recovering_.count(packet.nsp)) {
    close(DisconnectReason::parse_error);  // a second CONNECT to a joined namespace
    return;
  }
  json auth = packet.has_data() ? std::move(packet.data) : json();
  Namespace* nsp = core_.find_for_connect(packet.nsp, auth);
  if (!nsp) {
    write(std::make_shared<const OutgoingPacket>(
        socketio::Packet{socketio::PacketType::connect_error, packet.nsp, std::nullopt, json{{"message", "Invalid namespace"}}},
        core_.parser()));
    return;
  }
  if (!joined_any_) {
    joined_any_ = true;
    connect_timer_->timer.cancel();
  }
  // A client that lost its connection shows its socket's private id and the offset of the last
  // event it got (socket.io-client 4.6+); the handshake keeps them in auth, as Node's does.
  const json* pid = auth.is_object() && auth.contains("pid") ? &auth["pid"] : nullptr;
  const json* offset = auth.is_object() && auth.contains("offset") ? &auth["offset"] : nullptr;
  if (!core_.options().connection_state_recovery() || !pid || !offset || !pid->is_string() || !offset->is_string()) {
    join(*nsp, packet.nsp, std::move(auth), std::nullopt);
    return;
  }
  const std::string private_id = pid->get<std::string>();
  const std::string last_offset = offset->get<std::string>();  // read before `auth` moves below
  recovering_.insert(packet.nsp);
  ++nsp->restoring_;  // a dynamic namespace is not cleaned up under the adapter's answer
  nsp->release_session(private_id);
  nsp->adapter().restore_session(
      private_id, last_offset,
      [self = shared_from_this(), nsp, name = packet.nsp, auth = std::move(auth)](std::optional<PersistedSession> session) mutable {
        self->recovering_.erase(name);
        --nsp->restoring_;
        if (self->closed_) {
          // Gone while the adapter answered: the session is kept again for a later attempt.
          if (session) nsp->adapter().persist_session(*session);
          if (nsp->dynamic_ && nsp->size() == 0) self->core_.child_emptied(name);
          return;
        }
        self->join(*nsp, name, std::move(auth), std::move(session));
      });
}

CHAT_DECL void Client::join(Namespace& nsp, const std::string& name, json auth, std::optional<PersistedSession> session) {
  SocketId id = session ? session->sid
                 : engine_sid_ ? (name == "/" ? *engine_sid_ : name + "#" + *engine_sid_)
                               : core_.new_socket_id();
  auto socket = std::make_shared<Socket>(nsp, *this, std::move(id), std::move(auth));
  std::vector<Room> rooms;
  if (session) {
    socket->pid_ = std::move(session->pid);
    socket->recovered_ = true;
    socket->data_ = std::move(session->data);
    socket->missed_ = std::move(session->missed);
    rooms = std::move(session->rooms);
  } else if (core_.options().connection_state_recovery()) {
    socket->pid_ = random_id();
  }
  sockets_[name] = socket;
  nsp.add(socket, rooms);
}

CHAT_DECL void Client::on_transport_closed(DisconnectReason reason) {
  if (closed_) return;
  closed_ = true;
  connect_timer_->timer.cancel();
  auto sockets = std::move(sockets_);
  sockets_.clear();
  for (auto& entry : sockets) entry.second->on_close(reason);
  if (auto* observer = core_.observer()) observer->connection_closed(*this, reason);
}

CHAT_DECL void Client::disconnect_all() {
  auto self = shared_from_this();
  std::vector<std::shared_ptr<Socket>> sockets;
  for (const auto& entry : sockets_) sockets.push_back(entry.second);
  for (const auto& socket : sockets) socket->disconnect(false);
  closing_gracefully_ = true;
  close(DisconnectReason::forced_server_close);
}

CHAT_DECL void Client::close(DisconnectReason reason) {
  if (closed_) return;
  auto self = shared_from_this();
  on_transport_closed(reason);
  close_transport();
}

}  // namespace chat::detail

#endif  // CHAT_IMPL_CLIENT_HPP
