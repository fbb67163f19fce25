// Element-wise binary ops with NumPy broadcasting over contiguous float32 tensors.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace tf {

using Shape = std::vector<int64_t>;

enum class BinaryOp { kAdd, kMul };

int64_t shape_size(const Shape& shape);

// The broadcast result shape of a and b; false when they are not broadcastable.
bool broadcast_shape(const Shape& a, const Shape& b, Shape* out);

// y = a op b. Shapes must be valid for broadcasting and y must have the broadcast shape;
// y may alias a or b only where that input has y's full shape. Large ops use the pool.
void binary(BinaryOp op, const float* a, const Shape& a_shape, const float* b, const Shape& b_shape,
            float* y, const Shape& y_shape);

}  // namespace tf
