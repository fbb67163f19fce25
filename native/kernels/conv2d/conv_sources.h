// Where an NCHW conv's input planes come from, and the residual epilogue: the machinery
// that lets concat->conv, add->conv and conv+skip->act run as one conv without writing the
// concatenated / summed tensor or a separate add pass (PackedConv2d::run(ConvSources...)).
//
//  - concat: the conv input is the channel concatenation of several NCHW tensors
//    [n, channels[i], h, w]; input plane (n, c) is plane (n, c - first_i) of source i.
//  - sum: every source is [n, cin, h, w]; input plane (n, c) is the sum of their planes.
// The padded, stride-phase-split copy the conv makes anyway (pad_rows) gathers / sums the
// planes while copying (gather_rows), so the concat or the sum costs nothing beyond that
// copy. The in-place 1-column-kernel GEMM (no copy) packs each B tile from the concat's
// sources piece by piece (ConcatSegments: per source a base and its own offsets).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/channel_affine.h"
#include "kernels/conv2d/conv_ukernel_types.h"

namespace tf {

struct Conv2dInput;

struct ConvSources {
  enum class Kind : int { kConcat = 0, kSum = 1 };
  Kind kind = Kind::kConcat;
  std::vector<const float*> data;  // source i: [n, channels[i], h, w], contiguous
  std::vector<int64_t> channels;   // sum: every entry is the conv's cin
  // Residual epilogue: when skip is set, y = act(conv(x) + bias + skip) with `act`/`alpha`
  // below (the conv's own activation must be kNone: the caller checks). skip has y's shape
  // and may be y itself (then the conv accumulates into it).
  const float* skip = nullptr;
  ConvActivation act = ConvActivation::kNone;
  float alpha = 0.01f;
  // Input affine (a pre-activation BatchNorm-ReLU before the conv): input channel c reads
  // x * in_scale[c] + in_shift[c], then max(0, .) with in_relu; padding stays zero. Applied
  // where the conv copies or packs its input, never written back. Concat sources only.
  const float* in_scale = nullptr;  // cin floats, or null: no affine
  const float* in_shift = nullptr;  // cin floats (set with in_scale)
  bool in_relu = false;

  static ConvSources single(const float* x, int64_t cin) {
    ConvSources s;
    s.data.push_back(x);
    s.channels.push_back(cin);
    return s;
  }
  // True when plane (n, c) of the conv input is one contiguous plane of one source.
  bool gathered() const { return kind == Kind::kConcat || data.size() == 1; }
  // For concat: the source holding input channel c and that channel's index in it.
  size_t source_of(int64_t c, int64_t* local) const;
  // Input plane (n, c) of source i (for concat, c is the channel within the source).
  const float* plane(size_t i, int64_t n, int64_t c, int64_t hw) const { return data[i] + (n * channels[i] + c) * hw; }
};

// Geometry of the zero-padded input split into stride phases: phase (a, b) of a plane
// holds padded[u * sh + a][v * sw + b] at [u][v], u < hph, v < wph. With it, input row
// (oh * sh + i * dh) and column (ow * sw + j * dw) of the padded plane are at phase
// ((i*dh) % sh, (j*dw) % sw), [oh + i*dh/sh][ow + j*dw/sw]: contiguous along ow.
struct PhaseGeometry {
  int64_t sh, sw, hph, wph;
  int64_t phase_size() const { return hph * wph; }
  int64_t plane_size() const { return sh * sw * hph * wph; }
  // Offset of tap (i, j) from the output pixel (0, 0) within one input plane.
  int64_t tap_offset(int64_t ii, int64_t jj) const {
    return ((ii % sh) * sw + (jj % sw)) * phase_size() + (ii / sh) * wph + jj / sw;
  }
};

// Writes rows [u0, u1) of every phase of the padded, phase-split copy of one h x w plane
// to dst (which holds the whole copy, plane_size() floats). With `add`, the plane's values
// are added to what dst holds (its padding is left alone: already zero).
// With phase_stride / u_base, dst may instead hold a band of rows: phase p's row u at
// dst + p * phase_stride + (u - u_base) * wph.
void pad_rows(const float* src, const Conv2dInput& in, const PhaseGeometry& g, int64_t u0, int64_t u1, float* dst,
              int64_t phase_stride = -1, int64_t u_base = 0, bool add = false);

// pad_rows for the `used` channels of one block of a blocked (NCHWc) input: xblock is the
// block's [h][w][lanes] plane, channel l's copy starts at dst + l * channel_stride. One pass:
// the lanes of 4 pixels that land in one column phase are transposed into 4 channels' runs.
void pad_rows_blocked(const float* xblock, int64_t used, int64_t lanes, const Conv2dInput& in, const PhaseGeometry& g,
                      int64_t u0, int64_t u1, float* dst, int64_t channel_stride, int64_t phase_stride, int64_t u_base);

// pad_rows for plane (n, c) of the conv input described by s: the right source's plane
// (concat) or the sum of every source's plane (sum: the first copied, the rest added), with
// the input affine applied to the copied values (concat only).
void gather_rows(const ConvSources& s, int64_t n, int64_t c, const Conv2dInput& in, const PhaseGeometry& g, int64_t u0,
                 int64_t u1, float* dst, int64_t phase_stride = -1, int64_t u_base = 0);

// Prefetches input rows [ih0, ih1) (clamped) of plane (n, c) of every source that makes it:
// a band copy reads short runs of many planes, which the hardware prefetcher misses.
void prefetch_rows(const ConvSources& s, int64_t n, int64_t c, const Conv2dInput& in, int64_t ih0, int64_t ih1);

// Per group, the pieces of the concat that its channels [g * cin_g, (g + 1) * cin_g) span,
// for a kernel with `taps` rows per channel (k = ci * taps + tap): k0 / source / first
// source channel per piece, and the offsets relative to each piece's first plane.
struct ConcatSegments {
  std::vector<std::vector<int64_t>> k0;      // [g]: count + 1 entries
  std::vector<std::vector<size_t>> source;   // [g][piece]
  std::vector<std::vector<int64_t>> first;   // [g][piece]: channel within the source
  std::vector<int64_t> boff;                 // [g * k + k]
  size_t max_pieces = 0;
  // boff: the single-tensor offsets (k = ci * taps + tap, ci * plane + tap offset).
  ConcatSegments(const ConvSources& s, int64_t groups, int64_t cin_g, int64_t taps, int64_t plane,
                 const std::vector<int64_t>& boff_single);
  // B bases of group g's pieces for image n, output column q0.
  void bases(const ConvSources& s, int64_t g, int64_t n, int64_t hw, size_t q0, const float** out) const;
};

// y[i] = act(t[i] + skip[i]) for i < n (skip may be y).
void add_activate(float* y, const float* t, const float* skip, size_t n, ConvActivationUkernel activation,
                  ConvActivation act, float alpha);
// The same in chunks over the thread pool (a whole tensor after a conv).
void add_activate_parallel(float* y, const float* t, const float* skip, size_t n, ConvActivationUkernel activation,
                           ConvActivation act, float alpha);

}  // namespace tf
