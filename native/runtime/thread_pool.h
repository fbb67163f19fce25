// A small fork-join pool for the kernels' outer loops. The calling thread always takes
// part, so a pool of n threads starts n - 1 workers. Only one parallel region runs at a
// time; a caller that finds the pool busy (another async op, another worker_thread) runs
// its loop alone rather than waiting, so concurrent callers never deadlock.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tf {

class ThreadPool {
 public:
  // fn(begin, end) is called on disjoint sub-ranges covering [0, n).
  using RangeFn = std::function<void(size_t begin, size_t end)>;

  static ThreadPool& instance();

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  // Waits for a running region to finish, then resizes. n is clamped to [1, 256].
  void set_threads(int n);

  // Splits [0, n) into chunks of at least min_chunk items and runs them on the pool.
  void parallel_for(size_t n, size_t min_chunk, const RangeFn& fn);

 private:
  void start_workers(int count);
  void stop_workers();
  void worker_loop(unsigned long seen);  // seen: the generation current at start
  void run_chunks();

  std::atomic<int> threads_{1};
  std::mutex region_mutex_;  // held for the whole of one parallel region

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  unsigned long generation_ = 0;

  // The current region (valid while a region runs).
  const RangeFn* fn_ = nullptr;
  size_t n_ = 0;
  size_t chunk_ = 0;
  size_t chunks_ = 0;
  std::atomic<size_t> next_chunk_{0};
  std::atomic<size_t> chunks_done_{0};
  int workers_active_ = 0;
  size_t workers_acked_ = 0;  // workers that have seen the current generation
};

// The pool size from TENSORFUSE_THREADS, else the number of online CPUs.
int default_thread_count();

}  // namespace tf
