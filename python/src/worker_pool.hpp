// The hand-offs between the Python host's threads. KeyedWorkerPool: a pool of threads where jobs
// of one key run in order, one at a time, and jobs of different keys in parallel: how the Python
// host runs one client's handlers in order without letting a slow one hold up the others; the
// lock the jobs need (Python's GIL) is a policy, so that the pool is tested in C++ alone.
// BatchingHandOff: the way back, the calls handlers make, to the io thread in order and in
// batches. Both tested in tests/unit/test_worker_pool.cpp.
#ifndef CHAT_PYTHON_WORKER_POOL_HPP
#define CHAT_PYTHON_WORKER_POOL_HPP

#include <atomic>              // atomic
#include <condition_variable>  // condition_variable
#include <cstddef>             // size_t
#include <cstdint>             // uint64_t
#include <deque>               // deque
#include <exception>           // exception
#include <functional>          // function
#include <mutex>               // mutex, lock_guard, unique_lock
#include <string>              // string
#include <thread>              // thread, this_thread::yield
#include <unordered_map>       // unordered_map
#include <unordered_set>       // unordered_set
#include <utility>             // move
#include <vector>              // vector

#if defined(__linux__)
#include <sched.h>  // sched_setscheduler, SCHED_BATCH
#endif

namespace chat::python {

/// Asks the kernel not to let the calling thread preempt, when it wakes up, the thread that is
/// running on its core (Linux's SCHED_BATCH, same priority otherwise; elsewhere nothing). For the
/// workers: the io thread that hands them an event goes on reading the events behind it, and
/// the woken worker then runs them all in one turn, instead of each hand-off switching the core
/// to a worker and back (on one core, the echo benchmark with Python handlers went from 110k to
/// 14k context switches in 3 s and from 59k to 71k acks/s). A worker on an idle core starts at
/// once as before. A hint: where it cannot be had, the pool works the same without it.
inline void let_the_waker_run_on() {
#if defined(__linux__) && defined(SCHED_BATCH)
  sched_param param{};
  param.sched_priority = 0;
  (void)sched_setscheduler(0, SCHED_BATCH, &param);  // 0: the calling thread, on Linux
#endif
}

/// No lock at all: for jobs that need none (the pool's own tests).
struct NoLock {
  struct Held {};      ///< held by a worker while it runs jobs
  struct Released {};  ///< held while a worker waits for work
};

/// Runs jobs on a fixed set of threads. Jobs submitted with the same key run in submission order,
/// one at a time; different keys run in parallel.
///
/// Each worker holds `Lock::Held` for its life and lets go of it (`Lock::Released`) only to
/// wait for work. With Python's GIL as the lock: under load a worker runs the jobs that are
/// ready one after another without handing the GIL back and forth (Python's switch interval
/// still lets the other workers in, and a job that blocks releases the GIL as usual). When it
/// came in, the echo benchmark with Python handlers went from 14.9k to 32.3k acks/s.
///
/// A worker takes a job only once it holds the lock, and a sleeping worker is woken only when
/// a job is ready and no other woken worker is on its way: a burst of jobs wakes one worker
/// (not one per job, each then waiting for the GIL with a job in hand), and a worker that
/// takes a job while others still wait wakes the next, so a job that blocks (releasing the
/// lock) leaves the others a worker.
///
/// @par Thread Safety
/// `submit`, `wait_idle`, `submitted` and `jobs_waiting` may be called from any thread (without
/// the lock);
/// `shutdown` from any thread, a worker's own included.
template <class Lock>
class KeyedWorkerPool {
 public:
  explicit KeyedWorkerPool(std::size_t threads) {
    for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { loop(); });
  }
  ~KeyedWorkerPool() { shutdown(); }
  KeyedWorkerPool(const KeyedWorkerPool&) = delete;
  KeyedWorkerPool& operator=(const KeyedWorkerPool&) = delete;

