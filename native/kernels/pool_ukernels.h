// Micro-kernels of the pooling ops (window pooling in both layouts, global pooling, LRN),
// written once over an extended vector type X (simd/vec_ext_<isa>.h) and put into each
// ISA's PointwiseTable by pointwise_ukernels.h's make_table.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/simd/vec_math.h"

namespace tf::pool_ukernel {

// s[i] += x[i * stride]. Stride 1 is a whole input row (the row pass of separable
// pooling); a larger stride is the column pass at the pool's stride, where gathering
// costs more than the add, so it stays a plain loop.
template <class X>
void sum_acc(float* s, const float* x, size_t stride, size_t n) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  if (stride == 1) {
    for (; i + L <= n; i += L) X::store(s + i, X::add(X::load(s + i), X::load(x + i)));
    if (i < n) {
      const size_t k = n - i;
      X::store_tail(s + i, X::add(X::load_tail(s + i, k), X::load_tail(x + i, k)), k);
    }
    return;
  }
  if (stride == 2) {
    // The common stride-2 pool: a constant stride lets the compiler vectorise the gather
    // with shuffles under each ISA's flags.
    for (; i < n; ++i) s[i] += x[2 * i];
    return;
  }
  for (; i < n; ++i) s[i] += x[i * stride];
}

// The sum of x[0..n) with four vector accumulators (global average pooling).
template <class X>
float reduce_sum(const float* x, size_t n) {
  constexpr size_t L = X::kLanes;
  auto a0 = X::zero(), a1 = X::zero(), a2 = X::zero(), a3 = X::zero();
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    a0 = X::add(a0, X::load(x + i));
    a1 = X::add(a1, X::load(x + i + L));
    a2 = X::add(a2, X::load(x + i + 2 * L));
    a3 = X::add(a3, X::load(x + i + 3 * L));
  }
  for (; i + L <= n; i += L) a0 = X::add(a0, X::load(x + i));
  alignas(64) float lanes[L];
  X::store(lanes, X::add(X::add(a0, a1), X::add(a2, a3)));
  float s = 0;
  for (size_t k = 0; k < L; ++k) s += lanes[k];
  for (; i < n; ++i) s += x[i];
  return s;
}

// y[p * n + i] = finish(step(...step(init, x[0][p * xstride + i]), ..., x[count-1][p * xstride
// + i])) for p < pixels: output rows from `count` input rows each (the window's pixels in
// NHWC, where a row is the channel vector; a run of output pixels whose windows are the
// first one's moved by xstride floats), four vectors at a time so the accumulators stay in
// registers across the window.
template <class X, class Step, class Finish>
void reduce_rows(const float* const* x, size_t count, float* y, size_t n, size_t pixels, size_t xstride,
                 typename X::T init, Step step, Finish finish) {
  constexpr size_t L = X::kLanes;
  size_t px = 0;
  if (n == L) {
    // One vector a pixel (blocked tensors): four pixels at a time, so four windows' chains
    // of dependent steps overlap.
    for (; px + 4 <= pixels; px += 4, y += 4 * L) {
      const size_t o = px * xstride;
      auto a0 = init, a1 = init, a2 = init, a3 = init;
      for (size_t k = 0; k < count; ++k) {
        const float* p = x[k] + o;
        a0 = step(a0, X::load(p));
        a1 = step(a1, X::load(p + xstride));
        a2 = step(a2, X::load(p + 2 * xstride));
        a3 = step(a3, X::load(p + 3 * xstride));
      }
      X::store(y, finish(a0));
      X::store(y + L, finish(a1));
      X::store(y + 2 * L, finish(a2));
      X::store(y + 3 * L, finish(a3));
    }
  }
  for (; px < pixels; ++px, y += n) {
    const size_t o = px * xstride;
    size_t i = 0;
    for (; i + 4 * L <= n; i += 4 * L) {
      auto a0 = init, a1 = init, a2 = init, a3 = init;
      for (size_t k = 0; k < count; ++k) {
        const float* p = x[k] + o + i;
        a0 = step(a0, X::load(p));
        a1 = step(a1, X::load(p + L));
        a2 = step(a2, X::load(p + 2 * L));
        a3 = step(a3, X::load(p + 3 * L));
      }
      X::store(y + i, finish(a0));
      X::store(y + i + L, finish(a1));
      X::store(y + i + 2 * L, finish(a2));
      X::store(y + i + 3 * L, finish(a3));
    }
    for (; i + L <= n; i += L) {
      auto a = init;
      for (size_t k = 0; k < count; ++k) a = step(a, X::load(x[k] + o + i));
      X::store(y + i, finish(a));
    }
    if (i < n) {
      const size_t t = n - i;
      auto a = init;
      for (size_t k = 0; k < count; ++k) a = step(a, X::load_tail(x[k] + o + i, t));
      X::store_tail(y + i, finish(a), t);
    }
  }
}

// y[i] = max_k x[k][i]; a NaN in any row wins (ONNX); -inf when count == 0 (each pixel of
// the run, as reduce_rows).
template <class X>
void max_rows(const float* const* x, size_t count, float* y, size_t n, size_t pixels, size_t xstride) {
  using T = typename X::T;
  reduce_rows<X>(
      x, count, y, n, pixels, xstride, X::set1(-std::numeric_limits<float>::infinity()),
      [](T acc, T v) { return vecmath::max_nan<X>(acc, v); }, [](T acc) { return acc; });
}

