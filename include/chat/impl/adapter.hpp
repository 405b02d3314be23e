// Bodies of InMemoryAdapter (chat/adapter.hpp).
#ifndef CHAT_IMPL_ADAPTER_HPP
#define CHAT_IMPL_ADAPTER_HPP

#include <memory>         // make_shared
#include <unordered_set>  // unordered_set

#include "../adapter.hpp"
#include "../detail/random_id.hpp"

namespace chat {

CHAT_DECL void InMemoryAdapter::add_all(const SocketId& id, const std::vector<Room>& rooms) {
  auto& joined = sids_[id];
  for (const Room& room : rooms) {
    joined.insert(room);
    if (rooms_[room].insert(id).second) sockets_.room_joined(id, room);
  }
}

CHAT_DECL void InMemoryAdapter::del(const SocketId& id, const Room& room) {
  const auto sid = sids_.find(id);
  if (sid != sids_.end()) sid->second.erase(room);
  const auto members = rooms_.find(room);
  if (members == rooms_.end()) return;
  const bool left = members->second.erase(id) > 0;
  if (members->second.empty()) rooms_.erase(members);  // empty rooms must not pile up
  if (left) sockets_.room_left(id, room);
}

CHAT_DECL void InMemoryAdapter::del_all(const SocketId& id) {
  const auto sid = sids_.find(id);
  if (sid == sids_.end()) return;
  const auto left = std::move(sid->second);
  sids_.erase(sid);
  for (const Room& room : left) {
    const auto members = rooms_.find(room);
    if (members == rooms_.end()) continue;
    members->second.erase(id);
    if (members->second.empty()) rooms_.erase(members);
    sockets_.room_left(id, room);
  }
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

// ---- SessionAwareAdapter -------------------------------------------------------------------

CHAT_DECL SessionAwareAdapter::SessionAwareAdapter(LocalSockets& sockets, ConnectionStateRecovery options)
    : InMemoryAdapter(sockets), options_(options), prefix_(detail::random_id().substr(0, 8)) {}

CHAT_DECL bool SessionAwareAdapter::keeps(const OutgoingPacket& packet, const BroadcastOptions&) {
  const auto type = packet.packet().type;
  // Not an ack's question (its answer could not be given twice) nor a volatile packet (its
  // sender accepts that it is lost), as Node's SessionAwareAdapter.
  return (type == socketio::PacketType::event || type == socketio::PacketType::binary_event) && !packet.packet().id &&
         !packet.is_volatile() && packet.packet().data.is_array();
}

CHAT_DECL std::string SessionAwareAdapter::offset_of(std::uint64_t sequence) const {
  static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string number;
  do {
    number.insert(number.begin(), digits[sequence % 36]);
    sequence /= 36;
  } while (sequence > 0);
  return prefix_ + "." + number;
}

CHAT_DECL std::optional<std::uint64_t> SessionAwareAdapter::sequence_of(const std::string& offset) const {
  if (offset.size() <= prefix_.size() + 1 || offset.size() > prefix_.size() + 14 ||
      offset.compare(0, prefix_.size(), prefix_) != 0 || offset[prefix_.size()] != '.')
    return std::nullopt;
  std::uint64_t sequence = 0;
  for (std::size_t i = prefix_.size() + 1; i < offset.size(); ++i) {
    const char c = offset[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'z' ? c - 'a' + 10 : -1;
    if (digit < 0) return std::nullopt;
    sequence = sequence * 36 + static_cast<std::uint64_t>(digit);
  }
  return sequence;
}

CHAT_DECL void SessionAwareAdapter::prune(Clock::time_point now) {
  const auto window = options_.max_disconnection_duration;
  while (!packets_.empty() &&
         (packets_.front().sent + window <= now || (options_.max_kept_bytes != 0 && bytes_ > options_.max_kept_bytes))) {
    bytes_ -= packets_.front().bytes;
    packets_.pop_front();
  }
  while (!session_ages_.empty() && session_ages_.front().first + window <= now) {
    const auto found = sessions_.find(session_ages_.front().second);
    // A pid persisted again later has a later entry of its own.
    if (found != sessions_.end() && found->second.lost == session_ages_.front().first) sessions_.erase(found);
    session_ages_.pop_front();
  }
}

CHAT_DECL void SessionAwareAdapter::broadcast(const std::shared_ptr<const OutgoingPacket>& packet,
                                           const BroadcastOptions& options) {
  if (!keeps(*packet, options)) {
    InMemoryAdapter::broadcast(packet, options);
    return;
  }
  const auto now = Clock::now();
  const std::uint64_t sequence = next_sequence_++;
  socketio::Packet tagged = packet->packet();
  tagged.data.push_back(offset_of(sequence));
  auto kept = std::make_shared<const OutgoingPacket>(std::move(tagged), local().parser(), packet->flags());
  std::size_t bytes = kept->encoded().data.size();
  for (const auto& attachment : kept->encoded().attachments) bytes += attachment.size();
  packets_.push_back(Kept{sequence, options, kept, now, bytes});
  bytes_ += bytes;
  prune(now);
  InMemoryAdapter::broadcast(kept, options);
}

CHAT_DECL void SessionAwareAdapter::persist_session(const PersistedSession& session) {
  const auto now = Clock::now();
  prune(now);
  Session& kept = sessions_[session.pid];
  kept.state = session;
  kept.state.missed.clear();
  kept.lost = now;
  session_ages_.emplace_back(now, session.pid);
}

CHAT_DECL void SessionAwareAdapter::restore_session(const std::string& pid, const std::string& offset,
                                                 std::function<void(std::optional<PersistedSession>)> done) {
  prune(Clock::now());
  const auto found = sessions_.find(pid);
  const auto sequence = sequence_of(offset);
  // The client must have seen every packet up to its offset and the adapter must still hold
  // every one after it: when the oldest kept is later than the one after the offset, some it
  // may have missed are gone, and it gets a fresh socket rather than a gap.
  const std::uint64_t first_kept = packets_.empty() ? next_sequence_ : packets_.front().sequence;
  if (found == sessions_.end() || !sequence || *sequence >= next_sequence_ || *sequence + 1 < first_kept) {
    done(std::nullopt);
    return;
  }
  PersistedSession session = std::move(found->second.state);
  sessions_.erase(found);  // once: a second connection showing the same pid gets a fresh socket
  const std::unordered_set<Room> rooms(session.rooms.begin(), session.rooms.end());
  auto selects = [&rooms](const BroadcastOptions& options) {
    for (const Room& room : options.except)
      if (rooms.count(room)) return false;
    if (options.rooms.empty()) return true;
    for (const Room& room : options.rooms)
      if (rooms.count(room)) return true;
    return false;
  };
  // Sequences are consecutive: the first packet after the offset is found by subtraction.
  for (auto kept = packets_.begin() + static_cast<std::ptrdiff_t>(*sequence + 1 - first_kept); kept != packets_.end(); ++kept)
    if (selects(kept->options)) session.missed.push_back(kept->packet);
  done(std::move(session));
}

}  // namespace chat

#endif  // CHAT_IMPL_ADAPTER_HPP
