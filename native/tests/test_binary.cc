// tf::binary (NumPy broadcasting over the dispatched micro-kernels) against a naive
// reference: hand-picked shapes, random shape pairs, in-place outputs, and sizes large
// enough to go through the thread pool. Inputs and output sit against guard pages.
// Uses the process-wide dispatch table: run the executable once per ISA with
// TENSORFUSE_ISA=scalar|avx2|avx512 to cover every path (scripts/native-tests.sh does).
#include <string>
#include <vector>

#include "kernels/binary.h"
#include "kernels/ukernels.h"
#include "runtime/thread_pool.h"
#include "test_util.h"
#include "tf_test.h"

using tf::BinaryOp;
using tf::Shape;
using tf_test::GuardedBuffer;

namespace {

float apply(BinaryOp op, float a, float b) {
  volatile float x = a, y = b;
  return op == BinaryOp::kAdd ? x + y : x * y;
}

// y[i] for every output index, walking the broadcast by explicit coordinates.
std::vector<float> reference(BinaryOp op, const float* a, const Shape& as, const float* b, const Shape& bs,
                             const Shape& ys) {
  const size_t rank = ys.size();
  const int64_t total = tf::shape_size(ys);
  std::vector<float> y(static_cast<size_t>(total));
  std::vector<int64_t> idx(rank, 0);
  for (int64_t i = 0; i < total; ++i) {
    int64_t r = i;
    for (size_t k = rank; k-- > 0;) {
      idx[k] = r % ys[k];
      r /= ys[k];
    }
    auto offset = [&](const Shape& s) {
      int64_t off = 0;
      for (size_t k = 0; k < s.size(); ++k) {
        const int64_t coord = s[k] == 1 ? 0 : idx[k + (rank - s.size())];
        off = off * s[k] + coord;
      }
      return off;
    };
    y[static_cast<size_t>(i)] = apply(op, a[offset(as)], b[offset(bs)]);
  }
  return y;
}

void check_case(BinaryOp op, const Shape& as, const Shape& bs, tf_test::Rng& rng,
                GuardedBuffer::Placement where = GuardedBuffer::Placement::kTail) {
  Shape ys;
  TF_REQUIRE(tf::broadcast_shape(as, bs, &ys));
  const size_t na = static_cast<size_t>(tf::shape_size(as)), nb = static_cast<size_t>(tf::shape_size(bs)),
               ny = static_cast<size_t>(tf::shape_size(ys));
  tf_test::set_context(std::string(op == BinaryOp::kAdd ? "add " : "mul ") + tf_test::shape_str(as) + " x " +
                       tf_test::shape_str(bs) + " -> " + tf_test::shape_str(ys) + " " + tf_test::placement_name(where) +
                       " isa=" + tf::isa_name(tf::ukernels().isa));
  GuardedBuffer a(na, where), b(nb, where), y(ny, where);
  for (size_t i = 0; i < na; ++i) a[i] = rng.value();
  for (size_t i = 0; i < nb; ++i) b[i] = rng.value();
  for (size_t i = 0; i < ny; ++i) y[i] = 12345.0f;
  tf::binary(op, a.data(), as, b.data(), bs, y.data(), ys);
  const std::vector<float> want = reference(op, a.data(), as, b.data(), bs, ys);
  for (size_t i = 0; i < ny; ++i) {
    if (!(tf_test::same_float(y[i], want[i]))) {
        TF_CHECK(false) << "i=" << i << " got " << y[i] << " want " << want[i];
        break;
      }
  }

  // In place: y aliases whichever input already has the output's shape.
  const bool a_full = tf::shape_size(as) == static_cast<int64_t>(ny) && as.size() == ys.size();
  const bool b_full = tf::shape_size(bs) == static_cast<int64_t>(ny) && bs.size() == ys.size();
  if (a_full && ny > 0) {
    tf::binary(op, a.data(), as, b.data(), bs, a.data(), ys);
    for (size_t i = 0; i < ny; ++i) {
      if (!(tf_test::same_float(a[i], want[i]))) {
        TF_CHECK(false) << "out=a, i=" << i;
        break;
      }
    }
  } else if (b_full && ny > 0) {
    tf::binary(op, a.data(), as, b.data(), bs, b.data(), ys);
    for (size_t i = 0; i < ny; ++i) {
      if (!(tf_test::same_float(b[i], want[i]))) {
        TF_CHECK(false) << "out=b, i=" << i;
        break;
      }
    }
  }
}

const std::vector<std::pair<Shape, Shape>>& hand_picked() {
  static const std::vector<std::pair<Shape, Shape>> cases = {
      {{}, {}},                          // rank-0 both
      {{}, {7}},                         // rank-0 scalar against a vector
      {{5}, {}},
      {{1}, {1}},
      {{17}, {17}},                      // same shape, odd length
      {{33}, {1}},
      {{1}, {33}},                       // scalar on the left (commuted vs)
      {{2, 3, 4}, {2, 3, 4}},
      {{2, 3, 4}, {4}},                  // trailing vector
      {{2, 3, 4}, {3, 1}},               // middle broadcast
      {{2, 1, 4}, {1, 3, 1}},            // both sides broadcast
      {{4, 1, 5, 1}, {1, 3, 1, 7}},      // alternating
      {{2, 3, 5, 7}, {1, 3, 1, 1}},      // NCHW per-channel bias
      {{2, 3, 5, 7}, {2, 3, 1, 1}},      // per-(n, c) scale (SE / attention)
      {{2, 1, 5, 7}, {2, 3, 5, 7}},      // per-pixel weight map (ASFF)
      {{1, 1, 1}, {2, 1, 3}},
      {{3, 1}, {1, 1, 1, 1, 4}},         // rank promotion
      {{0, 3}, {3}},                     // zero-size
      {{2, 0, 4}, {1, 1, 4}},
      {{5, 1}, {5, 0}},
      {{65}, {65}},
      {{3, 65}, {3, 1}},
      {{3, 1}, {3, 65}},
  };
  return cases;
}

void hand_picked_cases(BinaryOp op) {
  tf_test::Rng rng(op == BinaryOp::kAdd ? 101 : 202);
  for (const auto& c : hand_picked()) {
    check_case(op, c.first, c.second, rng, GuardedBuffer::Placement::kTail);
    check_case(op, c.first, c.second, rng, GuardedBuffer::Placement::kHead);
    check_case(op, c.second, c.first, rng, GuardedBuffer::Placement::kTail);
  }
}

// Random broadcastable pairs: a random output shape, then each input drops leading dims
// and turns some dims into 1.
void random_cases(BinaryOp op, int count) {
  tf_test::Rng rng(op == BinaryOp::kAdd ? 7 : 8);
  for (int c = 0; c < count; ++c) {
    const int rank = static_cast<int>(rng.range(0, 5));
    Shape ys(rank);
    for (auto& d : ys) d = rng.range(1, 6);
    auto derive = [&] {
      const int r = static_cast<int>(rng.range(0, rank));
      Shape s(ys.end() - r, ys.end());
      for (auto& d : s) {
        if (rng.range(0, 2) == 0) d = 1;
      }
      return s;
    };
    check_case(op, derive(), derive(), rng);
  }
}

}  // namespace

