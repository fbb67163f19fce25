// vec_avx2.h's Vec plus the operations vector math needs beyond it (compare masks,
// select, div, sqrt, rounding, 2^n, even/odd deinterleave). Only included by sources compiled
// with this ISA's flags.
#pragma once
#include "kernels/simd/vec_avx2.h"

namespace tf::avx2 {

struct VecExt : Vec {
  using M = __m256;
  static M lt(T a, T b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static M isnan(T a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm256_blendv_ps(b, a, m); }
  static T div(T a, T b) { return _mm256_div_ps(a, b); }
  static T sqrt(T a) { return _mm256_sqrt_ps(a); }
  static T round(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T floor(T a) { return _mm256_round_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  // The even and odd elements of the 16 values a, b (in order).
  static void deinterleave(T a, T b, T* even, T* odd) {
    // Per 128-bit half: [a0 a2 b0 b2 | a4 a6 b4 b6]; then the 64-bit pairs into order.
    auto order = [](__m256 v) { return _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(v), 0xd8)); };
    *even = order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0)));
    *odd = order(_mm256_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1)));
  }
  static T pow2i(T n) {
    const __m256i e = _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(e, 23));
  }
};

}  // namespace tf::avx2
