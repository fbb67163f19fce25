// Extra vector math the conv2d epilogue needs (sigmoid/silu), for avx2::Vec.
#pragma once
#include <immintrin.h>

namespace tf::avx2 {

struct Math {
  static __m256 round(__m256 x) { return _mm256_round_ps(x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // 2^n for an integer-valued n in [-126, 127].
  static __m256 pow2(__m256 n) {
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23));
  }
  static __m256 div(__m256 a, __m256 b) { return _mm256_div_ps(a, b); }
};

}  // namespace tf::avx2
