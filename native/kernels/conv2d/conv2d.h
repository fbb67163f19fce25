// 2-D convolution over contiguous float32 tensors, NCHW (weights OIHW) or NHWC (weights
// HWIO), with groups, strides, dilations, asymmetric pads, bias and a fused activation.
//
// The weights are packed once (PackedConv2d) into the layout the ISA's micro-kernel reads:
//  - NCHW, general groups: an implicit GEMM per group, C[Cout_g][pixels] = W[Cout_g][K] *
//    X[K][pixels] with K = Cin_g*kh*kw. Weights are packed in MR-row panels; the input is
//    read in place through a per-k offset table from a zero-padded copy split into
//    stride phases (so every k row is contiguous along output pixels; no im2col buffer),
//    or straight from x for a 1x1-wide, stride-1, unpadded conv (1x1 conv = plain GEMM).
//  - NCHW, small output maps (chosen at packing from the size hint): the same GEMM
//    transposed, output channels on the vector lanes and pixels broadcast from packed
//    input panels (conv_channel_lanes.cc): a 7x7 map fills 49 of 56 rows instead of 49 of
//    96 lanes, and the weights stream once per call instead of once per pixel tile.
//  - NCHW k x k convs with 32+ input channels per group and Cout per group filling the
//    lanes (conv_channel_lanes.cc): the same tile as NHWC's indirect GEMM, output pixels
//    as rows, each pixel's inputs broadcast from a zero-padded copy at fixed offsets
//    (channel plane plus tap), the tile stored transposed. No stride phases, no junk
//    columns: strided convs run 20-40 % faster than on the pixel lanes.
//  - NHWC, Cout per group filling the lanes: an indirect GEMM (conv_channel_lanes.cc),
//    output channels on the lanes, each output pixel's input channels read through per-tap
//    pointers (no packing), the tile stored straight into y.
//  - NHWC, other groups: the same GEMM (output channels as rows, pixels as lanes) with
//    weights packed from HWIO; input tiles of NR pixels are packed on the fly and the
//    output tile is stored transposed.
//  - depthwise (Cin_g == 1): a direct kernel (any channel multiplier for NCHW).
//  - NCHW dense 3x3 stride 1 (Cin, Cout >= 8): Winograd F(2x2, 3x3), the 16 products as
//    GEMMs on the same micro-kernel, transforms vectorised across tiles, band by band.
//  - NCHW k x k, stride 2 in the columns, 32+ input channels (conv_blocked.cc): the blocked
//    kernel below, x reordered into a padded blocked copy and y back, inside the call.
//  - NCHWc (the blocked layout of blocked_layout.h; weights OIHW), groups 1, column stride
//    1 or 2 (conv_blocked.cc): a direct kernel, output channels on the lanes, each pixel's
//    input lanes broadcast from x (or a zero-padded copy) at fixed offsets per tap. No
//    packing of x and no transposed store: a chain of blocked convs keeps the layout.
//    Dense 3x3 stride-1 ones run Winograd where NCHW would (its band copy reads the blocked
//    rows, its output scatter writes blocked rows).
// Bias and activation are applied in the micro-kernels' epilogues. Work is split over
// output tiles on the internal thread pool. Kernels here know nothing of N-API.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/conv2d/conv_sources.h"
#include "kernels/conv2d/conv_ukernel_types.h"

namespace tf {

// kNCHWc: x [n][ceil(cin / L)][h][w][L] and y [n][ceil(cout / L)][hout][wout][L] with L
// the ISA's vector lanes (blocked_lanes()); weights OIHW as NCHW. kNCHWtoNCHWc: x NCHW, y
// blocked (a blocked region's first conv, over an input whose channels fill no block: an
// image's 3). kNCHWctoNCHW: x blocked, y NCHW (a region's last conv, whose output channels
// fill no whole block: a classifier's 1000, a YOLO head's 255).
enum class ConvLayout : int { kNCHW = 0, kNHWC = 1, kNCHWc = 2, kNCHWtoNCHWc = 3, kNCHWctoNCHW = 4 };

// Whether x is in the blocked layout.
inline bool blocked_input(ConvLayout l) { return l == ConvLayout::kNCHWc || l == ConvLayout::kNCHWctoNCHW; }

struct Conv2dParams {
  ConvLayout layout = ConvLayout::kNCHW;
  int64_t cout = 0;
  int64_t cin_per_group = 0;
  int64_t kh = 1, kw = 1;
  int64_t groups = 1;
  int64_t sh = 1, sw = 1;  // strides
  int64_t dh = 1, dw = 1;  // dilations
  ConvActivation act = ConvActivation::kNone;
  float alpha = 0.01f;
  // The output size the conv will mostly produce (0: unknown). With it, packing picks the
  // GEMM orientation that fills the register tile best for that size (see
  // prefer_channel_lanes); any size still runs, only the speed depends on the hint.
  int64_t hint_hout = 0, hint_wout = 0;
};

// Output size of one spatial dim; <= 0 when the (dilated) kernel does not fit.
inline int64_t conv_output_dim(int64_t in, int64_t pad_begin, int64_t pad_end, int64_t k, int64_t stride,
                               int64_t dilation) {
  const int64_t span = in + pad_begin + pad_end - ((k - 1) * dilation + 1);
  return span < 0 ? 0 : span / stride + 1;
}

// Pads are [top, left, bottom, right].
struct Conv2dInput {
  int64_t n = 1, h = 0, w = 0;
  int64_t pads[4] = {0, 0, 0, 0};
};

// The zero-padded input of a conv split into its stride phases (see PhaseGeometry).
inline PhaseGeometry phase_geometry(const Conv2dParams& p, const Conv2dInput& in) {
  const int64_t hp = in.h + in.pads[0] + in.pads[2];
  const int64_t wp = in.w + in.pads[1] + in.pads[3];
  return {p.sh, p.sw, (hp + p.sh - 1) / p.sh, (wp + p.sw - 1) / p.sw};
}

// Float storage from the recycling allocator (64-byte aligned; a block freed by one
// short-lived conv is reused by the next of the same size, without fresh page faults).
struct SpreadPrefetch;  // conv_scratch.h

class ConvBuffer {
 public:
  ConvBuffer() = default;
  ~ConvBuffer();
  ConvBuffer(const ConvBuffer&) = delete;
  ConvBuffer& operator=(const ConvBuffer&) = delete;
  // Reallocates to n floats; the contents are unspecified.
  float* reset(size_t n);
  float* data() { return data_; }
  const float* data() const { return data_; }

