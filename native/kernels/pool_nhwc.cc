#include "kernels/pool_nhwc.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"
#include "kernels/pool_window.h"

namespace tf {

namespace {

// Runs reduce(pixels, count, scale, out, floats, run, xstride) over every output pixel:
// pixels point at the channel vectors of its window's taps, scale is 1 / the divisor, and a
// run of output pixels whose windows are each the previous one moved by xstride floats goes
// in one call. Parallel over output rows.
//
// Max and sum are separable: where that reads less (stride-1 windows: a 3x3 reads 3 + 3
// vectors per output vector instead of 9), an output row first reduces its window's input
// rows, every input column at once (one "pixel" of w * c floats), into a row v, then each
// output pixel's columns of v. v has the pads' columns around it (pad_value: -inf for a max,
// 0 for a sum) unless the windows reach far past the input, so a row's windows all run whole
// in one call; an average redoes the border pixels whose divisor differs. In-process A/B
// (AVX-512, blocked tensors, 16 channels a pixel): 3x3/1 max on [12,27,27,16] 0.094 ->
// 0.061 ms, [30,14,14,16] 0.070 -> 0.044; at stride 2 (3x3, 2x2) v reads as much as the
// windows straight from x and costs its stores besides (3x3/2 on [4,112,112,16]: 0.105 ms
// separable, 0.092 direct).
template <class Reduce>
void for_each_window(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p,
                     bool count_include_pad, float pad_value, float* y, int64_t oh, int64_t ow, Reduce reduce) {
  const std::vector<AxisWindow> row_windows = axis_windows(oh, h, p.kh, p.sh, p.dh, p.pt, p.pb, count_include_pad);
  const std::vector<AxisWindow> col_windows = axis_windows(ow, w, p.kw, p.sw, p.dw, p.pl, p.pr, count_include_pad);
  // At most min(k, in) taps per axis read distinct input positions (d >= 1).
  const int64_t row_taps = std::min(p.kh, h);
  // Vectors read per output vector: row_taps per input column (w / ow of them) and kw of v,
  // or row_taps * kw straight from x.
  const double rt = static_cast<double>(row_taps), kw = static_cast<double>(p.kw), owd = static_cast<double>(ow);
  const bool separable = row_taps > 1 && rt * static_cast<double>(w) + kw * owd < rt * kw * owd;
  // The padded v's columns: the left pad, the input's, and whatever the last window reaches
  // past them (the right pad, ceil mode's extra window).
  const int64_t span = std::max((ow - 1) * p.sw + (p.kw - 1) * p.dw + 1, p.pl + w);
  const bool pad_columns = separable && span <= 2 * w + 8;
  const int64_t v_columns = pad_columns ? span : w, v_left = pad_columns ? p.pl : 0;
  const int64_t col_taps = pad_columns ? p.kw : std::min(p.kw, w);
  // Output columns [whole_lo, whole_hi) read all kw taps inside the input, with equal divisors.
  int64_t whole_lo = 0, whole_hi = 0;
  for (int64_t ox = 0; ox < ow; ++ox) {
    const AxisWindow& wx = col_windows[ox];
    if (wx.first == 0 && wx.last == p.kw && wx.count == p.kw) {
      if (whole_hi == 0) whole_lo = ox;
      whole_hi = ox + 1;
    }
  }
  const size_t rows = static_cast<size_t>(n * oh), cc = static_cast<size_t>(c);
  const size_t cost = static_cast<size_t>((separable ? row_taps * w + col_taps * ow : row_taps * col_taps * ow) * c);
  parallel_units(rows, cost, [&](size_t r0, size_t r1) {
    std::vector<const float*> in_rows(static_cast<size_t>(row_taps));
    std::vector<const float*> taps(static_cast<size_t>((separable ? 1 : row_taps) * col_taps));
    std::vector<float> v(separable ? static_cast<size_t>(v_columns * c) : 0, pad_value);
    float* v_input = v.data() + v_left * c;  // input column 0 of v
    for (size_t r = r0; r < r1; ++r) {
      const int64_t b = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      const AxisWindow& wy = row_windows[oy];
      const float* xb = x + b * h * w * c;
      float* out = y + static_cast<int64_t>(r) * ow * c;
      size_t src_rows = static_cast<size_t>(wy.last - wy.first);
      for (size_t k = 0; k < src_rows; ++k) {
        in_rows[k] = xb + (wy.start + (wy.first + static_cast<int64_t>(k)) * p.dh) * w * c;
      }
      const float* const* src = in_rows.data();  // the rows whose columns the windows read
      const float* reduced = v_input;
      if (separable) {
        if (src_rows != 1 || pad_columns) {
          reduce(in_rows.data(), src_rows, 1.0f, v_input, static_cast<size_t>(w) * cc, 1, 0);
          src = &reduced;
        }
        src_rows = 1;
      }
      for (int64_t ox = 0; ox < ow;) {
        const AxisWindow& wx = col_windows[ox];
        // In the padded v every window is whole; otherwise a run of whole windows, or one.
        const bool whole = pad_columns || (ox >= whole_lo && ox < whole_hi);
        const int64_t run = !whole ? 1 : pad_columns ? ow : whole_hi - ox;
        const int64_t first = whole ? 0 : wx.first, last = whole ? p.kw : wx.last;
        size_t count = 0;
        for (size_t k = 0; k < src_rows; ++k) {
          for (int64_t kx = first; kx < last; ++kx) taps[count++] = src[k] + (wx.start + kx * p.dw) * c;
        }
        // A divisor of 0 gives 0 * inf = NaN in an average (the mean of nothing).
        const float scale = 1.0f / (static_cast<float>(wy.count) * static_cast<float>(whole ? p.kw : wx.count));
        reduce(taps.data(), count, scale, out + ox * c, cc, static_cast<size_t>(run), static_cast<size_t>(p.sw) * cc);
        ox += run;
      }
      if (!pad_columns || pad_value != 0.0f) continue;  // a max: the pads' -inf never wins
      for (int64_t ox = 0; ox < ow; ++ox) {
        const AxisWindow& wx = col_windows[ox];
        if (wx.count == p.kw) continue;
        for (int64_t kx = 0; kx < p.kw; ++kx) taps[static_cast<size_t>(kx)] = src[0] + (wx.start + kx * p.dw) * c;
        const float scale = 1.0f / (static_cast<float>(wy.count) * static_cast<float>(wx.count));
        reduce(taps.data(), static_cast<size_t>(p.kw), scale, out + ox * c, cc, 1, 0);
      }
    }
  });
}

}  // namespace

void max_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p, bool ignore_nan,
                     float* y, int64_t oh, int64_t ow) {
  const PointwiseTable& pw = pointwise();
  const auto max_rows = ignore_nan ? pw.max_rows_ignore_nan : pw.max_rows;
  for_each_window(x, n, h, w, c, p, false, -std::numeric_limits<float>::infinity(), y, oh, ow,
                  [&](const float* const* pixels, size_t count, float, float* out, size_t floats, size_t run,
                      size_t xstride) { max_rows(pixels, count, out, floats, run, xstride); });
}

void avg_pool2d_nhwc(const float* x, int64_t n, int64_t h, int64_t w, int64_t c, const Pool2dParams& p,
                     bool count_include_pad, float* y, int64_t oh, int64_t ow) {
  const PointwiseTable& pw = pointwise();
  for_each_window(x, n, h, w, c, p, count_include_pad, 0.0f, y, oh, ow,
                  [&](const float* const* pixels, size_t count, float scale, float* out, size_t floats, size_t run,
                      size_t xstride) { pw.sum_rows(pixels, count, scale, out, floats, run, xstride); });
}

}  // namespace tf
