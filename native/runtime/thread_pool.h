// A small fork-join pool for the kernels' outer loops. The calling thread always takes
// part, so a pool of n threads starts n - 1 workers. Only one parallel region runs at a
// time; a caller that finds the pool busy (another async op, another worker_thread) runs
// its loop alone rather than waiting, so concurrent callers never deadlock.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace tf {

class ThreadPool {
 public:
  // fn(begin, end) is called on disjoint sub-ranges covering [0, n).
  using RangeFn = std::function<void(size_t begin, size_t end)>;

  static constexpr int kMaxThreads = 256;  // the largest pool (set_threads clamps to it)

  static ThreadPool& instance();

  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_.load(std::memory_order_relaxed); }
  // Waits for a running region to finish, then resizes. n is clamped to [1, kMaxThreads].
  void set_threads(int n);

  // Splits [0, n) into chunks of at least min_chunk items and runs them on the pool.
  void parallel_for(size_t n, size_t min_chunk, const RangeFn& fn);

 private:
  // One parallel region: lives on the caller's stack for the duration of parallel_for.
  // Chunks are dealt out as one contiguous share per participant (the caller is 0, workers
  // number themselves as they join), so consecutive regions over the same data give each
  // thread the same part of it; a participant that runs out takes chunks from the back of
  // the others' shares. shares[p] packs share p's remaining chunks [lo, hi) as hi << 32 | lo.
  struct Region {
    const RangeFn* fn;
    size_t n, chunk, chunks;
    int participants;
    std::atomic<uint64_t> shares[kMaxThreads];
    std::atomic<size_t> chunks_done{0};
    int workers_inside = 0;  // guarded by mutex_
    int next_participant = 1;  // guarded by mutex_
  };

  void start_workers(int count);
  void stop_workers();
  void worker_loop(unsigned long seen);  // seen: the generation current at start
  static void run_chunks(Region& region, int participant);

  std::atomic<int> threads_{1};
  std::mutex region_mutex_;  // held for the whole of one parallel region

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  bool stopping_ = false;
  // generation_ counts regions; region_ is the running one or null. A worker joins a region
  // only while it is published, so the caller waits for the workers inside it, never for
  // workers that are still asleep (their wake-up costs tens of µs on a busy machine).
  std::atomic<unsigned long> generation_{0};
  Region* region_ = nullptr;
};

// The pool size from TENSORFUSE_THREADS, else the number of online CPUs.
int default_thread_count();

}  // namespace tf
