// chat::WorkerSlot: what a worker process of chat::WorkerProcesses is given.
#ifndef CHAT_WORKER_SLOT_HPP
#define CHAT_WORKER_SLOT_HPP

#include <cstddef>  // size_t

namespace chat {

/// One worker process's place among the workers of a `WorkerProcesses`: which worker it is, how
/// many there are, and the channel its connections arrive on. A worker passes it to
/// `Server::listen(const WorkerSlot&)`, which takes the connections the supervisor routes to
/// it (and tags its session ids with `index()`, so that the supervisor routes every later
/// request of a session back here).
///
/// @par Thread Safety
/// A value; copy it freely. The channel belongs to the worker's server once `listen` has it.
class WorkerSlot {
 public:
  /// Made by WorkerProcesses in each worker (a host that forks its workers itself makes its own).
  WorkerSlot(std::size_t index, std::size_t count, int channel) : index_(index), count_(count), channel_(channel) {}

  /// This worker's index, 0 to `count() - 1`; a restarted worker has the index of the one it replaces.
  std::size_t index() const { return index_; }
  /// How many workers the supervisor runs.
  std::size_t count() const { return count_; }
  /// The worker's end of its Unix socket to the supervisor (a descriptor).
  int channel() const { return channel_; }

 private:
  std::size_t index_;
  std::size_t count_;
  int channel_;
};

}  // namespace chat

#endif  // CHAT_WORKER_SLOT_HPP
