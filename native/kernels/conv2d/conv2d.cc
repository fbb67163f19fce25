#include "kernels/conv2d/conv2d.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>

#include "kernels/conv2d/blocked_layout.h"
#include "kernels/conv2d/column_phases.h"
#include "kernels/conv2d/conv_scratch.h"
#include "kernels/conv2d/conv_sources.h"
#include "kernels/ukernels.h"
#include "runtime/allocator.h"
#include "runtime/cache_info.h"
#include "runtime/thread_pool.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#include <xmmintrin.h>
#endif

namespace tf {

namespace {

// The partial sums one task keeps (floats).
constexpr size_t kTileFloats = 4096;
// Channels ahead whose input rows the padded copy prefetches.
constexpr int64_t kCopyPrefetch = 6;

// Output maps from this size up (both dims, as hinted) take Winograd F(4x4, 3x3).
constexpr int64_t kWinograd4MinDim = 16;
// ... unless the conv has at most this many output channels on a map of at most this size.
constexpr int64_t kWinograd2MaxCout = 64;
constexpr int64_t kWinograd2MaxDim = 28;

// Tiles per pass of the rows-outer order (see TileItem): 8 tiles of 48 pixels of B with a
// reduction of 256 are 384 KiB, kept in L2 while every row block passes over them.
constexpr size_t kRowsOuterTiles = 8;
// Row blocks per item in the rows-outer order: 16 output planes written at a time.
constexpr size_t kRowsOuterBlocks = 2;

// y[m tw + j] = o[j * stride + tw] for m tw + j < w, m = 2 or 4: one output row of
// Winograd tiles, whose row j of outputs sits in row j of o. SSE2 (every x86-64) interleaves
// four tiles per step; the ISA-independent code is built for that baseline.
void interleave_rows(const float* o, int64_t stride, int64_t m, int64_t w, float* y) {
  const int64_t full = w / m;  // tiles whose m outputs all fit
  int64_t tw = 0;
#if defined(__SSE2__)
  if (m == 2) {
    for (; tw + 4 <= full; tw += 4) {
      const __m128 a = _mm_loadu_ps(o + tw), b = _mm_loadu_ps(o + stride + tw);
      _mm_storeu_ps(y + 2 * tw, _mm_unpacklo_ps(a, b));
      _mm_storeu_ps(y + 2 * tw + 4, _mm_unpackhi_ps(a, b));
    }
  } else if (m == 4) {
    for (; tw + 4 <= full; tw += 4) {
      __m128 r0 = _mm_loadu_ps(o + tw), r1 = _mm_loadu_ps(o + stride + tw);
      __m128 r2 = _mm_loadu_ps(o + 2 * stride + tw), r3 = _mm_loadu_ps(o + 3 * stride + tw);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);
      _mm_storeu_ps(y + 4 * tw, r0);
      _mm_storeu_ps(y + 4 * tw + 4, r1);
      _mm_storeu_ps(y + 4 * tw + 8, r2);
      _mm_storeu_ps(y + 4 * tw + 12, r3);
    }
  }
#endif
  for (; tw * m < w; ++tw) {
    for (int64_t j = 0; j < m && tw * m + j < w; ++j) y[tw * m + j] = o[j * stride + tw];
  }
}

// Blocked output rows from the Winograd tiles of `used` channels: channel l's m x m tile
// outputs at t + l * tstride, output row i, column j of tile lane q in row m i + j (qb
// lanes apart), lane r * wph + tw being tile row r, column tw. Writes y[(m r + i) * w + m tw
// + j][l] (lanes past `used` zeroed) for the rows_out output rows of the rb tile rows.
// SSE2: 4 channels of 4 tiles per transpose, each store 4 lanes of one output pixel.
// (Padding lanes past `used` are zeroed after the tiles' columns are written.)
void tiles_to_blocked(const float* t, int64_t tstride, int64_t used, int64_t lanes, int64_t qb, int64_t wph, int64_t m,
                      int64_t rb, int64_t rows_out, int64_t w, float* y) {
  const int64_t full = w / m;  // tiles whose m columns all fit
  for (int64_t r = 0; r < rb; ++r) {
    for (int64_t i = 0; i < m && m * r + i < rows_out; ++i) {
      float* yrow = y + (m * r + i) * w * lanes;
      for (int64_t j = 0; j < m; ++j) {
        const float* o = t + (m * i + j) * qb + r * wph;
        int64_t tw = 0;
#if defined(__SSE2__)
        if (lanes % 4 == 0 && full >= 4) {
          const int64_t used4 = used & ~int64_t{3};
          // Runs of 4 tiles; the last run overlaps the one before when full is not a multiple
          // of 4 (the same values written twice: a 7-tile row ran 3 tiles a lane at a time).
          for (int64_t t4 = 0; t4 < full; t4 += 4) {
            tw = std::min(t4, full - 4);
            for (int64_t l = 0; l < used4; l += 4) {
              const float* ol = o + l * tstride + tw;
              __m128 r0 = _mm_loadu_ps(ol), r1 = _mm_loadu_ps(ol + tstride), r2 = _mm_loadu_ps(ol + 2 * tstride),
                     r3 = _mm_loadu_ps(ol + 3 * tstride);
              _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_k: channels l .. l + 3 of tile tw + k
              float* d = yrow + (m * tw + j) * lanes + l;
              _mm_storeu_ps(d, r0);
              _mm_storeu_ps(d + m * lanes, r1);
              _mm_storeu_ps(d + 2 * m * lanes, r2);
              _mm_storeu_ps(d + 3 * m * lanes, r3);
            }
            for (int64_t l = used4; l < used; ++l) {
              for (int64_t k = 0; k < 4; ++k) yrow[(m * (tw + k) + j) * lanes + l] = o[l * tstride + tw + k];
            }
          }
          tw = full;
        }
#endif
        for (; m * tw + j < w; ++tw) {
          for (int64_t l = 0; l < used; ++l) yrow[(m * tw + j) * lanes + l] = o[l * tstride + tw];
        }
      }
      if (used < lanes) {
        for (int64_t ow = 0; ow < w; ++ow) std::fill(yrow + ow * lanes + used, yrow + (ow + 1) * lanes, 0.0f);
      }
    }
  }
}

// One work item of a GEMM conv: image n, group g, columns [col0, col0 + cols) of the
// output (one tile of <= nr), chunk ms of the row blocks. Per image and group, the tiles go
// in passes of `pass` tiles; within a pass, items are numbered tile-fastest, chunk by
// chunk. With pass = 1 (the default order) consecutive items are the chunks of one tile and
// share its input tile; `fresh` says this task has not prepared it. With a longer pass
// (rows outer) every chunk sweeps the pass's tiles, so the output is written plane by plane
// in long runs (a few planes at a time) instead of a short run of every plane per tile.
struct TileItem {
  TileItem(size_t item, size_t begin, size_t chunks, size_t tiles, int64_t groups, size_t nr, size_t total,
           size_t pass = 1) {
    const size_t per_ng = tiles * chunks, r = item % per_ng;
    const size_t full = tiles / pass, in_full = full * pass * chunks;
    size_t t;
    if (r < in_full) {
      const size_t rem = r % (pass * chunks);
      ms = rem / pass;
      t = r / (pass * chunks) * pass + rem % pass;
    } else {
      const size_t rest = tiles - full * pass, j = r - in_full;
      ms = j / rest;
      t = full * pass + j % rest;
    }
    fresh = pass > 1 || ms == 0 || item == begin;
    const int64_t ng = static_cast<int64_t>(item / per_ng);
    n = ng / groups;
    g = ng % groups;
    col0 = t * nr;
    cols = std::min(nr, total - col0);
  }
  size_t ms;
  bool fresh;
  int64_t n, g;
  size_t col0, cols;
};

// Rows [k0, k1) of B tiles (row k at b + boff[k], len columns in all) copied tile by tile:
// tile j's row k to dst + (j * K + k) * nr (a partial last tile copies its columns only).
// With the input affine (xs.in_scale), row k is input channel c0 + k / taps.
void pack_b_tiles(const float* b, const int64_t* boff, size_t k0, size_t k1, size_t K, size_t nr, size_t len, float* dst,
                  const ConvSources& xs, int64_t c0, size_t taps) {
  for (size_t k = k0; k < k1; ++k) {
    const float* row = b + boff[k];
    const int64_t c = c0 + static_cast<int64_t>(k / taps);
    for (size_t j = 0; j * nr < len; ++j) {
      const size_t cols = std::min(nr, len - j * nr);
      float* to = dst + (j * K + k) * nr;
      if (xs.in_scale != nullptr) {
        channel_affine(to, row + j * nr, cols, xs.in_scale[c], xs.in_shift[c], xs.in_relu);
      } else {
        std::memcpy(to, row + j * nr, cols * sizeof(float));
      }
    }
  }
}

// Output pixel q of a strided 1x1 conv reads column (q % wout) * sw of row (q / wout) * sh
// of a plane w floats wide.
struct StridedRows {
  int64_t wout, sh, sw, w;
};

// pack_b_tiles for an unpadded strided 1x1 conv: B row k (plane x + boff[k]) at output
// pixels [q0, q0 + len), tile j's row k to dst + (j * K + k) * nr.
void pack_b_strided(const float* x, const int64_t* boff, size_t K, size_t nr, size_t q0, size_t len, float* dst,
                    const StridedRows& g, const ConvSources& xs, int64_t c0) {
  for (size_t k = 0; k < K; ++k) {
    const float* plane = x + boff[k];
    float* to = dst + k * nr;
    size_t lane = 0;
    int64_t oh = static_cast<int64_t>(q0) / g.wout, ow = static_cast<int64_t>(q0) % g.wout;
    for (size_t l = 0; l < len; ++oh, ow = 0) {
      const float* row = plane + oh * g.sh * g.w;
      while (ow < g.wout && l < len) {
        // A run within one output row and one tile.
        const size_t run = std::min({static_cast<size_t>(g.wout - ow), len - l, nr - lane});
        copy_strided(row + ow * g.sw, g.sw, to + lane, static_cast<int64_t>(run));
        ow += static_cast<int64_t>(run);
        l += run;
        lane += run;
        if (lane == nr) {
          lane = 0;
          to += K * nr;
        }
      }
    }
    if (xs.in_scale != nullptr) {
      const int64_t c = c0 + static_cast<int64_t>(k);
      for (size_t j = 0; j * nr < len; ++j) {
        float* r = dst + (j * K + k) * nr;
        const size_t cols = std::min(nr, len - j * nr);
        channel_affine(r, r, cols, xs.in_scale[c], xs.in_shift[c], xs.in_relu);
      }
    }
  }
}

}  // namespace

