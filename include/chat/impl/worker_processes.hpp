// Bodies of WorkerProcesses (chat/worker_processes.hpp): the supervisor's loop, its signals,
// and the start, exit and restart of each worker.
#ifndef CHAT_IMPL_WORKER_PROCESSES_HPP
#define CHAT_IMPL_WORKER_PROCESSES_HPP

#include <array>         // array
#include <atomic>        // atomic
#include <cerrno>        // errno
#include <chrono>        // steady_clock, milliseconds
#include <csignal>       // sigaction, SIGINT, SIGTERM, SIGCHLD, kill
#include <cstdio>        // fprintf, fflush
#include <cstring>       // strerror, strsignal
#include <deque>         // deque
#include <exception>     // exception
#include <optional>      // optional
#include <stdexcept>     // invalid_argument, logic_error
#include <string>        // string, to_string
#include <system_error>  // system_error, error_code
#include <utility>       // move
#include <vector>        // vector

#include <fcntl.h>     // O_CLOEXEC, O_NONBLOCK
#include <sys/wait.h>  // waitpid, WIFEXITED
#include <unistd.h>    // fork, pipe2, close, write, getppid, _exit
#ifdef __linux__
#include <sys/prctl.h>  // prctl, PR_SET_PDEATHSIG
#endif

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include "../detail/descriptor_passing.hpp"
#include "../detail/native_socket.hpp"
#include "../detail/shard_router.hpp"
#include "../detail/shard_routing.hpp"
#include "../worker_processes.hpp"

namespace chat {

namespace detail {

/// The write end of the running supervisor's self-pipe: its signal handler writes the signal's
/// number there, and the supervisor's loop reads it (a handler may do little else).
inline std::atomic<int> supervisor_signal_pipe{-1};

extern "C" inline void supervisor_on_signal(int signal) {
  const int saved = errno;
  const int pipe = supervisor_signal_pipe.load();
  const char byte = static_cast<char>(signal);
  if (pipe >= 0) (void)!::write(pipe, &byte, 1);
  errno = saved;
}

/// "exited with status 3", "was killed by SIGSEGV".
inline std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const char* name = ::strsignal(WTERMSIG(status));
    return "was killed by signal " + std::to_string(WTERMSIG(status)) + (name ? std::string(" (") + name + ")" : "");
  }
  return "ended (status " + std::to_string(status) + ")";
}

}  // namespace detail

struct WorkerProcesses::State {
  /// One worker's place: the process in it now, if any, and its channel.
  struct Process {
    explicit Process(asio::io_context& io) : restart_timer(io) {}
    pid_t pid = 0;
    int channel = -1;  ///< the supervisor's end; -1 while no process runs
    /// The same end, to wait until it is writable again while `waiting` is not empty.
    std::optional<asio::posix::stream_descriptor> channel_io;
    std::deque<detail::NativeSocket> waiting;
    bool running = false;
    bool started_before = false;
    bool backlog_reported = false;
    std::chrono::steady_clock::time_point started;
    asio::steady_timer restart_timer;
  };

  /// Connections routed to one worker while its channel is full (a few hundred fit in the
  /// socket's buffer): past this many, new ones are closed, with one log line, until it catches up.
  static constexpr std::size_t max_waiting = 4096;

  State(std::size_t count, Options server_options) : count(count), options(std::move(server_options)) {}

  void say(const std::string& line) {
    if (log) log(line);
    else std::fprintf(stderr, " * %s\n", line.c_str());
  }

  /// Gives a routed connection to worker `index`: its descriptor goes down the channel, and the
  /// supervisor's copy closes as `socket` goes.
  void hand_off(std::size_t index, detail::NativeSocket socket) {
    Process& process = *processes[index];
    if (!process.running) return;  // `socket` closes
    if (process.waiting.size() >= max_waiting) {
      if (!std::exchange(process.backlog_reported, true))
        say("chat: worker " + std::to_string(index) + " is not taking connections as fast as they come (" +
            std::to_string(max_waiting) + " waiting); closing new ones until it catches up");
      return;
    }
    process.waiting.push_back(std::move(socket));
    if (process.waiting.size() == 1) send_waiting(index);
  }

  /// Sends what waits for worker `index` until its channel is full, then waits until it is
  /// writable again. A worker that is gone (EPIPE) has its connections closed: its SIGCHLD is on
  /// the way.
  void send_waiting(std::size_t index) {
    Process& process = *processes[index];
    while (!process.waiting.empty()) {
      const detail::NativeSocket& next = process.waiting.front();
      const int error = detail::send_descriptor(process.channel, next.handle(), next.protocol() == asio::ip::tcp::v6());
      if (error == EAGAIN || error == EWOULDBLOCK) {
        process.channel_io->async_wait(asio::posix::stream_descriptor::wait_write, [this, index](const std::error_code& ec) {
          if (!ec && processes[index]->running) send_waiting(index);
        });
        return;
      }
      if (error != 0) {
        process.waiting.clear();
        return;
      }
      process.waiting.pop_front();  // the supervisor's copy closes; the worker has its own
    }
    if (process.waiting.empty()) process.backlog_reported = false;
  }

