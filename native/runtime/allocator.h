// Memory the kernels own (packed weights, conv scratch): first writes to fresh pages cost
// ≈11 µs per 4 KiB page on these machines, so blocks are 64-byte aligned, large ones 2 MiB
// aligned and marked for transparent huge pages, and freed blocks are kept in a small cache
// for the next block of the same size. (Tensor outputs are V8 ArrayBuffers: lib/memory.ts.)
#pragma once
#include <cstddef>

namespace tf {

struct AllocatorStats {
  size_t cached_blocks;
  size_t cached_bytes;
  size_t reused;     // allocations served from the cache since start
  size_t allocated;  // allocations that went to the OS
};

// Returns nullptr when out of memory. bytes may be 0 (a valid, unique pointer is returned).
void* buffer_alloc(size_t bytes);
// Returns a block from buffer_alloc to the cache or the OS. Thread-safe.
void buffer_free(void* p, size_t bytes);
AllocatorStats allocator_stats();
// Releases every cached block to the OS.
void allocator_trim();

// Makes the C heap (malloc, which also backs V8's ArrayBuffers) keep up to `bytes` of freed
// memory instead of returning it to the OS, and serve blocks up to 32 MiB from that heap
// instead of fresh mmap()s: a program that allocates and drops large typed arrays then
// reuses pages it has already touched (each fresh 4 KiB page costs a fault on first write).
// Process-wide; RSS stays near its high-water mark. Returns false where unsupported
// (non-glibc builds).
bool retain_freed_heap_memory(size_t bytes);

}  // namespace tf
