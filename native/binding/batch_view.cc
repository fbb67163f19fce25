#include "binding/batch_view.h"

#include <cmath>

namespace tf::binding {

std::vector<int64_t> batch_strides_arg(const Napi::CallbackInfo& info, size_t i, size_t count) {
  // The common case (no views) costs at most one napi call: a missing argument costs none.
  if (info.Length() <= i) return {};
  const Napi::Value v = info[i];
  if (v.IsUndefined() || v.IsNull()) return {};
  const std::vector<int64_t> strides = dims_arg(info, i, "strides");
  if (strides.size() != count) {
    throw_range_error(info.Env(), "strides must hold " + std::to_string(count) + " batch strides, got " +
                                      std::to_string(strides.size()));
  }
  return strides;
}

BatchView batch_view(Napi::Env env, const F32Arg& a, int64_t images, int64_t image_size, int64_t stride,
                     const std::string& what, const Shape* shape) {
  BatchView v{a.data, images, image_size, stride < 0 ? image_size : stride};
  // What the layout is called in messages: the shape when there is one, else images x floats.
  auto layout = [&] {
    return shape != nullptr ? "shape " + shape_string(*shape)
                            : std::to_string(images) + " images of " + std::to_string(image_size) + " floats";
  };
  if (v.contiguous()) {
    // images * image_size is the shape's size, which the caller has bounded.
    const int64_t need = images * image_size;
    if (static_cast<int64_t>(a.length) != need) {
      throw_range_error(env, what + " has " + std::to_string(a.length) + " elements but " + layout() + " needs " +
                                 std::to_string(need));
    }
    v.stride = image_size;
    return v;
  }
  if (v.stride < image_size) {
    throw_range_error(env, what + " (" + layout() + "): batch stride " + std::to_string(v.stride) +
                               " is smaller than an image (" + std::to_string(image_size) + " floats)");
  }
  // The span in double first: a huge stride from JS must not wrap int64 and match a short array.
  const double span = static_cast<double>(images - 1) * static_cast<double>(v.stride) + static_cast<double>(image_size);
  if (span != static_cast<double>(a.length)) {
    throw_range_error(env, what + " has " + std::to_string(a.length) + " elements but a view of " + layout() +
                               " with batch stride " + std::to_string(v.stride) + " spans " +
                               std::to_string(static_cast<int64_t>(span)));
  }
  return v;
}

BatchView batch_view(Napi::Env env, const F32Arg& a, const Shape& shape, int64_t stride, const std::string& what) {
  const int64_t images = shape.empty() ? 1 : shape[0];
  int64_t image_size = 1;
  for (size_t k = 1; k < shape.size(); ++k) image_size *= shape[k];
  return batch_view(env, a, images, image_size, stride, what, &shape);
}

namespace {

// A view as sorted, disjoint runs of floats: `count` runs of `len`, `stride` apart.
struct Runs {
  uintptr_t start;
  int64_t count, len, stride;
};

Runs runs_of(const BatchView& v) {
  const uintptr_t start = reinterpret_cast<uintptr_t>(v.data);
  if (v.contiguous()) return {start, 1, v.images * v.image_size, 0};
  return {start, v.images, v.image_size, v.stride};
}

}  // namespace

bool overlaps(const BatchView& a, const BatchView& b) {
  const Runs p = runs_of(a), q = runs_of(b);
  if (p.len == 0 || q.len == 0 || p.count == 0 || q.count == 0) return false;
  // Walk both in address order, stepping past whichever run ends first.
  int64_t i = 0, j = 0;
  while (i < p.count && j < q.count) {
    const uintptr_t ps = p.start + static_cast<uintptr_t>(i * p.stride) * sizeof(float);
    const uintptr_t pe = ps + static_cast<uintptr_t>(p.len) * sizeof(float);
    const uintptr_t qs = q.start + static_cast<uintptr_t>(j * q.stride) * sizeof(float);
    const uintptr_t qe = qs + static_cast<uintptr_t>(q.len) * sizeof(float);
    if (ps < qe && qs < pe) return true;
    if (pe <= qe) ++i;
    else ++j;
  }
  return false;
}

bool same_memory(const BatchView& a, const BatchView& b) {
  const Runs p = runs_of(a), q = runs_of(b);
  return p.start == q.start && p.count == q.count && p.len == q.len && p.stride == q.stride;
}

}  // namespace tf::binding
