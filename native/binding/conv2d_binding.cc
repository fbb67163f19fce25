// conv2d: a packed-weights handle (an External holding a PackedConv2d), run() and
// dispose(). Checks and marshalling only; kernels/conv2d/ does the work. Every length is checked against
// the shapes again here, so no call from JS can make a kernel read or write out of bounds.
#include "binding/conv2d_binding.h"

#include <cmath>
#include <exception>
#include <functional>
#include <memory>
#include <string>

#include "binding/args.h"
#include "binding/async_work.h"
#include "binding/batch_view.h"
#include "kernels/conv2d/conv2d.h"

namespace tf::binding {

namespace {

// Tags the handles this file makes, so run() never trusts another External.
constexpr napi_type_tag kConvTag = {0x7f3c1e0a5b2d4c68ULL, 0x91a4d0e2b6c8f153ULL};

// Strides, dilations and kernel dims above this are rejected (keeps products in int64).
constexpr int64_t kMaxAttr = int64_t{1} << 31;
// Padded input copies above this many floats are rejected rather than attempted.
constexpr double kMaxPaddedFloats = 68719476736.0;  // 2^36

// What the External holds. Runs share ownership of the packed weights, so dispose() (or
// the GC) while an async run is in flight frees them only when that run is done.
struct ConvHandle {
  std::shared_ptr<const PackedConv2d> conv;
};

ConvHandle* handle_arg(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal() || !info[0].As<Napi::External<ConvHandle>>().CheckTypeTag(&kConvTag)) {
    throw_type_error(info.Env(), "conv2d handle must come from conv2dCreate");
  }
  return info[0].As<Napi::External<ConvHandle>>().Data();
}

int64_t param(Napi::Env env, const Napi::Array& a, uint32_t i, const char* what, int64_t lo, int64_t hi) {
  const Napi::Value v = a.Get(i);
  const double x = v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
  if (!(x == std::floor(x)) || x < static_cast<double>(lo) || x > static_cast<double>(hi)) {
    throw_range_error(env, std::string(what) + " must be an integer in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]");
  }
  return static_cast<int64_t>(x);
}

// conv2dCreate(weight, weightShape, bias | null,
//              [layout, groups, sh, sw, dh, dw, act, alpha, hintHout, hintWout],
//              inScale | null, inShift | null, inRelu) -> handle
// (layout 0 NCHW, 1 NHWC, 2 NCHWc, 3 NCHW x to NCHWc y; hint 0 = unknown output size;
// inScale / inShift: the input affine, Cin floats each, NCHW)
Napi::Value Create(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const F32Arg weight = f32_arg(info, 0, "weight");
  const Shape wshape = shape_arg(info, 1, "weight shape");
  if (wshape.size() != 4) throw_range_error(env, "weight must have rank 4, got shape " + shape_string(wshape));
  expect_length(env, weight, wshape, "weight");
  if (!info[3].IsArray() || info[3].As<Napi::Array>().Length() != 10) {
    throw_type_error(env, "conv2d params must be an array of 10 numbers");
  }
  auto a = info[3].As<Napi::Array>();
  Conv2dParams p;
  p.layout = static_cast<ConvLayout>(param(env, a, 0, "layout", 0, 4));
  p.groups = param(env, a, 1, "groups", 1, kMaxAttr);
  p.sh = param(env, a, 2, "strides[0]", 1, kMaxAttr);
  p.sw = param(env, a, 3, "strides[1]", 1, kMaxAttr);
  p.dh = param(env, a, 4, "dilations[0]", 1, kMaxAttr);
  p.dw = param(env, a, 5, "dilations[1]", 1, kMaxAttr);
  p.act = static_cast<ConvActivation>(param(env, a, 6, "activation", 0, 5));
  const Napi::Value alpha = a.Get(7);
  if (!alpha.IsNumber() || !std::isfinite(alpha.As<Napi::Number>().DoubleValue())) {
    throw_range_error(env, "alpha must be a finite number");
  }
  p.alpha = alpha.As<Napi::Number>().FloatValue();
  p.hint_hout = param(env, a, 8, "output size hint (height)", 0, kMaxAttr);
  p.hint_wout = param(env, a, 9, "output size hint (width)", 0, kMaxAttr);
  const bool nchw = p.layout != ConvLayout::kNHWC;  // NCHW and NCHWc take OIHW weights
  p.cout = nchw ? wshape[0] : wshape[3];
  p.cin_per_group = nchw ? wshape[1] : wshape[2];
  p.kh = nchw ? wshape[2] : wshape[0];
  p.kw = nchw ? wshape[3] : wshape[1];
  if (p.cout < 1 || p.cin_per_group < 1 || p.kh < 1 || p.kw < 1 || p.kh > kMaxAttr || p.kw > kMaxAttr) {
    throw_range_error(env, "weight shape " + shape_string(wshape) + " must have every dim >= 1");
  }
  if (p.cout % p.groups != 0) {
    throw_range_error(env, "groups " + std::to_string(p.groups) + " does not divide the " + std::to_string(p.cout) +
                               " output channels of weight " + shape_string(wshape));
  }
  if (p.layout != ConvLayout::kNCHW && p.layout != ConvLayout::kNHWC && !PackedConv2d::blocked_supports(p)) {
    throw_range_error(env, "the blocked (NCHWc) layout runs convs with groups 1 and a column stride of 1 or 2 only; weight " +
                               shape_string(wshape) + ", groups " + std::to_string(p.groups) + ", strides [" +
                               std::to_string(p.sh) + ", " + std::to_string(p.sw) + "]");
  }
  const float* bias = nullptr;
  if (!info[2].IsNull() && !info[2].IsUndefined()) {
    const F32Arg b = f32_arg(info, 2, "bias");
    if (static_cast<int64_t>(b.length) != p.cout) {
      throw_range_error(env, "bias has " + std::to_string(b.length) + " elements but weight " + shape_string(wshape) +
                                 " has " + std::to_string(p.cout) + " output channels");
    }
    bias = b.data;
  }
  const bool affine = !info[4].IsNull() && !info[4].IsUndefined();
  if (affine != (!info[5].IsNull() && !info[5].IsUndefined())) throw_type_error(env, "inScale and inShift go together");
  F32Arg in_scale, in_shift;
  if (affine) {
    if (p.layout == ConvLayout::kNHWC) throw_range_error(env, "an input affine needs an NCHW or blocked conv");
    in_scale = f32_arg(info, 4, "inScale");
    in_shift = f32_arg(info, 5, "inShift");
    const int64_t cin = p.cin_per_group * p.groups;
    if (static_cast<int64_t>(in_scale.length) != cin || static_cast<int64_t>(in_shift.length) != cin) {
      throw_range_error(env, "inScale and inShift must have the conv's " + std::to_string(cin) + " input channels, got " +
                                 std::to_string(in_scale.length) + " and " + std::to_string(in_shift.length));
    }
  }
  auto conv = std::make_shared<PackedConv2d>(p, weight.data, bias);
  if (affine) conv->set_input_affine(in_scale.data, in_shift.data, info[6].ToBoolean());
  auto* holder = new ConvHandle{std::move(conv)};
  auto handle = Napi::External<ConvHandle>::New(env, holder, [](Napi::Env, ConvHandle* h) { delete h; });
  handle.TypeTag(&kConvTag);
  return handle;
}

// The input geometry of a run over x of shape xs (rank 4 in the conv's layout; NCHWc: rank
// 5, [n, ceil(cin / L), h, w, L]) with pads: checks the channels, the pads, that the kernel
// fits and the size of the padded copy, and gives the output shape.
Conv2dInput check_geometry(Napi::Env env, const PackedConv2d& conv, const Shape& xs, const Shape& pads, Shape* ys) {
  const Conv2dParams& p = conv.params();
  if (pads.size() != 4) throw_range_error(env, "pads must hold 4 values [top, left, bottom, right]");
  const bool channels_first = p.layout != ConvLayout::kNHWC;
  Conv2dInput in;
  in.n = xs[0];
  in.h = channels_first ? xs[2] : xs[1];
  in.w = channels_first ? xs[3] : xs[2];
  for (int k = 0; k < 4; ++k) {
    if (pads[k] > kMaxAttr) throw_range_error(env, "pads " + shape_string(pads) + " are too large");
    in.pads[k] = pads[k];
  }
  // The channels x holds (in the blocked layout: whole blocks of lanes).
  int64_t channels = 0;
  const int64_t lanes = PackedConv2d::blocked_lanes();
  if (blocked_input(p.layout)) {
    const int64_t blocks = (conv.cin() + lanes - 1) / lanes;
    if (xs[4] != lanes || xs[1] != blocks) {
      throw_range_error(env, "x " + shape_string(xs) + " must be [N, " + std::to_string(blocks) + ", H, W, " +
                                 std::to_string(lanes) + "]: the conv's " + std::to_string(conv.cin()) +
                                 " input channels in blocks of " + std::to_string(lanes));
    }
    channels = blocks * lanes;
  } else {
    channels = channels_first ? xs[1] : xs[3];
    if (channels != conv.cin()) {
      throw_range_error(env, "x " + shape_string(xs) + " has " + std::to_string(channels) +
                                 " channels but the weights expect " + std::to_string(conv.cin()));
    }
  }
  const int64_t hout = conv_output_dim(in.h, in.pads[0], in.pads[2], p.kh, p.sh, p.dh);
  const int64_t wout = conv_output_dim(in.w, in.pads[1], in.pads[3], p.kw, p.sw, p.dw);
  if (hout < 1 || wout < 1) {
    throw_range_error(env, "the kernel does not fit x " + shape_string(xs) + " with pads " + shape_string(pads) +
                               ": output size " + std::to_string(hout) + "x" + std::to_string(wout));
  }
  const double padded = static_cast<double>(in.n) * static_cast<double>(channels) *
                        static_cast<double>(in.h + in.pads[0] + in.pads[2]) * static_cast<double>(in.w + in.pads[1] + in.pads[3]);
  if (padded > kMaxPaddedFloats) throw_range_error(env, "x " + shape_string(xs) + " with pads " + shape_string(pads) + " is too large");
  switch (p.layout) {
    case ConvLayout::kNCHW:
    case ConvLayout::kNCHWctoNCHW: *ys = Shape{in.n, p.cout, hout, wout}; break;
    case ConvLayout::kNHWC: *ys = Shape{in.n, hout, wout, p.cout}; break;
    case ConvLayout::kNCHWc:
    case ConvLayout::kNCHWtoNCHWc: *ys = Shape{in.n, (p.cout + lanes - 1) / lanes, hout, wout, lanes}; break;
  }
  return in;
}

// Runs the conv now (a failure is a RangeError) or on the libuv pool (a Promise of result).
Napi::Value run_or_queue(Napi::Env env, RunMode mode, const std::function<void()>& work, Napi::Value result,
                         const std::vector<Napi::Value>& keep_alive) {
  if (mode.batch != nullptr) return record(env, mode.batch, work, keep_alive);
  if (mode.async) return queue_async(env, work, result, keep_alive);
  try {
    work();
  } catch (const std::exception& e) {
    throw_range_error(env, std::string("conv2d failed: ") + e.what());
  }
  return env.Undefined();
}

// The input geometry of one image of `in` (the per-image runs of strided views).
Conv2dInput one_image(Conv2dInput in) {
  in.n = 1;
  return in;
}

// The residual epilogue's arguments info[i .. i + 2] (skip | null, act, alpha) into xs:
// skip has out's shape and strides (ys, stride) and is out itself or disjoint from it; the
// conv's own activation must be 'none'. Returns the skip's view (empty without one).
BatchView residual_arg(const Napi::CallbackInfo& info, size_t i, const Conv2dParams& p, const Shape& ys, int64_t stride,
                       const BatchView& yv, ConvSources* xs) {
  Napi::Env env = info.Env();
  if (info[i].IsNull() || info[i].IsUndefined()) return BatchView{};
  if (p.layout == ConvLayout::kNHWC) throw_range_error(env, "a residual epilogue needs an NCHW or NCHWc conv");
  const BatchView skip_view = batch_view(env, f32_arg(info, i, "skip"), ys, stride, "skip");
  if (overlaps(skip_view, yv) && !same_memory(skip_view, yv)) throw_range_error(env, "skip partially overlaps out");
  if (p.act != ConvActivation::kNone) throw_range_error(env, "a residual epilogue needs the conv's own activation to be 'none'");
  xs->skip = skip_view.data;
  const double act = info[i + 1].IsNumber() ? info[i + 1].As<Napi::Number>().DoubleValue() : NAN;
  if (!(act == std::floor(act)) || act < 0 || act > 5) throw_range_error(env, "act must be an integer in [0, 5]");
  xs->act = static_cast<ConvActivation>(static_cast<int>(act));
  if (!info[i + 2].IsNumber() || !std::isfinite(info[i + 2].As<Napi::Number>().DoubleValue())) {
    throw_range_error(env, "alpha must be a finite number");
  }
  xs->alpha = info[i + 2].As<Napi::Number>().FloatValue();
  return skip_view;
}

// conv2dRun(handle, x, xShape, pads[4], out, async, strides?: [x, out(, skip)], skip?, act?,
//           alpha?) -> undefined | Promise<out>
// With skip (NCHW or NCHWc, out's shape): out = act(conv + skip), as conv2dRunSources.
// A strided x or out (a batch view) runs the conv once per image (N = 1 pointers); contiguous
// tensors run it once for the whole batch.
Napi::Value Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<const PackedConv2d> conv = handle_arg(info)->conv;
  if (!conv) throw_type_error(env, "conv2d handle was disposed");
  const F32Arg x = f32_arg(info, 1, "x");
  const Shape xs = shape_arg(info, 2, "x shape");
  const Shape pads = shape_arg(info, 3, "pads");
  const F32Arg out = f32_arg(info, 4, "out");
  const RunMode async = run_mode(info[5]);
  const bool has_skip = info.Length() > 7 && !info[7].IsNull() && !info[7].IsUndefined();
  const std::vector<int64_t> strides = batch_strides_arg(info, 6, has_skip ? 3 : 2);
  const size_t rank = blocked_input(conv->params().layout) ? 5 : 4;
  if (xs.size() != rank) throw_range_error(env, "x must have rank " + std::to_string(rank) + ", got shape " + shape_string(xs));
  const BatchView xv = batch_view(env, x, xs, stride_at(strides, 0), "x");
  Shape ys;
  const Conv2dInput in = check_geometry(env, *conv, xs, pads, &ys);
  const BatchView yv = batch_view(env, out, ys, stride_at(strides, 1), "out");
  if (overlaps(xv, yv)) throw_range_error(env, "out overlaps x");
  ConvSources sources = ConvSources::single(x.data, conv->cin());
  const BatchView skip_view = residual_arg(info, 7, conv->params(), ys, stride_at(strides, 2), yv, &sources);
  std::vector<Napi::Value> keep_alive{info[0], info[1], info[4]};
  if (sources.skip != nullptr) {
    if (overlaps(xv, skip_view)) throw_range_error(env, "skip overlaps x");
    keep_alive.push_back(info[7]);
  }

