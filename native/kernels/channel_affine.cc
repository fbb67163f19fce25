#include "kernels/channel_affine.h"

#include <algorithm>

#include "kernels/pointwise.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {

// y[i] = x[i] * scale(i) + shift(i), then max(0, .) with relu (NaN stays NaN, as in relu()).
template <class Scale, class Shift>
void affine_run(float* y, const float* x, size_t n, Scale scale, Shift shift, bool relu) {
  if (relu) {
    for (size_t i = 0; i < n; ++i) {
      const float v = x[i] * scale(i) + shift(i);
      y[i] = !(v <= 0.0f) ? v : 0.0f;
    }
  } else {
    for (size_t i = 0; i < n; ++i) y[i] = x[i] * scale(i) + shift(i);
  }
}

}  // namespace

void channel_affine(float* y, const float* x, size_t n, float scale, float shift, bool relu) {
  affine_run(y, x, n, [=](size_t) { return scale; }, [=](size_t) { return shift; }, relu);
}

void channel_affine_planes(const float* x, int64_t n, int64_t c, int64_t hw, const float* scale, const float* shift,
                           bool relu, float* y) {
  if (hw == 1) {
    const size_t cs = static_cast<size_t>(c);
    parallel_units(static_cast<size_t>(n), cs, [&](size_t r0, size_t r1) {
      const auto scale_at = [&](size_t i) { return scale[i]; };
      const auto shift_at = [&](size_t i) { return shift[i]; };
      for (size_t r = r0; r < r1; ++r) affine_run(y + r * cs, x + r * cs, cs, scale_at, shift_at, relu);
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

void channel_affine_blocked(const float* x, int64_t n, int64_t c, int64_t hw, const float* scale, const float* shift,
                            bool relu, float* y) {
  const ConvUkernels& uk = ukernels().conv;
  const size_t lanes = uk.vector_lanes, blocks = static_cast<size_t>(c) / lanes, plane = static_cast<size_t>(hw) * lanes;
  parallel_units(static_cast<size_t>(n) * blocks, plane, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const size_t c0 = b % blocks * lanes;
      uk.blocked_affine(x + b * plane, static_cast<size_t>(hw), scale + c0, shift + c0, relu, y + b * plane);
    }
  });
}

}  // namespace tf
