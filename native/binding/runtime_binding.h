#pragma once
#include <napi.h>
namespace tf::binding {
void register_runtime(Napi::Env env, Napi::Object exports);
}