TF_TEST(binary_broadcast_shape) {
  Shape out;
  TF_CHECK(tf::broadcast_shape({2, 3, 4}, {3, 1}, &out) && out == Shape({2, 3, 4}));
  TF_CHECK(tf::broadcast_shape({}, {}, &out) && out.empty());
  TF_CHECK(tf::broadcast_shape({5, 1}, {5, 0}, &out) && out == Shape({5, 0}));
  TF_CHECK(tf::broadcast_shape({1, 0}, {7, 1}, &out) && out == Shape({7, 0}));
  TF_CHECK(!tf::broadcast_shape({2, 3}, {3, 2}, &out));
  TF_CHECK(!tf::broadcast_shape({4}, {5}, &out));
  TF_CHECK(!tf::broadcast_shape({2, 0}, {2, 3}, &out));
  TF_CHECK_EQ(tf::shape_size({}), 1);
  TF_CHECK_EQ(tf::shape_size({3, 0, 2}), 0);
}

TF_TEST(binary_add_hand_picked) { hand_picked_cases(BinaryOp::kAdd); }
TF_TEST(binary_mul_hand_picked) { hand_picked_cases(BinaryOp::kMul); }
TF_TEST(binary_add_random_shapes) { random_cases(BinaryOp::kAdd, 300); }
TF_TEST(binary_mul_random_shapes) { random_cases(BinaryOp::kMul, 300); }

TF_TEST(binary_large_uses_pool) {
  // Above the 2^18-element threshold the kernels split the work over the pool: check the
  // split (one long run, many rows, broadcast rows) covers every element exactly.
  const int saved = tf::ThreadPool::instance().threads();
  tf_test::Rng rng(99);
  for (int threads : {2, 3}) {
    tf::ThreadPool::instance().set_threads(threads);
    check_case(BinaryOp::kAdd, {(1 << 18) + 3}, {(1 << 18) + 3}, rng);      // rows == 1, split into pieces
    check_case(BinaryOp::kMul, {(1 << 18) + 5}, {1}, rng);                  // vs, one run
    check_case(BinaryOp::kAdd, {1, 64, 65, 65}, {1, 64, 1, 1}, rng);        // per-channel, many short rows
    check_case(BinaryOp::kMul, {3, 1, 300, 301}, {3, 1, 1, 301}, rng);      // row broadcast
    check_case(BinaryOp::kAdd, {1, 4, 256, 257}, {1, 4, 256, 257}, rng,
               GuardedBuffer::Placement::kHead);
  }
  tf::ThreadPool::instance().set_threads(saved);
}