  std::function<void()> work;
  if (sources.skip == nullptr && xv.contiguous() && yv.contiguous()) {
    work = [conv, xd = x.data, in, yd = out.data] { conv->run(xd, in, yd); };
  } else if (xv.contiguous() && yv.contiguous() && skip_view.contiguous()) {
    work = [conv, sources, in, yd = out.data] { conv->run(sources, in, yd); };
  } else {
    work = [conv, sources, xv, skip_view, in1 = one_image(in), yv] {
      ConvSources image = sources;
      for (int64_t n = 0; n < xv.images; ++n) {
        image.data[0] = xv.image(n);
        if (sources.skip != nullptr) image.skip = skip_view.image(n);
        conv->run(image, in1, yv.image(n));
      }
    };
  }
  return run_or_queue(env, async, work, info[4], keep_alive);
}

// conv2dRunSources(handle, sources[], sourceShapes (4 dims per source, flat), mode (0 concat,
// 1 sum), pads[4], out, skip | null, act, alpha, async, strides?: [...sources, out, skip])
// -> undefined | Promise<out>
// NCHW only. The conv's input is the channel concat (mode 0) or the sum (mode 1) of the
// sources, which share N, H, W; with skip, out = act(conv + skip) (the conv's own activation
// must be 'none'; skip has out's shape and is either out itself or disjoint from it). When a
// source, out or skip is a strided view (strides given), the conv runs once per image.
Napi::Value RunSources(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::shared_ptr<const PackedConv2d> conv = handle_arg(info)->conv;
  if (!conv) throw_type_error(env, "conv2d handle was disposed");
  const Conv2dParams& p = conv->params();
  if (p.layout != ConvLayout::kNCHW) throw_range_error(env, "conv2dRunSources needs an NCHW conv");
  if (!info[1].IsArray()) throw_type_error(env, "sources must be an array of Float32Array");
  auto list = info[1].As<Napi::Array>();
  const std::vector<int64_t> dims = dims_arg(info, 2, "source shapes");
  const int64_t mode = int_arg(info, 3, "mode");
  const Shape pads = shape_arg(info, 4, "pads");
  const F32Arg out = f32_arg(info, 5, "out");
  const RunMode async = run_mode(info[9]);
  const uint32_t count = list.Length();
  if (count == 0 || dims.size() != 4 * static_cast<size_t>(count)) {
    throw_range_error(env, "sources must be non-empty with 4 shape dims each");
  }
  if (mode != 0 && mode != 1) throw_range_error(env, "mode must be 0 (concat) or 1 (sum)");
  if (mode == 1 && conv->has_input_affine()) throw_range_error(env, "a conv with an input affine takes concat sources only");
  const std::vector<int64_t> strides = batch_strides_arg(info, 10, count + 2);
  ConvSources xs;
  xs.kind = mode == 0 ? ConvSources::Kind::kConcat : ConvSources::Kind::kSum;
  std::vector<Napi::Value> keep_alive{info[0], info[5]};
  std::vector<BatchView> views;
  Shape total{dims[0], 0, dims[2], dims[3]};
  for (uint32_t i = 0; i < count; ++i) {
    const std::string name = "sources[" + std::to_string(i) + "]";
    const Shape s(dims.begin() + 4 * i, dims.begin() + 4 * i + 4);
    double product = 1;
    for (int64_t d : s) product *= static_cast<double>(d);
    if (product > 4.6e18) throw_range_error(env, name + " shape " + shape_string(s) + " is too large");
    if (s[0] != total[0] || s[2] != total[2] || s[3] != total[3]) {
      throw_range_error(env, name + " " + shape_string(s) + " does not share N, H, W with sources[0]");
    }
    if (mode == 1 && s[1] != conv->cin()) {
      throw_range_error(env, name + " " + shape_string(s) + " must have the conv's " + std::to_string(conv->cin()) + " channels");
    }
    if (s[1] < 1) throw_range_error(env, name + " " + shape_string(s) + " has no channels");
    const Napi::Value v = list.Get(i);
    views.push_back(batch_view(env, f32_value(env, v, name), s, stride_at(strides, i), name));
    xs.data.push_back(views.back().data);
    xs.channels.push_back(s[1]);
    total[1] = mode == 1 ? s[1] : total[1] + s[1];
    keep_alive.push_back(v);
  }
  Shape ys;
  const Conv2dInput in = check_geometry(env, *conv, total, pads, &ys);
  const BatchView yv = batch_view(env, out, ys, stride_at(strides, count), "out");
  bool contiguous = yv.contiguous();
  for (uint32_t i = 0; i < count; ++i) {
    if (overlaps(views[i], yv)) throw_range_error(env, "out overlaps sources[" + std::to_string(i) + "]");
    contiguous = contiguous && views[i].contiguous();
  }
  const BatchView skip_view = residual_arg(info, 6, p, ys, stride_at(strides, count + 1), yv, &xs);
  if (xs.skip != nullptr) {
    contiguous = contiguous && skip_view.contiguous();
    keep_alive.push_back(info[6]);
  }

  std::function<void()> work;
  if (contiguous) {
    work = [conv, xs = std::move(xs), in, yd = out.data] { conv->run(xs, in, yd); };
  } else {
    // Per image: the same sources, each pointer moved to its image n.
    work = [conv, xs = std::move(xs), views = std::move(views), skip_view, in1 = one_image(in), yv] {
      ConvSources image = xs;
      for (int64_t n = 0; n < yv.images; ++n) {
        for (size_t i = 0; i < views.size(); ++i) image.data[i] = views[i].image(n);
        if (xs.skip != nullptr) image.skip = skip_view.image(n);
        conv->run(image, in1, yv.image(n));
      }
    };
  }
  return run_or_queue(env, async, work, info[5], keep_alive);
}

