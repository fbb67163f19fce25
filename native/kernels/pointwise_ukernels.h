// Micro-kernels of the fusion-block ops, written once over an extended vector type X
// (simd/vec_ext_<isa>.h) and instantiated by each pointwise_<isa>.cc.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>

#include "kernels/pointwise_table.h"
#include "kernels/pool_ukernels.h"
#include "kernels/simd/vec_math.h"

namespace tf::pointwise_ukernel {

using vecmath::max_nan;

inline float max_nan_scalar(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }

using vecmath::exp;
using vecmath::sigmoid;

// Applies f lane-wise over n elements with a masked tail.
template <class X, class F>
void map(const float* x, float* y, size_t n, F f) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const auto a = f(X::load(x + i));
    const auto b = f(X::load(x + i + L));
    X::store(y + i, a);
    X::store(y + i + L, b);
  }
  for (; i + L <= n; i += L) X::store(y + i, f(X::load(x + i)));
  if (i < n) X::store_tail(y + i, f(X::load_tail(x + i, n - i)), n - i);
}

template <class X>
void relu(const float* x, float* y, size_t n) {
  // max(0, x) returns x when x is NaN (the second operand wins on x86; NEON propagates).
  map<X>(x, y, n, [](typename X::T v) { return X::max(X::zero(), v); });
}

template <class X>
void clip(const float* x, float* y, size_t n, float lo, float hi) {
  const auto vlo = X::set1(lo), vhi = X::set1(hi);
  // max/min return their second operand for a NaN on x86: NaN is put back explicitly.
  map<X>(x, y, n, [&](typename X::T v) { return X::select(X::isnan(v), v, X::min(X::max(v, vlo), vhi)); });
}

template <class X>
void leaky_relu(const float* x, float* y, size_t n, float alpha) {
  const auto va = X::set1(alpha);
  // max(x, 0) + alpha * min(x, 0) would turn a NaN into 0 on x86 (the second operand wins).
  map<X>(x, y, n, [&](typename X::T v) { return X::select(X::lt(v, X::zero()), X::mul(v, va), v); });
}

template <class X>
void sigmoid_n(const float* x, float* y, size_t n) {
  map<X>(x, y, n, [](typename X::T v) { return sigmoid<X>(v); });
}

template <class X>
float hsum(typename X::T v) {
  alignas(64) float lanes[X::kLanes];
  X::store(lanes, v);
  float s = 0;
  for (size_t k = 0; k < X::kLanes; ++k) s += lanes[k];
  return s;
}

template <class X>
float reduce_max(const float* x, size_t n) {
  constexpr size_t L = X::kLanes;
  float m = -std::numeric_limits<float>::infinity();
  size_t i = 0;
  if (n >= L) {
    auto acc = X::load(x);
    for (i = L; i + L <= n; i += L) acc = max_nan<X>(acc, X::load(x + i));
    alignas(64) float lanes[L];
    X::store(lanes, acc);
    for (size_t k = 0; k < L; ++k) m = max_nan_scalar(m, lanes[k]);
  }
  for (; i < n; ++i) m = max_nan_scalar(m, x[i]);
  return m;
}

template <class X>
float sub_exp_sum(const float* x, float m, float* y, size_t n) {
  constexpr size_t L = X::kLanes;
  const auto vm = X::set1(m);
  auto s = X::zero();
  size_t i = 0;
  for (; i + L <= n; i += L) {
    const auto e = exp<X>(X::sub(X::load(x + i), vm));
    X::store(y + i, e);
    s = X::add(s, e);
  }
  float total = hsum<X>(s);
  if (i < n) {
    X::store_tail(y + i, exp<X>(X::sub(X::load_tail(x + i, n - i), vm)), n - i);
    for (; i < n; ++i) total += y[i];
  }
  return total;
}

