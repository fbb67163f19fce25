// Sizes of this CPU's data caches, for the kernels' cache blocking.
#pragma once
#include <cstddef>

namespace tf {

// Per-core L1 data cache in bytes (sysconf on Linux; 32 KiB where it cannot be read).
size_t l1d_cache_bytes();
// Per-core L2 cache in bytes (1 MiB where it cannot be read).
size_t l2_cache_bytes();

}  // namespace tf
