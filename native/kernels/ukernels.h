// The table of micro-kernels one ISA provides. Algorithms (broadcasting, concat, conv
// blocking, threading) are written once against this table; only the innermost loops
// differ per ISA. Kernels here know nothing of N-API.
#pragma once
#include <cstddef>

#include "kernels/conv2d/conv_ukernel_types.h"
#include "runtime/isa.h"

namespace tf {

// y[i] = a[i] op b[i] for i < n. y may alias a or b exactly.
using BinaryUkernel = void (*)(const float* a, const float* b, float* y, size_t n);
// y[i] = a[i] op s for i < n. y may alias a exactly.
using BinaryScalarUkernel = void (*)(const float* a, float s, float* y, size_t n);

struct UkernelTable {
  Isa isa;
  BinaryUkernel add_vv;
  BinaryScalarUkernel add_vs;
  BinaryUkernel mul_vv;
  BinaryScalarUkernel mul_vs;
  ConvUkernels conv;  // conv2d micro-kernels (kernels/conv2d/)
};

// Per-ISA tables, each defined in a source compiled with that ISA's flags.
const UkernelTable& ukernels_scalar();
#if defined(__x86_64__) || defined(_M_X64)
const UkernelTable& ukernels_avx2();
const UkernelTable& ukernels_avx512();
#endif
#if defined(__aarch64__)
const UkernelTable& ukernels_neon();
#endif

// The table for an ISA level this CPU supports.
const UkernelTable& ukernels_for(Isa isa);

// The table chosen once per process: the best supported ISA capped by TENSORFUSE_ISA.
const UkernelTable& ukernels();

}  // namespace tf
