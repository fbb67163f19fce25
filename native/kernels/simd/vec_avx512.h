// 16-lane AVX-512F vector. Only included by sources compiled with the AVX-512 flags.
#pragma once
#include <immintrin.h>
#include <cstddef>

namespace tf::avx512 {

struct Vec {
  using T = __m512;
  static constexpr size_t kLanes = 16;
  static constexpr size_t kRegisters = 32;  // zmm0-31: bounds register-blocked tiles
  static T zero() { return _mm512_setzero_ps(); }
  static T set1(float x) { return _mm512_set1_ps(x); }
  static T load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, T v) { _mm512_storeu_ps(p, v); }
  static __mmask16 tail_mask(size_t n) { return static_cast<__mmask16>((1u << n) - 1u); }
  static T load_tail(const float* p, size_t n) { return _mm512_maskz_loadu_ps(tail_mask(n), p); }
  static void store_tail(float* p, T v, size_t n) { _mm512_mask_storeu_ps(p, tail_mask(n), v); }
  static T add(T a, T b) { return _mm512_add_ps(a, b); }
  static T sub(T a, T b) { return _mm512_sub_ps(a, b); }
  static T mul(T a, T b) { return _mm512_mul_ps(a, b); }
  static T fmadd(T a, T b, T c) { return _mm512_fmadd_ps(a, b, c); }
  static T max(T a, T b) { return _mm512_max_ps(a, b); }
  static T min(T a, T b) { return _mm512_min_ps(a, b); }
};

}  // namespace tf::avx512
