#include "kernels/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "kernels/global_pool.h"
#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"
#include "kernels/pool_window.h"

namespace tf {

int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t pad_begin, int64_t pad_end, int64_t d,
                      bool ceil_mode) {
  // As ONNX: a negative span still gives one window in ceil mode when it is short of s.
  const int64_t span = in + pad_begin + pad_end - ((k - 1) * d + 1);
  int64_t out = (ceil_mode ? ceil_div(span, s) : floor_div(span, s)) + 1;
  // In ceil mode the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * s >= in + pad_begin) --out;
  return out;
}

namespace {

// Output columns [lo, hi) whose column tap reads input columns inside [0, w), starting at
// input column lo * sw + off: one accumulator call of the column pass.
struct TapColumns {
  int64_t lo, hi, off;
};

// The column pass of separable pooling, planned once per call (the same for every output
// row, so no division is left in the row loop): out[ox] = acc(out[ox], row[ox * sw - pl +
// kx * dw]) for every tap kx that reads the row, in increasing kx.
class ColumnPlan {
 public:
  ColumnPlan(int64_t w, int64_t ow, const Pool2dParams& p) : w_(w), ow_(ow), p_(p) {
    // Only taps with kx * dw in [pl - (ow - 1) * sw, pl + w - 1] read some column.
    const int64_t kx0 = std::max<int64_t>(0, ceil_div(p.pl - (ow - 1) * p.sw, p.dw));
    const int64_t kx1 = std::min<int64_t>(p.kw, floor_div(p.pl + w - 1, p.dw) + 1);
    if (kx1 - kx0 <= 4 * (w + ow)) {
      // One call per tap over its output range at the pool's stride.
      for (int64_t kx = kx0; kx < kx1; ++kx) {
        const int64_t off = kx * p.dw - p.pl;
        const int64_t lo = std::clamp<int64_t>(ceil_div(-off, p.sw), 0, ow);
        const int64_t hi = std::clamp<int64_t>(floor_div(w - 1 - off, p.sw) + 1, lo, ow);
        if (lo < hi) calls_.push_back({lo, hi, off});
      }
      return;
    }
    per_output_ = true;
  }

  // acc is a PointwiseTable accumulator (max_acc, sum_acc).
  template <class Acc>
  void run(float* out, const float* row, Acc acc) const {
    if (per_output_) {
      // Pads and strides near 2^31 leave most taps reading nothing: walk the outputs and
      // only the taps each one reads (at most w), so the work stays bounded by the sizes.
      for (int64_t ox = 0; ox < ow_; ++ox) {
        const AxisWindow wx = axis_window(ox, w_, p_.kw, p_.sw, p_.dw, p_.pl, p_.pr, false);
        for (int64_t kx = wx.first; kx < wx.last; ++kx) acc(out + ox, row + wx.start + kx * p_.dw, 1, 1);
      }
      return;
    }
    for (const TapColumns& c : calls_) {
      acc(out + c.lo, row + c.lo * p_.sw + c.off, static_cast<size_t>(p_.sw), static_cast<size_t>(c.hi - c.lo));
    }
  }

