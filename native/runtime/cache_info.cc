#include "runtime/cache_info.h"

#if defined(__linux__)
#include <unistd.h>
#endif

namespace tf {

namespace {

// sysconf(name) when it is in [lo, hi]: some VMs and libcs report 0 or nonsense, so
// anything else gives `fallback`, a size real cores have.
size_t cache_bytes(int name, size_t lo, size_t hi, size_t fallback) {
  long b = 0;
#if defined(__linux__)
  b = sysconf(name);
#else
  (void)name;
#endif
  return b >= static_cast<long>(lo) && b <= static_cast<long>(hi) ? static_cast<size_t>(b) : fallback;
}

}  // namespace

size_t l1d_cache_bytes() {
#if defined(_SC_LEVEL1_DCACHE_SIZE)
  static const size_t bytes = cache_bytes(_SC_LEVEL1_DCACHE_SIZE, 16 << 10, 1 << 20, 32 << 10);
#else
  static const size_t bytes = 32 << 10;
#endif
  return bytes;
}

size_t l2_cache_bytes() {
#if defined(_SC_LEVEL2_CACHE_SIZE)
  static const size_t bytes = cache_bytes(_SC_LEVEL2_CACHE_SIZE, 128 << 10, 64 << 20, 1 << 20);
#else
  static const size_t bytes = 1 << 20;
#endif
  return bytes;
}

}  // namespace tf
