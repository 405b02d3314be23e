// chat::redis::Cluster's bodies. Included by chat/redis/adapter.hpp.
#ifndef CHAT_REDIS_IMPL_CLUSTER_HPP
#define CHAT_REDIS_IMPL_CLUSTER_HPP

#include <cstdio>     // fputs
#include <stdexcept>  // runtime_error

#include <asio/post.hpp>

namespace chat::redis {

namespace detail {

/// Lets a home io_context that is destroyed before its Cluster (a ShardedServer destroys shard 0
/// first, while other shards' adapters still hold the Cluster) take the Cluster's connections
/// and timers with it: Asio objects must not outlive their io_context.
class HomeGuard : public asio::execution_context::service {
 public:
  using key_type = HomeGuard;
  inline static asio::execution_context::id id;

  explicit HomeGuard(asio::execution_context& context) : asio::execution_context::service(context) {}
  void watch(std::function<void()> release) {
    std::lock_guard<std::mutex> lock(mutex_);
    releases_.push_back(std::move(release));
  }

 private:
  void shutdown() override {
    std::vector<std::function<void()>> releases;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      releases.swap(releases_);
    }
    for (auto& release : releases) release();
  }

  std::mutex mutex_;
  std::vector<std::function<void()>> releases_;
};

}  // namespace detail

inline Cluster::Cluster(asio::io_context& home, AdapterOptions options)
    : home_(home), options_(std::move(options)), endpoint_(detail::parse_endpoint(options_.url())) {}

inline Cluster::~Cluster() {
  if (publisher_) publisher_->close();
  if (subscriber_) subscriber_->close();
}

inline AdapterFactory Cluster::factory(asio::io_context& io) {
  return [self = shared_from_this(), io = &io](LocalSockets& sockets) -> std::unique_ptr<Adapter> {
    self->start();
    return std::make_unique<detail::RedisAdapter>(sockets, self, *io);
  };
}

inline void Cluster::start() {
  if (started_.exchange(true)) return;
  on_home([this] {
    std::weak_ptr<Cluster> weak = weak_from_this();
    detail::Connection::Hooks publisher_hooks;
    publisher_hooks.on_ready = [weak] {
      if (auto self = weak.lock()) self->connection_ready();
    };
    publisher_hooks.on_lost = [weak](const std::string& why) {
      if (auto self = weak.lock()) self->connection_lost(why);
    };
    detail::Connection::Hooks subscriber_hooks = publisher_hooks;
    subscriber_hooks.on_message = [weak](const std::string& channel, const std::string& pattern, std::string payload) {
      if (auto self = weak.lock()) self->receive(channel, pattern, std::move(payload));
    };
    detail::ConnectionLimits limits;
    limits.max_unwritten_bytes = options_.max_queued_bytes();
    publisher_ = detail::Connection::create(home_, endpoint_, detail::Connection::Role::commands, publisher_hooks, limits);
    subscriber_ = detail::Connection::create(home_, endpoint_, detail::Connection::Role::subscriber, subscriber_hooks, limits);
    asio::use_service<detail::HomeGuard>(home_).watch([weak] {
      if (auto self = weak.lock()) {
        self->home_gone_ = true;
        self->publisher_.reset();
        self->subscriber_.reset();
        self->pending_.clear();
      }
    });
    publisher_->start();
    subscriber_->start();
  });
}

inline void Cluster::close() {
  on_home([self = shared_from_this()] {
    if (self->publisher_) self->publisher_->close();
    if (self->subscriber_) self->subscriber_->close();
    self->connected_ = false;
    auto pending = std::move(self->pending_);
    self->pending_.clear();
    for (auto& [id, request] : pending)
      if (request->on_done) request->on_done();
  });
}

inline void Cluster::on_home(std::function<void()> work) {
  if (home_gone_) return;  // the io_context is being destroyed: nothing runs there any more
  if (on_home()) work();
  else asio::post(home_, std::move(work));
}

inline void Cluster::report(const std::string& message) {
  // Through a namespace's server (its on_error hook), on that server's thread.
  std::lock_guard<std::mutex> lock(registry_mutex_);
  for (auto& [nsp, node] : nodes_) {
    if (node.members.empty()) continue;
    const Member member = node.members.front();
    asio::post(*member.io, [self = shared_from_this(), nsp = nsp, adapter = member.adapter, message] {
      std::lock_guard<std::mutex> lock(self->registry_mutex_);
      for (const Member& m : self->nodes_[nsp].members)
        if (m.adapter == adapter) return adapter->sockets().report_error(message);
    });
    return;
  }
  std::fputs(("chat: " + message + "\n").c_str(), stderr);
}

// ---- membership of the namespaces ----

