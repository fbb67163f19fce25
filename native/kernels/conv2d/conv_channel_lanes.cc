// The NCHW GEMM with output channels on the vector lanes: C^T[pixel][co] = X^T[pixel][k] *
// W^T[k][co]. The main GEMM (conv2d.cc) puts pixels on the lanes, which a 7x7 map (49
// pixels, 63 with the padded copy's junk columns) fills to half over two 48-lane tiles, and
// it streams every weight once per tile. Here the weights are the lanes (NR-column panels,
// read once per call) and MR pixels are broadcast from packed input panels, so a small map
// wastes at most MR - 1 pixel rows and a panel's last lanes. The same micro-kernel runs both.
//
// NHWC convs use the indirect variant (run_igemm_nhwc): each output pixel's input channels
// are contiguous, so the micro-kernel broadcasts them through per-tap pointers (no packing)
// and its tile rows are output pixels, stored straight into y.
//
// A call (NCHW) packs the input panels first (the implicit im2col for MR pixels at a time, K x MR
// floats per block, summing/gathering sources like the padded copy), then splits the NR
// panels (and, with few panels, the pixel blocks) over the pool. Large maps are done in
// chunks of pixel blocks so the packed panels stay a few MiB.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#if defined(__SSE2__)
#include <xmmintrin.h>
#endif

#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv_scratch.h"
#include "kernels/conv2d/conv_sources.h"
#include "kernels/ukernels.h"
#include "runtime/thread_pool.h"