template <class X>
void sub_exp_acc(const float* x, const float* m, float* y, float* s, size_t n) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  for (; i + L <= n; i += L) {
    const auto e = exp<X>(X::sub(X::load(x + i), X::load(m + i)));
    X::store(y + i, e);
    X::store(s + i, X::add(X::load(s + i), e));
  }
  if (i < n) {
    const size_t k = n - i;
    const auto e = exp<X>(X::sub(X::load_tail(x + i, k), X::load_tail(m + i, k)));
    X::store_tail(y + i, e, k);
    X::store_tail(s + i, X::add(X::load_tail(s + i, k), e), k);
  }
}

template <class X>
void max_acc(float* m, const float* x, size_t stride, size_t n) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  if (stride == 1) {
    for (; i + L <= n; i += L) X::store(m + i, max_nan<X>(X::load(m + i), X::load(x + i)));
    if (i < n) {
      const size_t k = n - i;
      X::store_tail(m + i, max_nan<X>(X::load_tail(m + i, k), X::load_tail(x + i, k)), k);
    }
    return;
  }
  if (stride == 2) {
    // The common stride-2 pool. Branch-free (m wins when it is NaN, else x when it is
    // larger or NaN) and at a constant stride, so the compiler vectorises it under each
    // ISA's flags; the general-stride loop below stays scalar.
    for (; i < n; ++i) {
      const float a = m[i], b = x[2 * i];
      m[i] = a != a ? a : (!(b <= a) ? b : a);
    }
    return;
  }
  for (; i < n; ++i) m[i] = max_nan_scalar(m[i], x[i * stride]);
}

template <class X>
void mul_inplace(float* y, const float* s, size_t n) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  for (; i + L <= n; i += L) X::store(y + i, X::mul(X::load(y + i), X::load(s + i)));
  if (i < n) X::store_tail(y + i, X::mul(X::load_tail(y + i, n - i), X::load_tail(s + i, n - i)), n - i);
}

template <class X>
void weighted_sum(const float* const* x, const float* const* w, size_t count, float* y, size_t n) {
  constexpr size_t L = X::kLanes;
  size_t i = 0;
  for (; i + L <= n; i += L) {
    auto acc = X::mul(X::load(x[0] + i), X::load(w[0] + i));
    for (size_t k = 1; k < count; ++k) acc = X::fmadd(X::load(x[k] + i), X::load(w[k] + i), acc);
    X::store(y + i, acc);
  }
  if (i < n) {
    const size_t t = n - i;
    auto acc = X::mul(X::load_tail(x[0] + i, t), X::load_tail(w[0] + i, t));
    for (size_t k = 1; k < count; ++k) acc = X::fmadd(X::load_tail(x[k] + i, t), X::load_tail(w[k] + i, t), acc);
    X::store_tail(y + i, acc, t);
  }
}

template <class X>
void lerp(const float* a, const float* b, float t, float* y, size_t n) {
  constexpr size_t L = X::kLanes;
  const auto vt = X::set1(t);
  size_t i = 0;
  for (; i + L <= n; i += L) {
    const auto va = X::load(a + i);
    X::store(y + i, X::fmadd(vt, X::sub(X::load(b + i), va), va));
  }
  if (i < n) {
    const size_t k = n - i;
    const auto va = X::load_tail(a + i, k);
    X::store_tail(y + i, X::fmadd(vt, X::sub(X::load_tail(b + i, k), va), va), k);
  }
}

template <class X>
PointwiseTable make_table(Isa isa) {
  PointwiseTable t{};
  t.isa = isa;
  t.relu = &relu<X>;
  t.sigmoid = &sigmoid_n<X>;
  t.clip = &clip<X>;
  t.leaky_relu = &leaky_relu<X>;
  t.sub_exp_sum = &sub_exp_sum<X>;
  t.sub_exp_acc = &sub_exp_acc<X>;
  t.reduce_max = &reduce_max<X>;
  t.max_acc = &max_acc<X>;
  t.mul_inplace = &mul_inplace<X>;
  t.weighted_sum = &weighted_sum<X>;
  t.lerp = &lerp<X>;
  pool_ukernel::fill_pool<X>(t);
  return t;
}

}  // namespace tf::pointwise_ukernel
