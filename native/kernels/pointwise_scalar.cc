// The portable pointwise table: the templates over a one-lane "vector".
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_scalar.h"

namespace tf {

namespace {
struct X : scalar::Vec {
  using M = bool;
  static M lt(T a, T b) { return a < b; }
  static M isnan(T a) { return a != a; }
  static T select(M m, T a, T b) { return m ? a : b; }
  static T div(T a, T b) { return a / b; }
  static T round(T a) { return std::nearbyint(a); }
  static T floor(T a) { return std::floor(a); }
  static T pow2i(T n) {  // n integral in [-126, 127]
    const int32_t bits = (static_cast<int32_t>(n) + 127) << 23;
    float r;
    std::memcpy(&r, &bits, sizeof r);
    return r;
  }
};
}  // namespace

const PointwiseTable& pointwise_scalar() {
  static const PointwiseTable table = pointwise_ukernel::make_table<X>(Isa::kScalar);
  return table;
}

}  // namespace tf
