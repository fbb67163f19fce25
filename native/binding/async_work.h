// Runs a kernel on the libuv thread pool and settles a Promise with a chosen JS value.
// The JS objects whose memory the kernel touches are held by persistent references until
// the promise settles, so the GC cannot free them mid-flight.
#pragma once
#include <napi.h>

#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

namespace tf::binding {

Napi::Promise queue_async(Napi::Env env, std::function<void()> work, Napi::Value result,
                          const std::vector<Napi::Value>& keep_alive);

// Runs `work` now (returning undefined) or queues it as above. The sync path calls the lambda
// as it is and builds no keep-alive list: no heap blocks for the small ops that run inline.
template <class Work>
Napi::Value run_now_or_queue(Napi::Env env, bool async, Work&& work, Napi::Value result,
                             std::initializer_list<Napi::Value> keep_alive) {
  if (!async) {
    work();
    return env.Undefined();
  }
  return queue_async(env, std::forward<Work>(work), result, std::vector<Napi::Value>(keep_alive));
}

// The same with a keep-alive list built already (a variable number of arrays).
template <class Work>
Napi::Value run_now_or_queue(Napi::Env env, bool async, Work&& work, Napi::Value result,
                             const std::vector<Napi::Value>& keep_alive) {
  if (!async) {
    work();
    return env.Undefined();
  }
  return queue_async(env, std::forward<Work>(work), result, keep_alive);
}

}  // namespace tf::binding
