// Extra vector math the conv2d epilogue needs (sigmoid/silu), for scalar::Vec.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace tf::scalar {

struct Math {
  static float round(float x) { return std::nearbyint(x); }
  // 2^n for an integer-valued n in [-126, 127].
  static float pow2(float n) {
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
  static float div(float a, float b) { return a / b; }
};

}  // namespace tf::scalar
