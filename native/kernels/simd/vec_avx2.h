// 8-lane AVX2+FMA vector. Only included by sources compiled with -mavx2 -mfma.
#pragma once
#include <immintrin.h>
#include <cstddef>
#include <cstdint>

namespace tf::avx2 {

struct Vec {
  using T = __m256;
  static constexpr size_t kLanes = 8;
  static constexpr size_t kRegisters = 16;  // ymm0-15: bounds register-blocked tiles
  static T zero() { return _mm256_setzero_ps(); }
  static T set1(float x) { return _mm256_set1_ps(x); }
  static T load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, T v) { _mm256_storeu_ps(p, v); }
  static __m256i tail_mask(size_t n) {
    // Lanes [0, n) get an all-ones mask; n < kLanes.
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)), lane);
  }
  static T load_tail(const float* p, size_t n) { return _mm256_maskload_ps(p, tail_mask(n)); }
  static void store_tail(float* p, T v, size_t n) { _mm256_maskstore_ps(p, tail_mask(n), v); }
  static T add(T a, T b) { return _mm256_add_ps(a, b); }
  static T sub(T a, T b) { return _mm256_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm256_mul_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm256_fmadd_ps(a, b, c); }
  // max/min take the second operand when either is NaN; the kernels put the NaN-carrying
  // operand second where IEEE propagation matters.
  static T max(T a, T b) { return _mm256_max_ps(a, b); }
  static T min(T a, T b) { return _mm256_min_ps(a, b); }
};

}  // namespace tf::avx2
