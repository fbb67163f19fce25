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

// One channel block on the calling thread (callers already on the pool): `used` channels
// of `pixels` pixels between block [pixels][lanes] and planes [used][plane_stride].
// planes_to_block zeroes the lanes past `used`.
void block_to_planes(const float* block, int64_t used, int64_t pixels, int64_t lanes, float* planes, int64_t plane_stride);
void planes_to_block(const float* planes, int64_t plane_stride, int64_t used, int64_t pixels, int64_t lanes, float* block);

}  // namespace tf
