#include "kernels/resize.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"

namespace tf {

double resize_source_coord(int64_t i, const ResizeAxis& a, CoordMode mode) {
  const double x = static_cast<double>(i);
  const double s = a.scale;
  switch (mode) {
    case CoordMode::kAsymmetric: return x / s;
    case CoordMode::kAlignCorners: {
      // As the ONNX reference: the un-floored output length scale * in.
      const double out_len = s * static_cast<double>(a.in);
      return out_len == 1.0 ? 0.0 : x * static_cast<double>(a.in - 1) / (out_len - 1.0);
    }
    case CoordMode::kPytorchHalfPixel: return a.out == 1 ? -0.5 : (x + 0.5) / s - 0.5;
    case CoordMode::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(a.out) / (s * static_cast<double>(a.in));
      const double center = static_cast<double>(a.in) / 2.0;
      return center * (1.0 - adjustment) + (x + 0.5) / s - 0.5;
    }
    case CoordMode::kHalfPixel:
    default: return (x + 0.5) / s - 0.5;
  }
}

namespace {
// NaN (from extreme scales) maps to 0: an index is always inside [0, n).
int64_t clamp_index(double v, int64_t n) {
  if (!(v > 0)) return 0;
  return v >= static_cast<double>(n - 1) ? n - 1 : static_cast<int64_t>(v);
}
}  // namespace

void resize_nearest_map(const ResizeAxis& a, CoordMode mode, NearestMode nearest, std::vector<int64_t>* idx) {
  idx->resize(static_cast<size_t>(a.out));
  for (int64_t i = 0; i < a.out; ++i) {
    const double c = resize_source_coord(i, a, mode);
    const double f = std::floor(c);
    double pick = c;
    if (c != f) {
      const double r = c - f;
      switch (nearest) {
        case NearestMode::kRoundPreferCeil: pick = r < 0.5 ? f : f + 1; break;
        case NearestMode::kFloor: pick = f; break;
        case NearestMode::kCeil: pick = f + 1; break;
        case NearestMode::kRoundPreferFloor:
        default: pick = r <= 0.5 ? f : f + 1; break;
      }
    }
    (*idx)[static_cast<size_t>(i)] = clamp_index(pick, a.in);
  }
}

void resize_linear_map(const ResizeAxis& a, CoordMode mode, std::vector<int64_t>* i0, std::vector<int64_t>* i1,
                       std::vector<float>* t) {
  const size_t n = static_cast<size_t>(a.out);
  i0->resize(n);
  i1->resize(n);
  t->resize(n);
  for (size_t i = 0; i < n; ++i) {
    const double c = resize_source_coord(static_cast<int64_t>(i), a, mode);
    const double f = std::floor(c);
    (*i0)[i] = clamp_index(f, a.in);
    (*i1)[i] = clamp_index(f + 1, a.in);
    (*t)[i] = static_cast<float>(c - f);
  }
}

void resize2d(const float* x, int64_t planes, const ResizeAxis& ay, const ResizeAxis& ax, ResizeMode mode,
              CoordMode coord, NearestMode nearest, float* y) {
  const int64_t h = ay.in, w = ax.in, oh = ay.out, ow = ax.out;
  if (planes == 0 || oh == 0 || ow == 0) return;
  const size_t rows = static_cast<size_t>(planes * oh);
  if (mode == ResizeMode::kNearest) {
    std::vector<int64_t> iy, ix;
    resize_nearest_map(ay, coord, nearest, &iy);
    resize_nearest_map(ax, coord, nearest, &ix);
    parallel_units(rows, static_cast<size_t>(ow), [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
        float* out = y + static_cast<int64_t>(r) * ow;
        if (r > r0 && oy > 0 && iy[oy] == iy[oy - 1]) {
          std::memcpy(out, out - ow, static_cast<size_t>(ow) * sizeof(float));  // same source row
          continue;
        }
        const float* in = x + (plane * h + iy[oy]) * w;
        for (int64_t i = 0; i < ow; ++i) out[i] = in[ix[i]];
      }
    });
    return;
  }
  std::vector<int64_t> y0, y1, x0, x1;
  std::vector<float> ty, tx;
  resize_linear_map(ay, coord, &y0, &y1, &ty);
  resize_linear_map(ax, coord, &x0, &x1, &tx);
  const PointwiseTable& pw = pointwise();
  parallel_units(rows, static_cast<size_t>(3 * ow), [&](size_t r0, size_t r1) {
    std::vector<float> top(static_cast<size_t>(ow)), bottom(static_cast<size_t>(ow));
    auto horizontal = [&](const float* in, float* dst) {
      for (int64_t i = 0; i < ow; ++i) {
        const float a = in[x0[i]], b = in[x1[i]];
        dst[i] = a + tx[i] * (b - a);
      }
    };
    for (size_t r = r0; r < r1; ++r) {
      const int64_t plane = static_cast<int64_t>(r) / oh, oy = static_cast<int64_t>(r) % oh;
      const float* base = x + plane * h * w;
      horizontal(base + y0[oy] * w, top.data());
      horizontal(base + y1[oy] * w, bottom.data());
      pw.lerp(top.data(), bottom.data(), ty[oy], y + static_cast<int64_t>(r) * ow, static_cast<size_t>(ow));
    }
  });
}

}  // namespace tf
