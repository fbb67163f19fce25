// Runs a kernel on the libuv thread pool and settles a Promise with a chosen JS value.
// The JS objects whose memory the kernel touches are held by persistent references until
// the promise settles, so the GC cannot free them mid-flight.
#pragma once
#include <napi.h>

#include <functional>
#include <vector>

namespace tf::binding {

Napi::Promise queue_async(Napi::Env env, std::function<void()> work, Napi::Value result,
                          const std::vector<Napi::Value>& keep_alive);

}  // namespace tf::binding
