// The Python host's hand-offs (python/src/worker_pool.hpp) without Python. The worker pool: jobs
// of one key in order and one at a time, different keys at once, waiting for idleness, and
// shutdown. The batching hand-off to the io thread: order, batches, and no piece left waiting.
#include <worker_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <stdexcept>
#include <thread>
#include <utility>
#include <mutex>
#include <string>
#include <vector>

#if defined(__linux__)
#include <sched.h>
#endif

using chat::python::BatchingHandOff;
using chat::python::KeyedWorkerPool;
using Pool = KeyedWorkerPool<chat::python::NoLock>;
using namespace std::chrono_literals;

TEST_CASE("worker pool: one key's jobs run in order, one at a time", "[python][pool]") {
  Pool pool(4);
  std::mutex mutex;
  std::vector<int> order;
  std::atomic<int> running{0};
  std::atomic<bool> overlapped{false};
  for (int i = 0; i < 200; ++i) {
    pool.submit("one client", [&, i] {
      if (++running > 1) overlapped = true;
      {
        std::lock_guard<std::mutex> lock(mutex);
        order.push_back(i);
      }
      --running;
    });
  }
  pool.wait_idle();
  CHECK_FALSE(overlapped);
  std::vector<int> expected(200);
  for (int i = 0; i < 200; ++i) expected[std::size_t(i)] = i;
  CHECK(order == expected);
  CHECK(pool.submitted() == 200);
}

/// Submits a job of one key that waits (inside `wait`, given the release) until a job of another
/// key has run: that other job must get a worker meanwhile.
template <class AnyPool, class Wait>
void check_another_key_runs_beside_a_waiting_job(AnyPool& pool, Wait wait) {
  std::promise<void> first_started;
  std::promise<void> release;
  auto released = release.get_future().share();
  pool.submit("slow client", [&] {
    first_started.set_value();
    wait(released);  // holds its worker until the other key's job has run
  });
  REQUIRE(first_started.get_future().wait_for(10s) == std::future_status::ready);
  std::promise<void> other_ran;
  pool.submit("other client", [&] { other_ran.set_value(); });
  CHECK(other_ran.get_future().wait_for(10s) == std::future_status::ready);
  release.set_value();
  pool.wait_idle();
}

TEST_CASE("worker pool: jobs_waiting says whether a job waits that no worker has taken", "[python][pool]") {
  Pool pool(1);
  CHECK_FALSE(pool.jobs_waiting());
  std::promise<void> started;
  std::promise<void> release;
  auto released = release.get_future().share();
  pool.submit("one client", [&] {
    started.set_value();
    released.wait();
  });
  REQUIRE(started.get_future().wait_for(10s) == std::future_status::ready);
  CHECK_FALSE(pool.jobs_waiting());  // the one job is taken, and running
  pool.submit("one client", [] {});  // behind it, same key
  pool.submit("another client", [] {});  // the only worker is busy
  CHECK(pool.jobs_waiting());
  release.set_value();
  pool.wait_idle();
  CHECK_FALSE(pool.jobs_waiting());
}

TEST_CASE("worker pool: different keys run at the same time", "[python][pool]") {
  Pool pool(2);
  check_another_key_runs_beside_a_waiting_job(pool, [](const std::shared_future<void>& released) { released.wait(); });
}

TEST_CASE("worker pool: shutdown runs what is queued, then drops new jobs", "[python][pool]") {
  std::atomic<int> ran{0};
  {
    Pool pool(1);
    for (int i = 0; i < 50; ++i) pool.submit("k" + std::to_string(i % 3), [&] { ++ran; });
    pool.shutdown();
    CHECK(ran == 50);
    pool.submit("late", [&] { ++ran; });
    pool.wait_idle();
    CHECK(ran == 50);
  }
}

// A stand-in for Python's GIL: a mutex each worker holds while it runs jobs, which a job lets
// go of while it blocks (as Python code does around a blocking call).
struct TestGil {
  static std::mutex& mutex() {
    static std::mutex gil;
    return gil;
  }
  struct Held {
    Held() { mutex().lock(); }
    ~Held() { mutex().unlock(); }
  };
  struct Released {
    Released() { mutex().unlock(); }
    ~Released() { mutex().lock(); }
  };
};

