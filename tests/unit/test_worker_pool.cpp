// The Python host's worker pool (python/src/worker_pool.hpp) without Python: jobs of one key in
// order and one at a time, different keys at once, waiting for idleness, and shutdown.
#include <worker_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

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
