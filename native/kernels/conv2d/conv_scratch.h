// Scratch memory and work splitting shared by the conv2d algorithms (conv2d.cc,
// conv_channel_lanes.cc): internal to native/kernels/conv2d.
#pragma once
#include <cstddef>

#include "runtime/thread_pool.h"

namespace tf {

inline size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

// The share of `used` items that are real when they are processed in whole granules (the
// lanes or rows of a register tile, the channels of a weight panel).
inline double fill_ratio(size_t used, size_t granule) {
  return static_cast<double>(used) / static_cast<double>(ceil_div(used, granule) * granule);
}

// Reduction block of a GEMM whose register tile is nr floats wide: the kc x nr block of B
// that every row block of A passes over stays in (3/4 of) L1. 192 on a 48 KiB L1 with
// 48-lane tiles; K = 1152 in blocks of 640 (B from L2) ran 7-10 % slower there.
size_t gemm_kc(size_t nr);

// Tiles of B (k x nr floats each) the in-place GEMM copies into one contiguous block at a
// time: as many as 3/8 of L2 holds, 1 to 8 (the copy reads each plane's run of several
// tiles in one go).
size_t gemm_pack_tiles(size_t k, size_t nr);

// Memory a loop reads next (weights, mostly), prefetched into L2 in equal shares over the
// `parts` steps of the loop in hand, so it arrives while they compute instead of in one
// burst of misses when the next loop starts.
struct SpreadPrefetch {
  const char* at = nullptr;
  size_t lines = 0;  // cache lines of 64 bytes from `at`

  void part(size_t j, size_t parts) const {
    for (size_t l = j * lines / parts, e = (j + 1) * lines / parts; l < e; ++l) __builtin_prefetch(at + l * 64, 0, 2);
  }
};

// Scratch that lives as long as its thread and only grows (one buffer per thread: a task
// may hold one pointer from it at a time). It starts on a cache line.
float* thread_scratch(size_t floats);

// Scratch filled and read by the pool while its caller waits (a padded input copy, packed
// input panels), so it belongs to the calling thread (the JS thread or a libuv worker): it
// grows to the largest conv that thread has run and is kept, so its pages are touched only
// once (a fresh block costs ~11 us per 4 KiB page on first write). Blocks over 64 MiB are
// returned to the allocator after the call. One CallerScratch per call at a time.
class CallerScratch {
 public:
  explicit CallerScratch(size_t floats);
  ~CallerScratch();
  CallerScratch(const CallerScratch&) = delete;
  CallerScratch& operator=(const CallerScratch&) = delete;
  float* data() const { return data_; }

 private:
  float* data_ = nullptr;
  size_t owned_ = 0;
};

// Runs fn over [0, items) on the pool (on the calling thread alone below ~2e5 multiply-adds)
// in chunks whose sizes differ by at most one item. `independent`: no work is shared between
// the items of one fn call (each item costs the same alone), so items may go one per call
// and a thread that is done can take the last items of a slower one (see conv_scratch.cc).
void parallel(size_t items, double macs, const ThreadPool::RangeFn& fn, bool independent = false);

}  // namespace tf
