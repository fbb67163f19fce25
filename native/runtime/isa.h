// Instruction-set levels tensorfuse has kernels for, and how the one to use is chosen.
#pragma once

namespace tf {

// Ordered from least to most capable on one architecture; Neon stands apart (arm64 only).
enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

const char* isa_name(Isa isa);

// Parses "scalar" | "avx2" | "avx512" | "neon"; returns false for anything else.
bool parse_isa(const char* name, Isa* out);

// The most capable level this CPU and OS support (CPUID + XGETBV on x86-64).
Isa detect_best_isa();

// detect_best_isa() capped by `cap` (the TENSORFUSE_ISA value, may be null or empty).
// A cap above what the CPU supports is clamped to the best supported level.
Isa select_isa(const char* cap);

}  // namespace tf
