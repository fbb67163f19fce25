// The NEON pointwise table (AArch64). Built with this ISA's compile flags only.
#if defined(__aarch64__)
#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_ext_neon.h"

namespace tf {

const PointwiseTable& pointwise_neon() {
  static const PointwiseTable table = pointwise_ukernel::make_table<neon::VecExt>(Isa::kNeon);
  return table;
}

}  // namespace tf
#endif
