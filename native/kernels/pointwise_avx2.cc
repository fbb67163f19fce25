// The AVX2+FMA pointwise table. Built with this ISA's compile flags only (see binding.gyp).
#if defined(__x86_64__) || defined(_M_X64)
#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_ext_avx2.h"

namespace tf {

const PointwiseTable& pointwise_avx2() {
  static const PointwiseTable table = pointwise_ukernel::make_table<avx2::VecExt>(Isa::kAvx2);
  return table;
}

}  // namespace tf
#endif
