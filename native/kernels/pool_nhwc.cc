#include "kernels/pool_nhwc.h"

#include <algorithm>
#include <vector>

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"
#include "kernels/pool_window.h"

namespace tf {

namespace {

// Runs reduce(pixels, count, scale, out, run, xstride) over every output pixel, where pixels
// point at the channel vectors of the window's input pixels (row-major) and scale is 1 / the
// divisor: for a run of `run` output pixels whose windows lie whole inside the input (each
// the previous one moved by xstride floats), or one pixel. Runs matter when c is small (a
// blocked tensor's 16 lanes): one call per output pixel cost more than its reduction.
// Parallel over output rows.
template <class Reduce>
void for_each_window(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p,
                     bool count_include_pad, float* y, int64_t oh, int64_t ow, Reduce reduce) {
  const std::vector<AxisWindow> row_windows = axis_windows(oh, h, p.kh, p.sh, p.dh, p.pt, p.pb, count_include_pad);
  const std::vector<AxisWindow> col_windows = axis_windows(ow, w, p.kw, p.sw, p.dw, p.pl, p.pr, count_include_pad);
  // Output columns [whole_lo, whole_hi) read all kw taps inside the row, with equal divisors.
  int64_t whole_lo = 0, whole_hi = 0;
  for (int64_t ox = 0; ox < ow; ++ox) {
    const AxisWindow& wx = col_windows[ox];
    if (wx.first == 0 && wx.last == p.kw && wx.count == p.kw) {
      if (whole_hi == 0) whole_lo = ox;
      whole_hi = ox + 1;
    }
  }
  const size_t rows = static_cast<size_t>(n * oh);
  parallel_units(rows, static_cast<size_t>(ow * std::min(p.kh, h) * std::min(p.kw, w) * c), [&](size_t r0, size_t r1) {
    // At most min(k, in) taps per axis read distinct input positions (d >= 1).
    std::vector<const float*> pixels(static_cast<size_t>(std::min(p.kh, h) * std::min(p.kw, w)));
    for (size_t r = r0; r < r1; ++r) {
      const int64_t b = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      const AxisWindow& wy = row_windows[oy];
      const float* xb = x + b * h * w * c;
      float* out = y + static_cast<int64_t>(r) * ow * c;
      for (int64_t ox = 0; ox < ow;) {
        const AxisWindow& wx = col_windows[ox];
        // A run of whole windows (consecutive columns: the window moves sw pixels each).
        const int64_t run = ox >= whole_lo && ox < whole_hi ? whole_hi - ox : 1;
        size_t count = 0;
        for (int64_t ky = wy.first; ky < wy.last; ++ky) {
          const float* in_row = xb + (wy.start + ky * p.dh) * w * c;
          for (int64_t kx = wx.first; kx < wx.last; ++kx) pixels[count++] = in_row + (wx.start + kx * p.dw) * c;
        }
        // A divisor of 0 gives 0 * inf = NaN in an average (the mean of nothing).
        const float scale = 1.0f / (static_cast<float>(wy.count) * static_cast<float>(wx.count));
        reduce(pixels.data(), count, scale, out + ox * c, static_cast<size_t>(run), static_cast<size_t>(p.sw * c));
        ox += run;
      }
    }
  });
}

}  // namespace

void max_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p, bool ignore_nan,
                     float* y, int64_t oh, int64_t ow) {
  const PointwiseTable& pw = pointwise();
  const auto max_rows = ignore_nan ? pw.max_rows_ignore_nan : pw.max_rows;
  for_each_window(x, n, h, w, c, p, false, y, oh, ow,
                  [&](const float* const* pixels, size_t count, float, float* out, size_t run, size_t xstride) {
                    max_rows(pixels, count, out, static_cast<size_t>(c), run, xstride);
                  });
}

void avg_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p,
                     bool count_include_pad, float* y, int64_t oh, int64_t ow) {
  const PointwiseTable& pw = pointwise();
  for_each_window(x, n, h, w, c, p, count_include_pad, y, oh, ow,
                  [&](const float* const* pixels, size_t count, float scale, float* out, size_t run, size_t xstride) {
                    pw.sum_rows(pixels, count, scale, out, static_cast<size_t>(c), run, xstride);
                  });
}

}  // namespace tf
