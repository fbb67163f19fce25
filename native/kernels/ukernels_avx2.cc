// The avx2 micro-kernel table. Built with this ISA's compile flags only (see binding.gyp).
#if defined(__x86_64__) || defined(_M_X64)
#include "kernels/conv2d/conv_ukernels.h"
#include "kernels/elementwise_ukernels.h"
#include "kernels/simd/vec_ext_avx2.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {
UkernelTable make_table() {
  UkernelTable t{};
  t.isa = Isa::kAvx2;
  ukernel::fill_elementwise<avx2::Vec>(t);
  ukernel::fill_conv<avx2::Vec, avx2::VecExt, 6, 2, 6, 2, 6, 2, 6, 2>(t);  // GEMM 6 x 2 vectors, also on channel lanes (7 x 2 would spill); indirect GEMM and blocked conv 6 x 2
  return t;
}
}  // namespace

const UkernelTable& ukernels_avx2() {
  static const UkernelTable table = make_table();
  return table;
}

}  // namespace tf
#endif