// y[i] = max over r < 3 and c < 3 of x[r][2 i + c], a NaN winning, for i < n: one output
// row of a 3x3 stride-2 max pool whose windows lie inside the rows (only x[r][0 .. 2 n] is
// read: the last vectors are masked). The rows' max first, then each output's three
// columns from the even, odd and next even columns, in one vectorised pass.
template <class X>
void max3x3_s2_row(const float* const* x, size_t n, float* y) {
  using T = typename X::T;
  constexpr size_t L = X::kLanes;
  auto mx = [](T a, T b) { return vecmath::max_nan<X>(a, b); };
  // The rows' max over columns [j, j + L), those past column `end` (exclusive) left out.
  auto rows = [&](size_t j, size_t end) {
    if (j + L <= end) return mx(mx(X::load(x[0] + j), X::load(x[1] + j)), X::load(x[2] + j));
    if (j >= end) return X::zero();
    const size_t k = end - j;
    return mx(mx(X::load_tail(x[0] + j, k), X::load_tail(x[1] + j, k)), X::load_tail(x[2] + j, k));
  };
  const size_t end = 2 * n + 1;
  for (size_t i = 0; i < n; i += L) {
    T even, odd, even1, odd1;
    X::deinterleave(rows(2 * i, end), rows(2 * i + L, end), &even, &odd);
    X::deinterleave(rows(2 * i + 2, end), rows(2 * i + 2 + L, end), &even1, &odd1);
    const T m = mx(mx(even, odd), even1);
    if (i + L <= n) {
      X::store(y + i, m);
    } else {
      X::store_tail(y + i, m, n - i);
    }
  }
}

// y[i] = max_k x[k][i] where a NaN never wins (TF.js MaxPool); -inf when every row is NaN.
template <class X>
void max_rows_ignore_nan(const float* const* x, size_t count, float* y, size_t n, size_t pixels, size_t xstride) {
  using T = typename X::T;
  reduce_rows<X>(
      x, count, y, n, pixels, xstride, X::set1(-std::numeric_limits<float>::infinity()),
      [](T acc, T v) { return X::select(X::lt(acc, v), v, acc); }, [](T acc) { return acc; });
}

// y[i] = scale * sum_k x[k][i] (average pooling: scale = 1 / window count).
template <class X>
void sum_rows(const float* const* x, size_t count, float scale, float* y, size_t n, size_t pixels, size_t xstride) {
  using T = typename X::T;
  const T vs = X::set1(scale);
  reduce_rows<X>(
      x, count, y, n, pixels, xstride, X::zero(), [](T acc, T v) { return X::add(acc, v); }, [vs](T acc) { return X::mul(acc, vs); });
}

// LRN for one channel row: y[i] = x[i] / (bias + a * sum_k win[k][i]^2)^beta, where win
// holds the `count` channel rows of the window (x's own row among them) and a = alpha/size.
// beta 0.75 (every LRN network), 0.5 and 1 stay in vectors; any other beta takes a scalar
// pow per element after the vector pass has stored the base in y.
template <class X>
void lrn_rows(const float* const* win, size_t count, const float* x, float a, float bias, float beta, float* y,
              size_t n) {
  using T = typename X::T;
  constexpr size_t L = X::kLanes;
  const T va = X::set1(a), vb = X::set1(bias);
  const int kind = beta == 0.75f ? 0 : beta == 0.5f ? 1 : beta == 1.0f ? 2 : 3;
  auto result = [&](T d, T xv) {
    switch (kind) {
      case 0: {
        const T r = X::sqrt(d);
        return X::div(xv, X::mul(r, X::sqrt(r)));
      }
      case 1: return X::div(xv, X::sqrt(d));
      case 2: return X::div(xv, d);
      default: return d;  // the base; the scalar pass below finishes it
    }
  };
  size_t i = 0;
  for (; i + L <= n; i += L) {
    T s = X::zero();
    for (size_t k = 0; k < count; ++k) {
      const T v = X::load(win[k] + i);
      s = X::fmadd(v, v, s);
    }
    X::store(y + i, result(X::fmadd(va, s, vb), X::load(x + i)));
  }
  if (i < n) {
    const size_t t = n - i;
    T s = X::zero();
    for (size_t k = 0; k < count; ++k) {
      const T v = X::load_tail(win[k] + i, t);
      s = X::fmadd(v, v, s);
    }
    X::store_tail(y + i, result(X::fmadd(va, s, vb), X::load_tail(x + i, t)), t);
  }
  if (kind == 3) {
    for (size_t j = 0; j < n; ++j) y[j] = x[j] / std::pow(y[j], beta);
  }
}

// Fills the pooling part of a PointwiseTable for vector type X.
template <class X, class Table>
void fill_pool(Table& t) {
  t.sum_acc = &sum_acc<X>;
  t.reduce_sum = &reduce_sum<X>;
  t.max_rows = &max_rows<X>;
  t.max_rows_ignore_nan = &max_rows_ignore_nan<X>;
  t.max3x3_s2_row = &max3x3_s2_row<X>;
  t.sum_rows = &sum_rows<X>;
  t.lrn_rows = &lrn_rows<X>;
}

}  // namespace tf::pool_ukernel