// conv2dDispose(handle): frees the packed weights now (after any run in flight) instead of
// at garbage collection, so a one-shot conv's block is recycled by the next one.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  handle_arg(info)->conv.reset();
  return info.Env().Undefined();
}

// conv2dBlockedLanes() -> the channel block of the NCHWc layout (the active ISA's vector lanes).
Napi::Value BlockedLanes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(PackedConv2d::blocked_lanes()));
}

// conv2dAlgorithm(handle) -> the algorithm the packing chose (see PackedConv2d::algorithm).
Napi::Value Algorithm(const Napi::CallbackInfo& info) {
  const auto& conv = handle_arg(info)->conv;
  if (!conv) throw_type_error(info.Env(), "conv2d handle was disposed");
  return Napi::String::New(info.Env(), conv->algorithm());
}

}  // namespace

void register_conv2d(Napi::Env env, Napi::Object exports) {
  exports.Set("conv2dCreate", Napi::Function::New(env, Create, "conv2dCreate"));
  exports.Set("conv2dRun", Napi::Function::New(env, Run, "conv2dRun"));
  exports.Set("conv2dRunSources", Napi::Function::New(env, RunSources, "conv2dRunSources"));
  exports.Set("conv2dDispose", Napi::Function::New(env, Dispose, "conv2dDispose"));
  exports.Set("conv2dAlgorithm", Napi::Function::New(env, Algorithm, "conv2dAlgorithm"));
  exports.Set("conv2dBlockedLanes", Napi::Function::New(env, BlockedLanes, "conv2dBlockedLanes"));
}

}  // namespace tf::binding
