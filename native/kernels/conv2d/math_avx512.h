// Extra vector math the conv2d epilogue needs (sigmoid/silu), for avx512::Vec.
#pragma once
#include <immintrin.h>

namespace tf::avx512 {

struct Math {
  static __m512 round(__m512 x) { return _mm512_roundscale_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for an integer-valued n in [-126, 127].
  static __m512 pow2(__m512 n) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23));
  }
  static __m512 div(__m512 a, __m512 b) { return _mm512_div_ps(a, b); }
};

}  // namespace tf::avx512
