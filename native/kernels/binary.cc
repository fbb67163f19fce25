#include "kernels/binary.h"

#include <algorithm>

#include "kernels/ukernels.h"
#include "runtime/thread_pool.h"

namespace tf {

int64_t shape_size(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

bool broadcast_shape(const Shape& a, const Shape& b, Shape* out) {
  const size_t rank = std::max(a.size(), b.size());
  out->assign(rank, 1);
  for (size_t i = 0; i < rank; ++i) {
    const int64_t da = i < rank - a.size() ? 1 : a[i - (rank - a.size())];
    const int64_t db = i < rank - b.size() ? 1 : b[i - (rank - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    (*out)[i] = da == 1 ? db : da;
  }
  return true;
}

namespace {

// Work below this many output elements runs on the calling thread: waking the pool
// costs more than the loop (and small ops must stay cheap).
constexpr size_t kParallelMinElements = size_t{1} << 18;
constexpr size_t kParallelChunkElements = size_t{1} << 16;

// The iteration space after dropping size-1 dims and merging dims that both inputs walk
// the same way: an outer odometer over `dims[0..rank-1)` and one inner run of `dims.back()`.
struct BroadcastPlan {
  std::vector<int64_t> dims, a_strides, b_strides;
};

BroadcastPlan make_plan(const Shape& as, const Shape& bs, const Shape& ys) {
  const size_t rank = ys.size();
  std::vector<int64_t> sa(rank, 0), sb(rank, 0);
  int64_t stride_a = 1, stride_b = 1;
  for (size_t k = rank; k-- > 0;) {
    const int64_t da = k < rank - as.size() ? 1 : as[k - (rank - as.size())];
    const int64_t db = k < rank - bs.size() ? 1 : bs[k - (rank - bs.size())];
    sa[k] = da == 1 ? 0 : stride_a;
    sb[k] = db == 1 ? 0 : stride_b;
    stride_a *= da;
    stride_b *= db;
  }
  BroadcastPlan plan;
  for (size_t k = 0; k < rank; ++k) {
    if (ys[k] == 1) continue;
    if (!plan.dims.empty()) {
      // Merge with the previous dim when each input is either contiguous across both or
      // broadcast across both.
      const int64_t d = ys[k];
      const bool a_merges = plan.a_strides.back() == sa[k] * d;
      const bool b_merges = plan.b_strides.back() == sb[k] * d;
      if (a_merges && b_merges) {
        plan.dims.back() *= d;
        plan.a_strides.back() = sa[k];
        plan.b_strides.back() = sb[k];
        continue;
      }
    }
    plan.dims.push_back(ys[k]);
    plan.a_strides.push_back(sa[k]);
    plan.b_strides.push_back(sb[k]);
  }
  if (plan.dims.empty()) {
    plan.dims = {1};
    plan.a_strides = {1};
    plan.b_strides = {1};
  }
  return plan;
}

// One inner run of n outputs; a_step / b_step are 1 (walk) or 0 (broadcast one value).
void run_inner(BinaryUkernel vv, BinaryScalarUkernel vs, const float* a, int64_t a_step,
               const float* b, int64_t b_step, float* y, size_t n) {
  if (a_step != 0 && b_step != 0) {
    vv(a, b, y, n);
  } else if (b_step == 0 && a_step != 0) {
    vs(a, *b, y, n);
  } else if (a_step == 0 && b_step != 0) {
    vs(b, *a, y, n);  // add and mul commute
  } else {
    vs(a, *b, y, n);  // n == 1 here
  }
}

}  // namespace

void binary(BinaryOp op, const float* a, const Shape& a_shape, const float* b, const Shape& b_shape,
            float* y, const Shape& y_shape) {
  const size_t total = static_cast<size_t>(shape_size(y_shape));
  if (total == 0) return;
  const UkernelTable& uk = ukernels();
  const BinaryUkernel vv = op == BinaryOp::kAdd ? uk.add_vv : uk.mul_vv;
  const BinaryScalarUkernel vs = op == BinaryOp::kAdd ? uk.add_vs : uk.mul_vs;
  const BroadcastPlan plan = make_plan(a_shape, b_shape, y_shape);
  const size_t rank = plan.dims.size();
  const size_t inner = static_cast<size_t>(plan.dims.back());
  const int64_t a_step = plan.a_strides.back();
  const int64_t b_step = plan.b_strides.back();
  const size_t rows = total / inner;

  if (rows == 1) {
    // One long run (the same-shape case): split it into contiguous pieces.
    auto piece = [&](size_t begin, size_t end) {
      run_inner(vv, vs, a + (a_step ? begin : 0), a_step, b + (b_step ? begin : 0), b_step, y + begin,
                end - begin);
    };
    if (total < kParallelMinElements) {
      piece(0, total);
    } else {
      ThreadPool::instance().parallel_for(total, kParallelChunkElements, piece);
    }
    return;
  }

  auto row_range = [&](size_t begin, size_t end) {
    // Decompose the first row index into outer coordinates, then walk an odometer.
    std::vector<int64_t> idx(rank - 1, 0);
    int64_t a_off = 0, b_off = 0;
    size_t r = begin;
    for (size_t k = rank - 1; k-- > 0;) {
      idx[k] = static_cast<int64_t>(r % plan.dims[k]);
      r /= plan.dims[k];
      a_off += idx[k] * plan.a_strides[k];
      b_off += idx[k] * plan.b_strides[k];
    }
    for (size_t row = begin; row < end; ++row) {
      run_inner(vv, vs, a + a_off, a_step, b + b_off, b_step, y + row * inner, inner);
      for (size_t k = rank - 1; k-- > 0;) {
        a_off += plan.a_strides[k];
        b_off += plan.b_strides[k];
        if (++idx[k] < plan.dims[k]) break;
        a_off -= plan.a_strides[k] * plan.dims[k];
        b_off -= plan.b_strides[k] * plan.dims[k];
        idx[k] = 0;
      }
    }
  };
  if (total < kParallelMinElements) {
    row_range(0, rows);
  } else {
    ThreadPool::instance().parallel_for(rows, std::max<size_t>(1, kParallelChunkElements / inner), row_range);
  }
}

}  // namespace tf
