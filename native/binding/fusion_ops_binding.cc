// The ops the fusion blocks need: argument checks and marshalling only. Every size the
// kernels will touch is re-derived here from the shapes and checked against the buffers,
// so a wrong call from JS throws instead of reading or writing out of bounds.
#include "binding/fusion_ops_binding.h"

#include <cmath>

#include "binding/args.h"
#include "binding/batch_view.h"
#include "binding/op_args.h"
#include "kernels/channel_affine.h"
#include "kernels/ukernels.h"
#include "kernels/pointwise.h"
#include "kernels/resize.h"
#include "kernels/slice.h"

namespace tf::binding {

namespace {

// unary(op, x, out, async, strides?: [x, out], images?, a?, b?): op 0 = relu, 1 = sigmoid,
// 2 = clip to [a, b], 3 = leaky relu with slope a. With strides, x and out are `images`
// images of equal size (x's length less the gaps).
Napi::Value Unary(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t op = int_arg(info, 0, "op");
  if (op < 0 || op > 3) throw_range_error(env, "unknown unary op");
  const F32Arg x = f32_arg(info, 1, "x");
  const F32Arg out = f32_arg(info, 2, "out");
  const auto kind = static_cast<UnaryOp>(op);
  float lo = 0.0f, hi = 0.0f;
  if (kind == UnaryOp::kClip) {
    if (!info[6].IsNumber() || !info[7].IsNumber()) throw_type_error(env, "clip bounds lo and hi must be numbers");
    const double l = info[6].As<Napi::Number>().DoubleValue(), h = info[7].As<Napi::Number>().DoubleValue();
    if (std::isnan(l) || std::isnan(h) || l > h) throw_range_error(env, "clip bounds must satisfy lo <= hi (no NaN)");
    lo = static_cast<float>(l);
    hi = static_cast<float>(h);
  } else if (kind == UnaryOp::kLeakyRelu) {
    const double a = info[6].IsNumber() ? info[6].As<Napi::Number>().DoubleValue() : NAN;
    if (std::isnan(a)) throw_type_error(env, "leaky relu slope alpha must be a number (not NaN)");
    lo = static_cast<float>(a);
  }
  const std::vector<int64_t> strides = batch_strides_arg(info, 4, 2);
  if (strides.empty()) {
    expect_count(env, out, static_cast<int64_t>(x.length), "out");
    check_out(env, out, x, "x", true);
    return run(info, info[3], [=] { unary(kind, x.data, out.data, x.length, lo, hi); }, 2, {info[1], info[2]});
  }
  const int64_t images = int_arg(info, 5, "images");
  if (images < 1) throw_range_error(env, "images must be >= 1");
  // x's image size from its span; batch_view then checks the stride against it.
  const double gaps = static_cast<double>(images - 1) * static_cast<double>(strides[0]);
  if (gaps > static_cast<double>(x.length)) {
    throw_range_error(env, "x is shorter than " + std::to_string(images) + " images at its batch stride");
  }
  const int64_t image = static_cast<int64_t>(x.length) - (images - 1) * strides[0];
  const BatchView xv = batch_view(env, x, images, image, strides[0], "x");
  const BatchView yv = batch_view(env, out, images, image, strides[1], "out");
  check_out(env, yv, xv, "x", true);
  auto work = whole_or_per_image(
      xv.contiguous() && yv.contiguous(), images, [=] { unary(kind, x.data, out.data, x.length, lo, hi); },
      [=](int64_t n) { unary(kind, xv.image(n), yv.image(n), static_cast<size_t>(image), lo, hi); });
  return run(info, info[3], work, 2, {info[1], info[2]});
}

// softmax(x, outer, axis, inner, out, async)
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const Shape dims = checked_dims(
      env, {int_arg(info, 1, "outer"), int_arg(info, 2, "axis length"), int_arg(info, 3, "inner")}, "softmax dims");
  const F32Arg out = f32_arg(info, 4, "out");
  expect_length(env, x, dims, "x");
  expect_length(env, out, dims, "out");
  check_out(env, out, x, "x", true);
  return run(info, info[5], [=] { softmax(x.data, out.data, dims[0], dims[1], dims[2]); }, 4,
             {info[0], info[4]});
}

// channelAffine(x, n, c, hw, scale, shift, relu, out, async, blocked?): out[n,c,:] =
// x[n,c,:] * scale[c] + shift[c] (max(0, .) with relu); out may be x itself. blocked: x and
// out hold the same channels in the NCHWc layout.
Napi::Value ChannelAffine(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const Shape dims =
      checked_dims(env, {int_arg(info, 1, "n"), int_arg(info, 2, "c"), int_arg(info, 3, "hw")}, "channelAffine dims");
  const F32Arg scale = f32_arg(info, 4, "scale");
  const F32Arg shift = f32_arg(info, 5, "shift");
  const F32Arg out = f32_arg(info, 7, "out");
  expect_length(env, x, dims, "x");
  expect_length(env, out, dims, "out");
  expect_count(env, scale, dims[1], "scale");
  expect_count(env, shift, dims[1], "shift");
  check_out(env, out, x, "x", true);
  check_out(env, out, scale, "scale", false);
  check_out(env, out, shift, "shift", false);
  const bool relu = info[6].ToBoolean();
  // blocked: x and out are NCHWc [n, c / L, hw, L]: the same length, c in whole blocks.
  const bool blocked = info[9].ToBoolean();
  const int64_t lanes = static_cast<int64_t>(ukernels().conv.vector_lanes);
  if (blocked && dims[1] % lanes != 0) {
    throw_range_error(env, "channelAffine: a blocked x needs channels in whole blocks of " + std::to_string(lanes) +
                               ", got " + std::to_string(dims[1]));
  }
  return run(info, info[8],
             [=] {
               if (blocked) {
                 channel_affine_blocked(x.data, dims[0], dims[1], dims[2], scale.data, shift.data, relu, out.data);
               } else {
                 channel_affine_planes(x.data, dims[0], dims[1], dims[2], scale.data, shift.data, relu, out.data);
               }
             },
             7,
             {info[0], info[4], info[5], info[7]});
}

// weightedSum(inputs[], weights[], n, c, hw, out, async, strides?: [...inputs, ...weights, out])
Napi::Value WeightedSum(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<Napi::Value> keep_alive{info[5]};
  const std::vector<F32Arg> xs = f32_list(info, 0, "inputs", &keep_alive);
  const std::vector<F32Arg> ws = f32_list(info, 1, "weights", &keep_alive);
  const Shape dims =
      checked_dims(env, {int_arg(info, 2, "n"), int_arg(info, 3, "c"), int_arg(info, 4, "hw")}, "weightedSum dims");
  const F32Arg out = f32_arg(info, 5, "out");
  if (xs.empty() || xs.size() != ws.size()) throw_range_error(env, "inputs and weights must be non-empty and of equal length");
  const std::vector<int64_t> strides = batch_strides_arg(info, 7, 2 * xs.size() + 1);
  const Shape plane_shape{dims[0], dims[1], dims[2]}, map_shape{dims[0], 1, dims[2]};
  const BatchView yv = batch_view(env, out, plane_shape, stride_at(strides, 2 * xs.size()), "out");
  std::vector<BatchView> xv, wv;
  bool contiguous = yv.contiguous();
  for (size_t k = 0; k < xs.size(); ++k) {
    const std::string ks = "[" + std::to_string(k) + "]";
    xv.push_back(batch_view(env, xs[k], plane_shape, stride_at(strides, k), "inputs" + ks));
    wv.push_back(batch_view(env, ws[k], map_shape, stride_at(strides, xs.size() + k), "weights" + ks));
    check_out(env, yv, xv.back(), "inputs" + ks, true);
    check_out(env, yv, wv.back(), "weights" + ks, false);
    contiguous = contiguous && xv.back().contiguous() && wv.back().contiguous();
  }
  auto pointers = [xv, wv](int64_t n, std::vector<const float*>* xp, std::vector<const float*>* wp) {
    for (size_t k = 0; k < xv.size(); ++k) {
      (*xp)[k] = xv[k].image(n);
      (*wp)[k] = wv[k].image(n);
    }
  };
  auto work = whole_or_per_image(
      contiguous, dims[0],
      [=] {
        std::vector<const float*> xp(xv.size()), wp(wv.size());
        pointers(0, &xp, &wp);
        weighted_sum(xp, wp, dims[0], dims[1], dims[2], out.data);
      },
      [=](int64_t n) {
        std::vector<const float*> xp(xv.size()), wp(wv.size());
        pointers(n, &xp, &wp);
        weighted_sum(xp, wp, 1, dims[1], dims[2], yv.image(n));
      });
  return run(info, info[6], work, 5, keep_alive);
}

// resize(x, [n,c,h,w], [oh,ow], [scaleH,scaleW], mode, coord, nearest, out, async, strides?: [x, out])
Napi::Value Resize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const Shape s = shape_arg(info, 1, "x shape");
  const Shape o = shape_arg(info, 2, "output size");
  if (!info[3].IsArray() || info[3].As<Napi::Array>().Length() != 2) throw_type_error(env, "scales must be [h, w]");
  const double sh = info[3].As<Napi::Array>().Get(0u).ToNumber().DoubleValue();
  const double sw = info[3].As<Napi::Array>().Get(1u).ToNumber().DoubleValue();
  const int64_t mode = int_arg(info, 4, "mode"), coord = int_arg(info, 5, "coordinate mode"),
                nearest = int_arg(info, 6, "nearest mode");
  const F32Arg out = f32_arg(info, 7, "out");
  if (s.size() != 4 || o.size() != 2) throw_range_error(env, "resize needs a rank-4 shape and an [h, w] size");
  if (!(sh > 0) || !(sw > 0) || !std::isfinite(sh) || !std::isfinite(sw)) {
    throw_range_error(env, "resize scales must be finite and > 0");
  }
  if (mode < 0 || mode > 1 || coord < 0 || coord > 4 || nearest < 0 || nearest > 3) {
    throw_range_error(env, "unknown resize mode");
  }
  const std::vector<int64_t> strides = batch_strides_arg(info, 9, 2);
  const BatchView xv = batch_view(env, x, s, stride_at(strides, 0), "x");
  const BatchView yv =
      batch_view(env, out, checked_dims(env, {s[0], s[1], o[0], o[1]}, "resize output"), stride_at(strides, 1), "out");
  if ((o[0] > 0 && s[2] == 0) || (o[1] > 0 && s[3] == 0)) throw_range_error(env, "resize of an empty axis");
  check_out(env, yv, xv, "x", false);
  const ResizeAxis ay{s[2], o[0], sh}, ax{s[3], o[1], sw};
  const auto rm = static_cast<ResizeMode>(mode);
  const auto cm = static_cast<CoordMode>(coord);
  const auto nm = static_cast<NearestMode>(nearest);
  auto work = whole_or_per_image(
      xv.contiguous() && yv.contiguous(), s[0], [=] { resize2d(x.data, s[0] * s[1], ay, ax, rm, cm, nm, out.data); },
      [=](int64_t n) { resize2d(xv.image(n), s[1], ay, ax, rm, cm, nm, yv.image(n)); });
  return run(info, info[8], work, 7, {info[0], info[7]});
}

