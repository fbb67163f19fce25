// Element-wise micro-kernels, written once over a vector type V (see simd/vec_*.h) and
// instantiated by each ISA's source. Include only from ukernels_<isa>.cc.
#pragma once
#include <cstddef>

namespace tf::ukernel {

struct AddOp {
  template <class V> static typename V::T apply(typename V::T a, typename V::T b) { return V::add(a, b); }
};
struct MulOp {
  template <class V> static typename V::T apply(typename V::T a, typename V::T b) { return V::mul(a, b); }
};

// Four vectors per iteration keep both load ports and the adder busy; the masked tail
// avoids a scalar epilogue (which would also break NaN/Inf bit-exactness across ISAs).
template <class V, class Op>
void binary_vv(const float* a, const float* b, float* y, size_t n) {
  constexpr size_t L = V::kLanes;
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    const auto r0 = Op::template apply<V>(V::load(a + i), V::load(b + i));
    const auto r1 = Op::template apply<V>(V::load(a + i + L), V::load(b + i + L));
    const auto r2 = Op::template apply<V>(V::load(a + i + 2 * L), V::load(b + i + 2 * L));
    const auto r3 = Op::template apply<V>(V::load(a + i + 3 * L), V::load(b + i + 3 * L));
    V::store(y + i, r0);
    V::store(y + i + L, r1);
    V::store(y + i + 2 * L, r2);
    V::store(y + i + 3 * L, r3);
  }
  for (; i + L <= n; i += L) V::store(y + i, Op::template apply<V>(V::load(a + i), V::load(b + i)));
  if (i < n) {
    const size_t rest = n - i;
    V::store_tail(y + i, Op::template apply<V>(V::load_tail(a + i, rest), V::load_tail(b + i, rest)), rest);
  }
}

template <class V, class Op>
void binary_vs(const float* a, float s, float* y, size_t n) {
  constexpr size_t L = V::kLanes;
  const auto vs = V::set1(s);
  size_t i = 0;
  for (; i + 4 * L <= n; i += 4 * L) {
    const auto r0 = Op::template apply<V>(V::load(a + i), vs);
    const auto r1 = Op::template apply<V>(V::load(a + i + L), vs);
    const auto r2 = Op::template apply<V>(V::load(a + i + 2 * L), vs);
    const auto r3 = Op::template apply<V>(V::load(a + i + 3 * L), vs);
    V::store(y + i, r0);
    V::store(y + i + L, r1);
    V::store(y + i + 2 * L, r2);
    V::store(y + i + 3 * L, r3);
  }
  for (; i + L <= n; i += L) V::store(y + i, Op::template apply<V>(V::load(a + i), vs));
  if (i < n) {
    const size_t rest = n - i;
    V::store_tail(y + i, Op::template apply<V>(V::load_tail(a + i, rest), vs), rest);
  }
}

// Fills the element-wise part of a UkernelTable for vector type V.
template <class V, class Table>
void fill_elementwise(Table& t) {
  t.add_vv = &binary_vv<V, AddOp>;
  t.add_vs = &binary_vs<V, AddOp>;
  t.mul_vv = &binary_vv<V, MulOp>;
  t.mul_vs = &binary_vs<V, MulOp>;
}

}  // namespace tf::ukernel
