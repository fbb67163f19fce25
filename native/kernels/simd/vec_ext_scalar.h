// vec_scalar.h's Vec plus the operations vector math needs beyond it (compare masks,
// select, div, sqrt, rounding, 2^n, even/odd deinterleave). Only included by sources compiled
// with this ISA's flags.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>
#include "kernels/simd/vec_scalar.h"

namespace tf::scalar {

struct VecExt : Vec {
  using M = bool;
  static M lt(T a, T b) { return a < b; }
  static M isnan(T a) { return a != a; }
  static T select(M m, T a, T b) { return m ? a : b; }
  static T div(T a, T b) { return a / b; }
  static T sqrt(T a) { return std::sqrt(a); }
  static T round(T a) { return std::nearbyint(a); }
  static T floor(T a) { return std::floor(a); }
  // The even and odd elements of the 2L values a, b (L = 1: a and b themselves).
  static void deinterleave(T a, T b, T* even, T* odd) {
    *even = a;
    *odd = b;
  }
  static T pow2i(T n) {  // n integral in [-126, 127]
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
};

}  // namespace tf::scalar
