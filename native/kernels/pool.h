// 2-D window pooling over NCHW planes: max (ONNX MaxPool: explicit pads, dilations, ceil
// mode; padded positions never take part in a max) and average (ONNX AveragePool).
#pragma once
#include <cstdint>

namespace tf {

struct Pool2dParams {
  int64_t kh, kw;      // kernel
  int64_t sh, sw;      // strides (>= 1)
  int64_t pt, pl, pb, pr;  // pads: top, left, bottom, right (>= 0)
  int64_t dh, dw;      // dilations (>= 1)
  bool ceil_mode;
};

// ONNX output length along one axis; < 1 when the window does not fit.
int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end, int64_t d,
                      bool ceil_mode);

// y: [planes, oh, ow] from x: [planes, h, w]; oh/ow must come from pool_out_size. A window
// with no input position in it gives -inf.
void max_pool2d(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, float* y, int64_t oh,
                int64_t ow);

// y: [planes, oh, ow], the mean of each window (same geometry as max_pool2d). The divisor
// is the number of taps inside the input, or with count_include_pad inside the input and
// its explicit pads (see pool_window.h); a window with a divisor of 0 gives NaN.
void avg_pool2d(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, bool count_include_pad,
                float* y, int64_t oh, int64_t ow);

}  // namespace tf