// slice(x, xShape, starts, steps, yShape, out, async): starts already clamped.
Napi::Value Slice(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const Shape xs = shape_arg(info, 1, "x shape");
  const std::vector<int64_t> starts = int_list(info, 2, "starts");
  const std::vector<int64_t> steps = int_list(info, 3, "steps");
  const Shape ys = shape_arg(info, 4, "y shape");
  const F32Arg out = f32_arg(info, 5, "out");
  const size_t rank = xs.size();
  if (starts.size() != rank || steps.size() != rank || ys.size() != rank) {
    throw_range_error(env, "slice: starts, steps and the output shape must match the rank of x");
  }
  expect_length(env, x, xs, "x");
  expect_length(env, out, ys, "out");
  if (shape_size(ys) > 0) {
    for (size_t k = 0; k < rank; ++k) {
      const bool step_fits = steps[k] != 0 && ys[k] <= xs[k] && (ys[k] == 1 || (steps[k] < xs[k] && -steps[k] < xs[k]));
      const int64_t last = step_fits ? starts[k] + (ys[k] - 1) * steps[k] : -1;
      if (!step_fits || starts[k] < 0 || starts[k] >= xs[k] || last < 0 || last >= xs[k]) {
        throw_range_error(env, "slice: axis " + std::to_string(k) + " reads outside x " + shape_string(xs));
      }
    }
  }
  check_out(env, out, x, "x", false);
  return run(info, info[6], [=] { strided_copy(x.data, xs, starts, steps, out.data, ys); }, 5,
             {info[0], info[5]});
}

