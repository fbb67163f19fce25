// tf::ThreadPool: parallel_for covers [0, n) exactly once for many sizes, chunk sizes and
// pool sizes; threads that finish take chunks from a slow thread's share; several
// std::threads call one pool at once (the loser of the region runs its loop alone);
// set_threads while other threads are mid-loop; resizing then running at once.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/thread_pool.h"
#include "test_util.h"
#include "tf_test.h"

namespace {

// Runs one parallel_for and returns whether every index was visited exactly once by
// in-range, non-empty sub-ranges.
bool covers_once(tf::ThreadPool& pool, size_t n, size_t min_chunk, std::string* why) {
  std::unique_ptr<std::atomic<int>[]> hits(new std::atomic<int>[n + 1]);
  for (size_t i = 0; i <= n; ++i) hits[i].store(0, std::memory_order_relaxed);
  std::atomic<int> bad_ranges{0};
  pool.parallel_for(n, min_chunk, [&](size_t begin, size_t end) {
    if (begin >= end || end > n) {
      bad_ranges.fetch_add(1);
      return;
    }
    for (size_t i = begin; i < end; ++i) hits[i].fetch_add(1, std::memory_order_relaxed);
  });
  if (bad_ranges.load() != 0) {
    *why = std::to_string(bad_ranges.load()) + " empty or out-of-range sub-ranges";
    return false;
  }
  for (size_t i = 0; i < n; ++i) {
    const int h = hits[i].load();
    if (h != 1) {
      *why = "index " + std::to_string(i) + " visited " + std::to_string(h) + " times";
      return false;
    }
  }
  return true;
}

const size_t kSizes[] = {0, 1, 2, 3, 7, 8, 63, 64, 65, 100, 1000, 4096, 12345, 100003};
const size_t kChunks[] = {0, 1, 3, 64, 1000, 1 << 20};

}  // namespace

TF_TEST(thread_pool_covers_every_index_once) {
  for (int threads : {1, 2, 3, 4, 8, 17}) {
    tf::ThreadPool pool(threads);
    TF_CHECK_EQ(pool.threads(), threads);
    for (size_t n : kSizes) {
      for (size_t chunk : kChunks) {
        tf_test::set_context("threads=" + std::to_string(threads) + " n=" + std::to_string(n) +
                             " min_chunk=" + std::to_string(chunk));
        std::string why;
        TF_CHECK(covers_once(pool, n, chunk, &why)) << why;
      }
    }
  }
}

TF_TEST(thread_pool_runs_on_several_threads) {
  // With a pool of 4 and 64 slow chunks, more than one thread should take part (the
  // calling thread always does). Not a correctness requirement on a loaded machine, so a
  // single-threaded run only fails if it happens on every one of 5 attempts.
  tf::ThreadPool pool(4);
  bool parallel = false;
  for (int attempt = 0; attempt < 5 && !parallel; ++attempt) {
    std::mutex m;
    std::vector<std::thread::id> ids;
    pool.parallel_for(64, 1, [&](size_t, size_t) {
      std::this_thread::sleep_for(std::chrono::microseconds(200));
      std::lock_guard<std::mutex> lock(m);
      ids.push_back(std::this_thread::get_id());
    });
    for (auto id : ids) parallel |= id != ids.front();
  }
  TF_CHECK(parallel) << "every chunk ran on the calling thread";
}

TF_TEST(thread_pool_others_take_from_a_slow_share) {
  // Two threads, 16 chunks: the caller owns chunks 0-7 and sleeps in each, the worker's
  // 8-15 are instant. The worker then takes the caller's chunks from the back, so some of
  // 0-7 run on it; each index still runs once. (A worker that never woke would leave all
  // of them to the caller: retried, as a machine can stall a thread that long.)
  tf::ThreadPool pool(2);
  bool stolen = false;
  for (int attempt = 0; attempt < 5 && !stolen; ++attempt) {
    const std::thread::id caller = std::this_thread::get_id();
    std::atomic<int> hits[16];
    for (auto& h : hits) h.store(0);
    std::atomic<int> taken_from_caller{0};
    pool.parallel_for(16, 1, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        hits[i].fetch_add(1);
        if (i < 8 && std::this_thread::get_id() == caller) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        if (i < 8 && std::this_thread::get_id() != caller) taken_from_caller.fetch_add(1);
      }
    });
    for (size_t i = 0; i < 16; ++i) TF_CHECK_EQ(hits[i].load(), 1) << "index " << i;
    stolen = taken_from_caller.load() > 0;
  }
  TF_CHECK(stolen) << "no chunk of the slow share ran on the worker";
}

