#pragma once
#include <napi.h>
namespace tf::binding {
void register_concat(Napi::Env env, Napi::Object exports);
}
