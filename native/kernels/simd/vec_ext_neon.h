// vec_neon.h's Vec plus the operations vector math needs beyond it (compare masks,
// select, div, sqrt, rounding, 2^n, even/odd deinterleave). Only included by sources compiled
// with this ISA's flags.
#pragma once
#include "kernels/simd/vec_neon.h"

namespace tf::neon {

struct VecExt : Vec {
  using M = uint32x4_t;
  static M lt(T a, T b) { return vcltq_f32(a, b); }
  static M isnan(T a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static T select(M m, T a, T b) { return vbslq_f32(m, a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T sqrt(T a) { return vsqrtq_f32(a); }
  static T round(T a) { return vrndnq_f32(a); }
  static T floor(T a) { return vrndmq_f32(a); }
  // The even and odd elements of the 8 values a, b (in order).
  static void deinterleave(T a, T b, T* even, T* odd) {
    *even = vuzp1q_f32(a, b);
    *odd = vuzp2q_f32(a, b);
  }
  static T pow2i(T n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
};

}  // namespace tf::neon
