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

// Kernel calls recorded on the JS thread (each one checked as it came, as a sync call is)
// and run in order by one task on the libuv pool (batchRun): a model's async run queues its
// steps as one task instead of a task (and a wake-up of the JS thread) per step. The JS
// handle of a batch (batchBegin) is what an op takes as its async argument to be recorded.
struct KernelBatch {
  std::vector<std::function<void()>> works;
  std::vector<Napi::Reference<Napi::Value>> refs;  // what the recorded calls read and write
};

// How an op runs, from its async argument: now (false), queued alone (true), or recorded
// into a batch (a batch handle).
struct RunMode {
  bool async = false;
  KernelBatch* batch = nullptr;
};
RunMode run_mode(Napi::Value async_arg);

// Records work into mode.batch with its keep-alive values (returns undefined).
Napi::Value record(Napi::Env env, KernelBatch* batch, std::function<void()> work, const std::vector<Napi::Value>& keep_alive);

// batchBegin() -> a new empty batch handle; batchRun(handle) -> a Promise of the handle: its
// calls run in order on the libuv pool, the handle left empty for reuse.
void register_kernel_batch(Napi::Env env, Napi::Object exports);

// Runs `work` now (returning undefined), queues it as above or records it into a batch. The
// sync path calls the lambda as it is and builds no keep-alive list: no heap blocks for the
// small ops that run inline.
template <class Work>
Napi::Value run_now_or_queue(Napi::Env env, RunMode mode, Work&& work, Napi::Value result,
                             std::initializer_list<Napi::Value> keep_alive) {
  if (mode.batch != nullptr) return record(env, mode.batch, std::forward<Work>(work), std::vector<Napi::Value>(keep_alive));
  if (!mode.async) {
    work();
    return env.Undefined();
  }
  return queue_async(env, std::forward<Work>(work), result, std::vector<Napi::Value>(keep_alive));
}

// The same with a keep-alive list built already (a variable number of arrays).
template <class Work>
Napi::Value run_now_or_queue(Napi::Env env, RunMode mode, Work&& work, Napi::Value result,
                             const std::vector<Napi::Value>& keep_alive) {
  if (mode.batch != nullptr) return record(env, mode.batch, std::forward<Work>(work), keep_alive);
  if (!mode.async) {
    work();
    return env.Undefined();
  }
  return queue_async(env, std::forward<Work>(work), result, keep_alive);
}

}  // namespace tf::binding
