// The portable pointwise table: the templates over a one-lane "vector".
#include <cmath>
#include <cstdint>
#include <cstring>

#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_ext_scalar.h"

namespace tf {

const PointwiseTable& pointwise_scalar() {
  static const PointwiseTable table = pointwise_ukernel::make_table<scalar::VecExt>(Isa::kScalar);
  return table;
}

}  // namespace tf