TEST_CASE("worker pool: jobs that block at once each get a worker", "[python][pool]") {
  // Submitted in one burst, which wakes one worker; each worker that takes a job while others
  // wait wakes the next, so all three blocking jobs run together (none is ready before all are).
  Pool pool(4);
  std::mutex mutex;
  std::condition_variable changed;
  int started = 0;
  for (int i = 0; i < 3; ++i) {
    pool.submit("client " + std::to_string(i), [&] {
      std::unique_lock<std::mutex> lock(mutex);
      ++started;
      changed.notify_all();
      changed.wait_for(lock, 10s, [&] { return started == 3; });
    });
  }
  {
    std::unique_lock<std::mutex> lock(mutex);
    CHECK(changed.wait_for(lock, 10s, [&] { return started == 3; }));
  }
  pool.wait_idle();
}

TEST_CASE("worker pool: a burst of quick jobs does not wake a worker per job", "[python][pool]") {
  // One worker holds the lock while the burst is queued: the burst wakes at most one more
  // worker, and that one wakes another only while jobs still wait, never one per job.
  KeyedWorkerPool<TestGil> pool(8);
  std::atomic<int> ran{0};
  const auto before = pool.wakeups();
  {
    std::lock_guard<std::mutex> held(TestGil::mutex());  // no worker can take a job yet
    for (int i = 0; i < 200; ++i) pool.submit("client " + std::to_string(i), [&] { ++ran; });
    CHECK(pool.wakeups() - before <= 1);  // none if no worker was asleep yet
  }
  pool.wait_idle();
  CHECK(ran == 200);
}

#if defined(__linux__)
TEST_CASE("worker pool: workers do not preempt the thread that hands them work (SCHED_BATCH)", "[python][pool]") {
  const int submitter_policy = sched_getscheduler(0);
  Pool pool(2);
  std::promise<int> seen;
  pool.submit("a client", [&] { seen.set_value(sched_getscheduler(0)); });
  CHECK(seen.get_future().get() == SCHED_BATCH);
  CHECK(sched_getscheduler(0) == submitter_policy);  // the thread that submits keeps its own
}
#endif

TEST_CASE("worker pool: with a GIL, a job that releases it while blocking lets other keys run", "[python][pool]") {
  KeyedWorkerPool<TestGil> pool(2);
  check_another_key_runs_beside_a_waiting_job(pool, [](const std::shared_future<void>& released) {
    TestGil::Released blocking;  // a blocking call lets go of the GIL
    released.wait();
  });
}

TEST_CASE("worker pool: with a GIL, every job submitted one at a time runs", "[python][pool]") {
  // Workers wake, wait for the lock and find the queue empty or not, in every interleaving this
  // gives: none of them may be left believing another is on its way while a job waits.
  KeyedWorkerPool<TestGil> pool(4);
  for (int round = 0; round < 2000; ++round) {
    std::promise<void> ran;
    pool.submit("client " + std::to_string(round % 7), [&] { ran.set_value(); });
    REQUIRE(ran.get_future().wait_for(10s) == std::future_status::ready);
  }
  pool.wait_idle();
}

/// A thread running what is posted to it in order, as the io thread does: the hand-off's consumer.
class Consumer {
 public:
  Consumer() : thread_([this] { loop(); }) {}
  ~Consumer() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_one();
    thread_.join();
  }
  void post(std::function<void()> work) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      queue_.push_back(std::move(work));
    }
    changed_.notify_one();
  }
  std::thread::id id() const { return thread_.get_id(); }

 private:
  void loop() {
    for (;;) {
      std::function<void()> work;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, with everything run
        work = std::move(queue_.front());
        queue_.pop_front();
      }
      work();
    }
  }
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

/// A hand-off to a Consumer thread; exceptions are counted, and so are the questions whether
/// more is coming (answered with `more_coming`) and the answers "yes" (each a yield). The consumer goes first (joined with
/// everything posted run), then the hand-off its drains point to.
struct HandOffToConsumer {
  std::atomic<int> reported{0};
  std::atomic<bool> more_coming{false};
  std::atomic<int> asked{0};
  std::atomic<int> yielded{0};
  BatchingHandOff hand_off{[this](BatchingHandOff::Work work) { consumer.post(std::move(work)); },
                           [this](const std::exception&) { ++reported; },
                           [this] {
                             ++asked;
                             const bool more = more_coming.load();
                             if (more) ++yielded;
                             return more;
                           }};
  Consumer consumer;
};