ConvBuffer::~ConvBuffer() { buffer_free(data_, size_ * sizeof(float)); }

float* ConvBuffer::reset(size_t n) {
  buffer_free(data_, size_ * sizeof(float));
  data_ = nullptr;
  size_ = 0;
  data_ = static_cast<float*>(buffer_alloc(n * sizeof(float)));
  if (data_ == nullptr) throw std::bad_alloc();
  size_ = n;
  return data_;
}

PackedConv2d::PackedConv2d(const Conv2dParams& params, const float* weights, const float* bias)
    : p_(params), uk_(&ukernels().conv) {
  cout_g_ = p_.cout / p_.groups;
  const int64_t taps = p_.kh * p_.kw;
  k_ = p_.cin_per_group * taps;
  if (bias != nullptr) bias_.assign(bias, bias + p_.cout);
  const size_t total = static_cast<size_t>(p_.cout * k_);

  if (p_.layout == ConvLayout::kNCHWtoNCHWc || p_.layout == ConvLayout::kNCHWctoNCHW) {
    pack_blocked(weights);
    return;
  }
  if (p_.layout == ConvLayout::kNCHWc) {
    // Winograd (its band copy reads, and its output scatter writes, the blocked layout) where
    // NCHW takes it; small maps, where NCHW runs channel lanes, run direct (ResNet-50's two [512,7,7]
    // 3x3s in the model, Model.profileSteps: Winograd 9.5 ms per run, direct 7.0).
    Conv2dParams as_nchw = p_;
    as_nchw.layout = ConvLayout::kNCHW;
    const int64_t wino_m = winograd_tile(p_);
    if (wino_m != 0 && !prefer_channel_lanes(as_nchw, *uk_) && !gather_beats_winograd(p_, *uk_)) {
      pack_winograd(weights, wino_m);
      mode_ = Mode::kWinogradBlocked;
      return;
    }
    pack_blocked(weights);
    return;
  }
  if (p_.layout == ConvLayout::kNCHW) {
    if (p_.cin_per_group == 1) {
      mode_ = Mode::kDepthwiseNchw;
      std::memcpy(packed_.reset(total), weights, total * sizeof(float));  // [cout][taps]
      return;
    }
    if (prefer_channel_lanes(p_, *uk_)) {
      mode_ = Mode::kGemmNchwChannelLanes;
      pack_panels(weights, k_, 1, uk_->lanes_nr);  // OIHW: (co, k) at co * K + k
      return;
    }
    if (prefer_blocked_nchw(p_, *uk_)) {
      pack_blocked(weights);
      mode_ = Mode::kBlockedNchw;
      return;
    }
    const int64_t wino_m = winograd_tile(p_);
    if (wino_m != 0 && !gather_beats_winograd(p_, *uk_)) {
      pack_winograd(weights, wino_m);
      return;
    }
    if (prefer_gather_nchw(p_, *uk_)) {
      mode_ = Mode::kGatherNchw;
      pack_panels(weights, k_, 1, uk_->igemm_nr);  // OIHW: (co, k) at co * K + k
      return;
    }
    // OIHW: element (co, k) is w[co * K + k].
    mode_ = Mode::kGemmNchw;
    pack_panels(weights, k_, 1, uk_->mr);
    return;
  }

  if (p_.cin_per_group == 1 && cout_g_ == 1) {
    mode_ = Mode::kDepthwiseNhwc;
    std::memcpy(packed_.reset(total), weights, total * sizeof(float));  // [taps][cout]
    return;
  }
  // HWIO: element (co, k) is w[k * cout + co], k = (i * kw + j) * cin_g + ci.
  if (prefer_igemm_nhwc(p_, *uk_)) {
    mode_ = Mode::kIgemmNhwc;
    pack_panels(weights, 1, p_.cout, uk_->igemm_nr);
    return;
  }
  // The same MR-row panels as NCHW (output channels are the rows here too).
  mode_ = Mode::kGemmNhwc;
  pack_panels(weights, 1, p_.cout, uk_->mr);
}

// Winograd for dense 3x3 stride-1 convs wide enough to pay for the transforms: F(2x2, 3x3)
// runs 16 GEMMs of K = Cin instead of one of K = 9 Cin (2.25x fewer multiplies), F(4x4,
// 3x3) 36 (4x fewer). TENSORFUSE_CONV_WINOGRAD=0 turns Winograd off, =2 or =4 forces that
// tile on every eligible conv packed afterwards (A/B checks against the direct GEMM).
int64_t PackedConv2d::winograd_tile(const Conv2dParams& p) {
  const char* e = std::getenv("TENSORFUSE_CONV_WINOGRAD");
  const bool eligible = (p.layout == ConvLayout::kNCHW || p.layout == ConvLayout::kNCHWc) && p.groups == 1 && p.kh == 3 && p.kw == 3 && p.sh == 1 &&
                        p.sw == 1 && p.dh == 1 && p.dw == 1 && p.cin_per_group >= 8 && p.cout >= 8;
  if (!eligible || (e != nullptr && std::strcmp(e, "0") == 0)) return 0;
  if (e != nullptr && (std::strcmp(e, "2") == 0 || std::strcmp(e, "4") == 0)) return e[0] - '0';
  // F(4x4) where the map is big enough that its 4x4 tiles waste little. In-process A/B
  // (AVX-512, 1 thread, caches flushed between calls; since its band copy splits a row's
  // four column phases in one pass): [128,28,28] -> 128 -21 %, [256,20,20] -> 256 -15 %,
  // [64,20,20] -> 64 -18 %, [192,17,17] -> 192 and [64,16,16] -> 64 -7 %; at 14x14 F(2x2)
  // stays ahead ([128,14,14] -> 128 +12 %, [256,14,14] -> 256 +31 % on F(4x4)). Its
  // rounding error is ~15x F(2x2)'s (a few 1e-5 of the terms' magnitude): inside float32
  // inference tolerances (the ONNX model tests compare with onnxruntime at 1e-3).
  // Few output channels on a map of <= 28 (DenseNet's [128,28,28] -> 32): the GEMMs are
  // small next to the transforms, and F(4x4)'s 7 tile rows fill its lane tiles worse. Same
  // machine, caches flushed between calls (Zen 5, 1 thread): [128,28,28] -> 32 F(2x2) 0.33
  // vs F(4x4) 0.46 ms, [64,28,28] -> 32 0.25 vs 0.36, [128,28,28] -> 64 0.64 vs 0.76; -> 128
  // even; [128,56,56] -> 32 F(4x4) ahead (1.06 vs 1.26). DenseNet-121, models packed both
  // ways in one process: 33.9 -> 32.5, 36.7 -> 36.4, 31.7 -> 31.4 ms per run.
  if (p.cout <= kWinograd2MaxCout && p.hint_hout <= kWinograd2MaxDim && p.hint_wout <= kWinograd2MaxDim) return 2;
  return p.hint_hout >= kWinograd4MinDim && p.hint_wout >= kWinograd4MinDim ? 4 : 2;
}

