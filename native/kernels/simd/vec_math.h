// Vector math written once over an extended vector type X (simd/vec_ext_<isa>.h): used by
// the pointwise ops and the conv epilogues alike.
#pragma once
#include <limits>

namespace tf::vecmath {

// max(a, b) where a NaN on either side wins (IEEE-style propagation on every ISA).
template <class X>
typename X::T max_nan(typename X::T a, typename X::T b) {
  return X::select(X::isnan(a), a, X::max(a, b));
}

// exp(x) for every float x, vectorised (Cephes expf): n = round(x / ln2), r = x - n ln2 in
// two parts, a degree-7 polynomial for e^r, then the scale 2^n applied as 2^n1 * 2^n2 so
// that results down to the subnormal range (x > -103.97) are exact to ~2 ulp instead of
// flushing at FLT_MIN. Above 88.72 the result is +inf, below -103.97 it is 0, NaN stays NaN.
template <class X>
typename X::T exp(typename X::T x) {
  using T = typename X::T;
  const T hi = X::set1(88.72283935546875f);
  const T lo = X::set1(-103.97208f);
  // Below lo the result is 0 (selected at the end): those lanes compute exp(0) instead,
  // since exp(lo) would run through subnormal products, each a ~150-cycle microcode assist
  // (a softmax over 1000 spread-out logits took 130 us instead of 5).
  const T xc = X::select(X::lt(x, lo), X::zero(), X::min(X::max(x, lo), hi));
  const T n = X::round(X::mul(xc, X::set1(1.44269504088896341f)));
  T r = X::fmadd(n, X::set1(-0.693359375f), xc);
  r = X::fmadd(n, X::set1(2.12194440e-4f), r);
  T p = X::set1(1.9875691500e-4f);
  p = X::fmadd(p, r, X::set1(1.3981999507e-3f));
  p = X::fmadd(p, r, X::set1(8.3334519073e-3f));
  p = X::fmadd(p, r, X::set1(4.1665795894e-2f));
  p = X::fmadd(p, r, X::set1(1.6666665459e-1f));
  p = X::fmadd(p, r, X::set1(5.0000001201e-1f));
  T y = X::fmadd(p, X::mul(r, r), X::add(r, X::set1(1.0f)));
  const T n1 = X::floor(X::mul(n, X::set1(0.5f)));
  const T n2 = X::sub(n, n1);
  y = X::mul(X::mul(y, X::pow2i(n1)), X::pow2i(n2));
  y = X::select(X::lt(hi, x), X::set1(std::numeric_limits<float>::infinity()), y);
  y = X::select(X::lt(x, lo), X::zero(), y);
  return X::select(X::isnan(x), x, y);
}

// sigmoid via e = exp(-|x|) in (0, 1]: 1 / (1 + e) for x >= 0, e / (1 + e) below, so
// nothing overflows; sigmoid(-inf) = 0, sigmoid(inf) = 1, NaN propagates.
template <class X>
typename X::T sigmoid(typename X::T x) {
  const auto e = exp<X>(X::min(x, X::sub(X::zero(), x)));
  const auto r = X::div(X::set1(1.0f), X::add(X::set1(1.0f), e));
  return X::select(X::lt(x, X::zero()), X::mul(e, r), r);
}

}  // namespace tf::vecmath
