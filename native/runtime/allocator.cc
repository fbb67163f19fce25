#include "runtime/allocator.h"

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tf {

namespace {

constexpr size_t kCacheLineAlign = 64;
constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kMaxCachedBlocks = 8;
constexpr size_t kMaxCachedBytes = size_t{512} << 20;

struct Block {
  void* ptr;
  size_t bytes;
};

struct Cache {
  std::mutex mutex;
  std::vector<Block> blocks;
  size_t bytes = 0;
  size_t reused = 0;
  size_t allocated = 0;
};

Cache& cache() {
  static Cache* c = new Cache();  // leaked: finalizers may run during process teardown
  return *c;
}

void* os_alloc(size_t bytes) {
  const size_t align = bytes >= kHugePage ? kHugePage : kCacheLineAlign;
  // Rounding up below would wrap to a small size for requests near SIZE_MAX.
  if (bytes > SIZE_MAX - align) return nullptr;
  const size_t rounded = (bytes + align - 1) / align * align;
  void* p = std::aligned_alloc(align, rounded == 0 ? align : rounded);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  // Advisory: on kernels with THP in "madvise" mode this is what enables huge pages.
  if (p != nullptr && bytes >= kHugePage) madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return p;
}

}  // namespace

void* buffer_alloc(size_t bytes) {
  Cache& c = cache();
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    for (size_t i = 0; i < c.blocks.size(); ++i) {
      if (c.blocks[i].bytes == bytes) {
        void* p = c.blocks[i].ptr;
        c.bytes -= bytes;
        c.blocks[i] = c.blocks.back();
        c.blocks.pop_back();
        ++c.reused;
        return p;
      }
    }
    ++c.allocated;
  }
  return os_alloc(bytes);
}

void buffer_free(void* p, size_t bytes) {
  if (p == nullptr) return;
  Cache& c = cache();
  // Only blocks worth keeping (whose first touch is expensive) go to the cache.
  if (bytes >= (size_t{64} << 10)) {
    std::lock_guard<std::mutex> lock(c.mutex);
    if (c.blocks.size() < kMaxCachedBlocks && c.bytes + bytes <= kMaxCachedBytes) {
      c.blocks.push_back({p, bytes});
      c.bytes += bytes;
      return;
    }
  }
  std::free(p);
}

AllocatorStats allocator_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return {c.blocks.size(), c.bytes, c.reused, c.allocated};
}

void allocator_trim() {
  Cache& c = cache();
  std::vector<Block> blocks;
  {
    std::lock_guard<std::mutex> lock(c.mutex);
    blocks.swap(c.blocks);
    c.bytes = 0;
  }
  for (const Block& b : blocks) std::free(b.ptr);
}

bool retain_freed_heap_memory(size_t bytes) {
#if defined(__GLIBC__)
  // A fixed mmap threshold (the largest glibc allows) also stops its dynamic adjustment.
  constexpr int kMmapThreshold = 32 << 20;
  const int trim = bytes > static_cast<size_t>(INT32_MAX) ? INT32_MAX : static_cast<int>(bytes);
  return mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim) == 1;
#else
  (void)bytes;
  return false;
#endif
}

}  // namespace tf
