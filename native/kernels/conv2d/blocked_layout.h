// The blocked channel layout (NCHWc) the blocked convs read and write: channels in blocks
// of `lanes` (the ISA's vector width), each block a [pixels][lanes] plane, so the channels
// of one pixel in a block share a cache line and a kernel broadcasts them at fixed
// displacements. Lanes past the last channel are zero (or, written by a conv, finite).
#pragma once
#include <cstdint>

namespace tf {

// y [n][ceil(c / lanes)][hw][lanes] from x [n][c][hw]; lanes past c are zeroed.
void nchw_to_blocked(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y);

// y [n][ceil(c / lanes)][h + pt + pb][w + pl + pr][lanes] from x [n][c][h][w]: the blocked
// layout with a zero border (pads top, left, bottom, right) in one pass.
void nchw_to_blocked_padded(const float* x, int64_t n, int64_t c, int64_t h, int64_t w, const int64_t pads[4],
                            int64_t lanes, float* y);

// y [n][c][hw] from x [n][ceil(c / lanes)][hw][lanes] (lanes past c are not read).
void blocked_to_nchw(const float* x, int64_t n, int64_t c, int64_t hw, int64_t lanes, float* y);

// dst [n][blocks][h + pt + pb][w + pl + pr][lanes]: x [n][blocks][h][w][lanes] with a zero
// border (pads top, left, bottom, right).
void pad_blocked(const float* x, int64_t n, int64_t blocks, int64_t h, int64_t w, const int64_t pads[4], int64_t lanes,
                 float* dst);

// dst [planes][(h - 1) / sh + 1][(w - 1) / sw + 1][lanes]: every sh-th row's every sw-th pixel
// of x [planes][h][w][lanes] (a strided 1x1 conv's input pixels).
void subsample_blocked(const float* x, int64_t planes, int64_t h, int64_t w, int64_t sh, int64_t sw, int64_t lanes,
                       float* dst);

}  // namespace tf
