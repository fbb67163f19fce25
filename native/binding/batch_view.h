// Tensor arguments that may be batch-strided views (Tensor.sliceChannels of a batch): images
// of contiguous floats that lie `stride` floats apart instead of back to back. Ops that take
// views get an optional trailing `strides` argument from JS (one batch stride per tensor);
// without it every tensor is contiguous and the kernel runs once over the whole batch, as
// before. With it, the binding checks each view's span against its Float32Array and runs the
// kernel once per image with per-image pointers, so kernels never learn about strides.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "binding/args.h"

namespace tf::binding {

// `images` images of `image_size` floats, image n at data + n * stride (stride >= image_size).
struct BatchView {
  float* data = nullptr;
  int64_t images = 1;
  int64_t image_size = 0;
  int64_t stride = 0;

  bool contiguous() const { return images <= 1 || stride == image_size; }
  float* image(int64_t n) const { return data + n * stride; }
};

// info[i]: undefined (every tensor contiguous: returns an empty list) or an array of `count`
// non-negative integer strides.
std::vector<int64_t> batch_strides_arg(const Napi::CallbackInfo& info, size_t i, size_t count);

// The stride of tensor k from a batch_strides_arg list, or -1 (contiguous) when it is empty.
inline int64_t stride_at(const std::vector<int64_t>& strides, size_t k) { return strides.empty() ? -1 : strides[k]; }

// `a` as a view of `images` images of `image_size` floats `stride` apart (stride < 0: a
// contiguous tensor, stride = image_size). Throws a RangeError naming `what` unless
// stride >= image_size and a holds exactly the span from the first to the last image's end.
// `shape` (may be null) is only used in the messages.
BatchView batch_view(Napi::Env env, const F32Arg& a, int64_t images, int64_t image_size, int64_t stride,
                     const std::string& what, const Shape* shape = nullptr);
// The same with images = shape[0] and image_size = the product of shape[1:] (rank 0: one float).
BatchView batch_view(Napi::Env env, const F32Arg& a, const Shape& shape, int64_t stride, const std::string& what);

// True when the two views share any float (exact: two slices of one batch interleave without
// sharing memory).
bool overlaps(const BatchView& a, const BatchView& b);
// True when both cover exactly the same floats in the same layout.
bool same_memory(const BatchView& a, const BatchView& b);

}  // namespace tf::binding
