#include "kernels/concat.h"

#include <algorithm>
#include <cstring>

#include "runtime/thread_pool.h"

namespace tf {

namespace {
constexpr size_t kParallelMinElements = size_t{1} << 18;
constexpr size_t kParallelChunkElements = size_t{1} << 16;
}  // namespace

// Concat is pure data movement: libc's memcpy already picks the widest moves (and
// non-temporal stores for large copies), so the work here is splitting the output into
// pieces that both threads can copy.
void concat(const std::vector<const float*>& inputs, const std::vector<int64_t>& extents, int64_t outer,
            float* y) {
  std::vector<size_t> prefix(inputs.size() + 1, 0);
  for (size_t i = 0; i < inputs.size(); ++i) prefix[i + 1] = prefix[i] + static_cast<size_t>(extents[i]);
  const size_t row = prefix.back();
  const size_t total = row * static_cast<size_t>(outer);
  if (total == 0) return;

  // Copies output elements [begin, end), walking the (row, input) pieces they fall in.
  auto copy_range = [&](size_t begin, size_t end) {
    size_t e = begin;
    while (e < end) {
      const size_t r = e / row;
      const size_t col = e - r * row;
      const size_t k = static_cast<size_t>(std::upper_bound(prefix.begin(), prefix.end(), col) - prefix.begin()) - 1;
      const size_t within = col - prefix[k];
      const size_t len = std::min(end - e, prefix[k + 1] - col);
      std::memcpy(y + e, inputs[k] + r * static_cast<size_t>(extents[k]) + within, len * sizeof(float));
      e += len;
    }
  };
  if (total < kParallelMinElements) {
    copy_range(0, total);
  } else {
    ThreadPool::instance().parallel_for(total, kParallelChunkElements, copy_range);
  }
}

}  // namespace tf
