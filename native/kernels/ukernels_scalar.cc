// The scalar micro-kernel table. Built with this ISA's compile flags only (see binding.gyp).

#include "kernels/conv2d/conv_ukernels.h"
#include "kernels/elementwise_ukernels.h"
#include "kernels/simd/vec_ext_scalar.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {
UkernelTable make_table() {
  UkernelTable t{};
  t.isa = Isa::kScalar;
  ukernel::fill_elementwise<scalar::Vec>(t);
  ukernel::fill_conv<scalar::Vec, scalar::VecExt, 4, 4, 4, 4, 4, 4, 4, 4>(t);  // GEMM 4 x 4 on every path
  return t;
}
}  // namespace

const UkernelTable& ukernels_scalar() {
  static const UkernelTable table = make_table();
  return table;
}

}  // namespace tf

