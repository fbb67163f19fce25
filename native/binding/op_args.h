// Helpers shared by the op bindings (fusion ops, pooling): running a kernel sync or async,
// and the argument checks beyond args.h that several ops need.
#pragma once
#include <napi.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "binding/args.h"
#include "binding/batch_view.h"

namespace tf::binding {

// Returns env.Undefined() after running (or recording: async_work.h) work, or a Promise
// resolving to info[result_index]; async_arg is the op's async argument.
Napi::Value run(const Napi::CallbackInfo& info, Napi::Value async_arg, std::function<void()> work, size_t result_index,
                const std::vector<Napi::Value>& keep_alive);

// An output may be exactly the memory of an input (in place) when `allow_same`, never a
// partial overlap. T: F32Arg or BatchView (binding/batch_view.h).
template <class T>
void check_out(Napi::Env env, const T& out, const T& in, const std::string& what, bool allow_same) {
  if (overlaps(out, in) && !(allow_same && same_memory(out, in))) {
    throw_range_error(env, "out overlaps " + what + (allow_same ? " without being the same memory" : ""));
  }
}

// work over the whole batch when every view is contiguous, else per_image(n) for each image.
std::function<void()> whole_or_per_image(bool contiguous, int64_t images, std::function<void()> whole,
                                         std::function<void(int64_t)> per_image);

// info[i] must be an array of integers (any sign, each within +-2^53).
std::vector<int64_t> int_list(const Napi::CallbackInfo& info, size_t i, const char* what);

// info[i] must be an array of Float32Arrays; each is pushed onto keep_alive.
std::vector<F32Arg> f32_list(const Napi::CallbackInfo& info, size_t i, const char* what,
                             std::vector<Napi::Value>* keep_alive);

// Dims whose product stays far from int64 overflow (the buffers are then checked against it).
Shape checked_dims(Napi::Env env, const Shape& dims, const char* what);

// Throws RangeError unless t holds exactly n elements.
void expect_count(Napi::Env env, const F32Arg& t, int64_t n, const std::string& what);

}  // namespace tf::binding
