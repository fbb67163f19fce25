// The blocked direct conv (NCHWc in and out; see blocked_layout.h). Output channels are on
// the vector lanes, a tile's nr of them per weight panel, and output pixels are the tile's
// rows: each pixel's input lanes are broadcast straight from x (a padded conv: from a
// zero-padded copy), the L lanes of a channel block at fixed displacements, one reduction
// block per (channel block, tap), so nothing of x is packed, and the tile is stored as it
// is laid out in y. A chain of such convs keeps the layout from one to the next; the NCHW
// paths pay a B-panel copy or a transposed store instead (and tile the pixels in whole
// vectors: a 14x14 map's 196 pixels fill 13 vectors of 16, 6 % junk).
//
// In chains of 16 1x1 convs (bench/chains.js: one process, engines taking turns, 1 thread,
// AVX-512) it runs level with onnxruntime, which keeps its own blocked layout through a
// chain, and 10-25 % ahead of the NCHW GEMM. Model plans keep chains of convs blocked
// (lib/onnx/blocked-layout.ts); NCHW convs with a column stride of 2 use the kernel inside
// the call (run_blocked_nchw).
#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/channel_affine.h"
#include "kernels/conv2d/blocked_layout.h"
#include "kernels/conv2d/conv2d.h"
#include "kernels/conv2d/conv_scratch.h"
#include "kernels/ukernels.h"

