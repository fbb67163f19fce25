// Concatenation of contiguous float32 tensors along one axis.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tf {

// Viewed as [outer, extent_i] row-major matrices (extent_i = axis dim of input i times the
// product of the dims after the axis), input i fills columns [sum_{j<i} extent_j, ...) of
// y = [outer, sum extent_i]. y must not overlap any input.
void concat(const std::vector<const float*>& inputs, const std::vector<int64_t>& extents, int64_t outer,
            float* y);

}  // namespace tf
