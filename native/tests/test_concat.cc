// tf::concat against a naive reference: several inputs, zero-size pieces, one input,
// outer sizes from 0 up, and sizes large enough to split over the thread pool. Every input
// and the output sit against a guard page.
#include <string>
#include <vector>

#include "kernels/concat.h"
#include "runtime/thread_pool.h"
#include "test_util.h"
#include "tf_test.h"

using tf_test::GuardedBuffer;

namespace {

void check_concat(const std::vector<int64_t>& extents, int64_t outer, GuardedBuffer::Placement where,
                  tf_test::Rng& rng) {
  std::string ext = "[";
  for (size_t i = 0; i < extents.size(); ++i) ext += (i ? "," : "") + std::to_string(extents[i]);
  tf_test::set_context("concat extents=" + ext + "] outer=" + std::to_string(outer) + " " +
                       tf_test::placement_name(where));
  std::vector<GuardedBuffer> in;
  std::vector<const float*> ptrs;
  int64_t row = 0;
  for (int64_t e : extents) {
    in.emplace_back(static_cast<size_t>(e * outer), where);
    for (size_t i = 0; i < in.back().size(); ++i) in.back()[i] = rng.value();
    ptrs.push_back(in.back().data());
    row += e;
  }
  const size_t total = static_cast<size_t>(row * outer);
  GuardedBuffer y(total, where);
  for (size_t i = 0; i < total; ++i) y[i] = 12345.0f;
  tf::concat(ptrs, extents, outer, y.data());
  size_t bad = 0;
  for (int64_t r = 0; r < outer; ++r) {
    int64_t col = 0;
    for (size_t k = 0; k < extents.size(); ++k) {
      for (int64_t j = 0; j < extents[k]; ++j, ++col) {
        const float want = in[k][static_cast<size_t>(r * extents[k] + j)];
        const float got = y[static_cast<size_t>(r * row + col)];
        if (!(tf_test::bits(got) == tf_test::bits(want))) {
          TF_CHECK(false)
                 << "row " << r << " input " << k << " elem " << j << " got " << got << " want " << want;
          if (++bad > 5) return;
        }
      }
    }
  }
}

}  // namespace

TF_TEST(concat_small_shapes) {
  tf_test::Rng rng(5);
  const std::vector<std::vector<int64_t>> extent_sets = {
      {1}, {5}, {1, 1}, {3, 4}, {0, 4}, {4, 0}, {0, 0}, {2, 0, 3}, {16, 16, 16}, {1, 2, 3, 4, 5, 6, 7},
      {17, 1, 33}, {64, 65}, {0},
  };
  for (const auto& ext : extent_sets) {
    for (int64_t outer : {0, 1, 2, 7, 33}) {
      check_concat(ext, outer, GuardedBuffer::Placement::kTail, rng);
      check_concat(ext, outer, GuardedBuffer::Placement::kHead, rng);
    }
  }
}

TF_TEST(concat_random) {
  tf_test::Rng rng(6);
  for (int c = 0; c < 200; ++c) {
    std::vector<int64_t> ext(static_cast<size_t>(rng.range(1, 6)));
    for (auto& e : ext) e = rng.range(0, 40);
    check_concat(ext, rng.range(0, 20), c % 2 ? GuardedBuffer::Placement::kTail : GuardedBuffer::Placement::kHead,
                 rng);
  }
}

TF_TEST(concat_large_uses_pool) {
  // DenseNet/U-Net-like channel concat: total above the 2^18-element pool threshold, with
  // pieces that straddle the pool's chunk boundaries.
  const int saved = tf::ThreadPool::instance().threads();
  tf_test::Rng rng(7);
  for (int threads : {2, 3}) {
    tf::ThreadPool::instance().set_threads(threads);
    check_concat({64 * 1024 + 3, 32 * 1024 + 1}, 3, GuardedBuffer::Placement::kTail, rng);      // outer small
    check_concat({3, 5, 1}, 40000, GuardedBuffer::Placement::kTail, rng);                        // many short rows
    check_concat({1 << 18}, 2, GuardedBuffer::Placement::kHead, rng);                            // one input
    check_concat({0, 100000, 0, 70001}, 2, GuardedBuffer::Placement::kTail, rng);               // empty pieces
  }
  tf::ThreadPool::instance().set_threads(saved);
}
