// Helpers shared by the kernel tests: guard-page buffers, the ISAs to test, float
// comparison and a deterministic RNG.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "runtime/isa.h"

namespace tf_test {

// float32 storage placed flush against an inaccessible (PROT_NONE) page, as MLAS does in
// its tests: with Placement::kTail the element after the last one is on the guard page, so
// any overread or overwrite past the end faults; with kHead the element before the first
// one is, so any access before the start faults. Move-only; unmaps on destruction.
class GuardedBuffer {
 public:
  enum class Placement { kTail, kHead };
  GuardedBuffer() = default;
  GuardedBuffer(size_t n, Placement where);
  ~GuardedBuffer();
  GuardedBuffer(GuardedBuffer&& o) noexcept;
  GuardedBuffer& operator=(GuardedBuffer&& o) noexcept;
  GuardedBuffer(const GuardedBuffer&) = delete;
  GuardedBuffer& operator=(const GuardedBuffer&) = delete;

  float* data() { return data_; }
  const float* data() const { return data_; }
  size_t size() const { return n_; }
  float& operator[](size_t i) { return data_[i]; }
  const float& operator[](size_t i) const { return data_[i]; }

 private:
  void release();
  void* map_ = nullptr;
  size_t map_bytes_ = 0;
  float* data_ = nullptr;
  size_t n_ = 0;
};

inline const char* placement_name(GuardedBuffer::Placement p) {
  return p == GuardedBuffer::Placement::kTail ? "tail-guard" : "head-guard";
}

// Every ISA level this CPU supports, scalar first.
std::vector<tf::Isa> supported_isas();

inline uint32_t bits(float x) {
  uint32_t u;
  std::memcpy(&u, &x, sizeof u);
  return u;
}

// Bit-exact equality, except that any NaN matches any NaN (which NaN payload survives a
// two-NaN add depends on operand order, which the compiler may swap).
inline bool same_float(float got, float want) {
  if (std::isnan(want)) return std::isnan(got);
  return bits(got) == bits(want);
}

// xorshift64*: deterministic across platforms.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ? seed : 0x9E3779B97F4A7C15ull) {}
  uint64_t next() {
    s_ ^= s_ >> 12;
    s_ ^= s_ << 25;
    s_ ^= s_ >> 27;
    return s_ * 2685821657736338717ull;
  }
  // Uniform integer in [lo, hi].
  int64_t range(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1)); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * static_cast<float>(next() >> 40) / static_cast<float>(1 << 24); }
  // Mostly ordinary values, with signed zeros, infinities, NaNs, denormals and huge values
  // mixed in so that IEEE edge cases go through every path.
  float value();

 private:
  uint64_t s_;
};

std::string shape_str(const std::vector<int64_t>& s);

}  // namespace tf_test
