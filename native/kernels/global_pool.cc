#include "kernels/global_pool.h"

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"

namespace tf {

void global_pool(GlobalPoolOp op, const float* x, int64_t planes, int64_t inner, float* y) {
  const PointwiseTable& pw = pointwise();
  const size_t len = static_cast<size_t>(inner);
  // Summed in float like the other kernels; the division (not a reciprocal multiply) keeps
  // a plane of equal values exact.
  const float divisor = static_cast<float>(inner);
  parallel_units(static_cast<size_t>(planes), len, [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      const float* plane = x + p * len;
      y[p] = op == GlobalPoolOp::kMax ? pw.reduce_max(plane, len) : pw.reduce_sum(plane, len) / divisor;
    }
  });
}

}  // namespace tf
