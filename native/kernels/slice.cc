#include "kernels/slice.h"

#include <cstring>

#include "kernels/pointwise.h"

namespace tf {

void strided_copy(const float* x, const Shape& x_shape, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& steps, float* y, const Shape& y_shape) {
  const size_t rank = y_shape.size();
  const int64_t total = shape_size(y_shape);
  if (total == 0) return;
  if (rank == 0) {
    y[0] = x[0];
    return;
  }
  std::vector<int64_t> stride(rank, 1);
  for (size_t k = rank - 1; k-- > 0;) stride[k] = stride[k + 1] * x_shape[k + 1];
  const int64_t inner = y_shape[rank - 1];
  const int64_t inner_step = steps[rank - 1];
  const size_t rows = static_cast<size_t>(total / inner);
  parallel_units(rows, static_cast<size_t>(inner), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      // Source offset of row r: decompose r over the outer dims of y.
      int64_t off = starts[rank - 1];
      size_t rem = r;
      for (size_t k = rank - 1; k-- > 0;) {
        const int64_t i = static_cast<int64_t>(rem % static_cast<size_t>(y_shape[k]));
        rem /= static_cast<size_t>(y_shape[k]);
        off += (starts[k] + i * steps[k]) * stride[k];
      }
      float* dst = y + static_cast<int64_t>(r) * inner;
      if (inner_step == 1) {
        std::memcpy(dst, x + off, static_cast<size_t>(inner) * sizeof(float));
      } else {
        for (int64_t i = 0; i < inner; ++i) dst[i] = x[off + i * inner_step];
      }
    }
  });
}

void split(const float* x, int64_t outer, const std::vector<int64_t>& extents, const std::vector<float*>& outs) {
  int64_t row = 0;
  for (int64_t e : extents) row += e;
  parallel_units(static_cast<size_t>(outer), static_cast<size_t>(row), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      int64_t off = 0;
      for (size_t k = 0; k < extents.size(); ++k) {
        std::memcpy(outs[k] + static_cast<int64_t>(r) * extents[k], x + static_cast<int64_t>(r) * row + off,
                    static_cast<size_t>(extents[k]) * sizeof(float));
        off += extents[k];
      }
    }
  });
}

}  // namespace tf
