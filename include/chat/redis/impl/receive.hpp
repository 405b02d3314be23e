// chat::redis::Cluster: what comes from the other servers (home thread). Included by
// impl/cluster.hpp.
#ifndef CHAT_REDIS_IMPL_RECEIVE_HPP
#define CHAT_REDIS_IMPL_RECEIVE_HPP

#include <exception>  // exception
#include <variant>    // get_if

namespace chat::redis {

inline void Cluster::receive(const std::string& channel, const std::string& pattern, std::string payload) {
  try {
    if (!pattern.empty()) {
      const auto found = pattern_nsp_.find(pattern);
      if (found != pattern_nsp_.end()) receive_broadcast(found->second, payload);
      return;
    }
    const auto found = channel_nsp_.find(channel);
    if (found == channel_nsp_.end()) return;
    const std::string nsp = found->second;
    if (channel == detail::Channels(options_.key(), nsp).request()) receive_request(nsp, payload);
    else receive_response(payload);
  } catch (const std::exception& error) {
    // Never fatal: another program may publish anything on these channels. Reported at a
    // bounded rate (the first, then one in a thousand).
    if (malformed_++ % 1000 == 0)
      report("redis: dropped a message on " + channel + " that is not Node's format (" + error.what() + "); " +
             std::to_string(malformed_) + " so far");
  }
}

inline void Cluster::receive_broadcast(const std::string& nsp, const std::string& payload) {
  detail::BroadcastMessage message = detail::decode_broadcast(payload);
  if (message.uid == uids_[nsp] || message.packet.nsp != nsp) return;  // our own, echoed; or not this namespace's
  BroadcastOptions options = message.options();
  options.flags.local = true;
  message.packet.id.reset();
  on_entry(nsp, [packet = std::move(message.packet), options](detail::RedisAdapter& adapter) {
    auto outgoing = std::make_shared<const OutgoingPacket>(packet, adapter.sockets().parser(), options.flags);
    adapter.sockets().adapter().broadcast(outgoing, options);
  });
}

inline void Cluster::receive_request(const std::string& nsp, const std::string& payload) {
  detail::Request request = detail::decode_request(payload);
  const std::string& own = uids_[nsp];
  auto self = shared_from_this();
  // What a request selects, on this server only.
  const auto here = [](const detail::Selection& selection) {
    BroadcastOptions options = selection.options();
    options.flags.local = true;
    return options;
  };
  // 7.x nodes' one-socket join/leave/disconnect want an answer from the server that has it.
  const auto confirm = [self, nsp](Adapter& adapter, const BroadcastOptions& options, const std::string& request_id) {
    if (request_id.empty()) return;
    adapter.fetch_sockets(options, [self, nsp, request_id](std::vector<SocketInfo> found) {
      if (!found.empty()) self->respond(nsp, std::string(), detail::encode_done_response(request_id));
    });
  };

  if (auto* sockets = std::get_if<detail::SocketsRequest>(&request)) {
    if (sockets->uid == own) return;
    BroadcastOptions options;
    options.rooms.insert(sockets->rooms.begin(), sockets->rooms.end());
    options.flags.local = true;
    on_entry(nsp, [self, nsp, options, r = std::move(*sockets)](detail::RedisAdapter& adapter) {
      adapter.sockets().adapter().fetch_sockets(options, [self, nsp, r](std::vector<SocketInfo> found) {
        std::vector<SocketId> ids;
        for (const auto& socket : found) ids.push_back(socket.id);
        self->respond(nsp, r.uid, detail::encode_sockets_response(r.request_id, ids));
      });
    });
  } else if (auto* rooms = std::get_if<detail::AllRoomsRequest>(&request)) {
    if (rooms->uid == own) return;
    on_entry(nsp, [self, nsp, r = std::move(*rooms)](detail::RedisAdapter& adapter) {
      BroadcastFlags local;
      local.local = true;
      adapter.sockets().adapter().all_rooms(local, [self, nsp, r](std::vector<Room> found) {
        self->respond(nsp, r.uid, detail::encode_all_rooms_response(r.request_id, found));
      });
    });
  } else if (auto* join = std::get_if<detail::RemoteJoinRequest>(&request)) {
    if (join->uid == own) return;  // done when it was asked for
    on_entry(nsp, [options = here(join->opts), r = std::move(*join), confirm](detail::RedisAdapter& adapter) {
      adapter.sockets().adapter().add_sockets(options, r.rooms);
      confirm(adapter.sockets().adapter(), options, r.request_id);
    });
  } else if (auto* leave = std::get_if<detail::RemoteLeaveRequest>(&request)) {
    if (leave->uid == own) return;
    on_entry(nsp, [options = here(leave->opts), r = std::move(*leave), confirm](detail::RedisAdapter& adapter) {
      confirm(adapter.sockets().adapter(), options, r.request_id);  // before: the socket may be gone after
      adapter.sockets().adapter().del_sockets(options, r.rooms);
    });
  } else if (auto* disconnect = std::get_if<detail::RemoteDisconnectRequest>(&request)) {
    if (disconnect->uid == own) return;
    on_entry(nsp, [options = here(disconnect->opts), r = std::move(*disconnect), confirm](detail::RedisAdapter& adapter) {
      confirm(adapter.sockets().adapter(), options, r.request_id);
      adapter.sockets().adapter().disconnect_sockets(options, r.close);
    });
  } else if (auto* fetch = std::get_if<detail::FetchSocketsRequest>(&request)) {
    if (fetch->uid == own) return;
    on_entry(nsp, [self, nsp, options = here(fetch->opts), r = std::move(*fetch)](detail::RedisAdapter& adapter) {
      adapter.sockets().adapter().fetch_sockets(options, [self, nsp, r](std::vector<SocketInfo> found) {
        self->respond(nsp, r.uid, detail::encode_fetch_response(r.request_id, found));
      });
    });
  } else if (auto* emit = std::get_if<detail::ServerSideEmitRequest>(&request)) {
    if (emit->uid == own) return;
    on_entry(nsp, [self, nsp, r = std::move(*emit)](detail::RedisAdapter& adapter) {
      std::function<void(Args)> reply;
      if (!r.request_id.empty())
        reply = [self, nsp, request_id = r.request_id](Args answer) {
          std::optional<json> first;
          if (!answer.empty()) first = answer[0];
          // Node answers a server-side emit on the shared response channel, whatever its options.
          self->publish(detail::Channels(self->options_.key(), nsp).response(),
                        detail::encode_server_side_emit_response(request_id, first));
        };
      adapter.sockets().receive_server_side_emit(Args(r.data), std::move(reply));
    });
  } else if (auto* broadcast = std::get_if<detail::BroadcastRequest>(&request)) {
    if (broadcast->message.uid == own || broadcast->message.packet.nsp != nsp) return;
    BroadcastOptions options = broadcast->message.options();
    options.flags.local = true;
    on_entry(nsp, [self, nsp, options, r = std::move(*broadcast)](detail::RedisAdapter& adapter) mutable {
      socketio::Packet packet = std::move(r.message.packet);
      packet.id = adapter.sockets().next_ack_id();
      auto outgoing = std::make_shared<const OutgoingPacket>(std::move(packet), adapter.sockets().parser());
      const std::string requester = r.message.uid, request_id = r.request_id;
      adapter.sockets().adapter().broadcast_with_ack(
          outgoing, options,
          [self, nsp, requester, request_id](std::size_t clients) {
            self->respond(nsp, requester, detail::encode_client_count_response(request_id, clients));
          },
          [self, nsp, requester, request_id](Args answer) {
            std::optional<json> first;  // only the first argument crosses servers, as with Node
            if (!answer.empty()) first = answer[0];
            self->respond(nsp, requester, detail::encode_broadcast_ack_response(request_id, first));
          });
    });
  }
}

inline void Cluster::receive_response(const std::string& payload) {
  const Response response = detail::decode_response(payload);
  const auto found = pending_.find(response.request_id);
  if (found == pending_.end()) return;  // another server's request, or one that timed out
  Pending& pending = *found->second;
  const bool per_server = response.type != detail::RequestType::broadcast_client_count &&
                          response.type != detail::RequestType::broadcast_ack;
  if (per_server) ++pending.received;
  const std::string request_id = response.request_id;
  try {
    if (pending.on_response) pending.on_response(response);
  } catch (...) {
    if (per_server && pending.received >= pending.expected) finish(request_id);
    throw;
  }
  if (per_server && pending.received >= pending.expected) finish(request_id);
}

inline void Cluster::on_entry(const std::string& nsp, std::function<void(detail::RedisAdapter&)> work) {
  Member member{};
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    const auto found = nodes_.find(nsp);
    if (found == nodes_.end() || found->second.members.empty()) return;
    member = found->second.members.front();
  }
  auto run = [self = shared_from_this(), nsp, member, work = std::move(work)] {
    {
      // Still there? It leaves on its own thread, this one: once seen here it stays for the call.
      std::lock_guard<std::mutex> lock(self->registry_mutex_);
      const auto& members = self->nodes_[nsp].members;
      bool present = false;
      for (const Member& m : members) present = present || m.adapter == member.adapter;
      if (!present) return;
    }
    try {
      work(*member.adapter);
    } catch (const std::exception& error) {
      member.adapter->sockets().report_error(std::string("redis: a request from another server failed here: ") +
                                             error.what());
    }
  };
  if (member.io == &home_) run();
  else asio::post(*member.io, std::move(run));
}

}  // namespace chat::redis

#endif  // CHAT_REDIS_IMPL_RECEIVE_HPP
