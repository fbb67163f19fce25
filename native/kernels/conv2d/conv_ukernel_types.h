// Signatures of the conv2d micro-kernels each ISA provides (see conv_ukernels.h for the
// one templated implementation, instantiated per ISA in ukernels_<isa>.cc).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tf {

enum class ConvActivation : int { kNone = 0, kRelu = 1, kRelu6 = 2, kSigmoid = 3, kSilu = 4, kLeakyRelu = 5 };

// What the micro-kernel does after the reduction: C = act(acc + bias).
struct ConvEpilogue {
  const float* bias_rows = nullptr;  // one value per row of the tile (or null)
  const float* bias_cols = nullptr;  // one value per column (lane) of the tile (or null)
  ConvActivation act = ConvActivation::kNone;
  float alpha = 0.01f;  // leakyRelu slope
  // Adds to the partial sums already in C (a later block of the reduction) instead of
  // starting from the bias; the biases and `start` are then ignored.
  bool accumulate = false;
  // Rows added to the biases as start values (ldc apart, the tile's shape; may be C
  // itself): a residual's skip, read by the first block of the reduction instead of in a
  // separate pass over the output.
  const float* start = nullptr;
  // Non-zero: B row k is b + k * b_stride (a packed tile) and boff is not read.
  size_t b_stride = 0;
};

// C[r][j] = act(bias (or C[r][j] when ep.accumulate) + sum_k A[k][r] * B[k][j]) for r < mr <= MR, j < nr <= NR, where
// A is a packed panel a[k * MR + r] (rows >= mr are zero) and B row k is b + boff[k], or
// b + k * ep.b_stride when that is set (lanes j < nr are read; the loads of a partial tile
// are masked). C row r is c + r * ldc.
using ConvGemmUkernel = void (*)(size_t mr, size_t nr, size_t kc, const float* a, const float* b,
                                 const int64_t* boff, float* c, size_t ldc, const ConvEpilogue& ep);

// Indirect GEMM (NHWC): C[r][j] = act(bias (or C[r][j] when ep.accumulate) + sum over taps t
// and channels ci of rows[t * MR + r][ci] * B[t * cin + ci][j]) for r < mr <= MR,
// j < nr <= NR: rows holds MR pointers per tap (to an input pixel's cin channels, or to
// zeros for padding; rows past mr may repeat a valid one), B row k is b + k * NR (a packed
// NR-column panel, lanes j >= nr zero or masked off). C row r is c + r * ldc.
using ConvIgemmUkernel = void (*)(size_t mr, size_t nr, size_t taps, size_t cin, const float* const* rows,
                                  const float* b, float* c, size_t ldc, const ConvEpilogue& ep);

// Gathering GEMM (NCHW, output channels on the lanes): C[r][j] = act(bias (or C[r][j] when
// ep.accumulate) + sum_k pix[r][koff[k]] * B[k][j]) for r < mr <= MR, j < nr <= NR: pix
// holds MR pointers (an output pixel's first input, rows past mr may repeat a valid one),
// koff[k] is reduction index k's offset from it (channel plane plus tap), B row k is
// b + k * NR (a packed NR-column panel, lanes j >= nr zero or masked off). C row r is
// c + r * ldc.
using ConvGatherGemmUkernel = void (*)(size_t mr, size_t nr, size_t kc, const float* const* pix, const int64_t* koff,
                                       const float* b, float* c, size_t ldc, const ConvEpilogue& ep);

