// concat: checks that every piece fits its buffer, then hands off to kernels/concat.cc.
#include "binding/concat_binding.h"

#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/async_work.h"
#include "binding/batch_view.h"
#include "kernels/concat.h"

namespace tf::binding {

namespace {

// a * b for non-negative sizes from JS, or a RangeError when it does not fit in int64: a
// product that wrapped around could match a small buffer and send the kernel out of bounds.
int64_t checked_mul(Napi::Env env, int64_t a, int64_t b, const char* what) {
  if (b != 0 && a > INT64_MAX / b) throw_range_error(env, std::string(what) + " is too large");
  return a * b;
}

// concat(inputs: Float32Array[], extents: number[], outer, out, async, strides?, images?)
//   -> undefined | Promise<out>
// Without strides: inputs are [outer, extents[i]] row-major, out [outer, sum extents].
// With strides ([...inputs, out] batch strides) and images: each tensor is `images` images,
// image n of input i ([outer, extents[i]]) at inputs[i] + n * strides[i], of out at
// out + n * strides.back(); out image n is the concat of the inputs' images n.
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw_type_error(env, "inputs must be an array of Float32Array");
  auto list = info[0].As<Napi::Array>();
  // Each input's run per outer row; a list of sizes, so their product means nothing.
  const std::vector<int64_t> extents = dims_arg(info, 1, "extents");
  const int64_t outer = int_arg(info, 2, "outer");
  const F32Arg out = f32_arg(info, 3, "out");
  const RunMode async = run_mode(info[4]);
  if (list.Length() == 0 || list.Length() != extents.size()) {
    throw_range_error(env, "inputs and extents must be non-empty and of equal length");
  }
  if (outer < 0) throw_range_error(env, "outer must be >= 0");
  const std::vector<int64_t> strides = batch_strides_arg(info, 5, list.Length() + 1);
  const int64_t images = strides.empty() ? 1 : int_arg(info, 6, "images");
  if (images < 0) throw_range_error(env, "images must be >= 0");
  std::vector<BatchView> ins(list.Length());
  std::vector<const float*> ptrs(list.Length());
  std::vector<Napi::Value> keep_alive{info[3]};
  int64_t row = 0;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const std::string name = "inputs[" + std::to_string(i) + "]";
    const Napi::Value v = list.Get(i);
    const F32Arg in = f32_value(env, v, name);
    const int64_t image = checked_mul(env, outer, extents[i], "outer * extent");
    checked_mul(env, images, image, "images * outer * extent");
    ins[i] = batch_view(env, in, images, image, stride_at(strides, i), name);
    ptrs[i] = in.data;
    if (extents[i] > INT64_MAX - row) throw_range_error(env, "the sum of extents is too large");
    row += extents[i];
    keep_alive.push_back(v);
  }
  const int64_t out_image = checked_mul(env, outer, row, "outer * row");
  checked_mul(env, images, out_image, "images * outer * row");
  const BatchView ov = batch_view(env, out, images, out_image, stride_at(strides, list.Length()), "out");
  bool contiguous = ov.contiguous();
  for (uint32_t i = 0; i < ins.size(); ++i) {
    if (overlaps(ov, ins[i])) throw_range_error(env, "out overlaps inputs[" + std::to_string(i) + "]");
    contiguous = contiguous && ins[i].contiguous();
  }
  if (contiguous) {
    auto whole = [=] { concat(ptrs, extents, outer * images, out.data); };
    return run_now_or_queue(env, async, whole, info[3], keep_alive);
  }
  auto per_image = [=] {
    std::vector<const float*> image_ptrs(ins.size());
    for (int64_t n = 0; n < images; ++n) {
      for (size_t i = 0; i < ins.size(); ++i) image_ptrs[i] = ins[i].image(n);
      concat(image_ptrs, extents, outer, ov.image(n));
    }
  };
  return run_now_or_queue(env, async, per_image, info[3], keep_alive);
}

}  // namespace

void register_concat(Napi::Env env, Napi::Object exports) {
  exports.Set("concat", Napi::Function::New(env, Concat, "concat"));
}

}  // namespace tf::binding
