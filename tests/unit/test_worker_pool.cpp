// The Python host's worker pool (python/src/worker_pool.hpp) without Python: jobs of one key in
// order and one at a time, different keys at once, waiting for idleness, and shutdown.
#include <worker_pool.hpp>

#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <future>
#include <mutex>
#include <string>
#include <vector>

using Pool = chat::python::KeyedWorkerPool<chat::python::NoLock>;
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

TEST_CASE("worker pool: different keys run at the same time", "[python][pool]") {
  Pool pool(2);
  std::promise<void> first_started;
  std::promise<void> release;
  auto released = release.get_future().share();
  pool.submit("slow client", [&] {
    first_started.set_value();
    released.wait();  // holds its worker until the other key's job has run
  });
  REQUIRE(first_started.get_future().wait_for(10s) == std::future_status::ready);
  std::promise<void> other_ran;
  pool.submit("other client", [&] { other_ran.set_value(); });
  CHECK(other_ran.get_future().wait_for(10s) == std::future_status::ready);
  release.set_value();
  pool.wait_idle();
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
