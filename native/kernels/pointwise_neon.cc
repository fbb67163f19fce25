// The NEON pointwise table (AArch64). Built with this ISA's compile flags only.
#if defined(__aarch64__)
#include "kernels/pointwise_ukernels.h"
#include "kernels/simd/vec_neon.h"

namespace tf {

namespace {
struct X : neon::Vec {
  using M = uint32x4_t;
  static M lt(T a, T b) { return vcltq_f32(a, b); }
  static M isnan(T a) { return vmvnq_u32(vceqq_f32(a, a)); }
  static T select(M m, T a, T b) { return vbslq_f32(m, a, b); }
  static T div(T a, T b) { return vdivq_f32(a, b); }
  static T round(T a) { return vrndnq_f32(a); }
  static T floor(T a) { return vrndmq_f32(a); }
  static T pow2i(T n) {
    const int32x4_t e = vaddq_s32(vcvtq_s32_f32(n), vdupq_n_s32(127));
    return vreinterpretq_f32_s32(vshlq_n_s32(e, 23));
  }
};
}  // namespace

const PointwiseTable& pointwise_neon() {
  static const PointwiseTable table = pointwise_ukernel::make_table<X>(Isa::kNeon);
  return table;
}

}  // namespace tf
#endif