// split(x, outer, extents, outs[], async) -> undefined | Promise<outs>
Napi::Value Split(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg x = f32_arg(info, 0, "x");
  const int64_t outer = int_arg(info, 1, "outer");
  const Shape extents = shape_arg(info, 2, "extents");
  std::vector<Napi::Value> keep_alive{info[0]};
  const std::vector<F32Arg> outs = f32_list(info, 3, "outs", &keep_alive);
  if (outer < 0 || outs.size() != extents.size() || outs.empty()) {
    throw_range_error(env, "split: outer must be >= 0 and outs, extents non-empty and of equal length");
  }
  double row_total = 0;
  for (int64_t e : extents) row_total += static_cast<double>(e);
  if (static_cast<double>(outer) * row_total > 4.6e18) throw_range_error(env, "split: x is too large");
  int64_t row = 0;
  std::vector<float*> ptrs;
  for (size_t k = 0; k < outs.size(); ++k) {
    const std::string ks = "outs[" + std::to_string(k) + "]";
    expect_count(env, outs[k], outer * extents[k], ks);
    check_out(env, outs[k], x, "x", false);
    for (size_t j = 0; j < k; ++j) check_out(env, outs[k], outs[j], "outs[" + std::to_string(j) + "]", false);
    row += extents[k];
    ptrs.push_back(outs[k].data);
  }
  expect_count(env, x, outer * row, "x");
  return run(info, info[4], [=] { split(x.data, outer, extents, ptrs); }, 3, keep_alive);
}

}  // namespace

void register_fusion_ops(Napi::Env env, Napi::Object exports) {
  exports.Set("unary", Napi::Function::New(env, Unary, "unary"));
  exports.Set("channelAffine", Napi::Function::New(env, ChannelAffine, "channelAffine"));
  exports.Set("softmax", Napi::Function::New(env, Softmax, "softmax"));
  exports.Set("weightedSum", Napi::Function::New(env, WeightedSum, "weightedSum"));
  exports.Set("resize", Napi::Function::New(env, Resize, "resize"));
  exports.Set("slice", Napi::Function::New(env, Slice, "slice"));
  exports.Set("split", Napi::Function::New(env, Split, "split"));
}

}  // namespace tf::binding
