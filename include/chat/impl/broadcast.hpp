// Bodies of BroadcastOperator (chat/broadcast.hpp).
#ifndef CHAT_IMPL_BROADCAST_HPP
#define CHAT_IMPL_BROADCAST_HPP

#include <exception>  // make_exception_ptr
#include <memory>     // make_shared
#include <stdexcept>  // invalid_argument, logic_error

#include "../broadcast.hpp"
#include "../detail/ack_gather.hpp"
#include "../detail/core.hpp"
#include "../namespace.hpp"

namespace chat {

CHAT_DECL void BroadcastOperator::emit_array(json event_and_args) const {
  Namespace* nsp = nsp_;
  auto packet = std::make_shared<const OutgoingPacket>(
      socketio::Packet{socketio::PacketType::event, nsp->name(), std::nullopt, std::move(event_and_args)},
      nsp->core().parser(), options_.flags);
  nsp->core().dispatch([nsp, packet = std::move(packet), options = options_] { nsp->adapter().broadcast(packet, options); });
}

CHAT_DECL void BroadcastOperator::emit_with_ack(std::string_view event, Args args, AcksCallback callback,
                                             std::chrono::milliseconds timeout) const {
  if (timeout.count() <= 0)
    throw std::invalid_argument("chat: a broadcast with acks needs a timeout: a client may never answer");
  if (nsp_->is_parent_)
    throw std::logic_error("chat: a broadcast with acks to a parent namespace is not supported: "
                           "emit it to each child namespace (parent.children())");
  json data = json::array();
  data.push_back(std::string(event));
  for (const auto& value : args) data.push_back(value);
  Namespace* nsp = nsp_;
  BroadcastOptions options = options_;
  options.flags.timeout = timeout;
  nsp->core().dispatch([nsp, data = std::move(data), options = std::move(options), callback = std::move(callback), timeout]() mutable {
    // One ack id for every recipient (Node does the same: the namespace's counter keeps it
    // apart from the ids each socket's own emits use).
    auto packet = std::make_shared<const OutgoingPacket>(
        socketio::Packet{socketio::PacketType::event, nsp->name(), nsp->next_ack_id(), std::move(data)},
        nsp->core().parser());
    auto gather = std::make_shared<detail::AckGather>(nsp->core().io(), std::move(callback));
    gather->start(timeout);
    Adapter& adapter = nsp->adapter();
    adapter.server_count([gather](std::size_t servers) { gather->expect_reports(servers); });
    adapter.broadcast_with_ack(packet, options, [gather](std::size_t clients) { gather->report(clients); },
                               [gather](Args answer) { gather->answer(std::move(answer)); });
  });
}

CHAT_DECL std::future<std::vector<Args>> BroadcastOperator::emit_with_ack(std::string_view event, Args args,
                                                                        std::chrono::milliseconds timeout) const {
  auto promise = std::make_shared<std::promise<std::vector<Args>>>();
  auto future = promise->get_future();
  emit_with_ack(event, std::move(args), [promise](std::error_code error, std::vector<Args> answers) {
    if (error) promise->set_exception(std::make_exception_ptr(AcksTimeoutError(std::move(answers))));
    else promise->set_value(std::move(answers));
  }, timeout);
  return future;
}

CHAT_DECL std::vector<SocketId> BroadcastOperator::socket_ids() const { return nsp_->adapter().sockets(options_); }

CHAT_DECL void BroadcastOperator::sockets_join(Room room) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, room = std::move(room)] { nsp->adapter().add_sockets(options, {room}); });
}

CHAT_DECL void BroadcastOperator::sockets_leave(Room room) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, room = std::move(room)] { nsp->adapter().del_sockets(options, {room}); });
}

CHAT_DECL void BroadcastOperator::disconnect_sockets(bool close) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, close] { nsp->adapter().disconnect_sockets(options, close); });
}

CHAT_DECL void BroadcastOperator::fetch_sockets(std::function<void(std::vector<SocketInfo>)> done) const {
  Namespace* nsp = nsp_;
  nsp->core().dispatch([nsp, options = options_, done = std::move(done)]() mutable {
    nsp->adapter().fetch_sockets(options, std::move(done));
  });
}

}  // namespace chat

#endif  // CHAT_IMPL_BROADCAST_HPP
