// Local response normalisation across channels (ONNX LRN) over x viewed as [n, c, inner]:
//   y[b,k,i] = x[b,k,i] / (bias + alpha / size * sum_{j in window(k)} x[b,j,i]^2)^beta
// where window(k) = [k - floor((size-1)/2), k + ceil((size-1)/2)] clipped to [0, c).
// Vectorised over the pixels of a channel row.
#pragma once
#include <cstdint>

namespace tf {

struct LrnParams {
  int64_t size;  // >= 1
  float alpha, beta, bias;
};

// y must not overlap x (each output row reads its neighbours' input rows).
void lrn(const float* x, int64_t n, int64_t c, int64_t inner, const LrnParams& p, float* y);

}  // namespace tf
