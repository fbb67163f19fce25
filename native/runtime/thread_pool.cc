#include "runtime/thread_pool.h"

#include <algorithm>
#include <cstdlib>

namespace tf {

int default_thread_count() {
  if (const char* env = std::getenv("TENSORFUSE_THREADS")) {
    char* end = nullptr;
    const long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n >= 1) return static_cast<int>(std::min(n, 256L));
  }
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(std::min(hw, 256u));
}

ThreadPool& ThreadPool::instance() {
  // Deliberately leaked: worker threads must not be joined from a static destructor while
  // Node tears down (an addon can be unloaded with work in flight).
  static ThreadPool* pool = new ThreadPool(default_thread_count());
  return *pool;
}

ThreadPool::ThreadPool(int threads) { set_threads(threads); }

ThreadPool::~ThreadPool() {
  std::lock_guard<std::mutex> region(region_mutex_);
  stop_workers();
}

void ThreadPool::set_threads(int n) {
  n = std::clamp(n, 1, 256);
  std::lock_guard<std::mutex> region(region_mutex_);
  stop_workers();
  start_workers(n - 1);
  threads_.store(n, std::memory_order_relaxed);
}

void ThreadPool::start_workers(int count) {
  unsigned long generation;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = false;
    generation = generation_;
  }
  workers_.reserve(count);
  // A new worker starts at the current generation: had it started from 0, it would take
  // the last (finished) region for a new one and read the region fields while the next
  // parallel_for writes them.
  for (int i = 0; i < count; ++i) workers_.emplace_back([this, generation] { worker_loop(generation); });
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
  workers_.clear();
}

void ThreadPool::run_chunks() {
  for (;;) {
    const size_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= chunks_) return;
    const size_t begin = c * chunk_;
    const size_t end = std::min(n_, begin + chunk_);
    (*fn_)(begin, end);
    chunks_done_.fetch_add(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::worker_loop(unsigned long seen) {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen; });
      if (stopping_) return;
      seen = generation_;
      ++workers_acked_;
      ++workers_active_;
    }
    run_chunks();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --workers_active_;
    }
    done_.notify_all();
  }
}

void ThreadPool::parallel_for(size_t n, size_t min_chunk, const RangeFn& fn) {
  if (n == 0) return;
  min_chunk = std::max<size_t>(min_chunk, 1);
  const int threads = this->threads();
  std::unique_lock<std::mutex> region(region_mutex_, std::try_to_lock);
  if (threads <= 1 || n <= min_chunk || !region.owns_lock() || workers_.empty()) {
    fn(0, n);
    return;
  }
  // A few chunks per thread balances uneven chunks without much scheduling cost.
  const size_t max_chunks = static_cast<size_t>(threads) * 4;
  size_t chunks = std::min(max_chunks, (n + min_chunk - 1) / min_chunk);
  chunk_ = (n + chunks - 1) / chunks;
  chunks_ = (n + chunk_ - 1) / chunk_;
  n_ = n;
  fn_ = &fn;
  next_chunk_.store(0, std::memory_order_relaxed);
  chunks_done_.store(0, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    workers_acked_ = 0;
    ++generation_;
  }
  wake_.notify_all();
  run_chunks();
  // Wait until every chunk ran and every worker has seen this region and left it: a worker
  // that woke late must not wander into the next region's half-written state.
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] {
    return chunks_done_.load(std::memory_order_acquire) == chunks_ &&
           workers_acked_ == workers_.size() && workers_active_ == 0;
  });
  fn_ = nullptr;
}

}  // namespace tf