 private:
  int64_t w_, ow_;
  Pool2dParams p_;
  bool per_output_ = false;
  std::vector<TapColumns> calls_;
};

// The row pass: buf = acc over the window's input rows [first, last) of one plane (whole
// rows, contiguous, so vectorised at any stride). The window has at least one row.
template <class Acc>
void row_pass(float* buf, const float* plane_x, int64_t w, const AxisWindow& wy, int64_t dh, Acc acc) {
  const float* first = plane_x + (wy.start + wy.first * dh) * w;
  std::copy(first, first + w, buf);
  for (int64_t ky = wy.first + 1; ky < wy.last; ++ky) acc(buf, plane_x + (wy.start + ky * dh) * w, 1, static_cast<size_t>(w));
}

// One window that is the whole plane (ResNet's final 7x7 average pool): a global pool,
// one vector reduction per plane instead of the separable passes' scalar column work.
bool whole_plane(int64_t h, int64_t w, const Pool2dParams& p, int64_t oh, int64_t ow) {
  return oh == 1 && ow == 1 && p.kh == h && p.kw == w && p.dh == 1 && p.dw == 1 && p.pt == 0 && p.pl == 0 &&
         p.pb == 0 && p.pr == 0;
}

// 2x2 windows at stride 2, all inside the input (DenseNet's transition AveragePool, U-Net's
// MaxPool): each output reads two adjacent pairs. The separable passes cost a few calls per
// output row, most of the time at these sizes; one plain loop per row vectorises instead.
bool pairs_2x2(int64_t h, int64_t w, const Pool2dParams& p, int64_t oh, int64_t ow) {
  return p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1 && p.pt == 0 && p.pl == 0 &&
         p.pb == 0 && p.pr == 0 && 2 * oh <= h && 2 * ow <= w;
}

// y[plane, oy, ox] = combine(the 2x2 window at (2 oy, 2 ox)), planes x oh rows in parallel.
template <class Combine>
void pool_pairs_2x2(const float* x, int64_t planes, int64_t h, int64_t w, float* y, int64_t oh, int64_t ow,
                    Combine combine) {
  parallel_units(static_cast<size_t>(planes * oh), static_cast<size_t>(4 * ow), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      const float* __restrict a = x + (plane * h + 2 * oy) * w;
      const float* __restrict b = a + w;
      float* __restrict out = y + static_cast<int64_t>(r) * ow;
      for (int64_t ox = 0; ox < ow; ++ox) out[ox] = combine(a[2 * ox], a[2 * ox + 1], b[2 * ox], b[2 * ox + 1]);
    }
  });
}

// max(m, a) where a NaN wins (ONNX), as pw.max_acc; branch-free so loops over it vectorise.
inline float max_nan(float m, float a) { return m != m ? m : (!(a <= m) ? a : m); }

// 3x3 windows at stride 1 with one pixel of padding all round (the output the input's
// size: Inception's branch pools): whole planes at once, each a long vector for the ISA's
// max, instead of a few calls of a few dozen floats per output row (4-6x slower on 14x14
// and 28x28 maps). Rows: V = max(x, x one row up, x one row down) over the shifted plane;
// columns the same over V shifted by one, then each row's first and last outputs redone
// (the shifted max reads the neighbouring row's end there).
bool same_3x3(int64_t h, int64_t w, const Pool2dParams& p, int64_t oh, int64_t ow) {
  return p.kh == 3 && p.kw == 3 && p.sh == 1 && p.sw == 1 && p.dh == 1 && p.dw == 1 && p.pt == 1 && p.pl == 1 &&
         p.pb == 1 && p.pr == 1 && oh == h && ow == w && h >= 2 && w >= 2;
}

void max_pool_same_3x3(const float* x, int64_t planes, int64_t h, int64_t w, float* y) {
  const PointwiseTable& pw = pointwise();
  const size_t hw = static_cast<size_t>(h * w), row = static_cast<size_t>(w);
  parallel_units(static_cast<size_t>(planes), 6 * hw, [&](size_t q0, size_t q1) {
    std::vector<float> rows(hw);
    float* v = rows.data();
    for (size_t q = q0; q < q1; ++q) {
      const float* xp = x + q * hw;
      float* out = y + q * hw;
      std::copy(xp, xp + hw, v);
      pw.max_acc(v + row, xp, 1, hw - row);  // row r takes row r - 1
      pw.max_acc(v, xp + row, 1, hw - row);  // row r takes row r + 1
      std::copy(v, v + hw, out);
      pw.max_acc(out + 1, v, 1, hw - 1);  // column c takes c - 1
      pw.max_acc(out, v + 1, 1, hw - 1);  // column c takes c + 1
      for (size_t r = 0; r < hw; r += row) {
        out[r] = max_nan(v[r], v[r + 1]);
        out[r + row - 1] = max_nan(v[r + row - 2], v[r + row - 1]);
      }
    }
  });
}

