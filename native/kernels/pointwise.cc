#include "kernels/pointwise.h"

#include <algorithm>
#include <cstdlib>

#include "kernels/pointwise_table.h"

namespace tf {

const PointwiseTable& pointwise() {
  static const PointwiseTable& table = [] () -> const PointwiseTable& {
    switch (select_isa(std::getenv("TENSORFUSE_ISA"))) {
#if defined(__x86_64__) || defined(_M_X64)
      case Isa::kAvx512: return pointwise_avx512();
      case Isa::kAvx2: return pointwise_avx2();
#endif
#if defined(__aarch64__)
      case Isa::kNeon: return pointwise_neon();
#endif
      default: return pointwise_scalar();
    }
  }();
  return table;
}

namespace {
constexpr size_t kBlock = 4096;  // elements per unit of the 1-D and strided loops
}  // namespace

void unary(UnaryOp op, const float* x, float* y, size_t n, float a, float b) {
  const PointwiseTable& pw = pointwise();
  const size_t blocks = (n + kBlock - 1) / kBlock;
  parallel_units(blocks, op == UnaryOp::kSigmoid ? 4 * kBlock : kBlock, [&](size_t b0, size_t b1) {
    const size_t begin = b0 * kBlock, end = std::min(n, b1 * kBlock);
    switch (op) {
      case UnaryOp::kRelu: pw.relu(x + begin, y + begin, end - begin); break;
      case UnaryOp::kSigmoid: pw.sigmoid(x + begin, y + begin, end - begin); break;
      case UnaryOp::kClip: pw.clip(x + begin, y + begin, end - begin, a, b); break;
      case UnaryOp::kLeakyRelu: pw.leaky_relu(x + begin, y + begin, end - begin, a); break;
    }
  });
}

void softmax(const float* x, float* y, int64_t outer, int64_t axis, int64_t inner) {
  const PointwiseTable& pw = pointwise();
  const size_t A = static_cast<size_t>(axis), I = static_cast<size_t>(inner), O = static_cast<size_t>(outer);
  if (A == 0 || I == 0 || O == 0) return;
  if (I == 1) {
    // Contiguous rows: max, exp(x - max) with its sum, then scale by 1 / sum.
    parallel_units(O, 3 * A, [&](size_t r0, size_t r1) {
      for (size_t r = r0; r < r1; ++r) {
        const float m = pw.reduce_max(x + r * A, A);
        const float s = pw.sub_exp_sum(x + r * A, m, y + r * A, A);
        const float inv = 1.0f / s;
        for (size_t a = 0; a < A; ++a) y[r * A + a] *= inv;
      }
    });
    return;
  }
  // Strided axis: per block of `inner` columns, running max and sum rows over the axis.
  constexpr size_t kCols = 1024;
  const size_t blocks = (I + kCols - 1) / kCols;
  parallel_units(O * blocks, 3 * A * std::min(I, kCols), [&](size_t u0, size_t u1) {
    alignas(64) float m[kCols];
    alignas(64) float s[kCols];
    for (size_t u = u0; u < u1; ++u) {
      const size_t o = u / blocks, c0 = (u % blocks) * kCols, nc = std::min(kCols, I - c0);
      const float* xo = x + o * A * I + c0;
      float* yo = y + o * A * I + c0;
      std::copy(xo, xo + nc, m);
      for (size_t a = 1; a < A; ++a) pw.max_acc(m, xo + a * I, 1, nc);
      std::fill(s, s + nc, 0.0f);
      for (size_t a = 0; a < A; ++a) pw.sub_exp_acc(xo + a * I, m, yo + a * I, s, nc);
      for (size_t k = 0; k < nc; ++k) s[k] = 1.0f / s[k];
      for (size_t a = 0; a < A; ++a) pw.mul_inplace(yo + a * I, s, nc);
    }
  });
}

void weighted_sum(const std::vector<const float*>& x, const std::vector<const float*>& w, int64_t n, int64_t c,
                  int64_t hw, float* y) {
  const PointwiseTable& pw = pointwise();
  const size_t K = x.size(), C = static_cast<size_t>(c), HW = static_cast<size_t>(hw);
  const size_t planes = static_cast<size_t>(n) * C;
  if (K == 0 || planes == 0 || HW == 0) return;
  const size_t blocks = (HW + kBlock - 1) / kBlock;
  parallel_units(planes * blocks, (2 * K + 1) * std::min(HW, kBlock), [&](size_t u0, size_t u1) {
    std::vector<const float*> xs(K), ws(K);
    for (size_t u = u0; u < u1; ++u) {
      const size_t p = u / blocks, b0 = (u % blocks) * kBlock, len = std::min(kBlock, HW - b0);
      const size_t batch = p / C;
      for (size_t k = 0; k < K; ++k) {
        xs[k] = x[k] + p * HW + b0;
        ws[k] = w[k] + batch * HW + b0;
      }
      pw.weighted_sum(xs.data(), ws.data(), K, y + p * HW + b0, len);
    }
  });
}

}  // namespace tf
