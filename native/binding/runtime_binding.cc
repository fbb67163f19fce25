// Runtime facts and settings, plus output buffers from tensorfuse's own allocator.
#include "binding/runtime_binding.h"

#include <algorithm>
#include <cmath>


#include "binding/args.h"
#include "kernels/ukernels.h"
#include "runtime/allocator.h"
#include "runtime/cache_info.h"
#include "runtime/thread_pool.h"

namespace tf::binding {

namespace {

// node::Buffer::kMaxLength on Node 20 (buffer.constants.MAX_LENGTH), the bound on external buffers.
constexpr size_t kMaxExternalBytes = size_t{1} << 32;

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("isa", isa_name(ukernels().isa));
  o.Set("bestIsa", isa_name(detect_best_isa()));
  o.Set("threads", ThreadPool::instance().threads());
  o.Set("l1dCacheBytes", static_cast<double>(l1d_cache_bytes()));
  o.Set("l2CacheBytes", static_cast<double>(l2_cache_bytes()));
  return o;
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  const int64_t n = int_arg(info, 0, "threads");
  if (n < 1 || n > 256) throw_range_error(info.Env(), "threads must be an integer in [1, 256]");
  ThreadPool::instance().set_threads(static_cast<int>(n));
  return info.Env().Undefined();
}

// allocate(elements) -> Float32Array over an external, 64-byte aligned buffer that goes
// back to the allocator's cache when the GC collects it.
Napi::Value Allocate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int64_t n = int_arg(info, 0, "elements");
  if (n < 0 || n > (int64_t{1} << 40)) throw_range_error(env, "cannot allocate " + std::to_string(n) + " elements");
  const size_t bytes = static_cast<size_t>(n) * sizeof(float);
  // External ArrayBuffers go through node::Buffer::New, which rejects more than 2^32 bytes on
  // Node 20 by running the finalizer itself; node-addon-api then frees the finalizer data a
  // second time (a double free that aborts the process). Refuse them here: lib/memory.ts
  // takes JS-heap memory for outputs that large.
  if (bytes > kMaxExternalBytes) {
    throw_range_error(env, "cannot allocate " + std::to_string(n) + " elements as an external buffer (max " +
                               std::to_string(kMaxExternalBytes / sizeof(float)) + ")");
  }
  void* p = buffer_alloc(bytes);
  if (p == nullptr) throw_range_error(env, "out of memory allocating " + std::to_string(bytes) + " bytes");
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(
      env, p, bytes, [](Napi::Env, void* data, size_t* size) {
        buffer_free(data, *size);
        delete size;
      },
      new size_t(bytes));
  return Napi::Float32Array::New(env, static_cast<size_t>(n), ab, 0);
}

Napi::Value AllocatorStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const tf::AllocatorStats s = allocator_stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("cachedBlocks", static_cast<double>(s.cached_blocks));
  o.Set("cachedBytes", static_cast<double>(s.cached_bytes));
  o.Set("reused", static_cast<double>(s.reused));
  o.Set("allocated", static_cast<double>(s.allocated));
  return o;
}

Napi::Value AllocatorTrim(const Napi::CallbackInfo& info) {
  allocator_trim();
  return info.Env().Undefined();
}

// retainFreedMemory(bytes) -> whether the C heap now keeps freed memory (see allocator.h).
Napi::Value RetainFreedMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double bytes = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(bytes >= 0) || bytes != std::floor(bytes)) throw_range_error(env, "bytes must be an integer >= 0");
  return Napi::Boolean::New(env, retain_freed_heap_memory(static_cast<size_t>(std::min(bytes, 9e15))));
}

}  // namespace

void register_runtime(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("allocate", Napi::Function::New(env, Allocate, "allocate"));
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats, "allocatorStats"));
  exports.Set("allocatorTrim", Napi::Function::New(env, AllocatorTrim, "allocatorTrim"));
  exports.Set("retainFreedMemory", Napi::Function::New(env, RetainFreedMemory, "retainFreedMemory"));
}

}  // namespace tf::binding
