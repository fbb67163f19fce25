// One-lane "vector" for the portable kernels: the same micro-kernel templates compile
// to plain scalar code with it.
#pragma once
#include <cmath>
#include <cstddef>

namespace tf::scalar {

struct Vec {
  using T = float;
  static constexpr size_t kLanes = 1;
  static constexpr size_t kRegisters = 16;  // xmm0-15 hold scalar floats on x86-64: bounds register-blocked tiles
  static T zero() { return 0.0f; }
  static T set1(float x) { return x; }
  static T load(const float* p) { return *p; }
  static void store(float* p, T v) { *p = v; }
  static T load_tail(const float* p, size_t) { return *p; }
  static void store_tail(float* p, T v, size_t) { *p = v; }
  static T add(T a, T b) { return a + b; }
  static T sub(T a, T b) { return a - b; }
  static T mul(T a, T b) { return a * b; }
  static T fmadd(T a, T b, T c) { return a * b + c; }
  static T max(T a, T b) { return a > b ? a : (a != a ? a : b); }  // NaN propagates
  static T min(T a, T b) { return a < b ? a : (a != a ? a : b); }
};

}  // namespace tf::scalar
