// The neon micro-kernel table. Built with this ISA's compile flags only (see binding.gyp).
#if defined(__aarch64__)
#include "kernels/conv2d/conv_ukernels.h"
#include "kernels/elementwise_ukernels.h"
#include "kernels/simd/vec_ext_neon.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {
UkernelTable make_table() {
  UkernelTable t{};
  t.isa = Isa::kNeon;
  ukernel::fill_elementwise<neon::Vec>(t);
  ukernel::fill_conv<neon::Vec, neon::VecExt, 8, 3, 7, 3, 8, 3, 6, 4>(t);  // GEMM 8 x 3 vectors (7 x 3 on channel lanes); indirect GEMM 8 x 3; blocked conv 6 x 4
  return t;
}
}  // namespace

const UkernelTable& ukernels_neon() {
  static const UkernelTable table = make_table();
  return table;
}

}  // namespace tf
#endif
