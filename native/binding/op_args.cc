#include "binding/op_args.h"

#include <cmath>

#include "binding/async_work.h"

namespace tf::binding {

Napi::Value run(const Napi::CallbackInfo& info, Napi::Value async_arg, std::function<void()> work, size_t result_index,
                const std::vector<Napi::Value>& keep_alive) {
  const RunMode mode = run_mode(async_arg);
  if (mode.batch != nullptr) return record(info.Env(), mode.batch, std::move(work), keep_alive);
  if (!mode.async) {
    work();
    return info.Env().Undefined();
  }
  return queue_async(info.Env(), std::move(work), info[result_index], keep_alive);
}

std::function<void()> whole_or_per_image(bool contiguous, int64_t images, std::function<void()> whole,
                                         std::function<void(int64_t)> per_image) {
  if (contiguous) return whole;
  return [images, per_image = std::move(per_image)] {
    for (int64_t n = 0; n < images; ++n) per_image(n);
  };
}

std::vector<int64_t> int_list(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (!info[i].IsArray()) throw_type_error(info.Env(), std::string(what) + " must be an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> v(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    const Napi::Value d = arr.Get(k);
    const double x = d.IsNumber() ? d.As<Napi::Number>().DoubleValue() : NAN;
    if (!(x == std::floor(x)) || std::fabs(x) > 9007199254740991.0) {
      throw_type_error(info.Env(), std::string(what) + " must hold integers");
    }
    v[k] = static_cast<int64_t>(x);
  }
  return v;
}

std::vector<F32Arg> f32_list(const Napi::CallbackInfo& info, size_t i, const char* what,
                             std::vector<Napi::Value>* keep_alive) {
  if (!info[i].IsArray()) throw_type_error(info.Env(), std::string(what) + " must be an array of Float32Array");
  auto list = info[i].As<Napi::Array>();
  std::vector<F32Arg> out;
  for (uint32_t k = 0; k < list.Length(); ++k) {
    const Napi::Value v = list.Get(k);
    out.push_back(f32_value(info.Env(), v, std::string(what) + "[" + std::to_string(k) + "]"));
    keep_alive->push_back(v);
  }
  return out;
}

Shape checked_dims(Napi::Env env, const Shape& dims, const char* what) {
  double product = 1;
  for (int64_t d : dims) {
    if (d < 0) throw_range_error(env, std::string(what) + " must be >= 0");
    product *= static_cast<double>(d);
  }
  if (product > 4.6e18) throw_range_error(env, std::string(what) + " " + shape_string(dims) + " is too large");
  return dims;
}

void expect_count(Napi::Env env, const F32Arg& t, int64_t n, const std::string& what) {
  if (static_cast<int64_t>(t.length) != n) {
    throw_range_error(env, what + " has " + std::to_string(t.length) + " elements, expected " + std::to_string(n));
  }
}

}  // namespace tf::binding