namespace tf {

namespace {

// Packed input panels per chunk of pixel blocks (floats): 8 MiB.
constexpr size_t kPanelChunkFloats = size_t{2} << 20;

enum class LanesChoice { kAuto, kPixels, kChannels };

// TENSORFUSE_CONV_LANES=pixels|channels forces the orientation of every NCHW GEMM conv
// packed afterwards (A/B measurements; channels means the packed-panel GEMM, not the
// gathering one); unset or anything else: chosen by the hint and the shape. Read at every
// packing (as TENSORFUSE_CONV_WINOGRAD), so one process can pack and time both.
LanesChoice lanes_override() {
  const char* e = std::getenv("TENSORFUSE_CONV_LANES");
  if (e != nullptr && std::strcmp(e, "pixels") == 0) return LanesChoice::kPixels;
  if (e != nullptr && std::strcmp(e, "channels") == 0) return LanesChoice::kChannels;
  return LanesChoice::kAuto;
}

// fill_ratio() of the pixel-lane GEMM's columns: a last tile of at most one or two vectors runs
// a kernel that narrow (tile_rows), so only the rest of a full tile is wasted.
double fill_columns(size_t used, const ConvUkernels& uk) {
  const size_t rem = used % uk.nr, lanes = uk.vector_lanes;
  const size_t last = rem == 0 ? 0 : rem <= lanes ? lanes : rem <= 2 * lanes ? 2 * lanes : uk.nr;
  return static_cast<double>(used) / static_cast<double>(used - rem + last);
}

// A C^T tile (rows: pixels [p0, p1), ldt floats apart; columns: `cols` output channels)
// stored transposed into the channel planes of y starting at y + plane0 (pixels floats
// each). With a residual, y = act(tile + skip) (the skip laid out as y).
// SSE2 (the baseline the ISA-independent code is built for) transposes 4 x 4 blocks: one
// float per load and store took a few percent of a gathering conv.
void store_pixel_rows(const float* t, size_t ldt, size_t p0, size_t p1, size_t cols, float* y, int64_t plane0,
                      size_t pixels, const ConvSources& xs, ConvActivationUkernel activation) {
  const bool skip = xs.skip != nullptr;
  size_t c = 0;
#if defined(__SSE2__)
  for (; c + 4 <= cols; c += 4) {
    float* yr[4];
    const float* sr[4];
    for (size_t i = 0; i < 4; ++i) {
      const int64_t row0 = plane0 + static_cast<int64_t>((c + i) * pixels);
      yr[i] = y + row0;
      sr[i] = skip ? xs.skip + row0 : nullptr;
    }
    size_t p = p0;
    for (; p + 4 <= p1; p += 4) {
      const float* tp = t + (p - p0) * ldt + c;
      __m128 r0 = _mm_loadu_ps(tp), r1 = _mm_loadu_ps(tp + ldt), r2 = _mm_loadu_ps(tp + 2 * ldt),
             r3 = _mm_loadu_ps(tp + 3 * ldt);
      _MM_TRANSPOSE4_PS(r0, r1, r2, r3);  // r_i: channel c + i at pixels p .. p + 3
      const __m128 r[4] = {r0, r1, r2, r3};
      for (size_t i = 0; i < 4; ++i) _mm_storeu_ps(yr[i] + p, skip ? _mm_add_ps(r[i], _mm_loadu_ps(sr[i] + p)) : r[i]);
    }
    for (; p < p1; ++p) {
      for (size_t i = 0; i < 4; ++i) yr[i][p] = t[(p - p0) * ldt + c + i] + (skip ? sr[i][p] : 0.0f);
    }
  }
#endif
  for (; c < cols; ++c) {
    const int64_t row0 = plane0 + static_cast<int64_t>(c * pixels);
    float* yrow = y + row0;
    const float* ct = t + c;
    if (skip) {
      const float* srow = xs.skip + row0;
      for (size_t p = p0; p < p1; ++p) yrow[p] = ct[(p - p0) * ldt] + srow[p];
    } else {
      for (size_t p = p0; p < p1; ++p) yrow[p] = ct[(p - p0) * ldt];
    }
  }
  // The activation waits for the skip (without one, the GEMM's epilogue applied it).
  if (skip && xs.act != ConvActivation::kNone) {
    for (c = 0; c < cols; ++c) activation(y + plane0 + static_cast<int64_t>(c * pixels) + p0, p1 - p0, xs.act, xs.alpha);
  }
}

}  // namespace

ConvEpilogue PackedConv2d::lane_epilogue(size_t kb, size_t kblocks, int64_t co0, bool skip) const {
  ConvEpilogue ep;
  ep.accumulate = kb != 0;
  if (kb == 0 && !bias_.empty()) ep.bias_cols = bias_.data() + co0;
  // With a skip, the activation waits until the skip is added (store_pixel_rows).
  if (kb + 1 == kblocks && !skip) {
    ep.act = p_.act;
    ep.alpha = p_.alpha;
  }
  return ep;
}

bool PackedConv2d::prefer_channel_lanes(const Conv2dParams& p, const ConvUkernels& uk) {
  if (p.layout != ConvLayout::kNCHW || p.cin_per_group == 1) return false;
  const LanesChoice o = lanes_override();
  if (o != LanesChoice::kAuto) return o == LanesChoice::kChannels;
  if (p.hint_hout <= 0 || p.hint_wout <= 0) return false;
  const int64_t cout_g = p.cout / p.groups;
  const size_t pixels = static_cast<size_t>(p.hint_hout * p.hint_wout);
  // The pixel-lane GEMM computes junk columns too (the padded copy's extra width) unless it
  // reads x in place (1-column kernel, stride 1; pads are unknown here, assume none).
  const int64_t junk = p.kw == 1 && p.sw == 1 ? 0 : ((p.kw - 1) * p.dw + p.sw - 1) / p.sw;
  const size_t lanes_px = static_cast<size_t>(p.hint_hout * (p.hint_wout + junk));
  // The pixel-lane GEMM of a conv with a stride wider than its kernel copies stride phases
  // it never reads (a 3x3 stride-4 conv); the channel-lane packing reads only the taps it
  // needs. A 1x1 one reads x in place (pads assumed none), as the channel lanes do.
  const bool one_by_one = p.kh == 1 && p.kw == 1;
  const double copy_cost = !one_by_one && (p.kh < p.sh || p.kw < p.sw) ? 0.8 : 1.0;
  const double pixel_lanes = static_cast<double>(pixels) / static_cast<double>(lanes_px) * fill_columns(lanes_px, uk) *
                             fill_ratio(static_cast<size_t>(cout_g), uk.mr) * copy_cost;
  const double channel_lanes = fill_ratio(pixels, uk.lanes_mr) * fill_ratio(static_cast<size_t>(cout_g), uk.lanes_nr);
  // Packing the input panels costs more than the padded copy: ask for 20 % (measured on
  // the ResNet-50 shapes, 1 thread, AVX-512: 14x14 1x1 256->1024 fills 0.95 vs 0.82 and
  // still runs 12 % slower on channel lanes).
  if (winograd_tile(p) == 0) return channel_lanes > 1.2 * pixel_lanes;
  // The alternative is Winograd F(2x2, 3x3) (F(4x4) on maps of 16x16 and up, where the
  // channel lanes never win): its GEMMs' lanes are 2x2 output tiles, and it
  // does 2.25x fewer multiplications, about 2x net of its transforms. Its transformed
  // weights (16 per 9 of the kernel's) stream from memory once a call: with more than
  // 4 MiB of them and fewer than 64 tiles to reuse them, the call is memory-bound.
  // Measured (AVX-512, 1 thread, cold caches): 512x7x7->512 channel lanes 1.61 ms vs
  // Winograd 2.58; 128x7x7->128 Winograd 0.133 vs 0.149; 64x13x13->256 Winograd 0.28 vs
  // 0.41; 256x14x14->256 (4 MiB) Winograd 0.89 vs 1.66.
  const size_t tiles = static_cast<size_t>(((p.hint_hout + 1) / 2) * ((p.hint_wout + 1) / 2));
  const double winograd_bytes = 64.0 * static_cast<double>(p.cin_per_group) * static_cast<double>(cout_g);
  if (winograd_bytes > 4.0 * (1 << 20) && tiles < 64) return true;
  const double winograd = 2.0 * fill_columns(tiles, uk) * fill_ratio(static_cast<size_t>(cout_g), uk.mr);
  return channel_lanes > 1.2 * winograd;
}

bool PackedConv2d::prefer_gather_nchw(const Conv2dParams& p, const ConvUkernels& uk) {
  if (lanes_override() != LanesChoice::kAuto || p.kh * p.kw == 1) return false;
  // Measured (AVX-512, 1 thread, in-process A/B against the pixel lanes): 3x3 stride 2 with
  // 64-256 input channels 20-40 % faster, 5x5 / 3x3 stride 1 10-12 %; 16 input channels
  // 7 % slower, ResNet's 7x7 stem (3 channels) 10 % slower.
  if (p.cin_per_group < 32) return false;
  return fill_ratio(static_cast<size_t>(p.cout / p.groups), uk.igemm_nr) >= 0.6;
}

bool PackedConv2d::gather_beats_winograd(const Conv2dParams& p, const ConvUkernels& uk) {
  // Measured (AVX-512, 1 thread, in-process A/B, warm / caches flushed): [128,7,7] -> 32
  // 134 -> 88 us / 272 -> 210; [128,14,14] -> 32 291 -> 228 / 403 -> 389 (DenseNet's 3x3s
  // in blocks 3-4); but [256,14,14] -> 256 and [128,28,28] -> 32 keep Winograd (-20 %, even).
  if (p.hint_hout <= 0 || p.hint_wout <= 0 || p.hint_hout * p.hint_wout > 196) return false;
  return p.cout / p.groups <= 64 && prefer_gather_nchw(p, uk);
}

bool PackedConv2d::prefer_igemm_nhwc(const Conv2dParams& p, const ConvUkernels& uk) {
  const LanesChoice o = lanes_override();
  if (o != LanesChoice::kAuto) return o == LanesChoice::kChannels;
  // The pixel-lane NHWC GEMM packs every input tile and stores its output transposed; the
  // indirect GEMM does neither, so it wins unless Cout per group fills few of its lanes.
  return fill_ratio(static_cast<size_t>(p.cout / p.groups), uk.igemm_nr) >= 0.6;
}

void PackedConv2d::run_igemm_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  const size_t mr = uk_->igemm_mr, nr = uk_->igemm_nr;
  const int64_t cin = this->cin(), cin_g = p_.cin_per_group, taps = p_.kh * p_.kw;
  const size_t pixels = static_cast<size_t>(hout * wout);
  const size_t blocks = ceil_div(pixels, mr), panels = static_cast<size_t>(blocks_);
  // Taps per reduction block: that block of the weight panel (<= 32 KiB) stays in L1
  // while the item's pixel blocks pass over it.
  const size_t tap_block = std::max<size_t>(1, (size_t{8} << 10) / (static_cast<size_t>(cin_g) * nr));
  const size_t tblocks = ceil_div(static_cast<size_t>(taps), tap_block);
  constexpr size_t kBlocksPerItem = 4;
  const size_t items_per_image = ceil_div(blocks, kBlocksPerItem);
  const std::vector<float> zeros(static_cast<size_t>(cin_g), 0.0f);
  const double macs = static_cast<double>(in.n * p_.cout) * static_cast<double>(pixels * static_cast<size_t>(k_));
  const int64_t pt = in.pads[0], pl = in.pads[1];

