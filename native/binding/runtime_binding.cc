// Runtime facts and settings, and the alignment of tensor buffers.
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

// alignmentOffset(arrayBuffer) -> the bytes from the buffer's start to its first 64-byte
// boundary: lib/memory.ts starts large tensors there, so the kernels' vector stores fill whole
// cache lines (V8's allocator aligns to 16).
Napi::Value AlignmentOffset(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsArrayBuffer()) throw_type_error(env, "alignmentOffset: expected an ArrayBuffer");
  const auto address = reinterpret_cast<uintptr_t>(info[0].As<Napi::ArrayBuffer>().Data());
  return Napi::Number::New(env, static_cast<double>((64 - (address & 63)) & 63));
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
  exports.Set("alignmentOffset", Napi::Function::New(env, AlignmentOffset, "alignmentOffset"));
  exports.Set("allocatorStats", Napi::Function::New(env, AllocatorStats, "allocatorStats"));
  exports.Set("allocatorTrim", Napi::Function::New(env, AllocatorTrim, "allocatorTrim"));
  exports.Set("retainFreedMemory", Napi::Function::New(env, RetainFreedMemory, "retainFreedMemory"));
}

}  // namespace tf::binding
