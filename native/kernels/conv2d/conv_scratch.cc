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

void parallel(size_t items, double macs, const ThreadPool::RangeFn& fn, bool independent) {
  ThreadPool& pool = ThreadPool::instance();
  // The pool deals each thread a contiguous share of the chunks and lets a thread that runs
  // out take chunks from the end of the others'. Independent items (Winograd bands,
  // channel-lane panels) go one per chunk, up to 8 per thread, so a late or slow thread's
  // last items move to the other. Items that share work within a call (pixel tiles
  // reusing packed B, rows of one padded copy) keep one even share per thread when few
  // (a call per item would redo that work; 10 bands in 8 uneven chunks also ran as 6 + 4)
  // and 4 chunks per thread when many. In-process A/B at 2 threads (AVX-512): CONV3
  // 0.979 -> 0.927 ms and 1.066 -> 0.989, [512,7,7] -> 512 3x3 2.80 -> 2.69, [2048,7,7] ->
  // 512 0.957 -> 0.888, CONV3S2 4.34 -> 4.12, [256,56,56] -> 64 1x1 0.963 -> 0.864; models
  // at 2 threads 0-3 % faster. Every item finer (independent or not) made DenseNet-121
  // 13 % slower.
  const size_t threads = static_cast<size_t>(pool.threads());
  const size_t chunks = independent ? std::min(items, threads * 8) : items < threads * 8 ? std::min(items, threads) : threads * 4;
  if (macs < kParallelMinMacs || chunks <= 1) {
    fn(0, items);
    return;
  }
  pool.parallel_for(chunks, 1, [&](size_t b, size_t e) { fn(b * items / chunks, e * items / chunks); });
}

}  // namespace tf
