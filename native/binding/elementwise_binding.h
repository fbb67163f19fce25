#pragma once
#include <napi.h>
namespace tf::binding {
void register_elementwise(Napi::Env env, Napi::Object exports);
}
