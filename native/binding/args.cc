#include "binding/args.h"

#include <cmath>

namespace tf::binding {

void throw_type_error(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "tensorfuse: " + message);
}

void throw_range_error(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "tensorfuse: " + message);
}

F32Arg f32_value(Napi::Env env, napi_value value, const std::string& what) {
  // One napi call answers "is it a Float32Array" and fetches pointer and length: this
  // runs for every array of every op, tiny ones included.
  napi_typedarray_type type;
  size_t length = 0;
  void* data = nullptr;
  const napi_status status = napi_get_typedarray_info(env, value, &type, &length, &data, nullptr, nullptr);
  if (status != napi_ok || type != napi_float32_array) throw_type_error(env, what + " must be a Float32Array");
  return {static_cast<float*>(data), length};
}

F32Arg f32_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  return f32_value(info.Env(), info[i], what);
}

std::vector<int64_t> dims_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const Napi::Value v = info[i];
  if (!v.IsArray()) throw_type_error(info.Env(), std::string(what) + " must be an array of dims");
  auto arr = v.As<Napi::Array>();
  std::vector<int64_t> dims(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const Napi::Value d = arr.Get(k);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : -1;
    if (!(x >= 0) || x != std::floor(x) || x > 9007199254740991.0) {
      throw_range_error(info.Env(), std::string(what) + " must hold non-negative integer dims");
    }
    dims[k] = static_cast<int64_t>(x);
  }
  return dims;
}

Shape shape_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  Shape shape = dims_arg(info, i, what);
  double product = 1;
  for (int64_t d : shape) product *= static_cast<double>(d);
  if (product > 4.6e18) throw_range_error(info.Env(), std::string(what) + " " + shape_string(shape) + " is too large");
  return shape;
}

void expect_length(Napi::Env env, const F32Arg& t, const Shape& shape, const char* what) {
  if (static_cast<int64_t>(t.length) != shape_size(shape)) {
    throw_range_error(env, std::string(what) + " has " + std::to_string(t.length) + " elements but shape " +
                               shape_string(shape) + " needs " + std::to_string(shape_size(shape)));
  }
}

int64_t int_arg(const Napi::CallbackInfo& info, size_t i, const char* what) {
  const Napi::Value v = info[i];
  const double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(x == std::floor(x)) || std::fabs(x) > 9007199254740991.0) {
    throw_type_error(info.Env(), std::string(what) + " must be an integer");
  }
  return static_cast<int64_t>(x);
}

bool overlaps(const F32Arg& a, const F32Arg& b) {
  if (a.length == 0 || b.length == 0) return false;
  return a.data < b.data + b.length && b.data < a.data + a.length;
}

bool same_memory(const F32Arg& a, const F32Arg& b) { return a.data == b.data && a.length == b.length; }

std::string shape_string(const Shape& shape) {
  std::string s = "[";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k) s += ",";
    s += std::to_string(shape[k]);
  }
  return s + "]";
}

}  // namespace tf::binding
