#include "kernels/conv2d/conv_scratch.h"

#include <algorithm>
#include <cstdint>
#include <new>
#include <vector>

#include "runtime/allocator.h"
#include "runtime/cache_info.h"

namespace tf {

namespace {

// Below this many multiply-adds a conv runs on the calling thread alone.
constexpr double kParallelMinMacs = 2e5;
constexpr size_t kKeepFloats = size_t{16} << 20;  // 64 MiB

struct KeptScratch {
  float* data = nullptr;
  size_t floats = 0;
  ~KeptScratch() { buffer_free(data, floats * sizeof(float)); }
};

KeptScratch& kept_scratch() {
  static thread_local KeptScratch k;
  return k;
}

}  // namespace

size_t gemm_kc(size_t nr) {
  const size_t kc = l1d_cache_bytes() * 3 / 4 / (nr * sizeof(float));
  return std::clamp<size_t>(kc / 16 * 16, 64, 640);
}

size_t gemm_pack_tiles(size_t k, size_t nr) {
  const size_t tiles = std::min<size_t>(8, l2_cache_bytes() * 3 / 8 / (k * nr * sizeof(float)));
  return std::max<size_t>(1, tiles);
}

float* thread_scratch(size_t floats) {
  // 16 floats of slack to start on a cache line: a GEMM's packed rows of 48 floats, read
  // as 64-byte vectors, would otherwise all straddle two lines.
  static thread_local std::vector<float> buf;
  if (buf.size() < floats + 16) buf.assign(floats + 16, 0.0f);
  const uintptr_t p = reinterpret_cast<uintptr_t>(buf.data());
  return reinterpret_cast<float*>((p + 63) & ~uintptr_t{63});
}

CallerScratch::CallerScratch(size_t floats) {
  KeptScratch& k = kept_scratch();
  if (floats <= kKeepFloats) {
    if (k.floats < floats) {
      buffer_free(k.data, k.floats * sizeof(float));
      k.data = nullptr;
      k.floats = 0;
      k.data = static_cast<float*>(buffer_alloc(floats * sizeof(float)));
      if (k.data == nullptr) throw std::bad_alloc();
      k.floats = floats;
    }
    data_ = k.data;
    return;
  }
  owned_ = floats;
  data_ = static_cast<float*>(buffer_alloc(floats * sizeof(float)));
  if (data_ == nullptr) throw std::bad_alloc();
}

CallerScratch::~CallerScratch() {
  if (owned_ != 0) buffer_free(data_, owned_ * sizeof(float));
}

void parallel(size_t items, double macs, const ThreadPool::RangeFn& fn) {
  ThreadPool& pool = ThreadPool::instance();
  // Few items (Winograd bands, a small image's tiles): one even share per thread, since
  // uneven chunks would leave the last thread a whole item behind (10 bands in 8 chunks
  // run as 6 + 4). Many items: 4 chunks per thread for dynamic balance (the pool's own
  // chunking can leave the last chunk much shorter, and with two threads that imbalance
  // is the whole tail of the call).
  const size_t threads = static_cast<size_t>(pool.threads());
  const size_t chunks = items < threads * 8 ? std::min(items, threads) : threads * 4;
  if (macs < kParallelMinMacs || chunks <= 1) {
    fn(0, items);
    return;
  }
  pool.parallel_for(chunks, 1, [&](size_t b, size_t e) { fn(b * items / chunks, e * items / chunks); });
}

}  // namespace tf
