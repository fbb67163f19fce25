#include <cstdlib>

#include "kernels/ukernels.h"

namespace tf {

const UkernelTable& ukernels_for(Isa isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(_M_X64)
    case Isa::kAvx512: return ukernels_avx512();
    case Isa::kAvx2: return ukernels_avx2();
#endif
#if defined(__aarch64__)
    case Isa::kNeon: return ukernels_neon();
#endif
    default: return ukernels_scalar();
  }
}

const UkernelTable& ukernels() {
  // Chosen once: every op in the process then runs the same code path.
  static const UkernelTable& table = ukernels_for(select_isa(std::getenv("TENSORFUSE_ISA")));
  return table;
}

}  // namespace tf
