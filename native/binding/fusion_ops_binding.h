#pragma once
#include <napi.h>
namespace tf::binding {
// relu, sigmoid, softmax, weightedSum, resize, slice, split.
void register_fusion_ops(Napi::Env env, Napi::Object exports);
}