namespace tf {

namespace {

// Pixel tiles per task, and the weights of one block of the reduction (a chunk of the
// task's panel of Cin x taps x nr floats). The chunk stays in L1 while the task's
// tiles pass over it (partial sums wait in y): the panel streams from L2 (or beyond) once
// per task instead of once per tile. ResNet-50's 7x7 stage (panels of 128 KiB to 1.2 MiB,
// 9-14 tiles a map) gained most: in-process A/B in the model (1 thread, AVX-512, ms per
// run, 8 tiles unchunked -> 16 tiles, 32 KiB chunks): [512,7,7] 3x3 8.23 -> 7.43,
// [512,14,14] 3x3/2 4.47 -> 3.90, [1024,14,14] 1x1/2 3.71 -> 3.39, [2048,7,7] 1x1 3.37 ->
// 3.20; larger maps within +-3 % (1x1s mostly ahead, [128,56,56] 3x3/2 3.00 -> 3.16);
// the whole model 107.4 -> 105.1 ms (a slow phase). 64 KiB chunks: no better; 32 tiles: even.
// On bigger maps the panel fits L2 and the partial sums' round trips cost more than the
// chunks save: CONV3S2 ([128,56,56] -> 256 3x3/2, 140 tiles a panel) 5.99 -> 6.51 ms,
// in-process A/B; so only maps whose tiles fit one task (7x7: 9-14 tiles) are chunked.
constexpr size_t kTilesPerItem = 16;
constexpr size_t kChunkBytes = 32 << 10;

// The geometry of in's zero-padded copy: its padded sizes, no pads.
Conv2dInput padded_input(const Conv2dInput& in) {
  Conv2dInput p = in;
  p.h = in.h + in.pads[0] + in.pads[2];
  p.w = in.w + in.pads[1] + in.pads[3];
  p.pads[0] = p.pads[1] = p.pads[2] = p.pads[3] = 0;
  return p;
}

}  // namespace

int64_t PackedConv2d::blocked_lanes() { return static_cast<int64_t>(ukernels().conv.vector_lanes); }

bool PackedConv2d::blocked_supports(const Conv2dParams& p) {
  return (blocked_input(p.layout) || p.layout == ConvLayout::kNCHWtoNCHWc) && p.groups == 1 &&
         (p.sw == 1 || p.sw == 2);
}

int64_t PackedConv2d::input_lanes() const {
  return p_.layout == ConvLayout::kNCHWtoNCHWc ? 1 : static_cast<int64_t>(uk_->vector_lanes);
}

// NCHW stride-2 k x k convs (the gathering GEMM's before): the blocked kernel reads each
// input line once per tap block instead of broadcasting through a per-k offset table, and
// the reorders in and out cost less than that saves. In-process A/B against the gathering
// GEMM (1 thread, AVX-512 unless said): CONV3S2 [128,56,56] -> 256 3x3/2 5.90 -> 4.61 ms
// (2 threads 3.89 -> 3.13; AVX2 9.91 -> 9.24), ResNet-50's [128,56,56] -> 128 and
// [256,28,28] -> 256 (caches flushed) 4.78 -> 4.00 and 5.04 -> 4.62, [64,56,56] -> 64 0.97 ->
// 0.78, 5x5/2 [64,57,57] -> 48 1.81 -> 1.67, [32,56,56] -> 40 0.45 -> 0.38; but -> 32
// output channels 0.54 -> 0.76 (half of each 64-channel panel idle): panels must be mostly
// full. TENSORFUSE_CONV_BLOCKED=0 turns it off for convs packed afterwards (A/B checks).
bool PackedConv2d::prefer_blocked_nchw(const Conv2dParams& p, const ConvUkernels& uk) {
  const char* e = std::getenv("TENSORFUSE_CONV_BLOCKED");
  if (e != nullptr && std::strcmp(e, "0") == 0) return false;
  return p.layout == ConvLayout::kNCHW && p.groups == 1 && p.sw == 2 && p.kh * p.kw > 1 && p.cin_per_group >= 32 &&
         fill_ratio(static_cast<size_t>(p.cout), blocked_tile_for(p, uk).nr) >= 0.6;
}

// The half tile when its panels are clearly fuller: 32 output channels on AVX-512 (64-channel
// panels half empty), DenseNet-121's 3x3s: [128,14,14] -> 32 0.122 -> 0.067 ms, [128,7,7] ->
// 32 0.037 -> 0.026 (1 thread, output reused); its 24 [128,14,14] convs in the model 4.17 ->
// 2.03 ms per run.
// The half tile has the forms over blocked x at column stride 1 only.
const ConvBlockedTile& PackedConv2d::blocked_tile_for(const Conv2dParams& p, const ConvUkernels& uk) {
  const size_t c = static_cast<size_t>(p.cout);
  const bool half_runs_it = blocked_input(p.layout) && p.sw == 1;
  return half_runs_it && fill_ratio(c, uk.blocked_half.nr) > fill_ratio(c, uk.blocked.nr) + 0.1 ? uk.blocked_half : uk.blocked;
}

void PackedConv2d::pack_blocked(const float* weights) {
  mode_ = Mode::kBlocked;
  tile_ = &blocked_tile_for(p_, *uk_);
  const size_t li = static_cast<size_t>(input_lanes()), nr = tile_->nr;
  const int64_t cin = p_.cin_per_group, taps = p_.kh * p_.kw;
  const int64_t in_blocks = static_cast<int64_t>(ceil_div(static_cast<size_t>(cin), li));
  blocks_ = static_cast<int64_t>(ceil_div(static_cast<size_t>(p_.cout), nr));
  k_ = in_blocks * taps;  // reduction blocks of li lanes: input block kb / taps at tap kb % taps
  float* out = packed_.reset(static_cast<size_t>(blocks_ * k_) * li * nr);
  for (int64_t panel = 0; panel < blocks_; ++panel) {
    for (int64_t kb = 0; kb < k_; ++kb) {
      for (size_t i = 0; i < li; ++i) {
        const int64_t ci = (kb / taps) * static_cast<int64_t>(li) + static_cast<int64_t>(i), tap = kb % taps;
        for (size_t j = 0; j < nr; ++j, ++out) {
          const int64_t co = panel * static_cast<int64_t>(nr) + static_cast<int64_t>(j);
          *out = co < p_.cout && ci < cin ? weights[(co * cin + ci) * taps + tap] : 0.0f;
        }
      }
    }
  }
  // The tile loads whole panels of biases: zeros past the last channel.
  if (!bias_.empty()) bias_.resize(static_cast<size_t>(blocks_) * nr, 0.0f);
}

void PackedConv2d::run_blocked_to_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout,
                                       float* y) const {
  const size_t L = uk_->vector_lanes;
  const size_t hw = static_cast<size_t>(hout * wout), out_blocks = ceil_div(static_cast<size_t>(p_.cout), L);
  const size_t nchw = static_cast<size_t>(in.n * p_.cout) * hw;
  // Not a CallerScratch: run_blocked may take the calling thread's one (a padded copy).
  ConvBuffer scratch;
  float* yb = scratch.reset(static_cast<size_t>(in.n) * out_blocks * hw * L + (xs.skip != nullptr ? nchw : 0));
  ConvSources conv_only = xs;
  conv_only.skip = nullptr;  // the conv's own activation is 'none' with a skip (the binding checks)
  run_blocked(conv_only, in, yb);
  blocked_out_to_nchw(yb, in.n, static_cast<int64_t>(hw), xs, yb + static_cast<size_t>(in.n) * out_blocks * hw * L, y);
}

