#include "kernels/lrn.h"

#include <algorithm>
#include <vector>

#include "kernels/pointwise.h"
#include "kernels/pointwise_table.h"

namespace tf {

void lrn(const float* x, int64_t n, int64_t c, int64_t inner, const LrnParams& p, float* y) {
  const PointwiseTable& pw = pointwise();
  const size_t I = static_cast<size_t>(inner), C = static_cast<size_t>(c);
  if (I == 0 || C == 0 || n == 0) return;
  const int64_t before = (p.size - 1) / 2, after = p.size / 2;  // floor and ceil of (size-1)/2
  const float a = p.alpha / static_cast<float>(p.size);
  // Each unit is one block of pixels of one channel row; its window sum is formed afresh
  // from the (at most size) neighbouring rows rather than slid across channels, so no
  // rounding error accumulates from channel to channel and units are independent.
  constexpr size_t kBlock = 4096;
  const size_t blocks = (I + kBlock - 1) / kBlock;
  const size_t window = static_cast<size_t>(std::min<int64_t>(p.size, c));
  parallel_units(static_cast<size_t>(n) * C * blocks, (window + 8) * std::min(I, kBlock), [&](size_t u0, size_t u1) {
    std::vector<const float*> rows(window);
    for (size_t u = u0; u < u1; ++u) {
      const size_t row = u / blocks, i0 = (u % blocks) * kBlock, len = std::min(kBlock, I - i0);
      const int64_t k = static_cast<int64_t>(row % C);
      const float* xb = x + (row - static_cast<size_t>(k)) * I;  // channel 0 of this batch item
      const int64_t j0 = std::max<int64_t>(0, k - before), j1 = std::min<int64_t>(c - 1, k + after);
      size_t count = 0;
      for (int64_t j = j0; j <= j1; ++j) rows[count++] = xb + static_cast<size_t>(j) * I + i0;
      pw.lrn_rows(rows.data(), count, x + row * I + i0, a, p.bias, p.beta, y + row * I + i0, len);
    }
  });
}

}  // namespace tf
