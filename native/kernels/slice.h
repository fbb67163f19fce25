// Strided copies: ONNX Slice (any steps, after the caller has clamped starts) and Split.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/binary.h"

namespace tf {

// y[i0, i1, ...] = x[starts[0] + i0 * steps[0], ...] for every index of y_shape. The caller
// guarantees every such index lies inside x_shape (steps may be negative, never 0).
void strided_copy(const float* x, const Shape& x_shape, const std::vector<int64_t>& starts,
                  const std::vector<int64_t>& steps, float* y, const Shape& y_shape);

// The inverse of concat: x viewed as [outer, sum(extents)] is cut into outs[k]: [outer, extents[k]].
void split(const float* x, int64_t outer, const std::vector<int64_t>& extents, const std::vector<float*>& outs);

}  // namespace tf