  parallel(static_cast<size_t>(in.n) * items_per_image, macs, [&](size_t i0, size_t i1) {
    std::vector<const float*> rows(kBlocksPerItem * static_cast<size_t>(taps) * mr);
    for (size_t item = i0; item < i1; ++item) {
      const int64_t n = static_cast<int64_t>(item / items_per_image);
      const size_t b0 = (item % items_per_image) * kBlocksPerItem, b1 = std::min(blocks, b0 + kBlocksPerItem);
      for (int64_t g = 0; g < p_.groups; ++g) {
        // rows[(b - b0) * taps * MR + t * MR + r]: pixel r of block b, tap t (rows past the
        // last pixel read zeros).
        for (size_t b = b0; b < b1; ++b) {
          const float** rb = rows.data() + (b - b0) * static_cast<size_t>(taps) * mr;
          for (size_t r = 0; r < mr; ++r) {
            const size_t p = b * mr + r;
            const int64_t oh = static_cast<int64_t>(p / static_cast<size_t>(wout));
            const int64_t ow = static_cast<int64_t>(p % static_cast<size_t>(wout));
            for (int64_t i = 0, t = 0; i < p_.kh; ++i) {
              const int64_t ih = oh * p_.sh - pt + i * p_.dh;
              for (int64_t j = 0; j < p_.kw; ++j, ++t) {
                const int64_t iw = ow * p_.sw - pl + j * p_.dw;
                const bool inside = p < pixels && ih >= 0 && ih < in.h && iw >= 0 && iw < in.w;
                rb[t * static_cast<int64_t>(mr) + static_cast<int64_t>(r)] =
                    inside ? x + ((n * in.h + ih) * in.w + iw) * cin + g * cin_g : zeros.data();
              }
            }
          }
        }
        for (size_t jp = 0; jp < panels; ++jp) {
          const size_t cols = std::min<size_t>(nr, static_cast<size_t>(cout_g_) - jp * nr);
          const int64_t co0 = g * cout_g_ + static_cast<int64_t>(jp * nr);
          const float* bpanel = packed_.data() + (static_cast<size_t>(g) * panels + jp) * static_cast<size_t>(k_) * nr;
          for (size_t tb = 0; tb < tblocks; ++tb) {
            const size_t t0 = tb * tap_block, tn = std::min(tap_block, static_cast<size_t>(taps) - t0);
            const ConvEpilogue ep = lane_epilogue(tb, tblocks, co0, false);
            for (size_t b = b0; b < b1; ++b) {
              const size_t p0 = b * mr;
              float* c = y + (n * static_cast<int64_t>(pixels) + static_cast<int64_t>(p0)) * p_.cout + co0;
              const float* const* rt = rows.data() + ((b - b0) * static_cast<size_t>(taps) + t0) * mr;
              uk_->igemm(std::min(mr, pixels - p0), cols, tn, static_cast<size_t>(cin_g), rt,
                         bpanel + t0 * static_cast<size_t>(cin_g) * nr, c, static_cast<size_t>(p_.cout), ep);
            }
          }
        }
      }
    }
  });
}

