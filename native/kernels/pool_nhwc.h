// 2-D window pooling over NHWC tensors (the TF.js layout): each output pixel reduces the
// channel vectors of its window's pixels, so the work is vectorised over channels.
// Geometry as in pool.h (Pool2dParams, pool_out_size); oh/ow must come from pool_out_size.
#pragma once
#include <cstdint>

#include "kernels/pool.h"

namespace tf {

// y: [n, oh, ow, c]. ignore_nan: NaN never wins a max (TF.js MaxPool); otherwise NaN wins
// (ONNX MaxPool, as max_pool2d). A window with no input pixel in it gives -inf.
void max_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p, bool ignore_nan,
                     float* y, int64_t oh, int64_t ow);

// y: [n, oh, ow, c], the mean of each window with avg_pool2d's divisor rule.
void avg_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p,
                     bool count_include_pad, float* y, int64_t oh, int64_t ow);

}  // namespace tf