inline std::string Cluster::join(detail::RedisAdapter* adapter, const std::string& nsp, asio::io_context& io) {
  std::string uid;
  bool first = false;
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    Node& node = nodes_[nsp];
    if (node.uid.empty()) node.uid = detail::random_uid();
    first = node.members.empty();
    node.members.push_back({adapter, &io});
    uid = node.uid;
  }
  if (first) on_home([self = shared_from_this(), nsp, uid] { self->subscribe(nsp, uid); });
  return uid;
}

inline void Cluster::leave(detail::RedisAdapter* adapter, const std::string& nsp) {
  bool last = false;
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    auto& members = nodes_[nsp].members;
    for (auto it = members.begin(); it != members.end(); ++it)
      if (it->adapter == adapter) {
        members.erase(it);
        break;
      }
    last = members.empty();
  }
  if (last) on_home([self = shared_from_this(), nsp] { self->unsubscribe(nsp); });
}

inline void Cluster::subscribe(const std::string& nsp, const std::string& uid) {
  if (!subscriber_) return;
  const detail::Channels channels(options_.key(), nsp);
  uids_[nsp] = uid;
  pattern_nsp_[channels.pattern()] = nsp;
  channel_nsp_[channels.request()] = nsp;
  channel_nsp_[channels.response()] = nsp;
  channel_nsp_[channels.response_for(uid)] = nsp;
  subscriber_->psubscribe(channels.pattern());
  subscriber_->subscribe(channels.request());
  subscriber_->subscribe(channels.response());
  subscriber_->subscribe(channels.response_for(uid));
}

inline void Cluster::unsubscribe(const std::string& nsp) {
  {
    std::lock_guard<std::mutex> lock(registry_mutex_);
    if (!nodes_[nsp].members.empty()) return;  // joined again meanwhile
  }
  if (!subscriber_) return;
  const detail::Channels channels(options_.key(), nsp);
  for (auto it = channel_nsp_.begin(); it != channel_nsp_.end();) {
    if (it->second == nsp) {
      subscriber_->unsubscribe(it->first);
      it = channel_nsp_.erase(it);
    } else {
      ++it;
    }
  }
  pattern_nsp_.erase(channels.pattern());
  subscriber_->punsubscribe(channels.pattern());
}

// ---- sending ----

inline void Cluster::publish(std::string channel, std::string payload) {
  const std::size_t bytes = channel.size() + payload.size();
  // Bounded on the way to the home thread too: a shard that publishes faster than Redis takes
  // it must not queue without end.
  // Nothing waiting: a message of any size goes.
  const std::size_t before = queued_bytes_.fetch_add(bytes);
  if (before != 0 && before + bytes > options_.max_queued_bytes()) {
    queued_bytes_.fetch_sub(bytes);
    on_home([self = shared_from_this()] {
      if (!self->dropping_) {
        self->dropping_ = true;
        self->report("redis: " + std::to_string(self->options_.max_queued_bytes()) +
                     " bytes wait to be published (max_queued_bytes): broadcasts reach this server's clients only "
                     "until Redis catches up");
      }
    });
    return;
  }
  on_home([self = shared_from_this(), channel = std::move(channel), payload = std::move(payload), bytes] {
    self->queued_bytes_.fetch_sub(bytes);
    if (self->publisher_ && self->publisher_->command({"PUBLISH", channel, payload}, nullptr)) {
      self->dropping_ = false;
      return;
    }
    // Away (reported once by connection_lost) or over the connection's own bound.
    if (!self->dropping_ && !self->outage_) {
      self->dropping_ = true;
      self->report("redis: Redis is not taking messages as fast as they come (max_queued_bytes): broadcasts reach "
                   "this server's clients only until it catches up");
    }
  });
}

inline void Cluster::count_servers(const std::string& nsp, std::function<void(std::size_t)> done) {
  on_home([self = shared_from_this(), nsp, done = std::move(done)] {
    const detail::Channels channels(self->options_.key(), nsp);
    const bool counted = self->subscriber_ && self->subscriber_->ready();  // our own subscription
    std::weak_ptr<Cluster> weak = self;
    const bool sent = self->publisher_ && self->publisher_->command(
        {"PUBSUB", "NUMSUB", channels.request()}, [counted, done](detail::Reply reply) {
          std::size_t servers = 0;
          if (reply.type == detail::Reply::Type::array && reply.elements.size() == 2)
            servers = static_cast<std::size_t>(std::max(0LL, reply.elements[1].integer));
          done(std::max<std::size_t>(1, servers + (counted ? 0 : 1)));
        });
    if (!sent) done(1);
  });
}

