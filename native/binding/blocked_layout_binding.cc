// NCHW <-> NCHWc reorders (kernels/conv2d/blocked_layout.h): checks and marshalling only.
#include "binding/blocked_layout_binding.h"

#include "binding/args.h"
#include "binding/op_args.h"
#include "kernels/conv2d/blocked_layout.h"
#include "kernels/conv2d/conv2d.h"

namespace tf::binding {

namespace {

// The NCHW shape argument and the blocked shape it maps to on this machine.
struct ReorderShapes {
  Shape nchw, blocked;
  int64_t lanes;
};

ReorderShapes reorder_shapes(const Napi::CallbackInfo& info, size_t i) {
  ReorderShapes r;
  r.nchw = shape_arg(info, i, "NCHW shape");
  if (r.nchw.size() != 4) throw_range_error(info.Env(), "the NCHW shape must have rank 4, got " + shape_string(r.nchw));
  r.lanes = PackedConv2d::blocked_lanes();
  r.blocked = Shape{r.nchw[0], (r.nchw[1] + r.lanes - 1) / r.lanes, r.nchw[2], r.nchw[3], r.lanes};
  return r;
}

// Both reorders: x in one layout, out in the other, nchwShape the NCHW side's shape.
template <bool kToBlocked>
Napi::Value Reorder(const Napi::CallbackInfo& info) {
  const F32Arg x = f32_arg(info, 0, "x");
  const ReorderShapes r = reorder_shapes(info, 1);
  const F32Arg out = f32_arg(info, 2, "out");
  expect_length(info.Env(), x, kToBlocked ? r.nchw : r.blocked, "x");
  expect_length(info.Env(), out, kToBlocked ? r.blocked : r.nchw, "out");
  if (overlaps(x, out)) throw_range_error(info.Env(), "out overlaps x");
  const int64_t hw = r.nchw[2] * r.nchw[3];
  return run(info, info[3], [=] {
    if (kToBlocked) {
      nchw_to_blocked(x.data, r.nchw[0], r.nchw[1], hw, r.lanes, out.data);
    } else {
      blocked_to_nchw(x.data, r.nchw[0], r.nchw[1], hw, r.lanes, out.data);
    }
  }, 2, {info[0], info[2]});
}

}  // namespace

void register_blocked_layout(Napi::Env env, Napi::Object exports) {
  // toBlocked(x, nchwShape, out, async?): out [n, ceil(c / L), h, w, L] from x [n, c, h, w];
  // fromBlocked(x, nchwShape, out, async?): the inverse (lanes past c are not read).
  exports.Set("toBlocked", Napi::Function::New(env, Reorder<true>, "toBlocked"));
  exports.Set("fromBlocked", Napi::Function::New(env, Reorder<false>, "fromBlocked"));
}

}  // namespace tf::binding