// 3x3 windows at stride 2, padded by at most 1 (the stem pools of ResNet and DenseNet,
// Inception's and SqueezeNet's stage pools): the outputs whose window lies inside the row
// take one vectorised pass over the window's rows (max3x3_s2_row); the rest (the padding
// and ceil-mode edges, top and bottom rows with fewer than 3 input rows) their taps one by
// one. Before/after builds run alternately (AVX-512, 1 thread, us): SqueezeNet's pools
// [64,111,111] 559-731 -> 408-445, [128,55,55] 415-445 -> 178-181, [256,27,27] 564-594 ->
// 183-195; ResNet's [64,112,112] pad 1 621-780 -> 405-425 (a separate pass per step before:
// the rows' max, two column maxes, the even pick, through the pointwise table each).
bool stride2_3x3(const Pool2dParams& p) {
  return p.kh == 3 && p.kw == 3 && p.sh == 2 && p.sw == 2 && p.dh == 1 && p.dw == 1 && p.pt <= 1 && p.pl <= 1;
}

void max_pool_3x3_s2(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, float* y,
                     int64_t oh, int64_t ow) {
  const PointwiseTable& pw = pointwise();
  const std::vector<AxisWindow> rows = axis_windows(oh, h, 3, 2, 1, p.pt, p.pb, false);
  const std::vector<AxisWindow> cols = axis_windows(ow, w, 3, 2, 1, p.pl, p.pr, false);
  int64_t in0 = 0, in1 = ow;  // outputs whose three columns all lie in the row
  while (in0 < ow && cols[in0].last - cols[in0].first < 3) ++in0;
  while (in1 > in0 && cols[in1 - 1].last - cols[in1 - 1].first < 3) --in1;
  const float lowest = -std::numeric_limits<float>::infinity();
  const size_t total = static_cast<size_t>(planes * oh);
  parallel_units(total, static_cast<size_t>(3 * w), [&](size_t r0, size_t r1) {
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      float* out = y + static_cast<int64_t>(r) * ow;
      const AxisWindow& wy = rows[oy];
      if (wy.first >= wy.last) {  // the window lies in the padding
        std::fill(out, out + ow, lowest);
        continue;
      }
      // The window's input rows (1 to 3; a row repeated changes no max).
      const float* in[3];
      for (int64_t k = 0; k < 3; ++k) {
        in[k] = x + (plane * h + wy.start + std::min<int64_t>(wy.first + k, wy.last - 1)) * w;
      }
      auto edge = [&](int64_t ox) {
        float m = lowest;
        for (int64_t k = 0; k < 3; ++k) {
          for (int64_t c = cols[ox].first; c < cols[ox].last; ++c) m = max_nan(m, in[k][cols[ox].start + c]);
        }
        out[ox] = m;
      };
      for (int64_t ox = 0; ox < std::min(in0, ow); ++ox) edge(ox);
      if (in0 < in1) {
        // Output ox's window starts at column 2 ox - pl.
        const float* start[3] = {in[0] + 2 * in0 - p.pl, in[1] + 2 * in0 - p.pl, in[2] + 2 * in0 - p.pl};
        pw.max3x3_s2_row(start, static_cast<size_t>(in1 - in0), out + in0);
      }
      for (int64_t ox = std::max(in0, in1); ox < ow; ++ox) edge(ox);
    }
  });
}

}  // namespace