// Blocked direct conv (the NCHWc layout: channels in blocks of L = vector_lanes, each block
// a [pixels][L] plane): for p < pixels (any pixels >= 1: runs of R pixels, then one tile of
// the rest) and lane c < vectors * L <= NV * L,
//   y[(c / L) * ystride + p * L + c % L] = act(bias_cols[c] (or the value there when
//     ep.accumulate; plus ep.start's, laid out as y) + sum over kb < kblocks, i < LI of
//     x[xoff[kb] + p * S * LI + i] * w[(kb * LI + i) * NV * L + c])
// with S = 1 (blocked) or 2 (blocked_s2: the pixels of a stride-2 conv's output row) and
// LI = L (x blocked) or 1 (blocked_nchw_in: x in NCHW planes, one channel per block).
// Reduction block kb is one input channel block (at one tap); w is a packed panel of NV * L
// output channels (lanes past `vectors * L` are not read).
// The most output pixels of any ISA's blocked tile (callers size per-tile arrays by it).
constexpr size_t kMaxBlockedR = 16;

using ConvBlockedUkernel = void (*)(size_t pixels, size_t vectors, size_t kblocks, const float* x, const int64_t* xoff,
                                    const float* w, float* y, size_t ystride, const ConvEpilogue& ep);

// The same with each pixel's inputs wherever pix says: x[pix[p] + xoff[kb] + i] in place of
// x[xoff[kb] + p * S * LI + i] (a tile that spans output rows: a 7x7 map in tiles of 6
// pixels needs no 1-pixel tile per row).
using ConvBlockedGatherUkernel = void (*)(size_t pixels, size_t vectors, size_t kblocks, const float* x,
                                          const int64_t* pix, const int64_t* xoff, const float* w, float* y,
                                          size_t ystride, const ConvEpilogue& ep);

// Depthwise, one output row of n contiguous outputs:
// y[i] = act(bias + sum_t w[t] * x[off[t] + i]) for i < n. Only x[off[t] + i], i < n, is read.
using ConvDwRowUkernel = void (*)(size_t n, size_t taps, const float* x, const int64_t* off, const float* w,
                                  float bias, float* y, ConvActivation act, float alpha);

// Depthwise over channels (NHWC), a run of output pixels p < pixels:
// y[p * ystride + c] = act(bias[c] + sum_t w[t * wstride + c] * x[p * taps + t][c]) for
// c < channels (padding taps point at zeros).
using ConvDwPixelsUkernel = void (*)(size_t pixels, size_t channels, size_t taps, const float* const* x,
                                     const float* w, size_t wstride, const float* bias, float* y, size_t ystride,
                                     ConvActivation act, float alpha);

// Depthwise k x k, k = 3 or 5, dilation 1 (NHWC), column stride `stride` (1 or 2), n output
// pixels of one row whose whole input window is inside the image: x[r] (r < k) is the first
// output window's first pixel in input row r, pixels xstride apart; y[p * ystride + c] =
// act(bias[c] + sum_{r,j<k} w[(k r + j) * wstride + c] * x[r][(p * stride + j) * xstride + c])
// for p < n, c < channels.
using ConvDwRowsUkernel = void (*)(size_t n, size_t k, size_t stride, size_t channels, const float* const* x,
                                   size_t xstride, const float* w, size_t wstride, const float* bias, float* y,
                                   size_t ystride, ConvActivation act, float alpha);

// Winograd F(2x2, 3x3) input transform over n lanes: d[4 * r + c] is row r, column c of
// the 4x4 input tiles (one tile per lane); v[16] receives B^T d B, row-major.
using ConvWinogradInputUkernel = void (*)(size_t n, const float* const* d, float* const* v);

// Winograd F(2x2, 3x3) output transform over n lanes: m + k * m_stride is product k of
// the 4x4 tiles; y + (2 * i + j) * n receives act(bias + (A^T m A)[i][j]).
using ConvWinogradOutputUkernel = void (*)(size_t n, const float* m, size_t m_stride, float bias, float* y,
                                           ConvActivation act, float alpha);

