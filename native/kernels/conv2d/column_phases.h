// Splitting an input row into the column phases of a strided conv's padded copy, all
// phases in one pass over the row. Internal to conv_sources.cc.
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
// floats and deinterleaves them into 4 of each phase for sw = 2 and 4.
inline void split_column_phases(const float* s, int64_t w, int64_t pl, int64_t sw, int64_t wph, float* const* dst,
                                bool add) {
  auto put = [&](int64_t b, int64_t v, float x) { dst[b][v] = add ? dst[b][v] + x : x; };
  // Columns v whose every phase lies inside the row: v * sw - pl >= 0, v * sw + sw - 1 - pl < w.
  const int64_t v_lo = std::min(wph, (pl + sw - 1) / sw);
  const int64_t v_hi = std::max(v_lo, std::min(wph, w + pl - sw >= 0 ? (w + pl - sw) / sw + 1 : 0));
  auto edge = [&](int64_t v0, int64_t v1) {
    for (int64_t v = v0; v < v1; ++v) {
      for (int64_t b = 0; b < sw; ++b) {
        const int64_t j = v * sw + b - pl;
        if (j >= 0 && j < w) {
          put(b, v, s[j]);
        } else if (!add) {
          dst[b][v] = 0.0f;
        }
      }
    }
  };
  edge(0, v_lo);
  int64_t v = v_lo;
#if defined(__SSE2__)
  if (sw == 2) {
    for (; v + 4 <= v_hi; v += 4) {
      const float* p = s + v * 2 - pl;
      const __m128 lo = _mm_loadu_ps(p), hi = _mm_loadu_ps(p + 4);
      __m128 even = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));
      __m128 odd = _mm_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
      if (add) {
        even = _mm_add_ps(_mm_loadu_ps(dst[0] + v), even);
        odd = _mm_add_ps(_mm_loadu_ps(dst[1] + v), odd);
      }
      _mm_storeu_ps(dst[0] + v, even);
      _mm_storeu_ps(dst[1] + v, odd);
    }
  } else if (sw == 4) {
    for (; v + 4 <= v_hi; v += 4) {
      const float* p = s + v * 4 - pl;
      __m128 r0 = _mm_loadu_ps(p), r1 = _mm_loadu_ps(p + 4), r2 = _mm_loadu_ps(p + 8), r3 = _mm_loadu_ps(p + 12);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_b: phase b at columns v .. v + 3
      const __m128 r[4] = {r0, r1, r2, r3};
      for (int b = 0; b < 4; ++b) _mm_storeu_ps(dst[b] + v, add ? _mm_add_ps(_mm_loadu_ps(dst[b] + v), r[b]) : r[b]);
    }
  }
#endif
  if (sw == 1) {
    if (add) {
      for (int64_t u = v; u < v_hi; ++u) dst[0][u] += s[u - pl];
    } else {
      std::memcpy(dst[0] + v, s + v - pl, sizeof(float) * static_cast<size_t>(v_hi - v));
    }
    v = v_hi;
  }
  for (; v < v_hi; ++v) {
    for (int64_t b = 0; b < sw; ++b) put(b, v, s[v * sw + b - pl]);
  }
  edge(v_hi, wph);
}

}  // namespace tf