void PackedConv2d::run_gather_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const {
  const size_t mr = uk_->igemm_mr, nr = uk_->igemm_nr;
  const int64_t cin = this->cin(), cin_g = p_.cin_per_group;
  const size_t pixels = static_cast<size_t>(hout * wout);
  const bool padded = in.pads[0] || in.pads[1] || in.pads[2] || in.pads[3];
  // Unpadded single tensors are read in place; otherwise one zero-padded copy of each plane
  // (no stride phases: the row pointers step over the skipped columns), which also makes a
  // concat or sum of sources one tensor.
  const bool in_place = !padded && xs.data.size() == 1 && xs.in_scale == nullptr;
  const int64_t hp = in.h + in.pads[0] + in.pads[2], wp = in.w + in.pads[1] + in.pads[3];
  const int64_t plane = hp * wp;
  const float* src = xs.data[0];
  std::unique_ptr<CallerScratch> copy;
  if (!in_place) {
    copy = std::make_unique<CallerScratch>(static_cast<size_t>(in.n * cin * plane));
    const PhaseGeometry geo{1, 1, hp, wp};
    float* dst = copy->data();
    parallel(static_cast<size_t>(in.n * cin), static_cast<double>(in.n * cin * plane), [&](size_t c0, size_t c1) {
      for (size_t nc = c0; nc < c1; ++nc) {
        const int64_t n = static_cast<int64_t>(nc) / cin, c = static_cast<int64_t>(nc) % cin;
        gather_rows(xs, n, c, in, geo, 0, hp, dst + static_cast<int64_t>(nc) * plane);
      }
    });
    src = dst;
  }
  const size_t blocks = ceil_div(pixels, mr), panels = static_cast<size_t>(blocks_);
  const size_t k = static_cast<size_t>(k_);
  const size_t kblocks = ceil_div(k, gemm_kc(nr)), kc = ceil_div(k, kblocks);
  constexpr size_t kBlocksPerItem = 4;
  const size_t items_per_image = ceil_div(blocks, kBlocksPerItem);
  const double macs = static_cast<double>(in.n * p_.cout) * static_cast<double>(pixels * k);
  // Reduction index k = ci * taps + tap (the OIHW order) sits at koff[k] from the pixel.
  std::vector<int64_t> koff(k);
  for (int64_t ci = 0, kk = 0; ci < cin_g; ++ci) {
    for (int64_t i = 0; i < p_.kh; ++i) {
      for (int64_t j = 0; j < p_.kw; ++j, ++kk) koff[kk] = ci * plane + i * p_.dh * wp + j * p_.dw;
    }
  }

  parallel(static_cast<size_t>(in.n) * items_per_image, macs, [&](size_t i0, size_t i1) {
    std::vector<const float*> pix(kBlocksPerItem * mr);
    float* tmp = thread_scratch(kBlocksPerItem * mr * nr);
    for (size_t item = i0; item < i1; ++item) {
      const int64_t n = static_cast<int64_t>(item / items_per_image);
      const size_t b0 = (item % items_per_image) * kBlocksPerItem, b1 = std::min(blocks, b0 + kBlocksPerItem);
      const size_t p0 = b0 * mr, p1 = std::min(pixels, b1 * mr);
      for (int64_t g = 0; g < p_.groups; ++g) {
        const float* xg = src + (n * cin + g * cin_g) * plane;
        for (size_t i = 0; i < (b1 - b0) * mr; ++i) {
          const size_t p = p0 + i < pixels ? p0 + i : p0;  // rows past the end repeat a valid pixel
          const int64_t oh = static_cast<int64_t>(p / static_cast<size_t>(wout));
          const int64_t ow = static_cast<int64_t>(p % static_cast<size_t>(wout));
          pix[i] = xg + oh * p_.sh * wp + ow * p_.sw;
        }
        for (size_t jp = 0; jp < panels; ++jp) {
          const size_t cols = std::min<size_t>(nr, static_cast<size_t>(cout_g_) - jp * nr);
          const int64_t co0 = g * cout_g_ + static_cast<int64_t>(jp * nr);
          const float* bpanel = packed_.data() + (static_cast<size_t>(g) * panels + jp) * k * nr;
          for (size_t kb = 0; kb < kblocks; ++kb) {
            const size_t k0 = kb * kc, kn = std::min(kc, k - k0);
            const ConvEpilogue ep = lane_epilogue(kb, kblocks, co0, xs.skip != nullptr);
            for (size_t b = b0; b < b1; ++b) {
              uk_->gather_gemm(std::min(mr, pixels - b * mr), cols, kn, pix.data() + (b - b0) * mr, koff.data() + k0,
                               bpanel + k0 * nr, tmp + (b - b0) * mr * nr, nr, ep);
            }
          }
          store_pixel_rows(tmp, nr, p0, p1, cols, y, (n * p_.cout + co0) * static_cast<int64_t>(pixels), pixels, xs,
                           uk_->activation);
        }
      }
    }
  });
}

