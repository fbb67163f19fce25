// Global pooling (ONNX GlobalAveragePool / GlobalMaxPool): one value per plane of x viewed
// as [planes, inner], where inner is the product of the spatial dims.
#pragma once
#include <cstdint>

namespace tf {

enum class GlobalPoolOp { kAvg = 0, kMax = 1 };

// y[p] = mean (or max: NaN wins, -inf for inner == 0) of x[p, 0..inner). The mean of an
// empty plane is NaN.
void global_pool(GlobalPoolOp op, const float* x, int64_t planes, int64_t inner, float* y);

}  // namespace tf
