#pragma once
#include <napi.h>
namespace tf::binding {
void register_conv2d(Napi::Env env, Napi::Object exports);
}