void PackedConv2d::run_channel_lanes_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout,
                                          float* y) const {
  const int64_t cin_g = p_.cin_per_group, taps = p_.kh * p_.kw;
  const size_t pixels = static_cast<size_t>(hout * wout);
  const size_t k = static_cast<size_t>(k_);
  // A single output pixel (Gemm / MatMul as a 1x1 conv) packs and runs one row, not LMR.
  const size_t mr = pixels == 1 ? 1 : uk_->lanes_mr, nr = uk_->lanes_nr;
  const ConvGemmUkernel lanes_gemm = pixels == 1 ? uk_->lanes_gemm_1row : uk_->lanes_gemm;
  const bool padded = in.pads[0] || in.pads[1] || in.pads[2] || in.pads[3];
  // As in the pixel-lane GEMM: a 1-column, unpadded, stride-1 kernel reads the planes of x
  // in place; anything else reads a padded, phase-split copy of each plane (made per
  // channel, in the packing task's own scratch).
  const bool in_place = !padded && p_.sh == 1 && p_.sw == 1 && p_.kw == 1 && xs.gathered();
  const PhaseGeometry geo = in_place ? PhaseGeometry{1, 1, in.h, in.w} : phase_geometry(p_, in);
  const int64_t wq = in_place ? wout : geo.wph;
  std::vector<int64_t> tap_off(static_cast<size_t>(taps));
  for (int64_t i = 0, t = 0; i < p_.kh; ++i) {
    for (int64_t j = 0; j < p_.kw; ++j, ++t) tap_off[t] = geo.tap_offset(i * p_.dh, j * p_.dw);
  }
  // Pixel p reads its taps at q(p) + tap_off in the (padded) plane; block rows past the
  // last pixel read pixel 0 (their results are dropped).
  std::vector<int64_t> qpix(ceil_div(pixels, mr) * mr, 0);
  for (size_t p = 0; p < pixels; ++p) qpix[p] = static_cast<int64_t>(p / wout) * wq + static_cast<int64_t>(p % wout);
  // Blocks whose pixels are consecutive in the plane (within one output row, as every
  // block of a 7-wide map on 7-row tiles) copy a run instead of gathering: in-process A/B
  // (1 thread, AVX-512) on ResNet-50's 7x7 convs 1-5 % faster.
  std::vector<uint8_t> qrun(ceil_div(pixels, mr), 0);
  for (size_t b = 0; b < qrun.size(); ++b) {
    const int64_t* q = qpix.data() + b * mr;
    bool run = (b + 1) * mr <= pixels;
    for (size_t r = 1; run && r < mr; ++r) run = q[r] == q[0] + static_cast<int64_t>(r);
    qrun[b] = run;
  }

  const size_t blocks_total = ceil_div(pixels, mr);
  const size_t chunk_blocks = std::max<size_t>(1, std::min(blocks_total, kPanelChunkFloats / (k * mr)));
  CallerScratch apanels(chunk_blocks * k * mr);
  float* a = apanels.data();
  const size_t panels = static_cast<size_t>(blocks_);
  const size_t threads = static_cast<size_t>(ThreadPool::instance().threads());
  const double macs_per_block = static_cast<double>(mr * k) * static_cast<double>(cout_g_);

  for (int64_t n = 0; n < in.n; ++n) {
    for (int64_t g = 0; g < p_.groups; ++g) {
      for (size_t b0 = 0; b0 < blocks_total; b0 += chunk_blocks) {
        const size_t nb = std::min(chunk_blocks, blocks_total - b0);
        // Packing: block b holds a[(b * K + k) * MR + r] = input k of pixel (b0 + b) * MR + r.
        parallel(static_cast<size_t>(cin_g), macs_per_block * static_cast<double>(nb), [&](size_t c0, size_t c1) {
          float* plane = in_place ? nullptr : thread_scratch(static_cast<size_t>(geo.plane_size()));
          for (size_t ci = c0; ci < c1; ++ci) {
            const int64_t c = g * cin_g + static_cast<int64_t>(ci);
            const float* src;
            if (in_place) {
              int64_t local = 0;
              const size_t s = xs.source_of(c, &local);
              src = xs.plane(s, n, local, in.h * in.w);
            } else {
              gather_rows(xs, n, c, in, geo, 0, geo.hph, plane);
              src = plane;
            }
            for (int64_t t = 0; t < taps; ++t) {
              const float* st = src + tap_off[t];
              const size_t kk = ci * static_cast<size_t>(taps) + static_cast<size_t>(t);
              for (size_t b = 0; b < nb; ++b) {
                const int64_t* q = qpix.data() + (b0 + b) * mr;
                float* dst = a + (b * k + kk) * mr;
                if (qrun[b0 + b]) {
                  const float* run = st + q[0];
                  for (size_t r = 0; r < mr; ++r) dst[r] = run[r];
                } else {
                  for (size_t r = 0; r < mr; ++r) dst[r] = st[q[r]];
                }
                // in place, the input affine is applied here (the copy applied it otherwise)
                if (in_place && xs.in_scale != nullptr) channel_affine(dst, dst, mr, xs.in_scale[c], xs.in_shift[c], xs.in_relu);
              }
            }
          }
        });

        // Items: NR panels times pixel-block ranges (split only when the panels alone would
        // leave threads idle: every extra range re-reads the panel's weights).
        const size_t ranges = std::min(nb, panels >= 4 * threads ? size_t{1} : ceil_div(4 * threads, panels));
        const size_t per_range = ceil_div(nb, ranges);
        const size_t kblocks = ceil_div(k, gemm_kc(nr)), kc = ceil_div(k, kblocks);
        parallel(panels * ranges, macs_per_block * static_cast<double>(nb), [&](size_t i0, size_t i1) {
          float* cbuf = thread_scratch(per_range * mr * nr);
          for (size_t item = i0; item < i1; ++item) {
            const size_t j = item / ranges, rb0 = (item % ranges) * per_range;
            const size_t rb1 = std::min(nb, rb0 + per_range);
            if (rb0 >= rb1) continue;
            const size_t cols = std::min<size_t>(nr, static_cast<size_t>(cout_g_) - j * nr);
            const int64_t co0 = g * cout_g_ + static_cast<int64_t>(j * nr);
            const float* bpanel = packed_.data() + (static_cast<size_t>(g) * panels + j) * k * nr;
            for (size_t kb = 0; kb < kblocks; ++kb) {
              const size_t k0 = kb * kc, kn = std::min(kc, k - k0);
              ConvEpilogue ep = lane_epilogue(kb, kblocks, co0, xs.skip != nullptr);
              ep.b_stride = nr;  // the panel's rows, nr floats apart
              for (size_t b = rb0; b < rb1; ++b) {
                const size_t rows = std::min(mr, pixels - (b0 + b) * mr);
                lanes_gemm(rows, cols, kn, a + (b * k + k0) * mr, bpanel + k0 * nr, nullptr,
                           cbuf + (b - rb0) * mr * nr, nr, ep);
              }
            }
            const size_t p0 = (b0 + rb0) * mr, p1 = std::min(pixels, (b0 + rb1) * mr);
            store_pixel_rows(cbuf, nr, p0, p1, cols, y, (n * p_.cout + co0) * static_cast<int64_t>(pixels), pixels, xs,
                             uk_->activation);
          }
        }, true);
      }
    }
  }
}

}  // namespace tf
