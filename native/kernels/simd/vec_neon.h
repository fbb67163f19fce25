// 4-lane NEON vector (AArch64).
#pragma once
#include <arm_neon.h>
#include <cstddef>

namespace tf::neon {

struct Vec {
  using T = float32x4_t;
  static constexpr size_t kLanes = 4;
  static constexpr size_t kRegisters = 32;  // v0-v31: bounds register-blocked tiles
  static T zero() { return vdupq_n_f32(0.0f); }
  static T set1(float x) { return vdupq_n_f32(x); }
  static T load(const float* p) { return vld1q_f32(p); }
  static void store(float* p, T v) { vst1q_f32(p, v); }
  static T load_tail(const float* p, size_t n) {
    float tmp[4] = {0, 0, 0, 0};
    for (size_t i = 0; i < n; ++i) tmp[i] = p[i];
    return vld1q_f32(tmp);
  }
  static void store_tail(float* p, T v, size_t n) {
    float tmp[4];
    vst1q_f32(tmp, v);
    for (size_t i = 0; i < n; ++i) p[i] = tmp[i];
  }
  static T add(T a, T b) { return vaddq_f32(a, b); }
  static T sub(T a, T b) { return vsubq_f32(a, b); }
  static T mul(T a, T b) { return vmulq_f32(a, b); }
  static T fmadd(T a, T b, T c) { return vfmaq_f32(c, a, b); }
  static T max(T a, T b) { return vmaxq_f32(a, b); }
  static T min(T a, T b) { return vminq_f32(a, b); }
};

}  // namespace tf::neon
