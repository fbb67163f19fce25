// Splitting an input row into the column phases of a strided conv's padded copy, all
// phases in one pass over the row; copying one phase of a run. Internal to native/kernels/conv2d.
#pragma once
#include <algorithm>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tf {

// Phase b (b < sw) of the padded row gets padded[v * sw + b] at dst[b][v], v < wph, where
// padded[j] = s[j - pl] for 0 <= j - pl < w and 0 elsewhere. With add, the row's values
// are added instead and the padding is left alone. Only s[0 .. w) is read.
//
// Column phase b alone is a strided gather (one float per load); a stride-4 row read
// phase by phase was most of the copy Winograd F(4x4) makes (17 % of a 64-channel conv).
// SSE2 (every x86-64; the ISA-independent code is built for that baseline) reads 4 * sw
// floats and deinterleaves them into 4 of each phase for sw = 2 and 4. Rows are short (a
// Winograd band's phase rows are ~15 columns), so the bounds are computed once per plane.
class ColumnPhases {
 public:
  ColumnPhases(int64_t w, int64_t pl, int64_t sw, int64_t wph) : w_(w), pl_(pl), sw_(sw), wph_(wph) {
    // Columns v whose every phase lies inside the row: v * sw - pl >= 0, v * sw + sw - 1 - pl < w.
    v_lo_ = std::min(wph, (pl + sw - 1) / sw);
    v_hi_ = std::max(v_lo_, std::min(wph, w + pl - sw >= 0 ? (w + pl - sw) / sw + 1 : 0));
  }

  void split(const float* s, float* const* dst, bool add) const {
    edge(s, dst, add, 0, v_lo_);
    int64_t v = v_lo_;
    if (sw_ == 1) {
      if (add) {
        for (; v < v_hi_; ++v) dst[0][v] += s[v - pl_];
      } else {
        std::memcpy(dst[0] + v, s + v - pl_, sizeof(float) * static_cast<size_t>(v_hi_ - v));
        v = v_hi_;
      }
    }
#if defined(__SSE2__)
    if (sw_ == 2 || sw_ == 4) v = add ? split_sse<true>(s, dst, v) : split_sse<false>(s, dst, v);
#endif
    for (; v < v_hi_; ++v) {
      for (int64_t b = 0; b < sw_; ++b) dst[b][v] = add ? dst[b][v] + s[v * sw_ + b - pl_] : s[v * sw_ + b - pl_];
    }
    edge(s, dst, add, v_hi_, wph_);
  }

 private:
#if defined(__SSE2__)
  template <bool kAdd>
  static void store(float* d, __m128 x) {
    _mm_storeu_ps(d, kAdd ? _mm_add_ps(_mm_loadu_ps(d), x) : x);
  }
  // Columns from v in groups of 4 while they lie inside the row; returns the first column
  // left. The phase pointers are copied first: stores through dst[b] could otherwise alias
  // dst itself, and the compiler reloaded all of them after every store.
  template <bool kAdd>
  int64_t split_sse(const float* s, float* const* dst, int64_t v) const {
    const float* p = s + v * sw_ - pl_;
    float* d0 = dst[0] + v;
    float* d1 = dst[1] + v;
    if (sw_ == 2) {
      for (; v + 4 <= v_hi_; v += 4, p += 8, d0 += 4, d1 += 4) {
        const __m128 lo = _mm_loadu_ps(p), hi = _mm_loadu_ps(p + 4);
        store<kAdd>(d0, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));
        store<kAdd>(d1, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1)));
      }
      return v;
    }
    float* d2 = dst[2] + v;
    float* d3 = dst[3] + v;
    for (; v + 4 <= v_hi_; v += 4, p += 16, d0 += 4, d1 += 4, d2 += 4, d3 += 4) {
      __m128 r0 = _mm_loadu_ps(p), r1 = _mm_loadu_ps(p + 4), r2 = _mm_loadu_ps(p + 8), r3 = _mm_loadu_ps(p + 12);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_b: phase b at columns v .. v + 3
      store<kAdd>(d0, r0);
      store<kAdd>(d1, r1);
      store<kAdd>(d2, r2);
      store<kAdd>(d3, r3);
    }
    return v;
  }
#endif
  // Columns [v0, v1), some of whose phases fall in the padding.
  void edge(const float* s, float* const* dst, bool add, int64_t v0, int64_t v1) const {
    for (int64_t v = v0; v < v1; ++v) {
      for (int64_t b = 0; b < sw_; ++b) {
        const int64_t j = v * sw_ + b - pl_;
        if (j >= 0 && j < w_) {
          dst[b][v] = add ? dst[b][v] + s[j] : s[j];
        } else if (!add) {
          dst[b][v] = 0.0f;
        }
      }
    }
  }

  int64_t w_, pl_, sw_, wph_, v_lo_, v_hi_;
};

// d[i] = s[i * stride] for i < n: one column phase of a run (a strided 1x1 conv's packing).
// Reads s[0 .. (n - 1) * stride] only.
inline void copy_strided(const float* s, int64_t stride, float* d, int64_t n) {
  int64_t i = 0;
#if defined(__SSE2__)
  if (stride == 2) {
    // Four outputs read s[2 i .. 2 i + 7]; stop while s[2 i + 7] is still needed.
    for (; i + 5 <= n; i += 4) {
      const __m128 lo = _mm_loadu_ps(s + 2 * i), hi = _mm_loadu_ps(s + 2 * i + 4);
      _mm_storeu_ps(d + i, _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0)));
    }
  }
#endif
  for (; i < n; ++i) d[i] = s[i * stride];
}

}  // namespace tf