// Panels of `width` output channels [g][panel][k][width] from weights where element
// (output channel co, reduction index k) sits at weights[co * co_stride + k * k_stride]:
// the GEMM's A operand (width MR, channels as rows) or, on the channel-lane and indirect
// paths, its B operand (width NR, channels on the lanes). Writes are sequential; entries
// past a group's last channel are zero.
void PackedConv2d::pack_panels(const float* weights, int64_t co_stride, int64_t k_stride, size_t width) {
  blocks_ = static_cast<int64_t>(ceil_div(static_cast<size_t>(cout_g_), width));
  float* out = packed_.reset(static_cast<size_t>(p_.groups * blocks_ * k_) * width);
  for (int64_t g = 0; g < p_.groups; ++g) {
    for (int64_t blk = 0; blk < blocks_; ++blk) {
      const int64_t co0 = g * cout_g_ + blk * static_cast<int64_t>(width);
      const size_t used = static_cast<size_t>(std::min<int64_t>(width, cout_g_ - blk * static_cast<int64_t>(width)));
      for (int64_t k = 0; k < k_; ++k) {
        const float* wk = weights + co0 * co_stride + k * k_stride;
        for (size_t r = 0; r < width; ++r) *out++ = r < used ? wk[static_cast<int64_t>(r) * co_stride] : 0.0f;
      }
    }
  }
}

