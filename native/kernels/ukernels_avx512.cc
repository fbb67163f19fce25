// The avx512 micro-kernel table. Built with this ISA's compile flags only (see binding.gyp).
#if defined(__x86_64__) || defined(_M_X64)
#include "kernels/conv2d/conv_ukernels.h"
#include "kernels/elementwise_ukernels.h"
#include "kernels/simd/vec_ext_avx512.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {
UkernelTable make_table() {
  UkernelTable t{};
  t.isa = Isa::kAvx512;
  ukernel::fill_elementwise<avx512::Vec>(t);
  ukernel::fill_conv<avx512::Vec, avx512::VecExt, 8, 3, 7, 3, 12, 2, 6, 4>(t);  // GEMM 8 x 3 vectors (7 x 3 on channel lanes); indirect GEMM 12 x 2 (32 channels: 64-channel layers fill it); blocked conv 6 pixels x 4 blocks
  return t;
}
}  // namespace

const UkernelTable& ukernels_avx512() {
  static const UkernelTable table = make_table();
  return table;
}

}  // namespace tf
#endif
