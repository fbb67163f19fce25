// Where a pooling window lands along one axis: which of its taps read the input and how
// many positions its average divides by. Shared by the NCHW and NHWC pooling kernels.
#pragma once
#include <algorithm>
#include <cstdint>
#include <vector>

namespace tf {

inline int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
inline int64_t ceil_div(int64_t a, int64_t b) { return -floor_div(-a, b); }

struct AxisWindow {
  int64_t start;        // input index of tap 0 (may be negative: in the begin padding)
  int64_t first, last;  // taps [first, last) read input positions in [0, in)
  int64_t count;        // the divisor of an average (see axis_window)
};

// The window of output index o along an axis of length `in` (kernel k, stride s, dilation
// d, pads pad_begin / pad_end). With include_pad the divisor counts the taps that fall in
// the input or its explicit pads, not those past the end pad that ceil mode adds (as
// onnxruntime and PyTorch divide); without it, only the taps that read the input.
inline AxisWindow axis_window(int64_t o, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad_begin,
                              int64_t pad_end, bool include_pad) {
  AxisWindow w{};
  w.start = o * s - pad_begin;
  w.first = std::clamp<int64_t>(ceil_div(-w.start, d), 0, k);
  w.last = std::clamp<int64_t>(floor_div(in - 1 - w.start, d) + 1, w.first, k);
  if (include_pad) {
    // Tap 0 is never before the begin pad (o * s >= 0); count up to the end pad.
    w.count = std::clamp<int64_t>(floor_div(in + pad_end - 1 - w.start, d) + 1, 0, k);
  } else {
    w.count = w.last - w.first;
  }
  return w;
}

// axis_window for every output index [0, out): computed once per call, so the loops over
// rows and pixels do no division.
inline std::vector<AxisWindow> axis_windows(int64_t out, int64_t in, int64_t k, int64_t s, int64_t d, int64_t pad_begin,
                                            int64_t pad_end, bool include_pad) {
  std::vector<AxisWindow> windows(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) windows[o] = axis_window(o, in, k, s, d, pad_begin, pad_end, include_pad);
  return windows;
}

}  // namespace tf