// U = G g G^T per (co, ci), packed as MR-row panels [xi][block][ci][MR] for xi < T * T
// (T = m + 2): the GEMM layout with the T * T products as "groups" and K = Cin. G is made
// in double and rounded once.
void PackedConv2d::pack_winograd(const float* weights, int64_t m) {
  static constexpr double kG2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
  static constexpr double kG4[6][3] = {{1.0 / 4, 0, 0},           {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                       {-1.0 / 6, 1.0 / 6, -1.0 / 6}, {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                       {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1}};
  mode_ = Mode::kWinogradNchw;
  wino_m_ = m;
  const int t = static_cast<int>(m) + 2;
  const double(*G)[3] = m == 4 ? kG4 : kG2;
  const size_t mr = uk_->mr;
  const int64_t cin = p_.cin_per_group;
  k_ = cin;
  blocks_ = static_cast<int64_t>(ceil_div(p_.cout, mr));
  const size_t panel = static_cast<size_t>(blocks_ * cin) * mr;
  const size_t products = static_cast<size_t>(t * t);
  float* out = packed_.reset(products * panel);
  std::fill(out, out + products * panel, 0.0f);
  for (int64_t co = 0; co < p_.cout; ++co) {
    const size_t blk = static_cast<size_t>(co) / mr, r = static_cast<size_t>(co) % mr;
    for (int64_t ci = 0; ci < cin; ++ci) {
      const float* g = weights + (co * cin + ci) * 9;
      double gg[6][3];  // G g
      for (int i = 0; i < t; ++i) {
        for (int c = 0; c < 3; ++c) gg[i][c] = G[i][0] * g[c] + G[i][1] * g[3 + c] + G[i][2] * g[6 + c];
      }
      const size_t at = (blk * static_cast<size_t>(cin) + static_cast<size_t>(ci)) * mr + r;
      for (int i = 0; i < t; ++i) {  // (G g) G^T
        for (int j = 0; j < t; ++j) {
          const double u = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2];
          out[static_cast<size_t>(t * i + j) * panel + at] = static_cast<float>(u);
        }
      }
    }
  }
}

void PackedConv2d::run_winograd(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y,
                                bool blocked) const {
  const size_t nr = uk_->nr;
  const int64_t cin = p_.cin_per_group, cout = p_.cout;
  // F(m x m, 3x3): output tiles of m x m from input tiles of t x t, t * t products.
  const int64_t m = wino_m_, t = m + 2, products = t * t;
  const int64_t th_count = (hout + m - 1) / m, tw_count = (wout + m - 1) / m;
  // Input tile (th, tw) is padded rows m th..m th + t - 1, columns m tw..m tw + t - 1: with
  // the padded input split into m x m phases, element (r, c) is phase (r % m, c % m) at
  // [th + r/m][tw + c/m], contiguous along tw (r/m, c/m <= 1). A band of R tile rows is
  // flattened to Q = R * wph lanes (q = row * wph + tw; tw = wph - 1 is junk), transformed,
  // multiplied and transformed back.
  const PhaseGeometry geo{m, m, th_count + 1, tw_count + 1};
  const int64_t wph = geo.wph;
  // Rows per band: V and M (t^2 x (Cin + Cout) x Q floats) within ~1 MiB (L2), and as few
  // partly used NR-lane tiles as possible. With many channels that budget allows one tile
  // row, too few lanes to fill two NR tiles (27 of 48 for a 52x52 map, and every band
  // re-streams all t^2 weight matrices): then V and M may grow to 8 MiB (the GEMM reads V
  // one NR-lane tile at a time, so L3 serves it), keeping two bands per thread. When the
  // weight matrices are small (< 1 MiB: DenseNet's 128 -> 32) re-streaming them costs
  // little and bands that big only push V and M out of cache: grow to 2 MiB then
  // (128 -> 32 at 56x56: 14-row bands -> 3, ~1.2x faster in interleaved A/B runs).
  // Weight matrices that do not fit in L2 stream in from memory for every band (in a model
  // they are cold on every call): then as few bands as that 8 MiB allows, one per thread's
  // share of the rows if it can. In-process A/B (1 thread, AVX-512, caches flushed between
  // calls): [256,14,14] -> 256 (ResNet-50) 2 bands -> 1: -15 %, -21 % in the model;
  // [256,52,52] -> 256 (F(4x4)) 5 -> 2: -17 %; [256,28,28] -> 256 5 -> 1: -7 %.
  const int64_t threads = ThreadPool::instance().threads();
  const size_t weight_bytes = static_cast<size_t>(products * cin * cout) * sizeof(float);
  const bool streamed_weights = weight_bytes >= l2_cache_bytes();
  const int64_t l2_rows = (256 << 10) / (products * (cin + cout) * wph);
  int64_t max_rows = std::max<int64_t>(1, std::min<int64_t>(th_count, l2_rows));
  if (max_rows * wph < static_cast<int64_t>(2 * nr) || streamed_weights) {
    const int64_t per_thread = (th_count * in.n + threads - 1) / threads;
    const int64_t balanced_rows = streamed_weights ? per_thread : std::max<int64_t>(1, (th_count * in.n) / (2 * threads));
    const bool small_weights = weight_bytes < (size_t{1} << 20);
    const int64_t growth_floats = small_weights ? int64_t{512} << 10 : int64_t{2} << 20;
    const int64_t l3_rows = growth_floats / (products * (cin + cout) * wph);
    max_rows = std::max<int64_t>(max_rows, std::min<int64_t>({th_count, balanced_rows, l3_rows}));
  }
  int64_t rows = max_rows;
  if (!streamed_weights) {
    double best = 0;
    for (int64_t r = 1; r <= max_rows; ++r) {
      const double q = static_cast<double>(r * wph);
      const double eff = q / static_cast<double>(ceil_div(static_cast<size_t>(r * wph), nr) * nr);
      if (eff > best + 1e-9) {
        best = eff;
        rows = r;
      }
    }
  }
  const size_t q_len = static_cast<size_t>(rows * wph);
  // Band b of an image covers tile rows [band_start[b], band_start[b + 1]), <= rows each.
  // One image over several threads: its rows are first split evenly between the threads,
  // then each share into bands (28 rows in bands of 3 on 2 threads: 3,3,3,3,2 | 3,3,3,3,2,
  // not 3 x 9 + 1, which left one thread 15 rows and the other 13).
  const int64_t shares = in.n == 1 ? std::max<int64_t>(1, std::min<int64_t>(threads, th_count)) : 1;
  std::vector<int64_t> band_start{0};
  for (int64_t sh = 0; sh < shares; ++sh) {
    const int64_t r0 = sh * th_count / shares, r1 = (sh + 1) * th_count / shares;
    const int64_t nb = (r1 - r0 + rows - 1) / rows;
    for (int64_t b = 1; b <= nb; ++b) band_start.push_back(r0 + b * (r1 - r0) / nb);
  }
  const int64_t bands = static_cast<int64_t>(band_start.size()) - 1;
  const int64_t band_phase = (rows + 1) * wph;  // floats per phase of a band's padded rows
  const size_t band_floats = static_cast<size_t>(cin * m * m * band_phase) + static_cast<size_t>(wph) + 64;
  const size_t v_floats = static_cast<size_t>(products * cin) * q_len;
  const size_t m_floats = static_cast<size_t>(products * cout) * q_len;
  const ConvWinogradInputUkernel input_transform = m == 4 ? uk_->winograd4_input : uk_->winograd_input;
  const ConvWinogradOutputUkernel output_transform = m == 4 ? uk_->winograd4_output : uk_->winograd_output;
  const double macs = static_cast<double>(in.n * cout * hout * wout) * static_cast<double>(cin) * 9;
  // Element (r, c) of a band's first input tile within a channel's band copy (computed once:
  // per channel, the divisions took a tenth of a 64-channel F(4x4) conv).
  int64_t tile_offset[36];
  for (int64_t k = 0; k < products; ++k) {
    const int64_t r = k / t, c = k % t;
    tile_offset[k] = ((r % m) * m + (c % m)) * band_phase + (r / m) * wph + c / m;
  }

  // Blocked x and y (NCHWc, lanes L): a channel block's band copies are made in one pass
  // over its blocked rows (pad_rows_blocked), and the output tiles of a block of L channels
  // collect (block_tiles) until they move into y's rows together (tiles_to_blocked; through
  // out_block when a skip is added: the skip may be y). In ResNet-50, interleaved with the
  // NCHW plan's Winograd (1 thread, AVX-512, ms per run, blocked / NCHW): [64,56,56] 4.45 /
  // 4.45, [256,14,14] 9.75 / 9.56, [128,28,28] 5.22 / 4.90 (7x7-tile rows: the most tails).
  // Reordering whole tensors around the call instead cost 10-15 % more.
  const int64_t L = blocked ? static_cast<int64_t>(uk_->vector_lanes) : 1;
  const int64_t in_blocks = (cin + L - 1) / L, out_blocks = (cout + L - 1) / L;
  const size_t block_tiles_floats = blocked ? static_cast<size_t>(L * m * m) * q_len : 0;
  const size_t out_block_floats = blocked && xs.skip != nullptr ? static_cast<size_t>(L * rows * m * wout) : 0;
  parallel(static_cast<size_t>(in.n * bands), macs, [&](size_t begin, size_t end) {
    const size_t tile_floats = static_cast<size_t>(m * m) * q_len;
    float* band = thread_scratch(band_floats + v_floats + m_floats + tile_floats + static_cast<size_t>(wout) +
                                 block_tiles_floats + out_block_floats);
    float* v = band + band_floats;
    float* prod = v + v_floats;
    float* tiles = prod + m_floats;  // one output channel's m x m outputs per lane
    float* row = tiles + tile_floats;  // one output row before the skip is added (the skip may be y)
    float* block_tiles = row + wout;
    float* out_block = block_tiles + block_tiles_floats;
    std::fill(band + band_floats - wph - 64, band + band_floats, 0.0f);
    const float* d[36];
    float* vrow[36];
    for (size_t item = begin; item < end; ++item) {
      const int64_t n = static_cast<int64_t>(item) / bands, b_index = static_cast<int64_t>(item) % bands;
      const int64_t th0 = band_start[b_index], rb = band_start[b_index + 1] - th0;
      // This band's lanes (a band may be shorter than `rows`; the buffers keep q_len strides).
      const size_t qb = static_cast<size_t>(rb * wph);
      for (int64_t ci = 0; ci < cin; ++ci) {
        float* b = band + ci * m * m * band_phase;
        if (blocked) {
          // A block's channels at once, straight from its blocked rows into their copies.
          if (ci % L == 0) {
            pad_rows_blocked(xs.data[0] + (n * in_blocks + ci / L) * in.h * in.w * L, std::min(L, cin - ci), L, in, geo, th0,
                             th0 + rb + 1, b, m * m * band_phase, band_phase, th0);
          }
        } else {
          // A sum of sources is summed in this copy: the input transform is linear.
          if (ci + 2 < cin) prefetch_rows(xs, n, ci + 2, in, m * th0 - in.pads[0], m * (th0 + rb + 1) - in.pads[0]);
          gather_rows(xs, n, ci, in, geo, th0, th0 + rb + 1, b, band_phase, th0);
        }
        for (int64_t k = 0; k < products; ++k) {
          d[k] = b + tile_offset[k];
          vrow[k] = v + static_cast<size_t>(k * cin + ci) * q_len;
        }
        input_transform(qb, d, vrow);
      }
      // Product xi's weight matrix (packed as group xi) streams from memory in a model; the
      // first tile of each product prefetches the next one's, spread over its row blocks.
      // ResNet-50, in-process A/B against no prefetch (1 thread, AVX-512, Zen 5): 40.3 ->
      // 38.4 and 41.6 -> 40.0 ms per run (five [256,14,14] F(2x2) convs, 4 MiB of weights
      // each); DenseNet-121 and Inception v1 within 1.5 %.
      const size_t product_floats = static_cast<size_t>(blocks_ * k_) * uk_->mr;
      for (int64_t xi = 0; xi < products; ++xi) {
        const SpreadPrefetch next{reinterpret_cast<const char*>(packed_.data() + static_cast<size_t>(xi + 1) * product_floats),
                                  product_floats * sizeof(float) / 64};
        for (size_t q0 = 0; q0 < qb; q0 += nr) {
          const bool prefetch = q0 == 0 && xi + 1 < products;
          tile_rows(xi, 0, blocks_, std::min(nr, qb - q0), v + static_cast<size_t>(xi * cin) * q_len + q0, nullptr, q_len,
                    prod + static_cast<size_t>(xi * cout) * q_len + q0, q_len, false, nullptr, nullptr, 0.0f,
                    prefetch ? &next : nullptr);
        }
      }
      for (int64_t co = 0; co < cout; ++co) {
        // Residual: the skip is added while scattering, then the activation (row by row).
        const float bias = bias_.empty() ? 0.0f : bias_[co];
        // blocked: a block's channels' tiles side by side (block_tiles), then moved together
        float* tile_out = blocked ? block_tiles + (co % L) * tile_floats : tiles;
        output_transform(qb, prod + co * q_len, static_cast<size_t>(cout) * q_len, bias, tile_out,
                         xs.skip != nullptr ? ConvActivation::kNone : p_.act, p_.alpha);
        if (blocked) {
          if (co % L != L - 1 && co != cout - 1) continue;
          // A block of channels done: into y's rows oh0.. of that block (+ the skip, then act).
          const int64_t oh0 = m * th0, rows_out = std::min(hout, m * (th0 + rb)) - oh0;
          const size_t at = static_cast<size_t>(((n * out_blocks + co / L) * hout + oh0) * wout * L);
          float* dst = xs.skip == nullptr ? y + at : out_block;
          tiles_to_blocked(block_tiles, static_cast<int64_t>(tile_floats), co % L + 1, L, static_cast<int64_t>(qb), wph, m,
                           rb, rows_out, wout, dst);
          if (xs.skip != nullptr) {
            add_activate(y + at, out_block, xs.skip + at, static_cast<size_t>(rows_out * wout * L), uk_->activation, xs.act,
                         xs.alpha);
          }
          continue;
        }
        float* yplane = y + (n * cout + co) * hout * wout;
        const float* splane = xs.skip != nullptr ? xs.skip + (n * cout + co) * hout * wout : nullptr;
        for (int64_t r = 0; r < rb; ++r) {
          for (int64_t i = 0; i < m; ++i) {
            const int64_t oh = m * (th0 + r) + i;
            if (oh >= hout) break;
            // Output (oh, m tw + j) is tile lane r * wph + tw of row m i + j of `tiles`.
            const float* o = tiles + (m * i) * static_cast<int64_t>(qb) + r * wph;
            float* yrow = yplane + oh * wout;
            if (splane == nullptr) {
              interleave_rows(o, static_cast<int64_t>(qb), m, wout, yrow);
              continue;
            }
            interleave_rows(o, static_cast<int64_t>(qb), m, wout, row);
            add_activate(yrow, row, splane + oh * wout, static_cast<size_t>(wout), uk_->activation, xs.act, xs.alpha);
          }
        }
      }
    }
  }, true);
}

const char* PackedConv2d::algorithm() const {
  switch (mode_) {
    case Mode::kGemmNchw:
    case Mode::kGemmNhwc: return "gemm-pixel-lanes";
    case Mode::kGemmNchwChannelLanes:
    case Mode::kIgemmNhwc: return "gemm-channel-lanes";
    case Mode::kGatherNchw: return "gemm-gather";
    case Mode::kWinogradNchw:
    case Mode::kWinogradBlocked: return wino_m_ == 4 ? "winograd-f4x4-3x3" : "winograd-f2x2-3x3";
    case Mode::kDepthwiseNchw:
    case Mode::kDepthwiseNhwc: return "depthwise";
    case Mode::kBlocked:
    case Mode::kBlockedNchw: return "blocked-direct";
  }
  return "unknown";
}

void PackedConv2d::run(const float* x, const Conv2dInput& in, float* y) const {
  if (p_.layout != ConvLayout::kNHWC) {
    run(ConvSources::single(x, cin()), in, y);
    return;
  }
  const int64_t hout = conv_output_dim(in.h, in.pads[0], in.pads[2], p_.kh, p_.sh, p_.dh);
  const int64_t wout = conv_output_dim(in.w, in.pads[1], in.pads[3], p_.kw, p_.sw, p_.dw);
  if (in.n == 0 || p_.cout == 0 || hout <= 0 || wout <= 0) return;
  if (mode_ == Mode::kGemmNhwc) {
    run_gemm_nhwc(x, in, hout, wout, y);
  } else if (mode_ == Mode::kIgemmNhwc) {
    run_igemm_nhwc(x, in, hout, wout, y);
  } else {
    run_dw_nhwc(x, in, hout, wout, y);
  }
}

void PackedConv2d::set_input_affine(const float* scale, const float* shift, bool relu) {
  // Zeros past cin up to whole vectors: the blocked conv loads a block's lanes at once.
  const size_t padded = ceil_div(static_cast<size_t>(cin()), uk_->vector_lanes) * uk_->vector_lanes;
  in_scale_.assign(scale, scale + cin());
  in_shift_.assign(shift, shift + cin());
  in_scale_.resize(padded, 0.0f);
  in_shift_.resize(padded, 0.0f);
  in_relu_ = relu;
}

void PackedConv2d::run(const ConvSources& xs, const Conv2dInput& in, float* y) const {
  if (!in_scale_.empty()) {
    ConvSources with_affine = xs;
    with_affine.in_scale = in_scale_.data();
    with_affine.in_shift = in_shift_.data();
    with_affine.in_relu = in_relu_;
    run_sources(with_affine, in, y);
  } else {
    run_sources(xs, in, y);
  }
}

void PackedConv2d::run_sources(const ConvSources& x, const Conv2dInput& in, float* y) const {
  const int64_t hout = conv_output_dim(in.h, in.pads[0], in.pads[2], p_.kh, p_.sh, p_.dh);
  const int64_t wout = conv_output_dim(in.w, in.pads[1], in.pads[3], p_.kw, p_.sw, p_.dw);
  if (in.n == 0 || p_.cout == 0 || hout <= 0 || wout <= 0) return;
  switch (mode_) {
    case Mode::kGemmNchw: run_gemm_nchw(x, in, hout, wout, y); break;
    case Mode::kGemmNchwChannelLanes: run_channel_lanes_nchw(x, in, hout, wout, y); break;
    case Mode::kGatherNchw: run_gather_nchw(x, in, hout, wout, y); break;
    case Mode::kWinogradNchw: run_winograd(x, in, hout, wout, y, false); break;
    case Mode::kDepthwiseNchw: run_dw_nchw(x, in, hout, wout, y); break;
    case Mode::kBlockedNchw: run_blocked_nchw(x, in, hout, wout, y); break;
    case Mode::kBlocked:
      if (p_.layout == ConvLayout::kNCHWctoNCHW) {
        run_blocked_to_nchw(x, in, hout, wout, y);
      } else {
        run_blocked(x, in, y);
      }
      break;
    case Mode::kWinogradBlocked:
      if (x.in_scale != nullptr) {
        std::vector<float> activated;
        run_winograd(activated_input(x, in, &activated), in, hout, wout, y, true);
      } else {
        run_winograd(x, in, hout, wout, y, true);
      }
      break;
    case Mode::kGemmNhwc:
    case Mode::kIgemmNhwc:
    case Mode::kDepthwiseNhwc: run(x.data[0], in, y); break;  // one NHWC tensor (no residual: the binding checks)
  }
}

void PackedConv2d::row_chunks(size_t items, size_t* per_chunk, size_t* chunks) const {
  const size_t mr = uk_->mr, nr = uk_->nr, blocks = static_cast<size_t>(blocks_);
  const size_t threads = static_cast<size_t>(ThreadPool::instance().threads());
  size_t per = std::max<size_t>(1, std::min<size_t>(blocks, kTileFloats / (mr * nr)));
  if (items * ceil_div(blocks, per) < threads * 4) {
    // Few tiles (small images, many output channels): split the rows too.
    const size_t want = std::min<size_t>(blocks, ceil_div(threads * 4, items));
    per = std::min(per, ceil_div(blocks, want));
  }
  *chunks = ceil_div(blocks, per);
  *per_chunk = ceil_div(blocks, *chunks);  // even chunks: 32 blocks as 8+8+8+8, not 10+10+10+2
}

// Cache blocking: the reduction runs in blocks of <= gemm_kc(NR) rows, so a block of B
// (kc x NR) stays in L1 while the MR-row panels of A stream past it from L2; partial sums
// wait in C. `next` (what the caller reads next, if given) is prefetched a share before each
// row block's GEMM.
void PackedConv2d::tile_rows(int64_t g, size_t blk0, size_t blk1, size_t cols, const float* b, const int64_t* boff,
                             size_t ldb, float* c, size_t ldc, bool epilogue, const float* skip,
                             const ConvActivation* act, float alpha, const SpreadPrefetch* next) const {
  const size_t mr = uk_->mr, lanes = uk_->vector_lanes;
  // A tile of few columns (the last one of a row, a small Winograd band) runs a narrower
  // kernel: the full one would spend its whole width of FMAs on them.
  const ConvGemmUkernel gemm = cols <= lanes ? uk_->gemm_1v : cols <= 2 * lanes ? uk_->gemm_2v : uk_->gemm;
  // One block [k0, k0 + kn) of the reduction, B rows at bb + boff[k] (without boff, ldb
  // floats apart), for every row block.
  const size_t b_stride = boff == nullptr ? ldb : 0;
  const size_t kblocks = ceil_div(static_cast<size_t>(k_), gemm_kc(uk_->nr));
  const size_t steps = kblocks * (blk1 - blk0);
  size_t step = 0;
  auto block = [&](size_t k0, size_t kn, const float* bb, bool first, bool last) {
    ConvEpilogue ep;
    ep.accumulate = !first;
    ep.b_stride = b_stride;
    if (last && epilogue) {
      ep.act = act != nullptr ? *act : p_.act;
      ep.alpha = act != nullptr ? alpha : p_.alpha;
    }
    for (size_t blk = blk0; blk < blk1; ++blk) {
      const size_t rows = std::min<size_t>(mr, cout_g_ - blk * mr);
      const float* a = packed_.data() + ((g * blocks_ + static_cast<int64_t>(blk)) * k_ + static_cast<int64_t>(k0)) * mr;
      // The bias goes into the first block's start values (with the skip, when there is one).
      ep.bias_rows = bias_.empty() || !first || (!epilogue && skip == nullptr) ? nullptr : bias_.data() + g * cout_g_ + blk * mr;
      ep.start = first && skip != nullptr ? skip + (blk - blk0) * mr * ldc : nullptr;
      if (next != nullptr) next->part(step++, steps);
      gemm(rows, cols, kn, a, bb + k0 * b_stride, boff != nullptr ? boff + k0 : nullptr, c + (blk - blk0) * mr * ldc, ldc, ep);
    }
  };
  const size_t kc = ceil_div(static_cast<size_t>(k_), kblocks);
  for (size_t kb = 0; kb < kblocks; ++kb) {
    const size_t k0 = kb * kc;
    block(k0, std::min(kc, static_cast<size_t>(k_) - k0), b, kb == 0, kb + 1 == kblocks);
  }
}

void PackedConv2d::run_gemm_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  const size_t mr = uk_->mr, nr = uk_->nr;
  const int64_t cin = this->cin(), cin_g = p_.cin_per_group, groups = p_.groups;
  const int64_t hw_out = hout * wout;
  const bool padded = in.pads[0] || in.pads[1] || in.pads[2] || in.pads[3];
  // A conv whose kernel is one column wide, unpadded, stride 1, reads x in place: its
  // output pixels are contiguous runs of x (a 1x1 conv is a plain GEMM over x).
  // A concat of sources is read in place too (the reduction runs over the sources in turn);
  // a sum of several goes through the copy, which sums them row by row (never all at once).
  // So does an unpadded strided 1x1 conv of one tensor: its B tiles are gathered from
  // every sh-th row and sw-th column while packing (no copy of the stride phases it never
  // reads).
  const bool strided_1x1 = !padded && p_.kh == 1 && p_.kw == 1 && (p_.sh > 1 || p_.sw > 1) && xs.data.size() == 1;
  const bool in_place = (!padded && p_.sh == 1 && p_.sw == 1 && p_.kw == 1 && xs.gathered()) || strided_1x1;

  PhaseGeometry geo{1, 1, in.h, in.w};
  const float* src = xs.data[0];  // planes of x or of the padded copy, plane_size() apart
  std::unique_ptr<CallerScratch> copy;
  // Per (image, group, phase row): 0 to do, 1 being copied, 2 ready. One flag covers the
  // row in every channel of the group: a claim is a locked instruction that waits for the
  // copy's stores before it, and one per channel row took a tenth of a strided 3x3 conv.
  std::unique_ptr<std::atomic<uint8_t>[]> row_state;
  if (!in_place) {
    geo = phase_geometry(p_, in);
    const size_t planes = static_cast<size_t>(in.n * cin);
    // Slack: the junk columns of the last row of a tile may read a little past the end.
    const size_t slack = static_cast<size_t>(geo.wph + (p_.kw - 1) * p_.dw + 64);
    copy = std::make_unique<CallerScratch>(planes * geo.plane_size() + slack);
    std::memset(copy->data() + planes * geo.plane_size(), 0, slack * sizeof(float));
    const size_t states = static_cast<size_t>(in.n * groups * geo.hph);
    row_state.reset(new std::atomic<uint8_t>[states]);
    for (size_t i = 0; i < states; ++i) row_state[i].store(0, std::memory_order_relaxed);
    src = copy->data();
  }
  // The padded copy is made inside the one parallel region (a second region would cost a
  // worker wake-up and a join per call), row by row, by the first task that needs each
  // row: a thread mostly reads rows it wrote itself (from its own cache). A task claims and
  // copies the free rows its tile needs, then waits for rows other tasks hold: those are
  // being copied by running threads, so the wait is short and cannot deadlock.
  const int64_t row_reach = ((p_.kh - 1) * p_.dh) / p_.sh;  // phase rows below a tile's last output row
  auto ensure_rows = [&](int64_t n, int64_t g, int64_t u0, int64_t u1) {
    if (!row_state) return;
    u1 = std::min(u1, geo.hph);
    float* dst = copy->data();
    std::atomic<uint8_t>* st = row_state.get() + (n * groups + g) * geo.hph;
    for (int64_t u = u0; u < u1; ++u) {
      uint8_t expected = 0;
      if (st[u].load(std::memory_order_acquire) == 0 && st[u].compare_exchange_strong(expected, 1, std::memory_order_acq_rel)) {
        // Phase row u reads sh input rows of every channel: short runs of many planes.
        const int64_t ih0 = u * geo.sh - in.pads[0];
        for (int64_t c = g * cin_g; c < (g + 1) * cin_g; ++c) {
          if (c + kCopyPrefetch < (g + 1) * cin_g) prefetch_rows(xs, n, c + kCopyPrefetch, in, ih0, ih0 + geo.sh);
          gather_rows(xs, n, c, in, geo, u, u + 1, dst + (n * cin + c) * geo.plane_size());
        }
        st[u].store(2, std::memory_order_release);
      }
    }
    for (int64_t u = u0; u < u1; ++u) {
      while (st[u].load(std::memory_order_acquire) != 2) std::this_thread::yield();
    }
  };
  // Pixels q = oh * wph + ow, ow < wph: the columns ow >= wout are junk, computed and dropped.
  const int64_t wq = in_place ? wout : geo.wph;
  // Rows of at least two full tiles with junk columns go tile by tile within each output
  // row instead (the last tile of a row narrower): no junk computed and every tile stored
  // straight into y, where the flattened tiles would scatter short runs through a buffer.
  // Measured (1 thread, AVX-512, in-process A/B): ResNet's 7x7/2 stem 2.57 -> 2.20 ms, a
  // 5x5 over 224 columns -6 %.
  const bool row_tiles = wq != wout && static_cast<size_t>(wout) >= 2 * nr;
  const bool direct = wq == wout || row_tiles;  // tiles store straight into y
  const size_t nq = static_cast<size_t>(hout * wq);
  const size_t tiles_per_row = row_tiles ? ceil_div(static_cast<size_t>(wout), nr) : 0;
  const size_t tiles = row_tiles ? static_cast<size_t>(hout) * tiles_per_row : ceil_div(nq, nr);

  std::vector<int64_t> boff(static_cast<size_t>(k_));
  for (int64_t ci = 0, k = 0; ci < cin_g; ++ci) {
    for (int64_t i = 0; i < p_.kh; ++i) {
      for (int64_t j = 0; j < p_.kw; ++j, ++k) {
        boff[k] = ci * geo.plane_size() + geo.tap_offset(i * p_.dh, j * p_.dw);
      }
    }
  }

  // In place over several sources (a concat): per group, the reduction's pieces by source.
  std::unique_ptr<ConcatSegments> segs;
  if (in_place && xs.data.size() > 1) segs = std::make_unique<ConcatSegments>(xs, groups, cin_g, p_.kh, geo.plane_size(), boff);
  // Residual: tiles stored straight into y start from skip + bias and accumulate; tiles
  // with junk columns add the skip while scattering. Either way the activation is xs.act.
  const bool residual = xs.skip != nullptr;
  const ConvActivation none = ConvActivation::kNone;

  const size_t items0 = static_cast<size_t>(in.n * groups) * tiles;
  size_t per_chunk = 0, mchunks = 0;
  row_chunks(items0, &per_chunk, &mchunks);
  // A 1x1 conv that widens its input (Cout > K, the expansions of ResNet's bottlenecks)
  // writes more than it reads: tile by tile it would write a short run of each of its many
  // output planes, too many streams for the hardware prefetcher once the output is out of
  // cache. Rows outer writes a few planes at a time instead, re-reading B from L2. Measured
  // (1 thread, AVX-512, caches flushed between calls): [64,56,56] -> 256 2.44 -> 1.41 ms;
  // a reduction ([256,56,56] -> 64) got 10 % slower (its B no longer fits L2), so only widening ones.
  size_t pass = 1;
  if (in_place && direct && cout_g_ > k_ && mchunks * per_chunk > kRowsOuterBlocks) {
    pass = std::min(tiles, kRowsOuterTiles);
    mchunks = ceil_div(static_cast<size_t>(blocks_), kRowsOuterBlocks);
    per_chunk = kRowsOuterBlocks;
  }
  const double macs = static_cast<double>(in.n * p_.cout * hw_out) * static_cast<double>(k_);
  // B read in place is copied a few tiles at a time (a rows-outer pass's tiles at once) into
  // contiguous, cache-line-aligned rows that every row block then reads: in place, its rows
  // are runs of K different planes, most of them straddling cache lines. In-process A/B
  // (1 thread, AVX-512): [256,14,14] -> 1024 -7 %, [512,28,28] -> 128 -8 %, [64,56,56] -> 64
  // -10 %, [256,56,56] -> 64 even; ResNet-50's pixel-lane 1x1 convs -7 % in the model. It
  // also applies the input affine.
  const size_t pack_tiles = !in_place ? 0 : pass > 1 ? pass : std::min(tiles, gemm_pack_tiles(static_cast<size_t>(k_), nr));

  parallel(items0 * mchunks, macs, [&](size_t begin, size_t end) {
    alignas(64) float tmp[kTileFloats];
    std::vector<const float*> seg_b(segs ? segs->max_pieces : 0);
    float* bpack = pack_tiles ? thread_scratch(pack_tiles * nr * static_cast<size_t>(k_)) : nullptr;
    size_t packed_lo = 0, packed_hi = 0;
    int64_t packed_ng = -1;
    for (size_t item = begin; item < end; ++item) {
      const TileItem it(item, begin, mchunks, tiles, groups, nr, row_tiles ? tiles * nr : nq, pass);
      const size_t ms = it.ms;
      size_t q0 = it.col0, cols = it.cols, yq = it.col0;  // yq: the tile's first pixel in y (direct)
      if (row_tiles) {
        const size_t oh = it.col0 / nr / tiles_per_row, j = it.col0 / nr % tiles_per_row;
        q0 = oh * static_cast<size_t>(wq) + j * nr;
        yq = oh * static_cast<size_t>(wout) + j * nr;
        cols = std::min(nr, static_cast<size_t>(wout) - j * nr);
      }
      const int64_t n = it.n, g = it.g;
      if (it.fresh) {
        const int64_t oh_first = static_cast<int64_t>(q0 / wq), oh_last = static_cast<int64_t>((q0 + cols - 1) / wq);
        ensure_rows(n, g, oh_first, oh_last + row_reach + 2);
      }
      const float* b = src + (n * cin + g * cin_g) * geo.plane_size() + q0;
      const int64_t* bo = boff.data();
      if (bpack != nullptr) {
        const size_t t = q0 / nr;
        const int64_t ng = n * groups + g;
        if (ng != packed_ng || t < packed_lo || t >= packed_hi) {
          packed_lo = t - t % pass;  // a rows-outer pass's first tile
          packed_hi = std::min(tiles, packed_lo + pack_tiles);
          packed_ng = ng;
          const size_t c0 = packed_lo * nr, len = std::min(nq, packed_hi * nr) - c0;
          if (segs) {
            segs->bases(xs, g, n, geo.plane_size(), c0, seg_b.data());
            const int64_t* k0 = segs->k0[g].data();
            for (size_t piece = 0; piece < segs->source[g].size(); ++piece) {
              pack_b_tiles(seg_b[piece], segs->boff.data() + g * k_, static_cast<size_t>(k0[piece]),
                           static_cast<size_t>(k0[piece + 1]), static_cast<size_t>(k_), nr, len, bpack, xs, g * cin_g,
                           static_cast<size_t>(p_.kh * p_.kw));
            }
          } else if (strided_1x1) {
            pack_b_strided(src + (n * cin + g * cin_g) * geo.plane_size(), boff.data(), static_cast<size_t>(k_), nr, c0,
                           len, bpack, StridedRows{wout, p_.sh, p_.sw, in.w}, xs, g * cin_g);
          } else {
            pack_b_tiles(src + (n * cin + g * cin_g) * geo.plane_size() + c0, boff.data(), 0, static_cast<size_t>(k_),
                         static_cast<size_t>(k_), nr, len, bpack, xs, g * cin_g, static_cast<size_t>(p_.kh * p_.kw));
          }
        }
        b = bpack + (t - packed_lo) * static_cast<size_t>(k_) * nr;
        bo = nullptr;  // packed: rows NR floats apart
      }
      const size_t blk0 = ms * per_chunk;
      const size_t blk1 = std::min<size_t>(blocks_, blk0 + per_chunk);
      float* ygroup = y + (n * p_.cout + g * cout_g_) * hw_out;
      const size_t rows = std::min<size_t>(blk1 * mr, cout_g_) - blk0 * mr;
      if (direct) {
        float* c = ygroup + blk0 * mr * hw_out + yq;
        const float* skip = residual ? xs.skip + (c - y) : nullptr;
        if (skip != nullptr && q0 + 2 * nr <= nq) {
          // The next tile's skip rows, fetched while this one computes: the skip streams in
          // from memory, one short run per row, too scattered for the hardware prefetcher.
          for (size_t r = 0; r < rows; ++r) {
            for (size_t l = 0; l < nr; l += 16) __builtin_prefetch(skip + r * hw_out + nr + l, 0, 1);
          }
        }
        tile_rows(g, blk0, blk1, cols, b, bo, nr, c, hw_out, true, skip, residual ? &xs.act : nullptr, xs.alpha);
        continue;
      }
      tile_rows(g, blk0, blk1, cols, b, bo, nr, tmp, nr, true, nullptr, residual ? &none : nullptr);
      // Scatter the valid columns: lanes [l, l + len) are output row oh, columns ow..
      float* yrows = ygroup + blk0 * mr * hw_out;
      for (size_t l = 0; l < cols;) {
        const size_t q = q0 + l;
        const size_t oh = q / wq, ow = q % wq;
        const size_t len = std::min(cols - l, static_cast<size_t>(wq) - ow);
        if (ow < static_cast<size_t>(wout)) {
          const size_t valid = std::min(len, static_cast<size_t>(wout) - ow);
          for (size_t r = 0; r < rows; ++r) {
            float* yr = yrows + r * hw_out + oh * wout + ow;
            if (residual) {
              add_activate(yr, tmp + r * nr + l, xs.skip + (yr - y), valid, uk_->activation, xs.act, xs.alpha);
            } else {
              std::memcpy(yr, tmp + r * nr + l, valid * sizeof(float));
            }
          }
        }
        l += len;
      }
    }
  });
}

