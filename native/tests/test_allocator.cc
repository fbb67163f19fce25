// tf::buffer_alloc / buffer_free: 64-byte alignment, 2 MiB alignment for large blocks,
// every byte writable, the reuse cache and its limits, stats, trim, huge requests, and
// use from several threads.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <vector>

#include "runtime/allocator.h"
#include "test_util.h"
#include "tf_test.h"

namespace {
constexpr size_t kMiB = size_t{1} << 20;
bool aligned(const void* p, size_t a) { return reinterpret_cast<uintptr_t>(p) % a == 0; }
}  // namespace

TF_TEST(allocator_alignment_and_access) {
  tf::allocator_trim();
  for (size_t bytes : {size_t{0}, size_t{1}, size_t{3}, size_t{4}, size_t{63}, size_t{64}, size_t{65}, size_t{4096},
                       size_t{65535}, size_t{65536}, 2 * kMiB - 4, 2 * kMiB, 2 * kMiB + 4, 5 * kMiB + 12}) {
    tf_test::set_context("bytes=" + std::to_string(bytes));
    void* p = tf::buffer_alloc(bytes);
    TF_REQUIRE(p != nullptr);
    TF_CHECK(aligned(p, 64)) << p;
    if (bytes >= 2 * kMiB) TF_CHECK(aligned(p, 2 * kMiB)) << p;
    std::memset(p, 0xA5, bytes);  // every requested byte is ours (ASan checks the bounds)
    tf::buffer_free(p, bytes);
  }
  tf::allocator_trim();
}

TF_TEST(allocator_zero_bytes_unique) {
  void* a = tf::buffer_alloc(0);
  void* b = tf::buffer_alloc(0);
  TF_CHECK(a != nullptr && b != nullptr && a != b);
  tf::buffer_free(a, 0);
  tf::buffer_free(b, 0);
  tf::buffer_free(nullptr, 123);  // a no-op
}

TF_TEST(allocator_cache_reuse_and_stats) {
  tf::allocator_trim();
  const tf::AllocatorStats s0 = tf::allocator_stats();
  TF_CHECK_EQ(s0.cached_blocks, 0u);
  TF_CHECK_EQ(s0.cached_bytes, 0u);

  // A large block comes back from the cache for the same size, not for another size.
  const size_t big = 3 * kMiB;
  void* p = tf::buffer_alloc(big);
  TF_REQUIRE(p != nullptr);
  tf::AllocatorStats s = tf::allocator_stats();
  TF_CHECK_EQ(s.allocated, s0.allocated + 1);
  tf::buffer_free(p, big);
  s = tf::allocator_stats();
  TF_CHECK_EQ(s.cached_blocks, 1u);
  TF_CHECK_EQ(s.cached_bytes, big);
  void* other = tf::buffer_alloc(big + 64);
  TF_CHECK(other != p);
  void* q = tf::buffer_alloc(big);
  TF_CHECK(q == p) << "a freed block of the same size is reused";
  s = tf::allocator_stats();
  TF_CHECK_EQ(s.reused, s0.reused + 1);
  TF_CHECK_EQ(s.allocated, s0.allocated + 2);
  TF_CHECK_EQ(s.cached_blocks, 0u);
  tf::buffer_free(q, big);
  tf::buffer_free(other, big + 64);

  // Small blocks are not worth caching.
  tf::allocator_trim();
  void* small = tf::buffer_alloc(1000);
  tf::buffer_free(small, 1000);
  s = tf::allocator_stats();
  TF_CHECK_EQ(s.cached_blocks, 0u);

  // At most 8 blocks are kept.
  std::vector<void*> blocks;
  for (int i = 0; i < 12; ++i) blocks.push_back(tf::buffer_alloc(128 * 1024));
  for (void* b : blocks) tf::buffer_free(b, 128 * 1024);
  s = tf::allocator_stats();
  TF_CHECK_EQ(s.cached_blocks, 8u);
  TF_CHECK_EQ(s.cached_bytes, 8u * 128 * 1024);

  tf::allocator_trim();
  s = tf::allocator_stats();
  TF_CHECK_EQ(s.cached_blocks, 0u);
  TF_CHECK_EQ(s.cached_bytes, 0u);
}

TF_TEST(allocator_huge_request_fails_cleanly) {
  // Sizes near SIZE_MAX must give nullptr, never a small block from a wrapped rounding.
  for (size_t bytes : {std::numeric_limits<size_t>::max(), std::numeric_limits<size_t>::max() - 100,
                       std::numeric_limits<size_t>::max() / 2, size_t{1} << 62}) {
    tf_test::set_context("bytes=" + std::to_string(bytes));
    void* p = tf::buffer_alloc(bytes);
    TF_CHECK(p == nullptr) << "got " << p;
    if (p != nullptr) tf::buffer_free(p, bytes);
  }
}

TF_TEST(allocator_threads) {
  tf::allocator_trim();
  std::vector<std::thread> ts;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    ts.emplace_back([&, t] {
      for (int i = 0; i < 300; ++i) {
        const size_t bytes = (i % 3 == 0 ? 70000 : 256) + static_cast<size_t>(t % 2) * 64;
        auto* p = static_cast<unsigned char*>(tf::buffer_alloc(bytes));
        if (p == nullptr || !aligned(p, 64)) {
          bad.fetch_add(1);
          continue;
        }
        std::memset(p, t, bytes);
        for (size_t k = 0; k < bytes; k += 997) {
          if (p[k] != t) bad.fetch_add(1);
        }
        tf::buffer_free(p, bytes);
      }
    });
  }
  for (auto& t : ts) t.join();
  TF_CHECK_EQ(bad.load(), 0);
  const tf::AllocatorStats s = tf::allocator_stats();
  TF_CHECK(s.cached_blocks <= 8);
  tf::allocator_trim();
}
