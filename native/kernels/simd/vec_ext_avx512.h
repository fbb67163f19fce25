// vec_avx512.h's Vec plus the operations vector math needs beyond it (compare masks,
// select, div, sqrt, rounding, 2^n, even/odd deinterleave). Only included by sources compiled
// with this ISA's flags.
#pragma once
#include "kernels/simd/vec_avx512.h"

namespace tf::avx512 {

struct VecExt : Vec {
  using M = __mmask16;
  static M lt(T a, T b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static M isnan(T a) { return _mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q); }
  static T select(M m, T a, T b) { return _mm512_mask_blend_ps(m, b, a); }
  static T div(T a, T b) { return _mm512_div_ps(a, b); }
  static T sqrt(T a) { return _mm512_sqrt_ps(a); }
  static T round(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  static T floor(T a) { return _mm512_roundscale_ps(a, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC); }
  // The even and odd elements of the 32 values a, b (in order).
  static void deinterleave(T a, T b, T* even, T* odd) {
    const __m512i e = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    *even = _mm512_permutex2var_ps(a, e, b);
    *odd = _mm512_permutex2var_ps(a, _mm512_add_epi32(e, _mm512_set1_epi32(1)), b);
  }
  static T pow2i(T n) {
    const __m512i e = _mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127));
    return _mm512_castsi512_ps(_mm512_slli_epi32(e, 23));
  }
};

}  // namespace tf::avx512