void PackedConv2d::blocked_out_to_nchw(const float* yb, int64_t n, int64_t hw, const ConvSources& xs, float* conv,
                                       float* y) const {
  const int64_t L = static_cast<int64_t>(uk_->vector_lanes);
  if (xs.skip == nullptr) {
    blocked_to_nchw(yb, n, p_.cout, hw, L, y);
    return;
  }
  // skip possibly y itself: the conv goes through `conv`, then one pass adds.
  blocked_to_nchw(yb, n, p_.cout, hw, L, conv);
  add_activate_parallel(y, conv, xs.skip, static_cast<size_t>(n * p_.cout * hw), uk_->activation, xs.act, xs.alpha);
}

void PackedConv2d::run_blocked(const ConvSources& xs, const Conv2dInput& in, float* y) const {
  const float* x = xs.data[0];
  const bool padded_x = in.pads[0] || in.pads[1] || in.pads[2] || in.pads[3];
  const bool flat = p_.kh == 1 && p_.kw == 1 && p_.sh == 1 && p_.sw == 1 && !padded_x;
  if (xs.in_scale != nullptr && !(flat && input_lanes() == static_cast<int64_t>(uk_->vector_lanes))) {
    // Only a flat conv of blocked x applies the input affine as it goes (blocked_core).
    std::vector<float> activated;
    run_blocked(activated_input(xs, in, &activated), in, y);
    return;
  }
  if (p_.kh == 1 && p_.kw == 1 && (p_.sh > 1 || p_.sw > 1) && !padded_x) {
    // A strided 1x1 reads a pixel in sh * sw: pick those pixels out once, then run the
    // stride-1 conv over them (tiles spanning rows; every panel re-reads a quarter of x's
    // lines instead of all of them). ResNet-50's [512,28,28] -> 1024 1x1/2 in the model,
    // interleaved with the NCHW plan's: 2.86 ms (NCHW 2.88) -> 2.46 (NCHW 2.81).
    const int64_t li = input_lanes(), in_blocks = k_;
    const int64_t hout = conv_output_dim(in.h, 0, 0, 1, p_.sh, 1), wout = conv_output_dim(in.w, 0, 0, 1, p_.sw, 1);
    CallerScratch picked(static_cast<size_t>(in.n * in_blocks * hout * wout * li));
    subsample_blocked(x, in.n * in_blocks, in.h, in.w, p_.sh, p_.sw, li, picked.data());
    Conv2dInput sub = in;
    sub.h = hout;
    sub.w = wout;
    blocked_core(picked.data(), sub, y, xs, 1, 1);
    return;
  }
  if (!padded_x) {
    blocked_core(x, in, y, xs, p_.sh, p_.sw);
    return;
  }
  // NCHW x (one lane per block) pads as blocks of one channel.
  const int64_t li = input_lanes(), in_blocks = k_ / (p_.kh * p_.kw);
  const Conv2dInput padded = padded_input(in);
  CallerScratch copy(static_cast<size_t>(in.n * in_blocks * padded.h * padded.w * li));
  pad_blocked(x, in.n, in_blocks, in.h, in.w, in.pads, li, copy.data());
  blocked_core(copy.data(), padded, y, xs, p_.sh, p_.sw);
}

ConvSources PackedConv2d::activated_input(const ConvSources& xs, const Conv2dInput& in, std::vector<float>* store) const {
  // Before any padded copy (the padding stays zero). A vector, not a CallerScratch: the
  // conv's own copies take that.
  const size_t li = static_cast<size_t>(input_lanes()), in_blocks = ceil_div(static_cast<size_t>(cin()), li);
  const size_t plane = static_cast<size_t>(in.h * in.w);
  store->resize(static_cast<size_t>(in.n) * in_blocks * plane * li);
  if (li == 1) {
    channel_affine_planes(xs.data[0], in.n, cin(), in.h * in.w, xs.in_scale, xs.in_shift, xs.in_relu, store->data());
  } else {
    parallel(static_cast<size_t>(in.n) * in_blocks, static_cast<double>(store->size()), [&](size_t b0, size_t b1) {
      for (size_t b = b0; b < b1; ++b) {
        const size_t c0 = b % in_blocks * li;
        uk_->blocked_affine(xs.data[0] + b * plane * li, plane, xs.in_scale + c0, xs.in_shift + c0, xs.in_relu,
                            store->data() + b * plane * li);
      }
    });
  }
  ConvSources plain = xs;
  plain.data = {store->data()};
  plain.in_scale = plain.in_shift = nullptr;
  return plain;
}

