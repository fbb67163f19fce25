// The addon's entry point: one registration call per op family.
#include <napi.h>

#include "binding/async_work.h"
#include "binding/blocked_layout_binding.h"
#include "binding/concat_binding.h"
#include "binding/conv2d_binding.h"
#include "binding/elementwise_binding.h"
#include "binding/fusion_ops_binding.h"
#include "binding/pool_binding.h"
#include "binding/runtime_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  tf::binding::register_runtime(env, exports);
  tf::binding::register_elementwise(env, exports);
  tf::binding::register_concat(env, exports);
  tf::binding::register_conv2d(env, exports);
  tf::binding::register_fusion_ops(env, exports);
  tf::binding::register_pool(env, exports);
  tf::binding::register_blocked_layout(env, exports);
  tf::binding::register_kernel_batch(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tensorfuse, Init)