  void start(std::size_t index) {
    Process& process = *processes[index];
    if (stopping || process.running) return;
    const auto channel = detail::DescriptorChannel::open();
    if (channel.supervisor < 0) {
      say("chat: cannot make a channel for worker " + std::to_string(index) + ": " + std::strerror(errno));
      restart_later(index, restart_delay);
      return;
    }
    const pid_t pid = fork ? fork() : ::fork();
    if (pid < 0) {
      const int error = errno;
      ::close(channel.supervisor);
      ::close(channel.worker);
      say("chat: cannot start worker " + std::to_string(index) + ": " + std::strerror(error));
      restart_later(index, restart_delay);
      return;
    }
    if (pid == 0) become_worker(index, channel.worker);  // never returns
    ::close(channel.worker);
    process.pid = pid;
    process.channel = channel.supervisor;
    process.channel_io.emplace(io, channel.supervisor);
    process.running = true;
    process.started = std::chrono::steady_clock::now();
    if (std::exchange(process.started_before, true)) {
      ++restarts;
      say("chat: worker " + std::to_string(index) + " started again (pid " + std::to_string(pid) + ")");
    }
  }

  /// In the new worker process: lets go of everything of the supervisor's, then runs the
  /// worker's body and exits with its status.
  [[noreturn]] void become_worker(std::size_t index, int channel) {
    detail::supervisor_signal_pipe.store(-1);  // a signal arriving now is not the supervisor's any more
    for (std::size_t i = 0; i < saved_actions.size(); ++i) ::sigaction(handled_signals[i], &saved_actions[i], nullptr);
    // Every descriptor of the supervisor's goes (the port, the connections it is peeking at or
    // holding for a full channel, the other workers' channels): else each worker started again
    // would keep copies of them for its whole life.
    ::close(signal_pipe[0]);
    ::close(signal_pipe[1]);
    router->for_each_descriptor([](int descriptor) { ::close(descriptor); });
    for (const auto& other : processes) {
      if (other->channel >= 0) ::close(other->channel);
      for (const auto& waiting : other->waiting) ::close(waiting.handle());
    }
#ifdef __linux__
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != supervisor_pid) ::_exit(1);  // the supervisor died before the line above
#endif
    int status = 1;
    try {
      status = worker(WorkerSlot(index, count, channel));
    } catch (const std::exception& error) {
      std::fprintf(stderr, "chat: worker %zu failed: %s\n", index, error.what());
    } catch (...) {
      std::fprintf(stderr, "chat: worker %zu failed\n", index);
    }
    std::fflush(nullptr);
    ::_exit(status);
  }

  void restart_later(std::size_t index, std::chrono::milliseconds delay) {
    Process& process = *processes[index];
    process.restart_timer.expires_after(delay);
    process.restart_timer.async_wait([this, index](const std::error_code& ec) {
      if (!ec) start(index);
    });
  }

  /// Collects every worker that has exited (SIGCHLD), and starts it again unless stopping.
  void reap() {
    for (std::size_t index = 0; index < processes.size(); ++index) {
      Process& process = *processes[index];
      if (!process.running) continue;
      int status = 0;
      if (::waitpid(process.pid, &status, WNOHANG) != process.pid) continue;
      process.running = false;
      process.waiting.clear();
      process.channel_io.reset();  // closes the channel
      process.channel = -1;
      if (stopping) continue;
      const auto lived = std::chrono::steady_clock::now() - process.started;
      const auto delay = lived < restart_delay ? restart_delay : std::chrono::milliseconds(0);
      say("chat: worker " + std::to_string(index) + " (pid " + std::to_string(process.pid) + ") " +
          detail::describe_exit(status) + "; starting it again" +
          (delay.count() ? " in " + std::to_string(delay.count()) + " ms" : ""));
      restart_later(index, delay);
    }
    if (stopping && running_count() == 0) finish();
  }

  std::size_t running_count() const {
    std::size_t running = 0;
    for (const auto& process : processes) running += process->running ? 1 : 0;
    return running;
  }

  void begin_stop() {
    if (std::exchange(stopping, true)) return;
    router->stop();
    for (const auto& process : processes) {
      process->restart_timer.cancel();
      if (process->running) ::kill(process->pid, SIGTERM);
    }
    if (running_count() == 0) {
      finish();
      return;
    }
    kill_timer.expires_after(stop_timeout);
    kill_timer.async_wait([this](const std::error_code& ec) {
      if (ec) return;
      for (const auto& process : processes)
        if (process->running) ::kill(process->pid, SIGKILL);
    });
  }

  void finish() {
    kill_timer.cancel();
    io.stop();
  }

  void read_signals() {
    wake->async_read_some(asio::buffer(signal_bytes), [this](const std::error_code& ec, std::size_t size) {
      if (ec) return;
      bool child = false;
      bool stop = false;
      for (std::size_t i = 0; i < size; ++i) (signal_bytes[i] == SIGCHLD ? child : stop) = true;
      if (stop || stop_requested.load()) begin_stop();
      if (child) reap();
      read_signals();
    });
  }

  static constexpr std::array<int, 3> handled_signals{SIGINT, SIGTERM, SIGCHLD};

  std::size_t count;
  Options options;
  std::chrono::milliseconds restart_delay{1000};
  std::chrono::milliseconds stop_timeout{10000};
  Log log;
  Fork fork;
  Worker worker;
  asio::io_context io;
  std::unique_ptr<detail::ShardRouter> router;
  std::vector<std::unique_ptr<Process>> processes;
  asio::steady_timer kill_timer{io};
  std::optional<asio::posix::stream_descriptor> wake;
  std::array<char, 64> signal_bytes{};
  int signal_pipe[2] = {-1, -1};
  std::array<struct sigaction, 3> saved_actions{};
  pid_t supervisor_pid = 0;
  std::atomic<bool> stop_requested{false};
  bool stopping = false;
  std::atomic<std::size_t> restarts{0};
};

