// The pooling ops: argument checks and marshalling only. Output sizes are re-derived here
// from the shapes and parameters and checked against the buffers, so a wrong call from JS
// throws instead of reading or writing out of bounds.
#include "binding/pool_binding.h"

#include <cmath>

#include "binding/args.h"
#include "binding/batch_view.h"
#include "binding/op_args.h"
#include "kernels/global_pool.h"
#include "kernels/lrn.h"
#include "kernels/pool.h"
#include "kernels/pool_nhwc.h"

namespace tf::binding {

namespace {

constexpr int64_t kMaxPoolParam = int64_t{1} << 31;

// pool2d(op, layout, x, shape, params, out, async, strides?: [x, out]): op 0 = max, 1 =
// average; layout 0 = NCHW [n,c,h,w], 1 = NHWC [n,h,w,c]; params = [kh, kw, sh, sw, pt,
// pl, pb, pr, dh, dw, ceil, flag] where flag is count_include_pad (average) or "NaN never
// wins" (max). With strides, x and out are batch-strided views: the kernel runs per image.
Napi::Value Pool2d(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = int_arg(info, 0, "pool op"), layout = int_arg(info, 1, "layout");
  if (op != 0 && op != 1) throw_range_error(env, "unknown pool op");
  if (layout != 0 && layout != 1) throw_range_error(env, "unknown pool layout");
  const F32Arg x = f32_arg(info, 2, "x");
  const Shape s = shape_arg(info, 3, "x shape");
  const std::vector<int64_t> q = int_list(info, 4, "pool params");
  const F32Arg out = f32_arg(info, 5, "out");
  if (s.size() != 4 || q.size() != 12) throw_range_error(env, "pool2d needs a rank-4 shape and 12 params");
  const std::vector<int64_t> strides = batch_strides_arg(info, 7, 2);
  const BatchView xv = batch_view(env, x, s, stride_at(strides, 0), "x");
  const Pool2dParams p{q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], q[8], q[9], q[10] != 0};
  if (p.kh < 1 || p.kw < 1 || p.sh < 1 || p.sw < 1 || p.dh < 1 || p.dw < 1 || p.pt < 0 || p.pl < 0 || p.pb < 0 ||
      p.pr < 0) {
    throw_range_error(env, "pool2d: kernel, strides and dilations must be >= 1 and pads >= 0");
  }
  for (size_t k = 0; k < 10; ++k) {
    if (q[k] > kMaxPoolParam) throw_range_error(env, "pool2d: pool params must be < 2^31");
  }
  const bool nhwc = layout == 1;
  const int64_t n = s[0], c = nhwc ? s[3] : s[1], h = nhwc ? s[1] : s[2], w = nhwc ? s[2] : s[3];
  const int64_t oh = pool_out_size(h, p.kh, p.sh, p.pt, p.pb, p.dh, p.ceil_mode);
  const int64_t ow = pool_out_size(w, p.kw, p.sw, p.pl, p.pr, p.dw, p.ceil_mode);
  if (oh < 1 || ow < 1) throw_range_error(env, "pool2d: the window does not fit x " + shape_string(s));
  const Shape os = nhwc ? Shape{n, oh, ow, c} : Shape{n, c, oh, ow};
  const BatchView yv = batch_view(env, out, checked_dims(env, os, "pool2d output"), stride_at(strides, 1), "out");
  check_out(env, yv, xv, "x", false);
  const bool flag = q[11] != 0;
  // NaN always wins the NCHW max (ONNX); its flag must be 0.
  if (!nhwc && op == 0 && flag) throw_range_error(env, "pool2d: the NCHW max pool has no NaN-ignoring mode");
  // `images` images at x and y (one call over the whole batch, or one per image of a view).
  auto pool = [=](const float* xp, float* yp, int64_t images) {
    if (nhwc) {
      if (op == 0) max_pool2d_nhwc(xp, images, h, w, c, p, flag, yp, oh, ow);
      else avg_pool2d_nhwc(xp, images, h, w, c, p, flag, yp, oh, ow);
    } else {
      if (op == 0) max_pool2d(xp, images * c, h, w, p, yp, oh, ow);
      else avg_pool2d(xp, images * c, h, w, p, flag, yp, oh, ow);
    }
  };
  auto work = whole_or_per_image(
      xv.contiguous() && yv.contiguous(), n, [=] { pool(x.data, out.data, n); },
      [=](int64_t b) { pool(xv.image(b), yv.image(b), 1); });
  return run(info, info[6], std::move(work), 5, {info[2], info[5]});
}

// globalPool(op, x, planes, inner, out, async): op 0 = average, 1 = max; out has `planes` elements.
Napi::Value GlobalPool(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = int_arg(info, 0, "pool op");
  if (op != 0 && op != 1) throw_range_error(env, "unknown global pool op");
  const F32Arg x = f32_arg(info, 1, "x");
  const Shape dims = checked_dims(env, {int_arg(info, 2, "planes"), int_arg(info, 3, "inner")}, "globalPool dims");
  const F32Arg out = f32_arg(info, 4, "out");
  expect_length(env, x, dims, "x");
  expect_count(env, out, dims[0], "out");
  check_out(env, out, x, "x", false);
  const auto kind = static_cast<GlobalPoolOp>(op);
  return run(info, info[5], [=] { global_pool(kind, x.data, dims[0], dims[1], out.data); }, 4,
             {info[1], info[4]});
}

// lrn(x, n, c, inner, size, [alpha, beta, bias], out, async)
Napi::Value Lrn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const Shape dims = checked_dims(
      env, {int_arg(info, 1, "n"), int_arg(info, 2, "c"), int_arg(info, 3, "inner")}, "lrn dims");
  const int64_t size = int_arg(info, 4, "size");
  if (!info[5].IsArray() || info[5].As<Napi::Array>().Length() != 3) {
    throw_type_error(env, "lrn coefficients must be [alpha, beta, bias]");
  }
  double coef[3];
  for (uint32_t k = 0; k < 3; ++k) {
    const Napi::Value v = info[5].As<Napi::Array>().Get(k);
    coef[k] = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
    if (!std::isfinite(coef[k])) throw_range_error(env, "lrn alpha, beta and bias must be finite numbers");
  }
  const F32Arg out = f32_arg(info, 6, "out");
  if (size < 1 || size > kMaxPoolParam) throw_range_error(env, "lrn size must be in [1, 2^31]");
  expect_length(env, x, dims, "x");
  expect_length(env, out, dims, "out");
  check_out(env, out, x, "x", false);
  const LrnParams p{size, static_cast<float>(coef[0]), static_cast<float>(coef[1]), static_cast<float>(coef[2])};
  return run(info, info[7], [=] { lrn(x.data, dims[0], dims[1], dims[2], p, out.data); }, 6,
             {info[0], info[6]});
}

}  // namespace

void register_pool(Napi::Env env, Napi::Object exports) {
  exports.Set("pool2d", Napi::Function::New(env, Pool2d, "pool2d"));
  exports.Set("globalPool", Napi::Function::New(env, GlobalPool, "globalPool"));
  exports.Set("lrn", Napi::Function::New(env, Lrn, "lrn"));
}

}  // namespace tf::binding