TF_TEST(thread_pool_clamps_thread_count) {
  tf::ThreadPool pool(1);
  pool.set_threads(0);
  TF_CHECK_EQ(pool.threads(), 1);
  pool.set_threads(-5);
  TF_CHECK_EQ(pool.threads(), 1);
  pool.set_threads(1000);
  TF_CHECK_EQ(pool.threads(), 256);
  std::string why;
  TF_CHECK(covers_once(pool, 5000, 1, &why)) << why;
  pool.set_threads(2);
  TF_CHECK_EQ(pool.threads(), 2);
  TF_CHECK(covers_once(pool, 5000, 1, &why)) << why;
}

TF_TEST(thread_pool_concurrent_callers) {
  // Several threads share one pool; each of their loops must still be covered exactly once
  // whether it won the pool or ran alone.
  for (int pool_threads : {1, 2, 4}) {
    tf::ThreadPool pool(pool_threads);
    std::atomic<int> failures{0};
    std::vector<std::thread> callers;
    for (int c = 0; c < 6; ++c) {
      callers.emplace_back([&, c] {
        for (int it = 0; it < 150; ++it) {
          const size_t n = kSizes[(c + it) % (sizeof(kSizes) / sizeof(kSizes[0]) - 1)];
          std::string why;
          if (!covers_once(pool, n, 1 + static_cast<size_t>(it % 5), &why)) failures.fetch_add(1);
        }
      });
    }
    for (auto& t : callers) t.join();
    tf_test::set_context("pool threads=" + std::to_string(pool_threads));
    TF_CHECK_EQ(failures.load(), 0);
  }
}

TF_TEST(thread_pool_set_threads_while_running) {
  tf::ThreadPool pool(2);
  std::atomic<bool> stop{false};
  std::atomic<int> failures{0}, loops{0};
  std::vector<std::thread> callers;
  for (int c = 0; c < 3; ++c) {
    callers.emplace_back([&, c] {
      tf_test::Rng rng(static_cast<uint64_t>(c) + 1);
      while (!stop.load()) {
        std::string why;
        if (!covers_once(pool, static_cast<size_t>(rng.range(0, 20000)), static_cast<size_t>(rng.range(1, 300)), &why))
          failures.fetch_add(1);
        loops.fetch_add(1);
      }
    });
  }
  const int sizes[] = {1, 4, 2, 8, 3, 1, 6, 2};
  for (int i = 0; i < 80; ++i) {
    pool.set_threads(sizes[i % 8]);
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
  stop.store(true);
  for (auto& t : callers) t.join();
  TF_CHECK_EQ(failures.load(), 0);
  TF_CHECK(loops.load() > 0);
}

TF_TEST(thread_pool_resize_then_run_immediately) {
  // Newly started workers must not mistake the previous region for a new one: resize and
  // run straight away, many times.
  tf::ThreadPool pool(2);
  int failures = 0;
  std::string last;
  for (int i = 0; i < 2000; ++i) {
    pool.set_threads(2 + i % 3);
    std::string why;
    if (!covers_once(pool, 64 + static_cast<size_t>(i % 7), 1, &why)) {
      ++failures;
      last = why;
    }
  }
  TF_CHECK_EQ(failures, 0) << last;
}

TF_TEST(thread_pool_nested_parallel_for_runs_inline) {
  // A kernel that calls parallel_for from inside a region (the pool is busy) runs its
  // inner loop on its own thread instead of deadlocking.
  tf::ThreadPool pool(3);
  std::atomic<int> inner_hits{0};
  pool.parallel_for(6, 1, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) {
      pool.parallel_for(100, 1, [&](size_t ib, size_t ie) { inner_hits.fetch_add(static_cast<int>(ie - ib)); });
    }
  });
  TF_CHECK_EQ(inner_hits.load(), 600);
}

TF_TEST(thread_pool_default_thread_count) {
  // Reads TENSORFUSE_THREADS; no other threads call getenv while this runs.
  const char* saved = std::getenv("TENSORFUSE_THREADS");
  const std::string keep = saved ? saved : "";
  setenv("TENSORFUSE_THREADS", "3", 1);
  TF_CHECK_EQ(tf::default_thread_count(), 3);
  setenv("TENSORFUSE_THREADS", "100000", 1);
  TF_CHECK_EQ(tf::default_thread_count(), 256);
  for (const char* bad : {"0", "-2", "abc", "4x", ""}) {
    setenv("TENSORFUSE_THREADS", bad, 1);
    const int n = tf::default_thread_count();
    TF_CHECK(n >= 1 && n <= 256) << "'" << bad << "' gave " << n;
  }
  if (saved) setenv("TENSORFUSE_THREADS", keep.c_str(), 1); else unsetenv("TENSORFUSE_THREADS");
}
