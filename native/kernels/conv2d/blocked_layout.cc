#include "kernels/conv2d/blocked_layout.h"

#include <algorithm>
#include <cstring>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "kernels/conv2d/conv_scratch.h"

namespace tf {

namespace {

// Calls fn(image, block) for every channel block of every image, on the pool.
template <class Fn>
void for_blocks(int64_t n, int64_t blocks, int64_t floats_per_block, Fn&& fn) {
  const double work = static_cast<double>(n * blocks * floats_per_block);
  parallel(static_cast<size_t>(n * blocks), work, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) fn(static_cast<int64_t>(b) / blocks, static_cast<int64_t>(b) % blocks);
  }, true);
}

// Moves `used` channels of `pixels` pixels between one channel block and its NCHW planes,
// block[q * lanes + l] <-> planes[l * stride + q]: kToBlocked, src is the planes and dst the
// block (its lanes past `used` zeroed); else the other way round. SSE2 (the baseline) moves
// 4 x 4 squares, every load and store a run of 4 floats.
template <bool kToBlocked>
void move_block(const float* src, float* dst, int64_t stride, int64_t used, int64_t pixels, int64_t lanes) {
  auto in_block = [&](int64_t q, int64_t l) { return q * lanes + l; };
  auto in_planes = [&](int64_t q, int64_t l) { return l * stride + q; };
  auto one = [&](int64_t q, int64_t l) {
    if (kToBlocked) {
      dst[in_block(q, l)] = src[in_planes(q, l)];
    } else {
      dst[in_planes(q, l)] = src[in_block(q, l)];
    }
  };
  int64_t q = 0;
#if defined(__SSE2__)
  const int64_t used4 = used & ~int64_t{3};
  // 4 runs of 4 from `from` (`from_step` apart) to 4 runs of 4 at `to` (`to_step` apart), transposed.
  auto square = [](const float* from, int64_t from_step, float* to, int64_t to_step) {
    __m128 r0 = _mm_loadu_ps(from), r1 = _mm_loadu_ps(from + from_step), r2 = _mm_loadu_ps(from + 2 * from_step),
           r3 = _mm_loadu_ps(from + 3 * from_step);
    _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
    _mm_storeu_ps(to, r0);
    _mm_storeu_ps(to + to_step, r1);
    _mm_storeu_ps(to + 2 * to_step, r2);
    _mm_storeu_ps(to + 3 * to_step, r3);
  };
  for (; q + 4 <= pixels; q += 4) {
    for (int64_t l = 0; l < used4; l += 4) {
      if (kToBlocked) {
        square(src + in_planes(q, l), stride, dst + in_block(q, l), lanes);
      } else {
        square(src + in_block(q, l), lanes, dst + in_planes(q, l), stride);
      }
    }
    for (int64_t i = 0; i < 4; ++i) {
      for (int64_t l = used4; l < used; ++l) one(q + i, l);
    }
  }
#endif
  for (; q < pixels; ++q) {
    for (int64_t l = 0; l < used; ++l) one(q, l);
  }
  if (kToBlocked && used < lanes) {
    for (int64_t p = 0; p < pixels; ++p) std::fill(dst + p * lanes + used, dst + (p + 1) * lanes, 0.0f);
  }
}

// One zero-bordered blocked plane at dst, [h + pt + pb][w + pl + pr][lanes]: the border
// zeroed, row r's w pixels written by fill_row(r, first pixel of that row inside the border).
template <class FillRow>
void padded_plane(float* dst, int64_t h, int64_t w, const int64_t pads[4], int64_t lanes, FillRow&& fill_row) {
  const size_t padded_row = static_cast<size_t>((w + pads[1] + pads[3]) * lanes);
  const size_t left = static_cast<size_t>(pads[1] * lanes), right = static_cast<size_t>(pads[3] * lanes);
  std::memset(dst, 0, sizeof(float) * padded_row * static_cast<size_t>(pads[0]));
  for (int64_t r = 0; r < h; ++r) {
    float* d = dst + static_cast<size_t>(pads[0] + r) * padded_row;
    std::memset(d, 0, sizeof(float) * left);
    fill_row(r, d + left);
    std::memset(d + left + static_cast<size_t>(w * lanes), 0, sizeof(float) * right);
  }
  std::memset(dst + static_cast<size_t>(pads[0] + h) * padded_row, 0, sizeof(float) * padded_row * static_cast<size_t>(pads[2]));
}

}  // namespace

void nchw_to_blocked(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y) {
  const int64_t blocks = (c + lanes - 1) / lanes;
  for_blocks(n, blocks, hw * lanes, [&](int64_t img, int64_t cb) {
    const int64_t c0 = cb * lanes;
    move_block<true>(x + (img * c + c0) * hw, y + (img * blocks + cb) * hw * lanes, hw, std::min(lanes, c - c0), hw, lanes);
  });
}

void nchw_to_blocked_padded(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, const int64_t pads[4],
                            int64_t lanes, float* y) {
  const int64_t blocks = (c + lanes - 1) / lanes;
  const int64_t hp = h + pads[0] + pads[2], wp = w + pads[1] + pads[3];
  for_blocks(n, blocks, hp * wp * lanes, [&](int64_t img, int64_t cb) {
    const int64_t c0 = cb * lanes, used = std::min(lanes, c - c0);
    const float* xb = x + (img * c + c0) * h * w;
    padded_plane(y + (img * blocks + cb) * hp * wp * lanes, h, w, pads, lanes,
                 [&](int64_t r, float* d) { move_block<true>(xb + r * w, d, h * w, used, w, lanes); });
  });
}

void blocked_to_nchw(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y) {
  const int64_t blocks = (c + lanes - 1) / lanes;
  for_blocks(n, blocks, hw * lanes, [&](int64_t img, int64_t cb) {
    const int64_t c0 = cb * lanes;
    move_block<false>(x + (img * blocks + cb) * hw * lanes, y + (img * c + c0) * hw, hw, std::min(lanes, c - c0), hw, lanes);
  });
}

void pad_blocked(const float* x, int64_t n, int64_t blocks, int64_t h, int64_t w, const int64_t pads[4], int64_t lanes,
                 float* dst) {
  const int64_t hp = h + pads[0] + pads[2], wp = w + pads[1] + pads[3];
  const size_t row = static_cast<size_t>(w * lanes);
  for_blocks(n, blocks, hp * wp * lanes, [&](int64_t img, int64_t cb) {
    const float* xb = x + (img * blocks + cb) * h * w * lanes;
    padded_plane(dst + (img * blocks + cb) * hp * wp * lanes, h, w, pads, lanes,
                 [&](int64_t r, float* d) { std::memcpy(d, xb + static_cast<size_t>(r) * row, sizeof(float) * row); });
  });
}

void subsample_blocked(const float* x, int64_t planes, int64_t h, int64_t w, int64_t sh, int64_t sw, int64_t lanes,
                       float* dst) {
  const int64_t oh = (h - 1) / sh + 1, ow = (w - 1) / sw + 1;
  for_blocks(1, planes, oh * ow * lanes, [&](int64_t, int64_t pl) {
    float* d = dst + pl * oh * ow * lanes;
    for (int64_t r = 0; r < oh; ++r) {
      const float* src = x + (pl * h + r * sh) * w * lanes;
      for (int64_t c = 0; c < ow; ++c, d += lanes) std::memcpy(d, src + c * sw * lanes, sizeof(float) * static_cast<size_t>(lanes));
    }
  });
}

}  // namespace tf
