#include "kernels/conv2d/blocked_layout.h"

#include <algorithm>

#include "kernels/conv2d/conv_scratch.h"

namespace tf {

namespace {

// Pixels per pass: one pass reads `lanes` runs of this many floats (one per channel) and
// writes one contiguous run, so both sides stream whole cache lines.
constexpr int64_t kPixelRun = 64;

// Calls fn(image, block) for every channel block of every image, on the pool.
template <class Fn>
void for_blocks(int64_t n, int64_t blocks, int64_t hw, int64_t lanes, Fn&& fn) {
  const double work = static_cast<double>(n * blocks * hw * lanes);
  parallel(static_cast<size_t>(n * blocks), work, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) fn(static_cast<int64_t>(b) / blocks, static_cast<int64_t>(b) % blocks);
  }, true);
}

}  // namespace

void nchw_to_blocked(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y) {
  const int64_t blocks = (c + lanes - 1) / lanes;
  for_blocks(n, blocks, hw, lanes, [&](int64_t img, int64_t cb) {
    const int64_t c0 = cb * lanes, used = std::min(lanes, c - c0);
    const float* xb = x + (img * c + c0) * hw;
    float* yb = y + (img * blocks + cb) * hw * lanes;
    for (int64_t q0 = 0; q0 < hw; q0 += kPixelRun) {
      const int64_t q1 = std::min(hw, q0 + kPixelRun);
      for (int64_t q = q0; q < q1; ++q) {
        float* yq = yb + q * lanes;
        for (int64_t l = 0; l < used; ++l) yq[l] = xb[l * hw + q];
        for (int64_t l = used; l < lanes; ++l) yq[l] = 0.0f;
      }
    }
  });
}

void blocked_to_nchw(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y) {
  const int64_t blocks = (c + lanes - 1) / lanes;
  for_blocks(n, blocks, hw, lanes, [&](int64_t img, int64_t cb) {
    const int64_t c0 = cb * lanes, used = std::min(lanes, c - c0);
    const float* xb = x + (img * blocks + cb) * hw * lanes;
    float* yb = y + (img * c + c0) * hw;
    for (int64_t q0 = 0; q0 < hw; q0 += kPixelRun) {
      const int64_t q1 = std::min(hw, q0 + kPixelRun);
      for (int64_t l = 0; l < used; ++l) {
        float* yl = yb + l * hw;
        for (int64_t q = q0; q < q1; ++q) yl[q] = xb[q * lanes + l];
      }
    }
  });
}

}  // namespace tf