  /// Queues `job` after the other jobs of `key`. Dropped once the pool is shutting down.
  void submit(const std::string& key, std::function<void()> job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_) return;
      auto& queue = queues_[key];
      queue.push_back(std::move(job));
      if (queue.size() == 1 && !running_.count(key)) ready_.push_back(key);
      ++pending_;
      ++submitted_;
      waiting_.fetch_add(1, std::memory_order_relaxed);
      wake_one_if_needed();
    }
  }

  /// Blocks until no job is queued or running (call without the lock).
  void wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [this] { return pending_ == 0; });
  }

  /// How many jobs were ever submitted: a caller that waits for the pool to settle compares it
  /// across a wait to tell whether anything new came.
  std::uint64_t submitted() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return submitted_;
  }

  /// Whether jobs wait that no worker has taken yet. Lock-free, so a hint: it may be stale by
  /// the time the caller acts on it.
  bool jobs_waiting() const noexcept { return waiting_.load(std::memory_order_relaxed) > 0; }

  /// How many times a sleeping worker was woken for work: a burst of jobs wakes one worker,
  /// and a woken worker wakes the next only while jobs wait (the pool's tests look at it).
  std::uint64_t wakeups() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return wakeups_;
  }

  /// Runs what is queued, then joins the threads (call without the lock). From one of the
  /// workers (a job asking to stop), that worker is detached instead of joined.
  void shutdown() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stopping_ && threads_.empty()) return;
      stopping_ = true;
    }
    work_.notify_all();
    for (auto& thread : threads_) {
      if (!thread.joinable()) continue;
      if (thread.get_id() == std::this_thread::get_id()) thread.detach();
      else thread.join();
    }
    threads_.clear();
  }

 private:
  /// Jobs a worker runs back to back before it looks at the queue with a fresh lock hold.
  static constexpr int batch_limit = 64;

  void loop() {
    let_the_waker_run_on();
    [[maybe_unused]] typename Lock::Held held;
    for (;;) {
      {
        [[maybe_unused]] typename Lock::Released released;
        std::unique_lock<std::mutex> lock(mutex_);
        ++idle_workers_;
        while (!stopping_ && ready_.empty()) {
          work_.wait(lock);
          if (signalled_ > 0) --signalled_;  // a spurious wake-up may take another's: one more wake later
        }
        --idle_workers_;
        ++looking_;
      }
      // The lock is taken back before any job is: jobs wait in the queue, not in a worker that
      // waits for the GIL, so the worker holding it runs them back to back.
      std::unique_lock<std::mutex> lock(mutex_);
      --looking_;
      if (ready_.empty() && stopping_) return;
      for (int batch = 0; batch < batch_limit && !ready_.empty(); ++batch) {
        std::string key;
        std::function<void()> job;
        take(key, job);
        // Should this job block (releasing the lock), the jobs behind it have a worker.
        wake_one_if_needed();
        lock.unlock();
        job();
        job = nullptr;  // its captures go before the mutex is taken
        lock.lock();
        finish(key);
      }
    }
  }

  /// Wakes one sleeping worker when a job is ready that no worker is about to look at: none
  /// is on its way already (signalled, or awake and waiting for the lock). One at a time, so
  /// that a burst of jobs wakes one worker rather than one per job; each worker that takes a
  /// job wakes the next only if jobs still wait (mutex held).
  void wake_one_if_needed() {
    if (ready_.empty() || idle_workers_ == 0 || signalled_ > 0 || looking_ > 0) return;
    ++signalled_;
    ++wakeups_;
    work_.notify_one();
  }

  /// Takes the next ready job (mutex held).
  void take(std::string& key, std::function<void()>& job) {
    key = std::move(ready_.front());
    ready_.pop_front();
    auto& queue = queues_[key];
    job = std::move(queue.front());
    queue.pop_front();
    running_.insert(key);
    waiting_.fetch_sub(1, std::memory_order_relaxed);
  }

  /// Books a finished job of `key` (mutex held).
  void finish(const std::string& key) {
    running_.erase(key);
    --pending_;
    const auto queue = queues_.find(key);
    if (queue->second.empty()) queues_.erase(queue);
    else ready_.push_back(key);
    if (pending_ == 0) idle_.notify_all();
  }

  mutable std::mutex mutex_;
  std::condition_variable work_;
  std::condition_variable idle_;
  std::unordered_map<std::string, std::deque<std::function<void()>>> queues_;
  std::unordered_set<std::string> running_;
  std::deque<std::string> ready_;
  std::size_t pending_ = 0;
  std::atomic<std::size_t> waiting_{0};  // submitted, not yet taken (written with the mutex held)
  std::uint64_t submitted_ = 0;
  std::size_t idle_workers_ = 0;
  std::size_t signalled_ = 0;  // notified workers not yet awake
  std::size_t looking_ = 0;    // workers awake for work, waiting for the lock before they take any
  std::uint64_t wakeups_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

