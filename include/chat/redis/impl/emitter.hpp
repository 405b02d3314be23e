// chat::redis::Emitter's bodies. Included by chat/redis/emitter.hpp.
#ifndef CHAT_REDIS_IMPL_EMITTER_HPP
#define CHAT_REDIS_IMPL_EMITTER_HPP

#include <cstdio>     // fputs
#include <stdexcept>  // invalid_argument

namespace chat::redis {

// ---- EmitterOperator ----

inline void EmitterOperator::emit_array(Args event_and_args) const {
  if (event_and_args.empty() || !event_and_args[0].is_string())
    throw std::invalid_argument("chat::redis::Emitter: an event needs a name");
  static const char* const reserved[] = {"connect",    "connect_error",  "disconnect",
                                         "disconnecting", "newListener", "removeListener"};
  const std::string& name = event_and_args[0].get_ref<const std::string&>();
  for (const char* word : reserved)
    if (name == word) throw std::invalid_argument("chat::redis::Emitter: \"" + name + "\" is a reserved event name");
  socketio::Packet packet;
  packet.type = socketio::PacketType::event;
  packet.nsp = nsp_;
  packet.data = std::move(event_and_args).array();
  detail::BroadcastMessage message{"emitter", std::move(packet), selection().rooms, selection().except, {}};
  message.flags.is_volatile = is_volatile_;
  if (!compress_) message.flags.compress = false;
  const detail::Channels channels(emitter_->options_.key(), nsp_);
  emitter_->publish(channels.for_rooms(message.rooms), detail::encode_broadcast(message));
}

inline void EmitterOperator::sockets_join(std::vector<Room> rooms) const {
  // The emitter's requests carry no uid: every server applies them, none answers.
  detail::RemoteJoinRequest request{{std::string(), selection(), std::move(rooms), std::string()}};
  emitter_->publish(detail::Channels(emitter_->options_.key(), nsp_).request(), detail::encode_request(request));
}

inline void EmitterOperator::sockets_leave(std::vector<Room> rooms) const {
  detail::RemoteLeaveRequest request{{std::string(), selection(), std::move(rooms), std::string()}};
  emitter_->publish(detail::Channels(emitter_->options_.key(), nsp_).request(), detail::encode_request(request));
}

inline void EmitterOperator::disconnect_sockets(bool close) const {
  detail::RemoteDisconnectRequest request{std::string(), selection(), close, std::string()};
  emitter_->publish(detail::Channels(emitter_->options_.key(), nsp_).request(), detail::encode_request(request));
}

inline void EmitterOperator::server_side_emit_array(Args event_and_args) const {
  if (event_and_args.empty() || !event_and_args[0].is_string())
    throw std::invalid_argument("chat::redis::Emitter: a server-side emit needs an event name");
  detail::ServerSideEmitRequest request{"emitter", std::string(), std::move(event_and_args).array()};
  emitter_->publish(detail::Channels(emitter_->options_.key(), nsp_).request(), detail::encode_request(request));
}

// ---- Emitter ----

inline Emitter::Emitter(EmitterOptions options)
    : options_(std::move(options)), endpoint_(detail::parse_endpoint(options_.url())) {
  detail::Connection::Hooks hooks;
  hooks.on_ready = [this] {
    connected_ = true;
    if (lost_) report("redis emitter: " + endpoint_.describe() + " is back");
    lost_ = false;
    send_waiting();
  };
  hooks.on_lost = [this](const std::string& why) {
    connected_ = false;
    if (lost_) return;
    lost_ = true;
    report("redis emitter: " + why + "; emits wait (max_queued_bytes) and go when it is back; retrying");
  };
  detail::ConnectionLimits limits;
  limits.max_unwritten_bytes = options_.max_queued_bytes();
  connection_ = detail::Connection::create(io_, endpoint_, detail::Connection::Role::commands, std::move(hooks), limits);
  connection_->start();
  thread_ = std::thread([this] { io_.run(); });
}

inline Emitter::~Emitter() {
  flush();
  asio::post(io_, [this] {
    connection_->close();
    work_.reset();
  });
  thread_.join();
}

inline void Emitter::publish(std::string channel, std::string payload) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++emitted_;
  }
  asio::post(io_, [this, channel = std::move(channel), payload = std::move(payload)]() mutable {
    const std::size_t bytes = channel.size() + payload.size();
    if (waiting_bytes_ != 0 && waiting_bytes_ + bytes > options_.max_queued_bytes()) {
      if (!dropping_) report("redis emitter: " + std::to_string(waiting_bytes_) +
                             " bytes wait for Redis (max_queued_bytes): dropping emits until it takes them");
      dropping_ = true;
      return settle(1, true);
    }
    waiting_bytes_ += bytes;
    waiting_.emplace_back(std::move(channel), std::move(payload));
    send_waiting();
  });
}

inline void Emitter::send_waiting() {
  while (!waiting_.empty() && connection_->ready()) {
    auto& [channel, payload] = waiting_.front();
    const std::size_t bytes = channel.size() + payload.size();
    // Settled when Redis answers (an error answer too: that emit is lost, not waiting).
    if (!connection_->command({"PUBLISH", channel, payload}, [this](detail::Reply reply) {
          settle(1, reply.is_error());
          send_waiting();
        }))
      return;  // the connection's own bound: go on when it has written
    waiting_bytes_ -= bytes;
    waiting_.pop_front();
    dropping_ = false;
  }
}

inline void Emitter::settle(std::size_t count, bool dropped) {
  std::lock_guard<std::mutex> lock(mutex_);
  settled_ += count;
  if (dropped) dropped_ += count;
  settled_changed_.notify_all();
}

inline bool Emitter::flush(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  const std::size_t target = emitted_, dropped_before = dropped_;
  const bool all = settled_changed_.wait_for(lock, timeout, [&] { return settled_ >= target; });
  return all && dropped_ == dropped_before;
}

inline void Emitter::report(const std::string& message) {
  if (options_.on_error()) options_.on_error()(message);
  else std::fputs(("chat: " + message + "\n").c_str(), stderr);
}

}  // namespace chat::redis

#endif  // CHAT_REDIS_IMPL_EMITTER_HPP
