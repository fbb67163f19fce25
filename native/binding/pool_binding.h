#pragma once
#include <napi.h>
namespace tf::binding {
// pool2d (max / average, NCHW / NHWC), globalPool, lrn.
void register_pool(Napi::Env env, Napi::Object exports);
}
