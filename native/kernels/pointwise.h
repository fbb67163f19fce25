// The fusion-block ops that work element by element or along one axis: relu, sigmoid,
// softmax over any axis, and the channel-broadcast weighted sum. ISA-agnostic algorithms
// over the PointwiseTable; large ops split across the thread pool.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "runtime/thread_pool.h"

namespace tf {

enum class UnaryOp { kRelu = 0, kSigmoid = 1, kClip = 2, kLeakyRelu = 3 };

// y = op(x) over n elements; y may alias x exactly. kClip clamps to [a, b] (a <= b),
// kLeakyRelu multiplies the negatives by a; the other ops ignore a and b.
void unary(UnaryOp op, const float* x, float* y, size_t n, float a = 0.0f, float b = 0.0f);

// Softmax over the middle axis of x viewed as [outer, axis, inner]; y may alias x exactly.
void softmax(const float* x, float* y, int64_t outer, int64_t axis, int64_t inner);

// y[n,c,:] = sum_k x[k][n,c,:] * w[k][n,0,:] for x[k]: [N,C,HW], w[k]: [N,1,HW].
void weighted_sum(const std::vector<const float*>& x, const std::vector<const float*>& w, int64_t n, int64_t c,
                  int64_t hw, float* y);

// Runs fn(begin, end) over [0, units): on the calling thread when the whole op is small
// (units * work_per_unit elements touched), else on the pool in chunks of ~64K elements.
template <class F>
void parallel_units(size_t units, size_t work_per_unit, F&& fn) {
  constexpr size_t kParallelMinWork = size_t{1} << 18;
  constexpr size_t kChunkWork = size_t{1} << 16;
  const size_t per = work_per_unit == 0 ? 1 : work_per_unit;
  if (units == 0) return;
  if (units < 2 || units * per < kParallelMinWork) {
    fn(size_t{0}, units);
    return;
  }
  ThreadPool::instance().parallel_for(units, kChunkWork / per > 0 ? kChunkWork / per : 1, fn);
}

}  // namespace tf