inline void Cluster::ask(const std::string& nsp, std::string request_id, std::string payload,
                         std::chrono::milliseconds timeout, std::function<void(std::size_t)> expect,
                         std::function<void(const Response&)> on_response, std::function<void()> on_done) {
  count_servers(nsp, [self = shared_from_this(), nsp, request_id = std::move(request_id), payload = std::move(payload),
                      timeout, expect = std::move(expect), on_response = std::move(on_response),
                      on_done = std::move(on_done)](std::size_t servers) mutable {
    // On the home thread (count_servers answers there).
    const std::size_t others = servers - 1;
    expect(others);
    if (others == 0 || !self->publisher_) return on_done();
    auto pending = std::make_unique<Pending>(self->home_);
    pending->nsp = nsp;
    pending->expected = others;
    pending->on_response = std::move(on_response);
    pending->on_done = std::move(on_done);
    pending->timer.expires_after(timeout);
    pending->timer.async_wait([weak = std::weak_ptr<Cluster>(self), request_id](const asio::error_code& error) {
      auto cluster = weak.lock();
      if (error || !cluster) return;
      const auto found = cluster->pending_.find(request_id);
      if (found == cluster->pending_.end()) return;
      cluster->report("redis: " + std::to_string(found->second->received) + " of " +
                      std::to_string(found->second->expected) + " servers answered a request of namespace " +
                      found->second->nsp + " within the requests timeout; going on with what came");
      cluster->finish(request_id);
    });
    self->pending_[request_id] = std::move(pending);
    const detail::Channels channels(self->options_.key(), nsp);
    if (!self->publisher_->command({"PUBLISH", channels.request(), payload}, nullptr)) self->finish(request_id);
  });
}

inline void Cluster::await(const std::string& nsp, std::string request_id, std::chrono::milliseconds timeout,
                           std::function<void(const Response&)> on_response) {
  on_home([self = shared_from_this(), nsp, request_id = std::move(request_id), timeout,
           on_response = std::move(on_response)]() mutable {
    auto pending = std::make_unique<Pending>(self->home_);
    pending->nsp = nsp;
    pending->expected = SIZE_MAX;  // open until the timeout: any server may answer
    pending->on_response = std::move(on_response);
    pending->timer.expires_after(timeout);
    pending->timer.async_wait([weak = std::weak_ptr<Cluster>(self), request_id](const asio::error_code& error) {
      if (auto cluster = weak.lock(); cluster && !error) cluster->finish(request_id);
    });
    self->pending_[request_id] = std::move(pending);
  });
}

inline void Cluster::finish(const std::string& request_id) {
  const auto found = pending_.find(request_id);
  if (found == pending_.end()) return;
  auto pending = std::move(found->second);
  pending_.erase(found);
  pending->timer.cancel();
  if (pending->on_done) pending->on_done();
}

inline void Cluster::respond(const std::string& nsp, const std::string& requester, std::string payload) {
  const detail::Channels channels(options_.key(), nsp);
  publish(options_.publish_on_specific_response_channel() && !requester.empty() ? channels.response_for(requester)
                                                                                 : channels.response(),
          std::move(payload));
}

// ---- connection state ----

inline void Cluster::connection_lost(const std::string& why) {
  connected_ = false;
  if (outage_) return;
  outage_ = true;
  report("redis: lost " + endpoint_.describe() + " (" + why + "): broadcasts reach this server's clients only and " +
         "requests are answered by this server alone until it is back; retrying");
}

inline void Cluster::connection_ready() {
  const bool both = publisher_ && subscriber_ && publisher_->ready() && subscriber_->ready();
  connected_ = both;
  if (both && outage_) {
    outage_ = false;
    dropping_ = false;
    report("redis: " + endpoint_.describe() + " is back; this server is in the cluster again");
  }
}

inline void ping(const std::string& url, std::chrono::milliseconds timeout) {
  asio::io_context io;
  std::string failure;
  bool ready = false;
  detail::Connection::Hooks hooks;
  hooks.on_ready = [&] { ready = true; };  // after AUTH, SELECT and a PING answered
  hooks.on_lost = [&](const std::string& why) { failure = why; };
  detail::ConnectionLimits limits;
  limits.connect_timeout = timeout;
  auto connection = detail::Connection::create(io, detail::parse_endpoint(url), detail::Connection::Role::commands,
                                               std::move(hooks), limits);
  connection->start();
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ready && failure.empty() && std::chrono::steady_clock::now() < deadline) io.run_one_until(deadline);
  connection->close();
  if (ready) return;
  throw std::runtime_error("Redis at " + detail::parse_endpoint(url).describe() + " does not answer: " +
                           (failure.empty() ? "no answer within " + std::to_string(timeout.count()) + " ms" : failure));
}

}  // namespace chat::redis

#include "receive.hpp"

#endif  // CHAT_REDIS_IMPL_CLUSTER_HPP
