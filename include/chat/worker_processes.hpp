// chat::WorkerProcesses: one listening port served by several worker processes, every request
// of a session reaching the process that owns it, with no sticky load balancer.
#ifndef CHAT_WORKER_PROCESSES_HPP
#define CHAT_WORKER_PROCESSES_HPP

#include <chrono>       // milliseconds
#include <cstddef>      // size_t
#include <cstdint>      // uint16_t
#include <functional>   // function
#include <memory>       // unique_ptr
#include <string>       // string
#include <string_view>  // string_view

#include <sys/types.h>  // pid_t

#include "options.hpp"
#include "worker_slot.hpp"

namespace chat {

/// Several processes behind one port: the supervisor (the process that calls `run`) listens,
/// reads the request line of each new connection without consuming it, and hands the
/// connection (its descriptor, over a Unix socket) to the worker that owns the session it names
/// (a polling GET or POST, the WebSocket of an upgrade), or to the next worker in turn (a new
/// session, a static file, the application's routes). It is ShardedServer's routing across
/// processes: each worker is a complete `Server` with its own interpreter, if it hosts one, and
/// its own GIL. A supervisor runs no Socket.IO code itself.
///
/// Rooms and broadcasts cross workers only through a cluster adapter: give each worker's server
/// the Redis adapter (`chat/redis/adapter.hpp`) on the same channel. Without one, a broadcast
/// reaches the clients of the worker that sent it only.
///
/// A worker that exits while the supervisor runs is started again (after `restart_delay` when
/// it lived less than that, so that a worker that fails at start does not spin); its clients
/// lose their session and reconnect. SIGINT (Ctrl-C) or SIGTERM to the supervisor, or `stop()`,
/// sends SIGTERM to every worker, waits for them (SIGKILL after `stop_timeout`), and `run`
/// returns. On Linux a worker also gets SIGTERM when its supervisor dies.
///
/// ```cpp
/// chat::WorkerProcesses workers(2, options);
/// workers.listen("127.0.0.1", 5000);
/// workers.run([&](const chat::WorkerSlot& slot) {   // in each worker process
///   chat::Server<> io(options);
///   io.set_adapter_factory(chat::redis::adapter_factory(...));
///   io.on("message", ...);
///   io.listen(slot);
///   asio::signal_set stop(io.io_context(), SIGINT, SIGTERM);   // the supervisor stops workers with SIGTERM
///   stop.async_wait([&](const std::error_code&, int) { io.stop(); });
///   io.run();
///   return 0;   // the worker's exit status
/// });
/// ```
///
/// POSIX only (fork, Unix sockets, SCM_RIGHTS). Connections are plain TCP: TLS belongs in a
/// terminating proxy in front, as for ShardedServer. At most 64 workers (the sid's tag).
///
/// @par Thread Safety
/// `listen` and `run` on one thread, and only one `WorkerProcesses` runs in a process at a
/// time (its signal handlers are process-wide); `stop` from any thread. The process must not
/// run other threads that hold locks when `run` forks (a worker inherits only the forking
/// thread); the hooks below run on `run`'s thread.
class WorkerProcesses {
 public:
  /// Forks a worker: returns 0 in the child, its pid in the parent, -1 on failure (errno).
  /// A host with its own runtime passes its own (the Python package forks through os.fork,
  /// which keeps the interpreter consistent in the child).
  using Fork = std::function<pid_t()>;
  /// A worker's body: runs in the worker process; its return value is the worker's exit status.
  using Worker = std::function<int(const WorkerSlot& slot)>;
  /// Where the supervisor tells what it does (workers started, exited, restarted): one line
  /// each, no newline. Default: standard error, prefixed " * ".
  using Log = std::function<void(std::string_view line)>;

  /// A supervisor for `workers` processes (1 to 64) serving with `options`: the Engine.IO path
  /// it routes by, and the handshake timeout a connection has to send its request line, are
  /// those the workers' servers use.
  /// @throws std::invalid_argument for 0 or more than 64 workers.
  WorkerProcesses(std::size_t workers, Options options);
  ~WorkerProcesses();
  WorkerProcesses(const WorkerProcesses&) = delete;
  WorkerProcesses& operator=(const WorkerProcesses&) = delete;

  /// How long a worker that lived less than this waits before it is started again. Default 1 s.
  WorkerProcesses& restart_delay(std::chrono::milliseconds delay);
  /// How long `stop` waits for a worker after SIGTERM before SIGKILL. Default 10 s.
  WorkerProcesses& stop_timeout(std::chrono::milliseconds timeout);
  /// Where the supervisor's lines go (default: standard error).
  WorkerProcesses& on_log(Log log);
  /// How workers are forked (default: fork(2)).
  WorkerProcesses& fork_with(Fork fork);

  /// Binds `host:port` (0: any free port) in the supervisor; returns the bound port.
  /// @throws std::system_error when the address cannot be bound.
  std::uint16_t listen(const std::string& host, std::uint16_t port);

  /// Starts the workers and supervises them until SIGINT, SIGTERM or `stop()`; then stops them
  /// and returns. In each worker process, calls `worker` and exits with its return value (1 if
  /// it throws): it never returns there. Restores the signal dispositions it changed.
  /// A worker that cannot be forked is tried again after `restart_delay`, with a log line.
  /// @throws std::logic_error before `listen`, or while another WorkerProcesses runs.
  void run(Worker worker);

  /// Makes `run` stop the workers and return. Any thread, and async-signal-safe.
  void stop();

  /// How many workers have been started again after they exited (for tests and monitoring).
  std::size_t restarts() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace chat

#include "impl/worker_processes.hpp"

#endif  // CHAT_WORKER_PROCESSES_HPP