// One register tile of the blocked conv, R output pixels by nr output channels, and its
// ukernels: strided (column stride 1 or 2) and gathering, over blocked x or (LI = 1) NCHW x.
struct ConvBlockedTile {
  size_t r = 0;   // output pixels (<= kMaxBlockedR)
  size_t nr = 0;  // output channels (whole blocks of vector_lanes)
  ConvBlockedUkernel strided = nullptr;
  ConvBlockedUkernel strided_s2 = nullptr;
  ConvBlockedUkernel nchw_in = nullptr;  // LI = 1: NCHW x, blocked y
  ConvBlockedUkernel nchw_in_s2 = nullptr;
  ConvBlockedGatherUkernel gather = nullptr;
  ConvBlockedGatherUkernel nchw_in_gather = nullptr;
};

// The blocked conv's input affine (a pre-activation BatchNorm-ReLU) over `pixels` pixels of
// one channel block (vector_lanes floats each): y[p][l] = x[p][l] * scale[l] + shift[l],
// then max(0, .) with relu (NaN stays NaN).
using ConvBlockedAffineUkernel = void (*)(const float* x, size_t pixels, const float* scale, const float* shift,
                                          bool relu, float* y);

// y[i] = act(y[i]) for i < n.
using ConvActivationUkernel = void (*)(float* y, size_t n, ConvActivation act, float alpha);

struct ConvUkernels {
  size_t mr = 0;  // rows of the GEMM register tile
  size_t nr = 0;  // columns (vector lanes) of the GEMM register tile
  ConvGemmUkernel gemm = nullptr;
  // The same MR rows by one and by two vectors of columns, for a tile whose columns fill
  // no more (a 14x14 map's last 4 pixels, the 16 tiles of a 7x7 Winograd): the full tile
  // would do its 3 vectors of FMAs for them. vector_lanes: floats per vector.
  size_t vector_lanes = 0;
  ConvGemmUkernel gemm_1v = nullptr;
  ConvGemmUkernel gemm_2v = nullptr;
  // The same GEMM with the tile the channel-lane path uses (pixels as rows): its row count
  // suits the maps that path gets (7 divides 7x7, 14x14, 28x28; 8 rows waste 1/8 of a 7x7).
  size_t lanes_mr = 0;
  size_t lanes_nr = 0;
  ConvGemmUkernel lanes_gemm = nullptr;
  // The same columns with one row (A packed one row wide): a conv of a single output pixel
  // (Gemm / MatMul as a 1x1 conv) would spend all LMR rows' FMAs on it.
  ConvGemmUkernel lanes_gemm_1row = nullptr;
  size_t igemm_mr = 0;  // output pixels of the indirect GEMM's tile
  size_t igemm_nr = 0;  // output channels (lanes) of the indirect GEMM's tile
  ConvIgemmUkernel igemm = nullptr;
  ConvGatherGemmUkernel gather_gemm = nullptr;  // the indirect GEMM's tile, igemm_mr x igemm_nr
  // The blocked conv's tile, and one of twice the pixels and half the channels for convs
  // whose output channels would leave the wide tile's panels mostly empty (DenseNet's 32 on
  // AVX-512's 64-channel panels: half of every FMA wasted); the half tile has only the
  // forms over blocked x at column stride 1 (strided, gather), the others are null.
  ConvBlockedTile blocked;
  ConvBlockedTile blocked_half;
  ConvBlockedAffineUkernel blocked_affine = nullptr;
  ConvDwRowUkernel dw_row = nullptr;
  ConvDwPixelsUkernel dw_pixels = nullptr;
  ConvDwRowsUkernel dw_rows = nullptr;
  ConvActivationUkernel activation = nullptr;
  ConvWinogradInputUkernel winograd_input = nullptr;
  ConvWinogradOutputUkernel winograd_output = nullptr;
  // F(4x4, 3x3): the same contracts over 6x6 input tiles (d, v: 36 rows) and 4x4 output
  // tiles (m: 36 products, y + (4 * i + j) * n).
  ConvWinogradInputUkernel winograd4_input = nullptr;
  ConvWinogradOutputUkernel winograd4_output = nullptr;
};

}  // namespace tf