inline WorkerProcesses::WorkerProcesses(std::size_t workers, Options options) {
  if (workers == 0 || workers > detail::max_shards)
    throw std::invalid_argument("chat: WorkerProcesses takes 1 to " + std::to_string(detail::max_shards) +
                                " workers, not " + std::to_string(workers));
  state_ = std::make_unique<State>(workers, std::move(options));
  for (std::size_t i = 0; i < workers; ++i) state_->processes.push_back(std::make_unique<State::Process>(state_->io));
}

inline WorkerProcesses::~WorkerProcesses() = default;

inline WorkerProcesses& WorkerProcesses::restart_delay(std::chrono::milliseconds delay) {
  state_->restart_delay = delay;
  return *this;
}

inline WorkerProcesses& WorkerProcesses::stop_timeout(std::chrono::milliseconds timeout) {
  state_->stop_timeout = timeout;
  return *this;
}

inline WorkerProcesses& WorkerProcesses::on_log(Log log) {
  state_->log = std::move(log);
  return *this;
}

inline WorkerProcesses& WorkerProcesses::fork_with(Fork fork) {
  state_->fork = std::move(fork);
  return *this;
}

inline std::uint16_t WorkerProcesses::listen(const std::string& host, std::uint16_t port) {
  State* state = state_.get();
  state->router = std::make_unique<detail::ShardRouter>(
      state->io, state->count, state->options.path(), state->options.handshake_timeout(),
      [state](std::size_t index, detail::NativeSocket socket) { state->hand_off(index, std::move(socket)); },
      [state](std::string_view message) { state->say(std::string(message)); });
  state->router->set_available([state](std::size_t index) { return state->processes[index]->running; });
  return state->router->listen(host, port);
}

inline void WorkerProcesses::run(Worker worker) {
  State& state = *state_;
  if (!state.router) throw std::logic_error("chat: WorkerProcesses::run before listen");
  int expected = -1;
  if (::pipe2(state.signal_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::system_error(errno, std::generic_category(), "chat: WorkerProcesses cannot make its signal pipe");
  if (!detail::supervisor_signal_pipe.compare_exchange_strong(expected, state.signal_pipe[1])) {
    ::close(state.signal_pipe[0]);
    ::close(state.signal_pipe[1]);
    throw std::logic_error("chat: another WorkerProcesses runs in this process");
  }
  state.worker = std::move(worker);
  state.supervisor_pid = ::getpid();
  struct sigaction action {};
  action.sa_handler = detail::supervisor_on_signal;
  ::sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART | SA_NOCLDSTOP;
  for (std::size_t i = 0; i < State::handled_signals.size(); ++i)
    ::sigaction(State::handled_signals[i], &action, &state.saved_actions[i]);
  state.wake.emplace(state.io, state.signal_pipe[0]);
  state.read_signals();
  for (std::size_t i = 0; i < state.count; ++i) state.start(i);
  if (state.stop_requested.load()) state.begin_stop();
  state.io.run();
  for (std::size_t i = 0; i < State::handled_signals.size(); ++i)
    ::sigaction(State::handled_signals[i], &state.saved_actions[i], nullptr);
  detail::supervisor_signal_pipe.store(-1);
  state.wake.reset();  // closes the read end
  ::close(state.signal_pipe[1]);
  state.signal_pipe[0] = state.signal_pipe[1] = -1;
}

inline void WorkerProcesses::stop() {
  state_->stop_requested.store(true);
  const int pipe = detail::supervisor_signal_pipe.load();
  const char byte = 0;
  if (pipe >= 0) (void)!::write(pipe, &byte, 1);
}

inline std::size_t WorkerProcesses::restarts() const { return state_->restarts; }

}  // namespace chat

#endif  // CHAT_IMPL_WORKER_PROCESSES_HPP
