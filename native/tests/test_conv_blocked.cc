// The blocked conv micro-kernels of both tiles (conv.blocked and conv.blocked_half: strided,
// strided_s2, and nchw_in(_s2): one input lane per reduction block; the gather forms, each
// pixel at its own offset) of every ISA this CPU supports, against a
// double-precision loop over the same contract (conv_ukernel_types.h): every pixel count
// 1..R (the strided forms up to 3R + 1: runs of tiles in one call), every number of
// channel vectors, column strides 1 and 2, with and without bias,
// accumulate and start (residual) values; x, w and y each end at a guard
// page, so a kernel that reads one pixel, lane or panel entry past its own faults.
#include <cmath>
#include <string>
#include <vector>

#include "kernels/conv2d/conv_ukernel_types.h"
#include "kernels/ukernels.h"
#include "test_util.h"
#include "tf_test.h"

using tf_test::GuardedBuffer;

namespace {

struct BlockedCase {
  size_t pixels, vectors, kblocks, stride;
  bool bias, accumulate, start;
  bool nchw_in;  // LI = 1 (blocked_nchw_in kernels), else LI = L
  bool gather;   // the gather kernel, the pixels in reverse order (pix[p] = (pixels - 1 - p) * stride * LI)
};

void run_case(const tf::UkernelTable& t, const tf::ConvBlockedTile& tile, const BlockedCase& c, tf_test::Rng& rng) {
  const size_t L = t.conv.vector_lanes, NR = tile.nr, LI = c.nchw_in ? 1 : L;
  // x: kblocks reduction blocks, each a run of pixels * stride pixels of LI lanes, laid out
  // back to back with a gap between blocks (xoff need not be dense).
  const size_t block = c.pixels * c.stride * LI, gap = L;
  GuardedBuffer x(c.kblocks * (block + gap), GuardedBuffer::Placement::kTail);
  for (size_t i = 0; i < x.size(); ++i) x[i] = rng.uniform(-1, 1);
  std::vector<int64_t> xoff(c.kblocks);
  for (size_t kb = 0; kb < c.kblocks; ++kb) xoff[kb] = static_cast<int64_t>(kb * (block + gap) + gap);
  GuardedBuffer w(c.kblocks * LI * NR, GuardedBuffer::Placement::kTail);
  for (size_t i = 0; i < w.size(); ++i) w[i] = rng.uniform(-1, 1);
  std::vector<float> bias(NR);
  for (float& b : bias) b = rng.uniform(-1, 1);
  // y: `vectors` planes of `pixels` pixels of L lanes, the planes ystride floats apart.
  const size_t ystride = c.pixels * L + 3 * L;
  const size_t ysize = (c.vectors - 1) * ystride + c.pixels * L;
  GuardedBuffer y(ysize, GuardedBuffer::Placement::kTail);
  std::vector<float> start(ysize);
  for (size_t i = 0; i < ysize; ++i) {
    y[i] = rng.uniform(-1, 1);
    start[i] = rng.uniform(-1, 1);
  }
  const std::vector<float> before(y.data(), y.data() + ysize);
  tf::ConvEpilogue ep;
  ep.bias_cols = c.bias ? bias.data() : nullptr;
  ep.accumulate = c.accumulate;
  ep.start = c.start ? start.data() : nullptr;
  ep.act = tf::ConvActivation::kRelu;
  // Where pixel p's lanes start in each reduction block.
  std::vector<int64_t> pix(c.pixels);
  for (size_t p = 0; p < c.pixels; ++p) pix[p] = static_cast<int64_t>((c.gather ? c.pixels - 1 - p : p) * c.stride * LI);
  if (c.gather) {
    const tf::ConvBlockedGatherUkernel kernel = c.nchw_in ? tile.nchw_in_gather : tile.gather;
    kernel(c.pixels, c.vectors, c.kblocks, x.data(), pix.data(), xoff.data(), w.data(), y.data(), ystride, ep);
  } else {
    const tf::ConvBlockedUkernel kernel = c.nchw_in ? (c.stride == 1 ? tile.nchw_in : tile.nchw_in_s2)
                                                   : (c.stride == 1 ? tile.strided : tile.strided_s2);
    kernel(c.pixels, c.vectors, c.kblocks, x.data(), xoff.data(), w.data(), y.data(), ystride, ep);
  }
  for (size_t v = 0; v < c.vectors; ++v) {
    for (size_t p = 0; p < c.pixels; ++p) {
      for (size_t l = 0; l < L; ++l) {
        const size_t at = v * ystride + p * L + l, ch = v * L + l;
        // The contract: the value in y when accumulating, else bias (plus the start value).
        double want = c.accumulate ? before[at] : (c.bias ? bias[ch] : 0.0) + (c.start ? start[at] : 0.0);
        for (size_t kb = 0; kb < c.kblocks; ++kb) {
          for (size_t i = 0; i < LI; ++i) {
            want += static_cast<double>(x[static_cast<size_t>(xoff[kb] + pix[p]) + i]) * w[(kb * LI + i) * NR + ch];
          }
        }
        want = std::max(want, 0.0);
        const double tol = 1e-5 * (1.0 + static_cast<double>(c.kblocks * LI));
        if (std::fabs(y[at] - want) > tol) {
          TF_CHECK(false) << "vector " << v << " pixel " << p << " lane " << l << ": " << y[at] << " want " << want;
          return;
        }
      }
    }
  }
  // Between the planes nothing is written.
  for (size_t v = 0; v + 1 < c.vectors; ++v) {
    for (size_t i = v * ystride + c.pixels * L; i < (v + 1) * ystride; ++i) {
      TF_CHECK(y[i] == before[i]) << "y[" << i << "] between planes " << v << " and " << v + 1 << " was written";
    }
  }
}

}  // namespace

