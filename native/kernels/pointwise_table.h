// The micro-kernels of the fusion-block ops (activations, softmax, weighted sum, pooling,
// resize), one table per ISA. Kept apart from ukernels.h so the two families evolve
// independently; chosen with the same rule (best supported ISA capped by TENSORFUSE_ISA).
#pragma once
#include <cstddef>

#include "runtime/isa.h"

namespace tf {

struct PointwiseTable {
  Isa isa;
  // y[i] = f(x[i]) for i < n; y may alias x exactly.
  void (*relu)(const float* x, float* y, size_t n);
  void (*sigmoid)(const float* x, float* y, size_t n);
  // y[i] = min(max(x[i], lo), hi), NaN kept; lo <= hi.
  void (*clip)(const float* x, float* y, size_t n, float lo, float hi);
  // y[i] = x[i] < 0 ? alpha * x[i] : x[i], NaN kept.
  void (*leaky_relu)(const float* x, float* y, size_t n, float alpha);
  // y[i] = exp(x[i] - m); returns the sum of the y[i] (a softmax row). y may alias x.
  float (*sub_exp_sum)(const float* x, float m, float* y, size_t n);
  // y[i] = exp(x[i] - m[i]); s[i] += y[i] (softmax over a strided axis, one row of inner).
  void (*sub_exp_acc)(const float* x, const float* m, float* y, float* s, size_t n);
  // The max of x[0..n); NaN if any element is NaN; -inf for n == 0.
  float (*reduce_max)(const float* x, size_t n);
  // m[i] = max(m[i], x[i * stride]) with NaN propagating from either side.
  void (*max_acc)(float* m, const float* x, size_t stride, size_t n);
  // y[i] *= s[i] (s may be a reciprocal sum row).
  void (*mul_inplace)(float* y, const float* s, size_t n);
  // y[i] = sum_k x[k][i] * w[k][i] over k < count, in one pass (count >= 1).
  void (*weighted_sum)(const float* const* x, const float* const* w, size_t count, float* y, size_t n);
  // y[i] = a[i] + t * (b[i] - a[i]) with one t (the vertical step of bilinear resize).
  void (*lerp)(const float* a, const float* b, float t, float* y, size_t n);
  // Pooling (kernels/pool_ukernels.h). s[i] += x[i * stride].
  void (*sum_acc)(float* s, const float* x, size_t stride, size_t n);
  // The sum of x[0..n); 0 for n == 0.
  float (*reduce_sum)(const float* x, size_t n);
  // y[i] = max over k < count of x[k][i]; NaN wins; -inf for count == 0. The row
  // reductions run `pixels` outputs: output p is y + p * n from rows x[k] + p * xstride.
  void (*max_rows)(const float* const* x, size_t count, float* y, size_t n, size_t pixels, size_t xstride);
  // The same where NaN never wins (TF.js): -inf when every x[k][i] is NaN or count == 0.
  void (*max_rows_ignore_nan)(const float* const* x, size_t count, float* y, size_t n, size_t pixels, size_t xstride);
  // y[i] = max over r, c < 3 of x[r][2 i + c], NaN wins, i < n (reads x[r][0 .. 2 n]).
  void (*max3x3_s2_row)(const float* const* x, size_t n, float* y);
  // y[i] = scale * sum over k < count of x[k][i].
  void (*sum_rows)(const float* const* x, size_t count, float scale, float* y, size_t n, size_t pixels, size_t xstride);
  // y[i] = x[i] / (bias + a * sum over k < count of win[k][i]^2)^beta (one LRN channel row).
  void (*lrn_rows)(const float* const* win, size_t count, const float* x, float a, float bias, float beta, float* y,
                   size_t n);
};

const PointwiseTable& pointwise_scalar();
#if defined(__x86_64__) || defined(_M_X64)
const PointwiseTable& pointwise_avx2();
const PointwiseTable& pointwise_avx512();
#endif
#if defined(__aarch64__)
const PointwiseTable& pointwise_neon();
#endif

// The table chosen once per process.
const PointwiseTable& pointwise();

}  // namespace tf