void PackedConv2d::run_gemm_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  // Output channels are the rows (broadcast from the packed weights) and pixels the lanes,
  // as for NCHW: every lane of the register tile is used whatever Cout is. The B tile
  // (K x NR pixels) is packed per tile from x (each pixel's channels are contiguous) and
  // reused by every row block; the C tile is stored transposed, pixel by pixel.
  const size_t mr = uk_->mr, nr = uk_->nr;
  const int64_t cin = this->cin(), cin_g = p_.cin_per_group, groups = p_.groups;
  const size_t pixels = static_cast<size_t>(hout * wout);
  const size_t tiles = ceil_div(pixels, nr);
  const size_t items0 = static_cast<size_t>(in.n * groups) * tiles;
  size_t per_chunk = 0, mchunks = 0;
  row_chunks(items0, &per_chunk, &mchunks);
  const double macs = static_cast<double>(in.n * p_.cout) * static_cast<double>(pixels * k_);
  const int64_t pt = in.pads[0], pl = in.pads[1];

  parallel(items0 * mchunks, macs, [&](size_t begin, size_t end) {
    float* bpack = thread_scratch(static_cast<size_t>(k_) * nr);
    const std::vector<float> zero_pixel(static_cast<size_t>(cin_g), 0.0f);
    const float* zeros = zero_pixel.data();
    std::vector<const float*> src(nr);
    alignas(64) float tmp[kTileFloats];
    for (size_t item = begin; item < end; ++item) {
      const TileItem it(item, begin, mchunks, tiles, groups, nr, pixels);
      const size_t ms = it.ms, p0 = it.col0, cols = it.cols;
      const int64_t n = it.n, g = it.g;
      if (it.fresh) {
        // B[k][l] for the tile's pixels l, k = (i * kw + j) * cin_g + ci: per tap, one pointer
        // per pixel (to zeros for padding), then rows of B written contiguously.
        for (int64_t i = 0, tap = 0; i < p_.kh; ++i) {
          for (int64_t j = 0; j < p_.kw; ++j, ++tap) {
            for (size_t l = 0; l < cols; ++l) {
              const int64_t p = static_cast<int64_t>(p0 + l);
              const int64_t ih = (p / wout) * p_.sh - pt + i * p_.dh;
              const int64_t iw = (p % wout) * p_.sw - pl + j * p_.dw;
              const bool inside = ih >= 0 && ih < in.h && iw >= 0 && iw < in.w;
              src[l] = inside ? x + ((n * in.h + ih) * in.w + iw) * cin + g * cin_g : zeros;
            }
            // 8 channels of a pixel (one read) go to 8 rows of B: 8 short write streams.
            float* dst = bpack + static_cast<size_t>(tap * cin_g) * nr;
            int64_t ci = 0;
            for (; ci + 8 <= cin_g; ci += 8, dst += 8 * nr) {
              for (size_t l = 0; l < cols; ++l) {
                const float* s8 = src[l] + ci;
                for (size_t c = 0; c < 8; ++c) dst[c * nr + l] = s8[c];
              }
            }
            for (; ci < cin_g; ++ci, dst += nr) {
              for (size_t l = 0; l < cols; ++l) dst[l] = src[l][ci];
            }
          }
        }
      }
      const size_t blk0 = ms * per_chunk;
      const size_t blk1 = std::min<size_t>(blocks_, blk0 + per_chunk);
      tile_rows(g, blk0, blk1, cols, bpack, nullptr, nr, tmp, nr);
      const size_t rows = std::min<size_t>(blk1 * mr, cout_g_) - blk0 * mr;
      float* ybase = y + (n * static_cast<int64_t>(pixels) + static_cast<int64_t>(p0)) * p_.cout + g * cout_g_ +
                     static_cast<int64_t>(blk0 * mr);
      for (size_t l = 0; l < cols; ++l) {
        float* yp = ybase + static_cast<int64_t>(l) * p_.cout;
        for (size_t r = 0; r < rows; ++r) yp[r] = tmp[r * nr + l];
      }
    }
  });
}

