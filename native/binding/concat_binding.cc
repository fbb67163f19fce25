// concat: checks that every piece fits its buffer, then hands off to kernels/concat.cc.
#include "binding/concat_binding.h"

#include <cstdint>
#include <string>

#include "binding/args.h"
#include "binding/async_work.h"
#include "kernels/concat.h"

namespace tf::binding {

namespace {

// a * b for non-negative sizes from JS, or a RangeError when it does not fit in int64: a
// product that wrapped around could match a small buffer and send the kernel out of bounds.
int64_t checked_mul(Napi::Env env, int64_t a, int64_t b, const char* what) {
  if (b != 0 && a > INT64_MAX / b) throw_range_error(env, std::string(what) + " is too large");
  return a * b;
}

// concat(inputs: Float32Array[], extents: number[], outer, out, async) -> undefined | Promise<out>
Napi::Value Concat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsArray()) throw_type_error(env, "inputs must be an array of Float32Array");
  auto list = info[0].As<Napi::Array>();
  // Each input's run per outer row; a list of sizes, so their product means nothing.
  const std::vector<int64_t> extents = dims_arg(info, 1, "extents");
  const int64_t outer = int_arg(info, 2, "outer");
  const F32Arg out = f32_arg(info, 3, "out");
  const bool async = info[4].ToBoolean();
  if (list.Length() == 0 || list.Length() != extents.size()) {
    throw_range_error(env, "inputs and extents must be non-empty and of equal length");
  }
  if (outer < 0) throw_range_error(env, "outer must be >= 0");
  std::vector<const float*> ptrs(list.Length());
  std::vector<Napi::Value> keep_alive{info[3]};
  int64_t row = 0;
  for (uint32_t i = 0; i < list.Length(); ++i) {
    const Napi::Value v = list.Get(i);
    const F32Arg in = f32_value(env, v, "inputs[" + std::to_string(i) + "]");
    const int64_t expected = checked_mul(env, outer, extents[i], "outer * extent");
    if (static_cast<int64_t>(in.length) != expected) {
      throw_range_error(env, "inputs[" + std::to_string(i) + "] has " + std::to_string(in.length) +
                                 " elements, expected " + std::to_string(expected));
    }
    if (overlaps(out, in)) throw_range_error(env, "out overlaps inputs[" + std::to_string(i) + "]");
    ptrs[i] = in.data;
    if (extents[i] > INT64_MAX - row) throw_range_error(env, "the sum of extents is too large");
    row += extents[i];
    keep_alive.push_back(v);
  }
  const int64_t out_expected = checked_mul(env, outer, row, "outer * row");
  if (static_cast<int64_t>(out.length) != out_expected) {
    throw_range_error(env, "out has " + std::to_string(out.length) + " elements, expected " +
                               std::to_string(out_expected));
  }
  auto work = [=] { concat(ptrs, extents, outer, out.data); };
  if (!async) {
    work();
    return env.Undefined();
  }
  return queue_async(env, work, info[3], keep_alive);
}

}  // namespace

void register_concat(Napi::Env env, Napi::Object exports) {
  exports.Set("concat", Napi::Function::New(env, Concat, "concat"));
}

}  // namespace tf::binding