TEST_CASE("hand-off: pieces handed while the consumer is busy run in order, in one batch", "[python][hand-off]") {
  HandOffToConsumer h;
  std::promise<void> busy;
  std::promise<void> release;
  auto released = release.get_future().share();
  std::vector<int> order;  // consumer thread only
  h.hand_off.hand([&] {
    busy.set_value();
    released.wait();
  });
  REQUIRE(busy.get_future().wait_for(10s) == std::future_status::ready);
  for (int i = 0; i < 100; ++i) h.hand_off.hand([&order, i] { order.push_back(i); });
  CHECK(h.hand_off.posts() == 2);  // the first piece's drain, and one for the 100 behind it
  release.set_value();
  std::promise<void> done;
  h.hand_off.hand([&] { done.set_value(); });
  REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
  std::vector<int> expected(100);
  for (int i = 0; i < 100; ++i) expected[std::size_t(i)] = i;
  CHECK(order == expected);
  CHECK(h.hand_off.handed() == 102);
}

TEST_CASE("hand-off: each producer's pieces run in the order it handed them", "[python][hand-off]") {
  HandOffToConsumer h;
  constexpr int producers = 4;
  constexpr int pieces = 2000;
  std::vector<std::vector<int>> seen(producers);  // consumer thread only
  std::vector<std::thread> threads;
  for (int p = 0; p < producers; ++p) {
    threads.emplace_back([&, p] {
      for (int i = 0; i < pieces; ++i) h.hand_off.hand([&seen, p, i] { seen[std::size_t(p)].push_back(i); });
    });
  }
  for (auto& thread : threads) thread.join();
  std::promise<void> done;
  h.hand_off.hand([&] { done.set_value(); });
  REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
  std::vector<int> expected(pieces);
  for (int i = 0; i < pieces; ++i) expected[std::size_t(i)] = i;
  for (const auto& one : seen) CHECK(one == expected);
  CHECK(h.hand_off.posts() <= h.hand_off.handed());
}

TEST_CASE("hand-off: a piece runs without anything handed after it", "[python][hand-off]") {
  // No flush is needed: a producer that hands one piece and then blocks (a handler that emits,
  // then sleeps) has it run at once, each time.
  HandOffToConsumer h;
  for (int round = 0; round < 1000; ++round) {
    std::promise<void> ran;
    h.hand_off.hand([&] { ran.set_value(); });
    REQUIRE(ran.get_future().wait_for(10s) == std::future_status::ready);
  }
}

TEST_CASE("hand-off: run_now on the consumer runs what is queued first; an exception skips nothing", "[python][hand-off]") {
  HandOffToConsumer h;
  std::vector<std::string> order;  // consumer thread until `finished`
  std::promise<void> busy;
  std::promise<void> release;
  std::promise<void> finished;
  auto released = release.get_future().share();
  h.hand_off.hand([&] {
    busy.set_value();
    released.wait();
    // Handed meanwhile, queued behind this piece: run_now runs them before its own work, at once.
    h.hand_off.run_now([&] { order.push_back("now"); });
    finished.set_value();
  });
  REQUIRE(busy.get_future().wait_for(10s) == std::future_status::ready);
  h.hand_off.hand([&] { order.push_back("queued 1"); });
  h.hand_off.hand([] { throw std::runtime_error("a failing piece"); });
  h.hand_off.hand([&] { order.push_back("queued 2"); });
  release.set_value();
  REQUIRE(finished.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(order == std::vector<std::string>{"queued 1", "queued 2", "now"});
  CHECK(h.reported == 1);
}

TEST_CASE("hand-off: a posted drain yields once when more is coming, then runs whatever comes", "[python][hand-off]") {
  HandOffToConsumer h;
  auto hand_and_wait = [&] {
    std::promise<void> ran;
    h.hand_off.hand([&] { ran.set_value(); });
    REQUIRE(ran.get_future().wait_for(10s) == std::future_status::ready);
  };
  for (int round = 0; round < 100; ++round) hand_and_wait();
  CHECK(h.asked == 100);  // once per posted drain
  CHECK(h.yielded == 0);
  // Producers that always say more is coming (a worker stuck with jobs behind it) never hold a
  // piece back: the drain yields once and runs.
  h.more_coming = true;
  for (int round = 0; round < 100; ++round) hand_and_wait();
  CHECK(h.asked == 200);
  CHECK(h.yielded == 100);
  // run_now, a call waiting on the consumer itself, does not ask.
  std::promise<void> done;
  h.hand_off.hand([&] { h.hand_off.run_now([&] { done.set_value(); }); });
  REQUIRE(done.get_future().wait_for(10s) == std::future_status::ready);
  CHECK(h.asked == 201);
  CHECK(h.hand_off.posts() == 201);
}
