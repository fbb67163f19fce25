// Extra vector math the conv2d epilogue needs (sigmoid/silu), for neon::Vec (AArch64).
#pragma once
#include <arm_neon.h>

namespace tf::neon {

struct Math {
  static float32x4_t round(float32x4_t x) { return vrndnq_f32(x); }
  // 2^n for an integer-valued n in [-126, 127].
  static float32x4_t pow2(float32x4_t n) {
    return vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(vcvtnq_s32_f32(n), vdupq_n_s32(127)), 23));
  }
  static float32x4_t div(float32x4_t a, float32x4_t b) { return vdivq_f32(a, b); }
};

}  // namespace tf::neon