 private:
  float* data_ = nullptr;
  size_t size_ = 0;
};

class PackedConv2d {
 public:
  // `weights` holds cout*cin_per_group*kh*kw floats (OIHW for NCHW, HWIO for NHWC);
  // `bias` holds cout floats or is null. Both are copied. Params must be valid
  // (positive sizes, groups dividing cout); the binding checks them.
  PackedConv2d(const Conv2dParams& params, const float* weights, const float* bias);

  const Conv2dParams& params() const { return p_; }
  // What runs: "gemm-pixel-lanes", "gemm-channel-lanes", "gemm-gather" (NCHW),
  // "winograd-f2x2-3x3" / "winograd-f4x4-3x3" (NCHW), "depthwise", "blocked-direct" (NCHWc).
  const char* algorithm() const;
  int64_t cin() const { return p_.cin_per_group * p_.groups; }

  // x: [n, cin, h, w] (NCHW) or [n, h, w, cin] (NHWC); y: [n, cout, hout, wout] or
  // [n, hout, wout, cout] with hout/wout from conv_output_dim (both must be >= 1).
  // y must not overlap x. Safe to call from several threads at once.
  void run(const float* x, const Conv2dInput& in, float* y) const;
  // The channel block of the NCHWc layout on this machine (the active ISA's vector lanes).
  static int64_t blocked_lanes();
  // Whether params (layout kNCHWc or kNCHWtoNCHWc) are ones the blocked conv runs: groups
  // 1, column stride 1 or 2 (any kernel, row stride, dilation and padding).
  static bool blocked_supports(const Conv2dParams& p);
  // The same over an input given as sources (NCHW: a concat or a sum, see conv_sources.h;
  // NCHWc and NHWC: one tensor), with an optional residual epilogue (NCHW and NCHWc; the
  // skip laid out as y). The sources' lengths and the epilogue's validity (skip needs the
  // conv's own activation to be kNone) are the caller's checks.
  void run(const ConvSources& xs, const Conv2dInput& in, float* y) const;
  // The input affine every run applies (see ConvSources::in_scale): cin() floats each,
  // copied. NCHW convs only (the binding checks), concat sources only.
  void set_input_affine(const float* scale, const float* shift, bool relu);
  bool has_input_affine() const { return !in_scale_.empty(); }

 private:
  void run_sources(const ConvSources& xs, const Conv2dInput& in, float* y) const;
  enum class Mode {
    kGemmNchw, kGemmNchwChannelLanes, kGatherNchw, kGemmNhwc, kIgemmNhwc, kDepthwiseNchw, kDepthwiseNhwc, kWinogradNchw,
    kBlocked, kBlockedNchw, kWinogradBlocked
  };

  // For the hinted output size: whether output channels on the vector lanes (pixels
  // broadcast) beat pixels on the lanes; small maps (7x7, 14x14) fill few pixel lanes.
  static bool prefer_channel_lanes(const Conv2dParams& p, const ConvUkernels& uk);
  // Panels of `width` output channels, [g][panel][k][width] (see conv2d.cc).
  void pack_panels(const float* weights, int64_t co_stride, int64_t k_stride, size_t width);
  // NCHW k x k (not Winograd): whether the gathering GEMM (output channels on the lanes,
  // inputs read at fixed offsets from a padded copy) beats the pixel-lane GEMM.
  static bool prefer_gather_nchw(const Conv2dParams& p, const ConvUkernels& uk);
  // For a Winograd-eligible 3x3: whether the gathering GEMM is faster anyway (small maps,
  // few output channels: the transforms and 16/9 weights outweigh the saved multiplies).
  static bool gather_beats_winograd(const Conv2dParams& p, const ConvUkernels& uk);
  // NHWC: whether the indirect GEMM (output channels on the lanes) suits Cout per group.
  static bool prefer_igemm_nhwc(const Conv2dParams& p, const ConvUkernels& uk);
  // F(m x m, 3x3) Winograd: the output tile m (2 or 4) for these params, 0 when they are not
  // a dense 3x3 stride-1 NCHW conv with 8+ channels each way (or Winograd is turned off).
  static int64_t winograd_tile(const Conv2dParams& p);
  void pack_winograd(const float* weights, int64_t m);
  // blocked: x, y and the skip in the NCHWc layout (one source), else NCHW sources.
  void run_winograd(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y, bool blocked) const;

