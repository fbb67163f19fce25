#pragma once
#include <napi.h>
namespace tf::binding {
void register_blocked_layout(Napi::Env env, Napi::Object exports);
}