void PackedConv2d::run_dw_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  const int64_t taps = p_.kh * p_.kw;
  const int64_t mult = cout_g_;  // output channels per input channel
  const PhaseGeometry geo = phase_geometry(p_, in);
  std::vector<int64_t> off(static_cast<size_t>(taps));
  for (int64_t i = 0, t = 0; i < p_.kh; ++i) {
    for (int64_t j = 0; j < p_.kw; ++j, ++t) off[t] = geo.tap_offset(i * p_.dh, j * p_.dw);
  }
  const double macs = static_cast<double>(in.n * p_.cout * hout * wout * taps);
  parallel(static_cast<size_t>(in.n * p_.cout), macs, [&](size_t begin, size_t end) {
    // With a skip (residual), each row goes to `row` first: skip may be y itself.
    float* plane = thread_scratch(static_cast<size_t>(geo.plane_size() + wout));
    float* row = plane + geo.plane_size();
    int64_t loaded = -1;  // the (n, input channel) whose padded plane is in `plane`
    for (size_t item = begin; item < end; ++item) {
      const int64_t n = static_cast<int64_t>(item) / p_.cout, co = static_cast<int64_t>(item) % p_.cout;
      const int64_t src_plane = n * p_.groups + co / mult;
      if (src_plane != loaded) {
        gather_rows(xs, n, co / mult, in, geo, 0, geo.hph, plane);
        loaded = src_plane;
      }
      const float* w = packed_.data() + co * taps;
      const float bias = bias_.empty() ? 0.0f : bias_[co];
      float* yplane = y + (n * p_.cout + co) * hout * wout;
      const float* splane = xs.skip != nullptr ? xs.skip + (n * p_.cout + co) * hout * wout : nullptr;
      for (int64_t oh = 0; oh < hout; ++oh) {
        if (splane != nullptr) {
          uk_->dw_row(static_cast<size_t>(wout), static_cast<size_t>(taps), plane + oh * geo.wph, off.data(), w, bias, row,
                      ConvActivation::kNone, 0.0f);
          add_activate(yplane + oh * wout, row, splane + oh * wout, static_cast<size_t>(wout), uk_->activation, xs.act,
                       xs.alpha);
          continue;
        }
        uk_->dw_row(static_cast<size_t>(wout), static_cast<size_t>(taps), plane + oh * geo.wph, off.data(), w, bias,
                    yplane + oh * wout, p_.act, p_.alpha);
      }
    }
  });
}