  // Splits the MR-row blocks of a group into chunks (*chunks of <= *per_chunk blocks).
  void row_chunks(size_t items, size_t* per_chunk, size_t* chunks) const;
  // Row blocks [blk0, blk1) of group g times one tile of B (cols <= NR columns; row k at
  // b + boff[k], or b + k * ldb without boff), through the reduction in cache-sized blocks,
  // into C (block b at c + (b - blk0) * MR * ldc).
  // Without the epilogue (bias, activation), C gets the plain sums.
  // With `skip` (rows laid out as C's, may be C itself), the sums start from skip + bias;
  // `act` (when set) replaces the conv's activation.
  void tile_rows(int64_t g, size_t blk0, size_t blk1, size_t cols, const float* b, const int64_t* boff, size_t ldb,
                 float* c, size_t ldc, bool epilogue = true, const float* skip = nullptr,
                 const ConvActivation* act = nullptr, float alpha = 0.0f, const SpreadPrefetch* next = nullptr) const;
  void run_gemm_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  // The epilogue of reduction block kb (of kblocks) of a tile with output channels on the
  // lanes from co0: the bias in the first block, the activation in the last (none when a
  // skip is added after the tile is stored).
  ConvEpilogue lane_epilogue(size_t kb, size_t kblocks, int64_t co0, bool skip) const;
  void run_gather_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  void run_channel_lanes_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  void run_gemm_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  void run_igemm_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  void run_dw_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  void run_dw_nhwc(const float* x, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  // NCHWc (conv_blocked.cc): weights as panels [panel][kblock][lane][tile nr], the bias
  // zero-padded to whole panels. A reduction block has input_lanes() lanes: L, or 1 when x
  // is NCHW (kNCHWtoNCHWc).
  void pack_blocked(const float* weights);
  // The blocked tile (uk_->blocked or blocked_half) with the fuller panels for p's output
  // channels, among those that run p.
  static const ConvBlockedTile& blocked_tile_for(const Conv2dParams& p, const ConvUkernels& uk);
  int64_t input_lanes() const;
  // NCHWc: xs holds one blocked tensor; a residual skip (blocked as y) is read as the tiles'
  // start values.
  void run_blocked(const ConvSources& xs, const Conv2dInput& in, float* y) const;
  // kNCHWctoNCHW: run_blocked into a blocked scratch, reordered into NCHW y (a skip, NCHW
  // as y, added after: y = act(conv + skip)).
  void run_blocked_to_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;
  // Blocked output yb (n images of hw pixels) into NCHW y; with xs.skip, y = act(conv +
  // skip), the conv reordered into `conv` (n * cout * hw floats) first.
  void blocked_out_to_nchw(const float* yb, int64_t n, int64_t hw, const ConvSources& xs, float* conv, float* y) const;
  // xs (one blocked or, with one input lane, NCHW source) with its input affine applied,
  // into *store: for the blocked paths that cannot apply it as they go.
  ConvSources activated_input(const ConvSources& xs, const Conv2dInput& in, std::vector<float>* store) const;
  void blocked_core(const float* x, const Conv2dInput& in, float* y, const ConvSources& residual, int64_t sh,
                    int64_t sw) const;
  // NCHW stride-2 convs (conv_blocked.cc): whether the blocked kernel, with the input
  // reordered into the padded blocked layout and the output back inside the call, beats the
  // gathering GEMM; and that run.
  static bool prefer_blocked_nchw(const Conv2dParams& p, const ConvUkernels& uk);
  void run_blocked_nchw(const ConvSources& xs, const Conv2dInput& in, int64_t hout, int64_t wout, float* y) const;

  Conv2dParams p_;
  Mode mode_;
  const ConvUkernels* uk_;
  int64_t cout_g_;
  int64_t k_;       // reduction length per group
  int64_t blocks_;  // MR-row (or, channel lanes: NR-column) panels of packed weights per group
  ConvBuffer packed_;
  std::vector<float> bias_;          // empty when there is no bias
  std::vector<float> in_scale_, in_shift_;  // the input affine (empty: none)
  bool in_relu_ = false;
  int64_t wino_m_ = 2;  // Winograd output tile: F(m x m, 3x3)
  const ConvBlockedTile* tile_ = nullptr;  // NCHWc: the tile the weights are packed for
};

}  // namespace tf
