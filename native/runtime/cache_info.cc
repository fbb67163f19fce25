#include "runtime/cache_info.h"

#if defined(__linux__)
#include <unistd.h>
#endif

namespace tf {

size_t l1d_cache_bytes() {
  static const size_t bytes = [] {
    long b = 0;
#if defined(__linux__) && defined(_SC_LEVEL1_DCACHE_SIZE)
    b = sysconf(_SC_LEVEL1_DCACHE_SIZE);
#endif
    // Some VMs and libcs report 0 or nonsense: keep to what real cores have.
    return b >= (16 << 10) && b <= (1 << 20) ? static_cast<size_t>(b) : size_t{32} << 10;
  }();
  return bytes;
}

}  // namespace tf
