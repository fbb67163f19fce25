#include "runtime/isa.h"

#include <cstring>

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#endif

namespace tf {

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kScalar: return "scalar";
    case Isa::kAvx2: return "avx2";
    case Isa::kAvx512: return "avx512";
    case Isa::kNeon: return "neon";
  }
  return "unknown";
}

bool parse_isa(const char* name, Isa* out) {
  static const Isa all[] = {Isa::kScalar, Isa::kAvx2, Isa::kAvx512, Isa::kNeon};
  for (Isa isa : all) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      *out = isa;
      return true;
    }
  }
  return false;
}

#if defined(__x86_64__) || defined(_M_X64)
namespace {

unsigned long long read_xcr0() {
  unsigned int eax, edx;
  __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
  return (static_cast<unsigned long long>(edx) << 32) | eax;
}

}  // namespace

Isa detect_best_isa() {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return Isa::kScalar;
  const bool osxsave = ecx & (1u << 27);
  const bool fma = ecx & (1u << 12);
  const bool avx = ecx & (1u << 28);
  if (!osxsave || !avx) return Isa::kScalar;
  const unsigned long long xcr0 = read_xcr0();
  // The OS must save YMM state (bits 1,2) and, for AVX-512, opmask + ZMM state (bits 5,6,7).
  const bool ymm_enabled = (xcr0 & 0x6) == 0x6;
  const bool zmm_enabled = (xcr0 & 0xE6) == 0xE6;
  if (!ymm_enabled || __get_cpuid_max(0, nullptr) < 7) return Isa::kScalar;
  __cpuid_count(7, 0, eax, ebx, ecx, edx);
  const bool avx2 = ebx & (1u << 5);
  const bool avx512f = ebx & (1u << 16);
  const bool avx512dq = ebx & (1u << 17);
  const bool avx512bw = ebx & (1u << 30);
  const bool avx512vl = ebx & (1u << 31);
  if (avx2 && fma && zmm_enabled && avx512f && avx512dq && avx512bw && avx512vl) return Isa::kAvx512;
  if (avx2 && fma) return Isa::kAvx2;
  return Isa::kScalar;
}
#elif defined(__aarch64__)
Isa detect_best_isa() { return Isa::kNeon; }  // Advanced SIMD is mandatory on AArch64.
#else
Isa detect_best_isa() { return Isa::kScalar; }
#endif

Isa select_isa(const char* cap) {
  const Isa best = detect_best_isa();
  Isa wanted;
  if (cap == nullptr || *cap == '\0' || !parse_isa(cap, &wanted)) return best;
  if (wanted == Isa::kScalar) return Isa::kScalar;
  if (best == Isa::kNeon) return wanted == Isa::kNeon ? Isa::kNeon : Isa::kScalar;
  if (wanted == Isa::kNeon) return best;  // not an x86 level: ignore the cap
  return static_cast<int>(wanted) < static_cast<int>(best) ? wanted : best;
}

}  // namespace tf
