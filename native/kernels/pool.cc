#include "kernels/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"

namespace tf {

namespace {
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }
}  // namespace

int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end, int64_t d,
                      bool ceil_mode) {
  // As ONNX: a negative span still gives one window in ceil mode when it is short of s.
  const int64_t span = in + pad_begin + pad_end - ((k - 1) * d + 1);
  int64_t out = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
  // In ceil mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

void max_pool2d(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, float* y, int64_t oh,
                int64_t ow) {
  const PointwiseTable& pw = pointwise();
  const size_t rows = static_cast<size_t>(planes * oh);
  parallel_units(rows, static_cast<size_t>(ow * p.kh * p.kw), [&](size_t r0, size_t r1) {
    // Separable: the max over the window's rows first (whole input rows, contiguous, so
    // vectorised at any stride), then over its columns: kh + kw row passes instead of kh * kw.
    std::vector<float> colmax(static_cast<size_t>(w));
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      float* out = y + static_cast<int64_t>(r) * ow;
      std::fill(out, out + ow, -std::numeric_limits<float>::infinity());
      bool any_row = false;
      for (int64_t ky = 0; ky < p.kh; ++ky) {
        const int64_t iy = oy * p.sh - p.pt + ky * p.dh;
        if (iy < 0 || iy >= h) continue;
        const float* in = x + (plane * h + iy) * w;
        if (any_row) {
          pw.max_acc(colmax.data(), in, 1, static_cast<size_t>(w));
        } else {
          std::copy(in, in + w, colmax.begin());
          any_row = true;
        }
      }
      if (!any_row) continue;  // the window lies in the padding: -inf, as padding never wins
      for (int64_t kx = 0; kx < p.kw; ++kx) {
        // Tap column kx: output columns [lo, hi) read input columns inside [0, w).
        const int64_t off = kx * p.dw - p.pl;
        const int64_t lo = std::clamp<int64_t>(ceil_div(-off, p.sw), 0, ow);
        const int64_t hi = std::clamp<int64_t>(floor_div(w - 1 - off, p.sw) + 1, lo, ow);
        if (lo >= hi) continue;
        pw.max_acc(out + lo, colmax.data() + lo * p.sw + off, static_cast<size_t>(p.sw), static_cast<size_t>(hi - lo));
      }
    }
  });
}

}  // namespace tf