/// Hands work from any thread to one consumer thread (the io thread) in the order it was handed,
/// with one post to the consumer per batch rather than per piece of work: the first piece posts
/// a drain at once, and every piece handed before that drain runs joins it. So nothing waits
/// for a flush (a handler that emits and then sleeps has its emit sent at once), and under load,
/// while the consumer is busy, a stream of calls costs one wake-up of it per batch.
///
/// `more_coming` (optional) says whether the producers have more work in hand (the workers have
/// jobs waiting). A posted drain then first yields the consumer's core once: where producer and
/// consumer share a core, the consumer woken by the first piece of a run would otherwise drain
/// it before the producer has made the rest, and a round of broadcasts from a run of handlers
/// would reach each client in several writes rather than one. On a core of its own the yield
/// returns at once. One yield, never a loop: the drain runs after it whatever the producers do.
///
/// One queue for every producer: the order of the calls of one thread is kept, and so is the
/// order across sockets and kinds of call (an emit, a join, an emit), and a call that waits for
/// an answer comes after everything the caller handed before it.
///
/// @par Thread Safety
/// `hand` from any thread; `run_now` on the consumer thread only. `post` (given) must run its
/// function on the consumer thread, later or (called there) at once; `more_coming` (given) is
/// called on the consumer thread while producers run, so it reads only what is safe to read
/// from there (the pool's `jobs_waiting` is lock-free). `handed` and `posts` from any thread.
///
/// @par Errors
/// An exception from a piece of work goes to `report` (on the consumer thread); the rest of the
/// batch still runs.
class BatchingHandOff {
 public:
  using Work = std::function<void()>;
  using Post = std::function<void(Work)>;
  using Report = std::function<void(const std::exception&)>;
  using MoreComing = std::function<bool()>;

  BatchingHandOff(Post post, Report report, MoreComing more_coming = nullptr)
      : post_(std::move(post)), report_(std::move(report)), more_coming_(std::move(more_coming)) {}
  BatchingHandOff(const BatchingHandOff&) = delete;
  BatchingHandOff& operator=(const BatchingHandOff&) = delete;

  /// Queues `work` behind what was handed before; posts a drain unless one is on its way.
  void hand(Work work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pending_.push_back(std::move(work));
      ++handed_;
      if (drain_posted_) return;
      drain_posted_ = true;
      ++posts_;
    }
    post_([this] { drain_posted(); });
  }

  /// On the consumer thread: runs what is queued, then `work`, now (a call that waits for its
  /// answer on the consumer thread itself cannot wait for a drain behind it).
  void run_now(Work work) {
    drain();
    run(work);
  }

  /// How many pieces of work were handed, and how many drains were posted for them.
  std::uint64_t handed() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return handed_;
  }
  std::uint64_t posts() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return posts_;
  }

 private:
  void drain_posted() {
    if (more_coming_ && more_coming_()) std::this_thread::yield();
    drain();
  }

  /// Runs everything queued so far (consumer thread). What is handed while it runs posts a
  /// drain of its own.
  void drain() {
    std::vector<Work> batch;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      batch.swap(pending_);
      // The emptied buffer of an earlier batch takes the next: no allocation per batch (one
      // of a kilobyte or more made glibc's allocator consolidate its free chunks each time).
      pending_.swap(spare_);
      drain_posted_ = false;
    }
    for (auto& work : batch) {
      run(work);
      work = nullptr;  // its captures go now, in order
    }
    batch.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    if (batch.capacity() > spare_.capacity()) spare_.swap(batch);
  }

  void run(const Work& work) {
    try {
      work();
    } catch (const std::exception& e) {
      report_(e);
    }
  }

  Post post_;
  Report report_;
  MoreComing more_coming_;
  mutable std::mutex mutex_;
  std::vector<Work> pending_;
  std::vector<Work> spare_;  // empty, with the capacity of an earlier batch
  bool drain_posted_ = false;
  std::uint64_t handed_ = 0;
  std::uint64_t posts_ = 0;
};

}  // namespace chat::python

#endif  // CHAT_PYTHON_WORKER_POOL_HPP