void PackedConv2d::run_blocked_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout,
                                    float* y) const {
  const size_t L = uk_->vector_lanes;
  const int64_t cin = this->cin(), in_blocks = k_ / (p_.kh * p_.kw);
  const int64_t out_blocks = static_cast<int64_t>(ceil_div(static_cast<size_t>(p_.cout), L));
  const int64_t hp = in.h + in.pads[0] + in.pads[2], wp = in.w + in.pads[1] + in.pads[3];
  const size_t in_floats = static_cast<size_t>(in.n * in_blocks * hp * wp) * L;
  const size_t out_floats = static_cast<size_t>(in.n * out_blocks * hout * wout) * L;
  const bool plain = xs.data.size() == 1 && xs.in_scale == nullptr;
  // One scratch for the call: the padded blocked input, the blocked output, and (a concat,
  // a sum or an input affine) the padded NCHW planes the sources are gathered into first.
  const size_t planes_floats = plain ? 0 : static_cast<size_t>(in.n * cin * hp * wp);
  CallerScratch scratch(in_floats + out_floats + planes_floats);
  float* xb = scratch.data();
  float* yb = xb + in_floats;
  if (plain) {
    nchw_to_blocked_padded(xs.data[0], in.n, cin, in.h, in.w, in.pads, static_cast<int64_t>(L), xb);
  } else {
    float* planes = yb + out_floats;
    const PhaseGeometry geo{1, 1, hp, wp};
    parallel(static_cast<size_t>(in.n * cin), static_cast<double>(in.n * cin * hp * wp), [&](size_t c0, size_t c1) {
      for (size_t nc = c0; nc < c1; ++nc) {
        gather_rows(xs, static_cast<int64_t>(nc) / cin, static_cast<int64_t>(nc) % cin, in, geo, 0, hp,
                    planes + nc * static_cast<size_t>(hp * wp));
      }
    });
    nchw_to_blocked(planes, in.n, cin, hp * wp, static_cast<int64_t>(L), xb);
  }
  blocked_core(xb, padded_input(in), yb, ConvSources{}, p_.sh, p_.sw);
  // With a residual, the conv goes through the scratch's input part (no longer needed).
  blocked_out_to_nchw(yb, in.n, hout * wout, xs, xb, y);
}

