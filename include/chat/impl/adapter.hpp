// Bodies of InMemoryAdapter (chat/adapter.hpp).
#ifndef CHAT_IMPL_ADAPTER_HPP
#define CHAT_IMPL_ADAPTER_HPP

#include <memory>         // make_shared
#include <unordered_set>  // unordered_set

#include "../adapter.hpp"

namespace chat {

CHAT_DECL void InMemoryAdapter::add_all(const SocketId& id, const std::vector<Room>& rooms) {
  auto& joined = sids_[id];
  for (const Room& room : rooms) {
    joined.insert(room);
    rooms_[room].insert(id);
  }
}

CHAT_DECL void InMemoryAdapter::del(const SocketId& id, const Room& room) {
  const auto sid = sids_.find(id);
  if (sid != sids_.end()) sid->second.erase(room);
  const auto members = rooms_.find(room);
  if (members == rooms_.end()) return;
  members->second.erase(id);
  if (members->second.empty()) rooms_.erase(members);  // empty rooms must not pile up
}

CHAT_DECL void InMemoryAdapter::del_all(const SocketId& id) {
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

CHAT_DECL std::vector<Room> InMemoryAdapter::socket_rooms(const SocketId& id) const {
  const auto sid = sids_.find(id);
  if (sid == sids_.end()) return {};
  return std::vector<Room>(sid->second.begin(), sid->second.end());
}

CHAT_DECL std::vector<SocketId> InMemoryAdapter::sockets(const BroadcastOptions& options) const {
  std::vector<SocketId> ids;
  for_each_selected(options, [&](const SocketId& id) { ids.push_back(id); });
  return ids;
}

CHAT_DECL void InMemoryAdapter::broadcast(const std::shared_ptr<const OutgoingPacket>& packet,
                                       const BroadcastOptions& options) {
  if (options.rooms.empty() && options.except.empty()) {
    // The whole namespace, the commonest broadcast: its sockets are walked directly instead of
    // each id being looked up again.
    sockets_.deliver_to_all(packet);
    return;
  }
  // Walked directly: a delivery never changes rooms (a socket that cannot keep up is dropped
  // later, from a fresh stack).
  for_each_selected(options, [&](const SocketId& id) { sockets_.deliver(id, packet); });
}

CHAT_DECL void InMemoryAdapter::broadcast_with_ack(const std::shared_ptr<const OutgoingPacket>& packet,
                                                const BroadcastOptions& options, ClientCount on_client_count,
                                                std::function<void(Args)> on_ack) {
  std::size_t reached = 0;
  for (const SocketId& id : sockets(options))
    if (sockets_.deliver_expecting_ack(id, packet, options.flags.timeout, on_ack)) ++reached;
  on_client_count(reached);
}

CHAT_DECL void InMemoryAdapter::add_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) {
  for (const SocketId& id : sockets(options)) add_all(id, rooms);
}

CHAT_DECL void InMemoryAdapter::del_sockets(const BroadcastOptions& options, const std::vector<Room>& rooms) {
  for (const SocketId& id : sockets(options))
    for (const Room& room : rooms) del(id, room);
}

CHAT_DECL void InMemoryAdapter::disconnect_sockets(const BroadcastOptions& options, bool close) {
  // Ids first: disconnecting changes the rooms being walked.
  for (const SocketId& id : sockets(options)) sockets_.disconnect(id, close);
}

CHAT_DECL void InMemoryAdapter::fetch_sockets(const BroadcastOptions& options,
                                           std::function<void(std::vector<SocketInfo>)> done) {
  std::vector<SocketInfo> found;
  for (const SocketId& id : sockets(options)) {
    auto info = sockets_.describe(id);
    if (!info) continue;
    info->rooms = socket_rooms(id);
    found.push_back(std::move(*info));
  }
  done(std::move(found));
}

CHAT_DECL void InMemoryAdapter::all_rooms(BroadcastFlags, std::function<void(std::vector<Room>)> done) {
  std::vector<Room> rooms;
  rooms.reserve(rooms_.size());
  for (const auto& room : rooms_) rooms.push_back(room.first);
  done(std::move(rooms));
}

}  // namespace chat

#endif  // CHAT_IMPL_ADAPTER_HPP