void max_pool2d(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, float* y, int64_t oh,
                int64_t ow) {
  if (whole_plane(h, w, p, oh, ow)) {
    global_pool(GlobalPoolOp::kMax, x, planes, h * w, y);
    return;
  }
  if (same_3x3(h, w, p, oh, ow)) {
    max_pool_same_3x3(x, planes, h, w, y);
    return;
  }
  if (stride2_3x3(p)) {
    max_pool_3x3_s2(x, planes, h, w, p, y, oh, ow);
    return;
  }
  if (pairs_2x2(h, w, p, oh, ow)) {
    pool_pairs_2x2(x, planes, h, w, y, oh, ow, [](float a, float b, float c, float d) { return max_nan(max_nan(max_nan(a, b), c), d); });
    return;
  }
  const PointwiseTable& pw = pointwise();
  const ColumnPlan columns(w, ow, p);
  const std::vector<AxisWindow> windows = axis_windows(oh, h, p.kh, p.sh, p.dh, p.pt, p.pb, false);
  const size_t rows = static_cast<size_t>(planes * oh);
  parallel_units(rows, static_cast<size_t>(ow * std::min(p.kh, h) * std::min(p.kw, w)), [&](size_t r0, size_t r1) {
    // Separable: the max over the window's rows first (whole input rows, contiguous, so
    // vectorised at any stride), then over its columns: kh + kw row passes instead of kh * kw.
    std::vector<float> colmax(static_cast<size_t>(w));
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      float* out = y + static_cast<int64_t>(r) * ow;
      std::fill(out, out + ow, -std::numeric_limits<float>::infinity());
      const AxisWindow& wy = windows[oy];
      if (wy.first >= wy.last) continue;  // the window lies in the padding: -inf, as padding never wins
      row_pass(colmax.data(), x + plane * h * w, w, wy, p.dh, pw.max_acc);
      columns.run(out, colmax.data(), pw.max_acc);
    }
  });
}

void avg_pool2d(const float* x, int64_t planes, int64_t h, int64_t w, const Pool2dParams& p, bool count_include_pad,
                float* y, int64_t oh, int64_t ow) {
  if (whole_plane(h, w, p, oh, ow)) {  // no padding: count_include_pad changes nothing
    global_pool(GlobalPoolOp::kAvg, x, planes, h * w, y);
    return;
  }
  if (pairs_2x2(h, w, p, oh, ow)) {  // no padding: count_include_pad changes nothing
    pool_pairs_2x2(x, planes, h, w, y, oh, ow, [](float a, float b, float c, float d) { return (((a + b) + c) + d) * 0.25f; });
    return;
  }
  const PointwiseTable& pw = pointwise();
  // Column divisors, the same for every output row.
  const std::vector<AxisWindow> col_windows = axis_windows(ow, w, p.kw, p.sw, p.dw, p.pl, p.pr, count_include_pad);
  const ColumnPlan columns(w, ow, p);
  const std::vector<AxisWindow> windows = axis_windows(oh, h, p.kh, p.sh, p.dh, p.pt, p.pb, count_include_pad);
  const size_t rows = static_cast<size_t>(planes * oh);
  parallel_units(rows, static_cast<size_t>(ow * std::min(p.kh, h) * std::min(p.kw, w)), [&](size_t r0, size_t r1) {
    // Separable like max_pool2d: sum the window's input rows (contiguous), then its columns
    // at the pool's stride, then scale each output by 1 / (row count * column count).
    std::vector<float> rowsum(static_cast<size_t>(w));
    std::vector<float> scale(static_cast<size_t>(ow));
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      float* out = y + static_cast<int64_t>(r) * ow;
      const AxisWindow& wy = windows[oy];
      std::fill(out, out + ow, 0.0f);
      if (wy.first < wy.last) {
        row_pass(rowsum.data(), x + plane * h * w, w, wy, p.dh, pw.sum_acc);
        columns.run(out, rowsum.data(), pw.sum_acc);
      }
      // A divisor of 0 (no tap counted) gives 0 * inf = NaN, the mean of nothing.
      const float row_count = static_cast<float>(wy.count);
      for (int64_t ox = 0; ox < ow; ++ox) scale[ox] = 1.0f / (row_count * static_cast<float>(col_windows[ox].count));
      pw.mul_inplace(out, scale.data(), static_cast<size_t>(ow));
    }
  });
}

}  // namespace tf
