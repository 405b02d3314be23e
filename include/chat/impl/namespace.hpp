// Bodies of Namespace (chat/namespace.hpp).
#ifndef CHAT_IMPL_NAMESPACE_HPP
#define CHAT_IMPL_NAMESPACE_HPP

#include <exception>  // exception
#include <memory>     // make_shared
#include <stdexcept>  // invalid_argument

#include "../broadcast.hpp"
#include "../detail/ack_gather.hpp"
#include "../detail/client.hpp"
#include "../detail/core.hpp"
#include "../namespace.hpp"
#include "../socket.hpp"

namespace chat {

CHAT_DECL Namespace::Namespace(detail::Core& core, std::string name, bool is_parent)
    : core_(core), name_(std::move(name)), is_parent_(is_parent) {
  next_ack_id_ = core.parser().first_ack_id();
  adapter_ = core.make_adapter(*this);
}

CHAT_DECL Namespace::~Namespace() = default;

CHAT_DECL void Namespace::emit_array(json event_and_args) { all().emit_array(std::move(event_and_args)); }

CHAT_DECL BroadcastOperator Namespace::to(Room room) { return all().to(std::move(room)); }
CHAT_DECL BroadcastOperator Namespace::in(Room room) { return to(std::move(room)); }
CHAT_DECL BroadcastOperator Namespace::except(Room room) { return all().except(std::move(room)); }
CHAT_DECL BroadcastOperator Namespace::all() { return BroadcastOperator(*this, {}); }

CHAT_DECL Socket* Namespace::socket(const SocketId& id) const {
  const auto found = sockets_.find(id);
  return found == sockets_.end() ? nullptr : found->second.get();
}

// ---- joining -------------------------------------------------------------------------------

CHAT_DECL void Namespace::add(const std::shared_ptr<Socket>& socket, const std::vector<Room>& rooms) {
  if (Socket* old = this->socket(socket->id()); old && old != socket.get()) {
    // A recovered socket takes the id of one still here (release_session closes such a socket
    // first, so this is a last resort): the old one goes without its session being kept.
    old->disconnect();
  }
  sockets_[socket->id()] = socket;
  if (!socket->pid_.empty()) by_pid_[socket->pid_] = socket.get();
  std::vector<Room> joined{socket->id()};
  for (const Room& room : rooms)
    if (room != socket->id()) joined.push_back(room);
  adapter_->add_all(socket->id(), joined);
  const auto& recovery = core_.options().connection_state_recovery();
  if (socket->recovered_ && recovery && recovery->skip_middlewares) run_connect_hook(socket);
  else run_middlewares(socket, 0);
}

CHAT_DECL bool Namespace::owns(const Socket& socket) const { return this->socket(socket.id()) == &socket; }

CHAT_DECL void Namespace::release_session(const std::string& pid) {
  const auto found = by_pid_.find(pid);
  if (found == by_pid_.end()) return;
  Socket& stale = *found->second;
  // Its client came back on another connection: this one is dead, though not yet noticed.
  stale.client_->close(DisconnectReason::transport_close);
}

CHAT_DECL void Namespace::run_middlewares(const std::shared_ptr<Socket>& socket, std::size_t index) {
  if (socket->state_ != Socket::State::connecting) return;  // the client left meanwhile
  if (index == middlewares_.size()) {
    run_connect_hook(socket);
    return;
  }
  detail::Core& core = core_;
  Next next([this, socket, index, &core](std::optional<MiddlewareError> error) {
    core.dispatch([this, socket, index, error = std::move(error)] {
      if (error) socket->reject(error->message, error->data);
      else run_middlewares(socket, index + 1);
    });
  });
  try {
    middlewares_[index](*socket, socket->auth(), next);
  } catch (const std::exception& e) {
    next.fail(e.what());
  } catch (...) {
    next.fail("Connection rejected by server");
  }
}

CHAT_DECL void Namespace::run_connect_hook(const std::shared_ptr<Socket>& socket) {
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

CHAT_DECL void Namespace::remove(const Socket& socket) {
  if (!socket.pid_.empty()) {
    const auto found = by_pid_.find(socket.pid_);
    if (found != by_pid_.end() && found->second == &socket) by_pid_.erase(found);
  }
  if (owns(socket)) sockets_.erase(socket.id());
  if (dynamic_ && sockets_.empty()) core_.child_emptied(name_);
}

CHAT_DECL void Namespace::dispatch(Socket& socket, Event& event) {
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

CHAT_DECL void Namespace::copy_hooks_from(const Namespace& other) {
  handlers_ = other.handlers_;
  any_handler_ = other.any_handler_;
  connect_handler_ = other.connect_handler_;
  disconnect_handler_ = other.disconnect_handler_;
  server_side_handler_ = other.server_side_handler_;
  middlewares_ = other.middlewares_;
}

// ---- server-side emits ---------------------------------------------------------------------

CHAT_DECL void Namespace::server_side_emit_array(Args event_and_args) {
  core_.dispatch([this, event_and_args = std::move(event_and_args)] {
    adapter_->server_side_emit(event_and_args, [](std::size_t) {}, nullptr);  // no reply wanted
  });
}

CHAT_DECL void Namespace::server_side_emit_with_ack(Args event_and_args, AcksCallback callback,
                                                 std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0)
    throw std::invalid_argument("chat: server_side_emit_with_ack needs a timeout: a server may never answer");
  core_.dispatch([this, event_and_args = std::move(event_and_args), callback = std::move(callback), timeout]() mutable {
    auto gather = std::make_shared<detail::AckGather>(core_.io(), std::move(callback));
    gather->start(timeout);
    gather->expect_reports(1);
    adapter_->server_side_emit(event_and_args, [gather](std::size_t servers) { gather->report(servers); },
                               [gather](Args answer) { gather->answer(std::move(answer)); });
  });
}

CHAT_DECL void Namespace::report_error(std::string_view message) { core_.report_error(nullptr, message); }

CHAT_DECL void Namespace::receive_server_side_emit(Args event_and_args, std::function<void(Args)> reply) {
  if (!server_side_handler_ || event_and_args.empty()) return;
  const json& name = event_and_args[0];
  const std::string event = name.is_string() ? name.get<std::string>() : name.dump();
  json rest = std::move(event_and_args).array();
  rest.erase(rest.begin());
  try {
    server_side_handler_(event, Args(std::move(rest)), reply);
  } catch (const std::exception& e) {
    core_.report_error(nullptr, "server-side emit hook of " + name_ + ": " + e.what());
  } catch (...) {
    core_.report_error(nullptr, "server-side emit hook of " + name_ + ": unknown exception");
  }
}

// ---- LocalSockets --------------------------------------------------------------------------

CHAT_DECL const Parser& Namespace::parser() const { return core_.parser(); }

CHAT_DECL void Namespace::deliver(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet) {
  if (Socket* target = socket(id)) target->write(packet);
}

CHAT_DECL void Namespace::deliver_to_all(const std::shared_ptr<const OutgoingPacket>& packet) {
  for (const auto& entry : sockets_) entry.second->write(packet);
}

CHAT_DECL bool Namespace::deliver_expecting_ack(const SocketId& id, const std::shared_ptr<const OutgoingPacket>& packet,
                                             std::chrono::milliseconds timeout, std::function<void(Args)> on_ack) {
  Socket* target = socket(id);
  if (!target || !packet->packet().id) return false;
  // A socket already awaiting max_pending_acks answers is left out, as if it had gone.
  const bool expecting = target->expect_ack(*packet->packet().id, timeout, [on_ack = std::move(on_ack)](std::error_code error, Args args) {
    if (!error) on_ack(std::move(args));
  });
  if (expecting) target->write(packet);
  return expecting;
}

CHAT_DECL void Namespace::disconnect(const SocketId& id, bool close) {
  if (Socket* target = socket(id)) target->disconnect(close);
}

CHAT_DECL void Namespace::room_joined(const SocketId& id, const Room& room) {
  if (auto* observer = core_.observer()) observer->room_joined(name_, room, id);
}

CHAT_DECL void Namespace::room_left(const SocketId& id, const Room& room) {
  if (auto* observer = core_.observer()) observer->room_left(name_, room, id);
}

CHAT_DECL std::optional<SocketInfo> Namespace::describe(const SocketId& id) const {
  const Socket* target = socket(id);
  if (!target) return std::nullopt;
  return SocketInfo{target->id(), target->handshake(), target->auth(), {}, target->data(), target->connection_id(),
                    std::string(target->transport())};
}

}  // namespace chat

#endif  // CHAT_IMPL_NAMESPACE_HPP