void PackedConv2d::run_dw_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  const int64_t taps = p_.kh * p_.kw;
  const int64_t c = p_.cout;
  const double macs = static_cast<double>(in.n * hout * wout) * static_cast<double>(c * taps);
  const int64_t pt = in.pads[0], pl = in.pads[1];
  const float* bias = bias_.empty() ? nullptr : bias_.data();
  // Square 3x3 and 5x5 windows (dilation 1, column stride 1 or 2) whose columns are inside
  // the image run through the row kernel (rows above or below it read a zero row); the
  // rest through per-tap pointers.
  const int64_t k = p_.kh;
  const bool row_kernel = (k == 3 || k == 5) && p_.kw == k && p_.dh == 1 && p_.dw == 1 && (p_.sw == 1 || p_.sw == 2);
  // Outputs whose window lies inside a row: ow * sw - pl >= 0 and ow * sw - pl + k <= w.
  const int64_t lo = std::min(wout, (pl + p_.sw - 1) / p_.sw);
  const int64_t hi = std::max(lo, std::min(wout, in.w - k + pl >= 0 ? (in.w - k + pl) / p_.sw + 1 : 0));
  // One output row per item.
  parallel(static_cast<size_t>(in.n * hout), macs, [&](size_t begin, size_t end) {
    std::vector<const float*> ptrs(static_cast<size_t>(wout * taps));
    const std::vector<float> zeros(static_cast<size_t>(c), 0.0f);
    std::vector<float> zero_row;  // the columns the row kernel reads, made on first need
    // Outputs [ow0, ow1) of row oh through per-tap input pointers (any geometry, padding).
    auto by_pointers = [&](int64_t n, int64_t oh, int64_t ow0, int64_t ow1) {
      if (ow0 >= ow1) return;
      for (int64_t ow = ow0; ow < ow1; ++ow) {
        for (int64_t i = 0, t = 0; i < p_.kh; ++i) {
          const int64_t ih = oh * p_.sh - pt + i * p_.dh;
          for (int64_t j = 0; j < p_.kw; ++j, ++t) {
            const int64_t iw = ow * p_.sw - pl + j * p_.dw;
            const bool inside = ih >= 0 && ih < in.h && iw >= 0 && iw < in.w;
            ptrs[(ow - ow0) * taps + t] = inside ? x + ((n * in.h + ih) * in.w + iw) * c : zeros.data();
          }
        }
      }
      uk_->dw_pixels(static_cast<size_t>(ow1 - ow0), static_cast<size_t>(c), static_cast<size_t>(taps), ptrs.data(),
                     packed_.data(), static_cast<size_t>(c), bias, y + ((n * hout + oh) * wout + ow0) * c,
                     static_cast<size_t>(c), p_.act, p_.alpha);
    };
    for (size_t item = begin; item < end; ++item) {
      const int64_t n = static_cast<int64_t>(item) / hout, oh = static_cast<int64_t>(item) % hout;
      const int64_t ih = oh * p_.sh - pt;  // top row of the window
      if (!row_kernel) {
        by_pointers(n, oh, 0, wout);
        continue;
      }
      by_pointers(n, oh, 0, lo);
      if (hi > lo) {
        const float* xr[5];
        for (int64_t r = 0; r < k; ++r) {
          if (ih + r >= 0 && ih + r < in.h) {
            xr[r] = x + ((n * in.h + ih + r) * in.w + (lo * p_.sw - pl)) * c;
            continue;
          }
          if (zero_row.empty()) zero_row.assign(static_cast<size_t>(((hi - lo - 1) * p_.sw + k) * c), 0.0f);
          xr[r] = zero_row.data();
        }
        uk_->dw_rows(static_cast<size_t>(hi - lo), static_cast<size_t>(k), static_cast<size_t>(p_.sw),
                     static_cast<size_t>(c), xr, static_cast<size_t>(c), packed_.data(), static_cast<size_t>(c), bias,
                     y + ((n * hout + oh) * wout + lo) * c, static_cast<size_t>(c), p_.act, p_.alpha);
      }
      by_pointers(n, oh, hi, wout);
    }
  });
}

}  // namespace tf
