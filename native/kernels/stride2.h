// d[v] = s[2 v] (add: d[v] += s[2 v]) for v < n: every other value of a row (the column
// phases of a stride-2 conv's padded copy). Plain loops at a stride of 2 stay scalar at the
// baseline ISA the ISA-independent kernels are built for; SSE2 (every x86-64) deinterleaves
// four floats per shuffle.
#pragma once
#include <cstdint>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace tf {

inline void stride2(float* __restrict d, const float* __restrict s, int64_t n, bool add) {
  int64_t v = 0;
#if defined(__SSE2__)
  // Four outputs read s[2 v .. 2 v + 7]; the last one needed is s[2 n - 2], so stop a step
  // early rather than read past the row (the tests put a guard page there).
  for (; v + 5 <= n; v += 4) {
    const __m128 even = _mm_shuffle_ps(_mm_loadu_ps(s + 2 * v), _mm_loadu_ps(s + 2 * v + 4), _MM_SHUFFLE(2, 0, 2, 0));
    _mm_storeu_ps(d + v, add ? _mm_add_ps(_mm_loadu_ps(d + v), even) : even);
  }
#endif
  for (; v < n; ++v) d[v] = add ? d[v] + s[2 * v] : s[2 * v];
}

}  // namespace tf
