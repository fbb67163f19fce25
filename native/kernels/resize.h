// Resize over the two spatial axes of NCHW planes (ONNX Resize-19 semantics for nearest
// and linear modes): a coordinate map per axis, then gathers (nearest) or a horizontal
// lerp into two rows and a vertical SIMD lerp (bilinear).
#pragma once
#include <cstdint>
#include <vector>

namespace tf {

enum class ResizeMode { kNearest = 0, kLinear = 1 };
enum class CoordMode { kHalfPixel = 0, kAsymmetric = 1, kAlignCorners = 2, kPytorchHalfPixel = 3, kHalfPixelSymmetric = 4 };
enum class NearestMode { kRoundPreferFloor = 0, kRoundPreferCeil = 1, kFloor = 2, kCeil = 3 };

struct ResizeAxis {
  int64_t in, out;
  double scale;  // the scale the coordinate map divides by (given, or out / in for sizes)
};

// The input coordinate that output index i maps to (ONNX coordinate_transformation_mode).
double resize_source_coord(int64_t i, const ResizeAxis& a, CoordMode mode);

// Per-axis maps: nearest gives one index per output; linear gives i0, i1 and the weight of i1.
void resize_nearest_map(const ResizeAxis& a, CoordMode mode, NearestMode nearest, std::vector<int64_t>* idx);
void resize_linear_map(const ResizeAxis& a, CoordMode mode, std::vector<int64_t>* i0, std::vector<int64_t>* i1,
                       std::vector<float>* t);

// y: [planes, oh, ow] from x: [planes, h, w] (h, w >= 1 when oh, ow >= 1).
void resize2d(const float* x, int64_t planes, const ResizeAxis& ay, const ResizeAxis& ax, ResizeMode mode,
              CoordMode coord, NearestMode nearest, float* y);

}  // namespace tf