TF_TEST(conv_blocked_kernels_match_the_contract) {
  tf_test::Rng rng(20261203);
  for (tf::Isa isa : tf_test::supported_isas()) {
    const tf::UkernelTable& t = tf::ukernels_for(isa);
    for (const tf::ConvBlockedTile* tile : {&t.conv.blocked, &t.conv.blocked_half}) {
      // the half tile: only the forms over blocked x at column stride 1
      const bool all_forms = tile == &t.conv.blocked;
      TF_REQUIRE(tile->strided && tile->gather && tile->r > 0 && tile->r <= tf::kMaxBlockedR &&
                 tile->nr % t.conv.vector_lanes == 0);
      TF_REQUIRE(all_forms == (tile->strided_s2 && tile->nchw_in && tile->nchw_in_s2 && tile->nchw_in_gather));
      const size_t nv = tile->nr / t.conv.vector_lanes;
      for (bool nchw_in : {false, true}) {
        if (nchw_in && !all_forms) continue;
        for (size_t stride : {size_t{1}, size_t{2}, size_t{0}}) {  // 0: the gather kernel (stride 2 between its pixels)
          if (stride == 2 && !all_forms) continue;
          // past R (strided forms only): runs of whole tiles and a short last one in one call
        const size_t most = stride == 0 ? tile->r : 3 * tile->r + 1;
        for (size_t pixels = 1; pixels <= most; ++pixels) {
            for (size_t vectors = 1; vectors <= nv; ++vectors) {
              for (int flags = 0; flags < 4; ++flags) {
                // NCHW input: more reduction blocks (one channel at one tap each)
                const size_t kblocks = nchw_in ? 3 + (pixels + vectors) % 7 : 1 + (pixels + vectors) % 3;
                const bool gather = stride == 0;
                const BlockedCase c{pixels, vectors, kblocks, gather ? 2 : stride, (flags & 1) != 0, flags == 2, flags == 3,
                                    nchw_in, gather};
                tf_test::set_context(std::string("isa=") + tf::isa_name(isa) + " tile " + std::to_string(tile->r) + "x" +
                                     std::to_string(tile->nr) + (nchw_in ? " nchw in" : "") +
                                     (gather ? " gather" : " stride " + std::to_string(stride)) + " pixels " + std::to_string(pixels) + " vectors " +
                                     std::to_string(vectors) + " flags " + std::to_string(flags));
                run_case(t, *tile, c, rng);
              }
            }
          }
        }
      }
    }
  }
}
