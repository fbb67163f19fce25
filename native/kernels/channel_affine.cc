#include "kernels/channel_affine.h"

#include <algorithm>

#include "kernels/pointwise.h"

namespace tf {

void channel_affine(float* y, const float* x, size_t n, float scale, float shift, bool relu) {
  if (relu) {
    // NaN stays NaN, as in relu().
    for (size_t i = 0; i < n; ++i) {
      const float v = x[i] * scale + shift;
      y[i] = !(v <= 0.0f) ? v : 0.0f;
    }
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale + shift;
  }
}

namespace {

// One row of c channels: y[i] = x[i] * scale[i] + shift[i] (max(0, .) with relu).
void channel_affine_row(float* y, const float* x, size_t c, const float* scale, const float* shift, bool relu) {
  if (relu) {
    for (size_t i = 0; i < c; ++i) {
      const float v = x[i] * scale[i] + shift[i];
      y[i] = !(v <= 0.0f) ? v : 0.0f;
    }
  } else {
    for (size_t i = 0; i < c; ++i) y[i] = x[i] * scale[i] + shift[i];
  }
}

}  // namespace

void channel_affine_planes(const float* x, int64_t n, int64_t c, int64_t hw, const float* scale, const float* shift,
                           bool relu, float* y) {
  if (hw == 1) {
    const size_t cs = static_cast<size_t>(c);
    parallel_units(static_cast<size_t>(n), cs, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) channel_affine_row(y + r * cs, x + r * cs, cs, scale, shift, relu);
    });
    return;
  }
  const size_t plane = static_cast<size_t>(hw);
  parallel_units(static_cast<size_t>(n * c), plane, [&](size_t p0, size_t p1) {
    for (size_t p = p0; p < p1; ++p) {
      const size_t ch = p % static_cast<size_t>(c);
      channel_affine(y + p * plane, x + p * plane, plane, scale[ch], shift[ch], relu);
    }
  });
}

}  // namespace tf
