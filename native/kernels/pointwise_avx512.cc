// The AVX-512 pointwise table. Built with this ISA's compile flags only (see binding.gyp).
#if defined(__x86_64__) || defined(_M_X64)
#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_ext_avx512.h"

namespace tf {

const PointwiseTable& pointwise_avx512() {
  static const PointwiseTable table = pointwise_ukernel::make_table<avx512::VecExt>(Isa::kAvx512);
  return table;
}

}  // namespace tf
#endif