// The blocked conv over x already zero-padded (in.pads are 0: in.h, in.w are the padded
// sizes) into blocked y, with strides sh, sw (the conv's own, or 1 over a strided 1x1's
// picked pixels); with residual.skip (blocked as y, may be y), y = act(conv + skip),
// the skip read as the tile's start values; with residual.in_scale (flat convs of blocked
// x only), x is read through the input affine.
void PackedConv2d::blocked_core(const float* x, const Conv2dInput& in, float* y, const ConvSources& residual,
                                int64_t sh, int64_t sw) const {
  const size_t L = uk_->vector_lanes, R = tile_->r, nr = tile_->nr, nv = nr / L;
  const size_t li = static_cast<size_t>(input_lanes());  // x's lanes per channel block
  const int64_t hout = conv_output_dim(in.h, in.pads[0], in.pads[2], p_.kh, sh, p_.dh);
  const int64_t wout = conv_output_dim(in.w, in.pads[1], in.pads[3], p_.kw, sw, p_.dw);
  const int64_t taps = p_.kh * p_.kw;
  const size_t kblocks = static_cast<size_t>(k_), in_blocks = kblocks / static_cast<size_t>(taps);
  const size_t out_blocks = ceil_div(static_cast<size_t>(p_.cout), L), panels = static_cast<size_t>(blocks_);
  // Tiles are runs of R output pixels in raster order. A 1x1 stride-1 conv's output pixels
  // are x's, so its rows are one run; otherwise a tile within one output row reads pixels sw
  // apart (the strided kernel), and one that spans rows reads each pixel where it is (the
  // gather kernel): a 7x7 map is 8 tiles of 6 and one of 1, not 7 of 6 and 7 of 1.
  const bool flat = taps == 1 && sh == 1 && sw == 1;
  const size_t pixels = static_cast<size_t>(hout * wout), row_len = flat ? pixels : static_cast<size_t>(wout);
  const int64_t hp = in.h, wp = in.w;
  const size_t in_plane = static_cast<size_t>(hp * wp) * li, out_plane = static_cast<size_t>(hout * wout) * L;
  std::vector<int64_t> xoff(kblocks);
  for (size_t kb = 0; kb < kblocks; ++kb) {
    const int64_t t = static_cast<int64_t>(kb) % taps, i = t / p_.kw, j = t % p_.kw;
    xoff[kb] = static_cast<int64_t>(kb / static_cast<size_t>(taps) * in_plane) + (i * p_.dh * wp + j * p_.dw) * static_cast<int64_t>(li);
  }
  const bool nchw_in = li == 1 && L > 1;
  const ConvBlockedUkernel kernel = nchw_in ? (sw == 1 ? tile_->nchw_in : tile_->nchw_in_s2)
                                            : (sw == 1 ? tile_->strided : tile_->strided_s2);
  const ConvBlockedGatherUkernel gather = nchw_in ? tile_->nchw_in_gather : tile_->gather;
  // An item is a run of tiles (balanced runs of <= kTilesPerItem), passed over by the
  // reduction in blocks of kc whose weights (<= kChunkBytes) stay in L1 while the item's
  // tiles read them.
  const size_t tiles = ceil_div(pixels, R);
  const size_t items_per_panel = ceil_div(tiles, kTilesPerItem), per_item = ceil_div(tiles, items_per_panel);
  // Chunked only when a task covers a whole (small) map; see kChunkBytes.
  const size_t kc = tiles <= kTilesPerItem ? std::max<size_t>(1, kChunkBytes / (li * nr * sizeof(float))) : kblocks;
  ConvEpilogue ep;
  ep.act = residual.skip != nullptr ? residual.act : p_.act;
  ep.alpha = residual.skip != nullptr ? residual.alpha : p_.alpha;
  const double macs = static_cast<double>(in.n * p_.cout) * static_cast<double>(hout * wout) * static_cast<double>(k_) *
                      static_cast<double>(li);
  // Items panel by panel: a thread's share runs over the pixels with one panel of weights.
  // With the input affine (flat convs of blocked x only: run_blocked), an item is a run of
  // tiles over every panel instead: it first writes act(x * scale + shift) of its pixels, all
  // channel blocks, to thread scratch, which stays in cache while the panels pass over it
  // (each value computed once, x read once).
  // With few such items for the threads (a 7x7 map is one run), the panels split into
  // groups, each item activating its pixels for its own group.
  const bool affine = residual.in_scale != nullptr;
  const size_t threads = static_cast<size_t>(ThreadPool::instance().threads());
  const size_t groups = affine ? std::min(panels, ceil_div(2 * threads, static_cast<size_t>(in.n) * items_per_panel)) : 1;
  const size_t items_per_image = affine ? items_per_panel * groups : panels * items_per_panel;
  const size_t item_plane = per_item * R * li;  // floats per channel block of an item's activated pixels
  std::vector<int64_t> xoff_activated(affine ? kblocks : 0);
  for (size_t kb = 0; kb < xoff_activated.size(); ++kb) xoff_activated[kb] = static_cast<int64_t>(kb * item_plane);
  auto panel_of = [&](size_t item) { return item % items_per_image / items_per_panel; };  // without the affine
  // Where output pixel p (raster order within the image) reads x, from the image's start.
  auto x_at = [&](size_t p) {
    return (p / row_len * static_cast<size_t>(sh * wp) + p % row_len * static_cast<size_t>(sw)) * li;
  };
  constexpr size_t kNoPanel = ~size_t{0};
  // Tiles [t0, t1) of one panel over ximage, whose first float is x_at(x_first) (reduction
  // block kb at xo[kb]); next_panel: the panel the thread takes next (its weights prefetched).
  auto panel_pass = [&](size_t n, size_t panel, size_t t0, size_t t1, const float* ximage, const int64_t* xo,
                        size_t x_first, size_t next_panel) {
    const size_t vectors = std::min(nv, out_blocks - panel * nv);
    const float* w = packed_.data() + panel * kblocks * li * nr;
    const size_t yimage = (n * out_blocks + panel * nv) * out_plane;
    for (size_t k0 = 0; k0 < kblocks; k0 += kc) {
      const size_t kn = std::min(kc, kblocks - k0);
      ConvEpilogue tile_ep = ep;
      tile_ep.bias_cols = bias_.empty() ? nullptr : bias_.data() + panel * nr;
      tile_ep.accumulate = k0 > 0;  // later reduction blocks add to the partial sums in y
      if (k0 + kn < kblocks) tile_ep.act = ConvActivation::kNone;
      // The weights read next, a share before each tile (into L2: the chunk in hand holds
      // most of L1): the panel's next chunk; after the last, the next panel's first chunk. A
      // chunk's first pass was latency-bound: the 7x7 stage's panels (128 KiB - 1.2 MiB,
      // from memory in a model whose 100 MB of weights pass through the caches every run)
      // went at a fraction of the bandwidth. ResNet-50, in-process A/B against no prefetch
      // (1 thread, AVX-512, Zen 5): 48.4 -> 45.1 and 46.2 -> 42.9 ms per run.
      SpreadPrefetch next;
      if (k0 + kn < kblocks) {
        next.at = reinterpret_cast<const char*>(w + (k0 + kn) * li * nr);
        next.lines = std::min(kc, kblocks - k0 - kn) * li * nr * sizeof(float) / 64;
      } else if (next_panel != kNoPanel) {
        next.at = reinterpret_cast<const char*>(packed_.data() + next_panel * kblocks * li * nr);
        next.lines = std::min(kc * li * nr * sizeof(float), kChunkBytes) / 64;
      }
      if (flat && next.lines == 0) {
        // The run of tiles in one call (a flat conv's pixels are one row) unless weights are
        // prefetched a share per tile. In-process A/B against a call per tile (1 thread,
        // AVX-512, ms per run): DenseNet-121 28.07 -> 27.53, ResNet-50 40.53 -> 40.24 and
        // 40.98 -> 40.83.
        const size_t p0 = t0 * R, count = std::min(t1 * R, pixels) - p0;
        const size_t yat = yimage + p0 * L;
        tile_ep.start = residual.skip != nullptr ? residual.skip + yat : nullptr;
        kernel(count, vectors, kn, ximage + x_at(p0) - x_first, xo + k0, w + k0 * li * nr, y + yat, out_plane, tile_ep);
        continue;
      }
      for (size_t t = t0; t < t1; ++t) {
        next.part(t - t0, t1 - t0);
        const size_t p0 = t * R, count = std::min(R, pixels - p0);
        const size_t yat = yimage + p0 * L;
        tile_ep.start = residual.skip != nullptr ? residual.skip + yat : nullptr;
        if (p0 % row_len + count <= row_len) {
          kernel(count, vectors, kn, ximage + x_at(p0) - x_first, xo + k0, w + k0 * li * nr, y + yat, out_plane, tile_ep);
          continue;
        }
        std::array<int64_t, kMaxBlockedR> pix;
        for (size_t r = 0; r < count; ++r) pix[r] = static_cast<int64_t>(x_at(p0 + r) - x_first);
        gather(count, vectors, kn, ximage, pix.data(), xo + k0, w + k0 * li * nr, y + yat, out_plane, tile_ep);
      }
    }
  };
  parallel(static_cast<size_t>(in.n) * items_per_image, macs, [&](size_t begin, size_t end) {
    for (size_t item = begin; item < end; ++item) {
      const size_t n = item / items_per_image, range = affine ? item % items_per_image / groups : item % items_per_panel;
      const size_t t0 = range * per_item, t1 = std::min(tiles, t0 + per_item);
      const float* ximage = x + n * in_blocks * in_plane;
      if (!affine) {
        const size_t panel = panel_of(item);
        const bool next_other = item + 1 < end && panel_of(item + 1) != panel;  // on the same one: just read
        panel_pass(n, panel, t0, t1, ximage, xoff.data(), 0, next_other ? panel_of(item + 1) : kNoPanel);
        continue;
      }
      const size_t p0 = t0 * R, count = std::min(t1 * R, pixels) - p0;
      float* activated = thread_scratch(in_blocks * item_plane);
      for (size_t b = 0; b < in_blocks; ++b) {
        uk_->blocked_affine(ximage + b * in_plane + p0 * li, count, residual.in_scale + b * li, residual.in_shift + b * li,
                            residual.in_relu, activated + b * item_plane);
      }
      const size_t g = item % groups, panel0 = g * panels / groups, panel1 = (g + 1) * panels / groups;
      for (size_t panel = panel0; panel < panel1; ++panel) {
        panel_pass(n, panel, t0, t1, activated, xoff_activated.data(), x_at(p0), panel + 1 < panel1 ? panel + 1 : kNoPanel);
      }
    }
  }, true);
}

}  // namespace tf
