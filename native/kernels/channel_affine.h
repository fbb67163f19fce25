// Per-channel affine over [N, C, HW] data (NCHW, or channels last as [rows, C, 1]):
// y = x * scale[c] + shift[c], then max(0, .) with relu
// (an inference BatchNormalization, alone or with its ReLU; NaN stays NaN, as in relu()).
// One pass; y may alias x.
#pragma once
#include <cstddef>
#include <cstdint>

namespace tf {

// One run of n values of a channel: y[i] = x[i] * scale + shift (max(0, .) with relu).
void channel_affine(float* y, const float* x, size_t n, float scale, float shift, bool relu);

// x, y: [n, c, hw]; scale, shift: c values each. hw == 1 (channels last) runs along the
// channels of each row.
void channel_affine_planes(const float* x, int64_t n, int64_t c, int64_t hw, const float* scale, const float* shift,
                           bool relu, float* y);

// The same over blocked data [n, c / lanes, hw, lanes] (NCHWc, lanes = the active ISA's
// conv vector lanes, c a multiple of them): lane l of block b is channel b * lanes + l.
void channel_affine_blocked(const float* x, int64_t n, int64_t c, int64_t hw, const float* scale, const float* shift,
                            bool relu, float* y);

}  // namespace tf
