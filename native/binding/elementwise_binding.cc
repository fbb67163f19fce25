// add / mul: argument checks and marshalling only; the math is in kernels/binary.cc.
#include "binding/elementwise_binding.h"

#include <utility>

#include "binding/args.h"
#include "binding/async_work.h"
#include "binding/batch_view.h"
#include "kernels/binary.h"
#include "kernels/ukernels.h"

namespace tf::binding {

namespace {

BinaryOp op_arg(const Napi::CallbackInfo& info, size_t i) {
  const int64_t op = int_arg(info, i, "op");
  if (op != 0 && op != 1) throw_range_error(info.Env(), "unknown binary op");
  return op == 0 ? BinaryOp::kAdd : BinaryOp::kMul;
}

// An output may be the very same memory as a full-shape input, never a partial overlap.
void check_out_alias(Napi::Env env, const F32Arg& out, const F32Arg& in, const char* what) {
  if (overlaps(out, in) && !same_memory(out, in)) {
    throw_range_error(env, std::string("out overlaps ") + what + " without being the same memory");
  }
}

// binarySame(op, a, b, out): equal-length contiguous operands, the hot path for tiny ops.
Napi::Value BinarySame(const Napi::CallbackInfo& info) {
  const BinaryOp op = op_arg(info, 0);
  const F32Arg a = f32_arg(info, 1, "a");
  const F32Arg b = f32_arg(info, 2, "b");
  const F32Arg out = f32_arg(info, 3, "out");
  if (a.length != b.length || a.length != out.length) {
    throw_range_error(info.Env(), "a, b and out must have the same length");
  }
  check_out_alias(info.Env(), out, a, "a");
  check_out_alias(info.Env(), out, b, "b");
  const UkernelTable& uk = ukernels();
  if (a.length < (size_t{1} << 18)) {
    (op == BinaryOp::kAdd ? uk.add_vv : uk.mul_vv)(a.data, b.data, out.data, a.length);
  } else {
    const Shape shape{static_cast<int64_t>(a.length)};
    binary(op, a.data, shape, b.data, shape, out.data, shape);
  }
  return info.Env().Undefined();
}

// Where input `v` (of shape `s`) reads for output image n when the batch runs image by image:
// its own image n when it has the output's rank and N, else all of it (broadcast over images).
struct BroadcastInput {
  const float* base;
  int64_t stride;  // 0: the same memory for every image
  Shape image_shape;
};

BroadcastInput per_image(Napi::Env env, const BatchView& v, const Shape& s, const Shape& y_shape, const char* what) {
  if (s.size() == y_shape.size() && !s.empty() && s[0] == y_shape[0] && y_shape[0] > 1) {
    return {v.data, v.stride, Shape(s.begin() + 1, s.end())};
  }
  if (!v.contiguous()) {
    throw_range_error(env, std::string(what) + " " + shape_string(s) +
                               " is a strided view that is broadcast over the batch of the result " +
                               shape_string(y_shape) + "; only its own batch axis may be strided");
  }
  Shape image = s;
  if (s.size() == y_shape.size() && !s.empty()) image.erase(image.begin());  // a batch dim of 1
  return {v.data, 0, image};
}

// binary(op, a, aShape, b, bShape, out, async, strides?: [a, b, out]) -> undefined | Promise<out>
Napi::Value Binary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const BinaryOp op = op_arg(info, 0);
  const F32Arg a = f32_arg(info, 1, "a");
  Shape a_shape = shape_arg(info, 2, "a shape");
  const F32Arg b = f32_arg(info, 3, "b");
  Shape b_shape = shape_arg(info, 4, "b shape");
  const F32Arg out = f32_arg(info, 5, "out");
  const RunMode async = run_mode(info[6]);
  const std::vector<int64_t> strides = batch_strides_arg(info, 7, 3);
  const BatchView av = batch_view(env, a, a_shape, stride_at(strides, 0), "a");
  const BatchView bv = batch_view(env, b, b_shape, stride_at(strides, 1), "b");
  Shape y_shape;
  if (!broadcast_shape(a_shape, b_shape, &y_shape)) {
    throw_range_error(env, "shapes " + shape_string(a_shape) + " and " + shape_string(b_shape) +
                               " are not broadcastable");
  }
  const BatchView yv = batch_view(env, out, y_shape, stride_at(strides, 2), "out");
  for (const auto& [in, what] : {std::pair{&av, "a"}, std::pair{&bv, "b"}}) {
    if (overlaps(yv, *in) && !same_memory(yv, *in)) {
      throw_range_error(env, std::string("out overlaps ") + what + " without being the same memory");
    }
  }
  if (av.contiguous() && bv.contiguous() && yv.contiguous()) {
    auto whole = [=] { binary(op, a.data, a_shape, b.data, b_shape, out.data, y_shape); };
    return run_now_or_queue(env, async, whole, info[5], {info[1], info[3], info[5]});
  }
  // Some tensor is a strided view: one kernel call per output image.
  const BroadcastInput ai = per_image(env, av, a_shape, y_shape, "a");
  const BroadcastInput bi = per_image(env, bv, b_shape, y_shape, "b");
  const Shape y_image(y_shape.begin() + 1, y_shape.end());
  auto per_image_work = [=] {
    for (int64_t n = 0; n < yv.images; ++n) {
      binary(op, ai.base + n * ai.stride, ai.image_shape, bi.base + n * bi.stride, bi.image_shape, yv.image(n), y_image);
    }
  };
  return run_now_or_queue(env, async, per_image_work, info[5], {info[1], info[3], info[5]});
}

}  // namespace

void register_elementwise(Napi::Env env, Napi::Object exports) {
  exports.Set("binarySame", Napi::Function::New(env, BinarySame, "binarySame"));
  exports.Set("binary", Napi::Function::New(env, Binary, "binary"));
}

}  // namespace tf::binding
