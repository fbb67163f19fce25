// Argument access for the binding: every typed array and shape that reaches a kernel goes
// through these checks, so a wrong call from JS throws instead of touching bad memory.
// The TS layer validates first with friendlier messages; these are the last line.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/binary.h"

namespace tf::binding {

struct F32Arg {
  float* data;
  size_t length;  // elements
};

// value must be a Float32Array; `what` names it in the error.
F32Arg f32_value(Napi::Env env, napi_value value, const std::string& what);
// info[i] must be a Float32Array; `what` names it in the error.
F32Arg f32_arg(const Napi::CallbackInfo& info, size_t i, const char* what);

// info[i] must be an array of non-negative integers, each < 2^53 (a list of sizes, not a
// shape: no bound on their product).
std::vector<int64_t> dims_arg(const Napi::CallbackInfo& info, size_t i, const char* what);

// info[i] must be an array of non-negative integer dims (each < 2^53, product < 2^62).
Shape shape_arg(const Napi::CallbackInfo& info, size_t i, const char* what);

// Throws RangeError unless the typed array holds exactly shape_size(shape) elements.
void expect_length(Napi::Env env, const F32Arg& t, const Shape& shape, const char* what);

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* what);

// True when the byte ranges of the two arrays intersect.
bool overlaps(const F32Arg& a, const F32Arg& b);
// True when both arrays cover exactly the same memory.
bool same_memory(const F32Arg& a, const F32Arg& b);

std::string shape_string(const Shape& shape);

[[noreturn]] void throw_type_error(Napi::Env env, const std::string& message);
[[noreturn]] void throw_range_error(Napi::Env env, const std::string& message);

}  // namespace tf::binding
