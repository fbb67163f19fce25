#include "binding/async_work.h"

#include <exception>
#include <memory>
#include <string>

#include "binding/args.h"

namespace tf::binding {

namespace {

class KernelWorker : public Napi::AsyncWorker {
 public:
  KernelWorker(Napi::Env env, std::function<void()> work, Napi::Value result,
               const std::vector<Napi::Value>& keep_alive)
      : Napi::AsyncWorker(env, "tensorfuse:kernel"),
        deferred_(Napi::Promise::Deferred::New(env)),
        work_(std::move(work)),
        result_(Napi::Persistent(result)) {
    refs_.reserve(keep_alive.size());
    for (const Napi::Value& v : keep_alive) refs_.push_back(Napi::Persistent(v));
  }

  Napi::Promise promise() { return deferred_.Promise(); }

  void Execute() override {
    try {
      work_();
    } catch (const std::exception& e) {
      SetError(std::string("tensorfuse: ") + e.what());
    }
  }

  // Settling fails (and node-addon-api throws) when the JS environment is being torn down
  // with this op in flight: a worker_thread terminated or exiting. Nothing can observe the
  // promise then; letting the exception escape this libuv callback would std::terminate the
  // whole process, so it is dropped.
  void OnOK() override {
    try {
      deferred_.Resolve(result_.Value());
    } catch (const Napi::Error&) {
    }
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (const Napi::Error&) {
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  std::function<void()> work_;
  Napi::Reference<Napi::Value> result_;
  std::vector<Napi::Reference<Napi::Value>> refs_;
};

}  // namespace

Napi::Promise queue_async(Napi::Env env, std::function<void()> work, Napi::Value result,
                          const std::vector<Napi::Value>& keep_alive) {
  auto* worker = new KernelWorker(env, std::move(work), result, keep_alive);  // deletes itself
  Napi::Promise promise = worker->promise();
  worker->Queue();
  return promise;
}

namespace {

const napi_type_tag kBatchTag = {0x7465'6e73'6f72'6675ULL, 0x6b62'6174'6368'0001ULL};

KernelBatch* batch_handle(Napi::Value v) {
  if (!v.IsExternal()) return nullptr;
  auto ext = v.As<Napi::External<KernelBatch>>();
  return ext.CheckTypeTag(&kBatchTag) ? ext.Data() : nullptr;
}

Napi::Value BatchBegin(const Napi::CallbackInfo& info) {
  auto handle = Napi::External<KernelBatch>::New(info.Env(), new KernelBatch(), [](Napi::Env, KernelBatch* b) { delete b; });
  handle.TypeTag(&kBatchTag);
  return handle;
}

Napi::Value BatchRun(const Napi::CallbackInfo& info) {
  KernelBatch* batch = batch_handle(info[0]);
  if (batch == nullptr) throw_type_error(info.Env(), "batchRun needs a batch handle from batchBegin()");
  // The references move into the task's keep-alive list (a reference per value, as queue_async).
  std::vector<Napi::Value> keep_alive;
  keep_alive.reserve(batch->refs.size());
  for (const auto& r : batch->refs) keep_alive.push_back(r.Value());
  auto works = std::make_shared<std::vector<std::function<void()>>>(std::move(batch->works));
  batch->works.clear();
  batch->refs.clear();
  // Settles with the (emptied) batch itself: a reference needs an object.
  return queue_async(info.Env(), [works] { for (const auto& w : *works) w(); }, info[0], keep_alive);
}

}  // namespace

RunMode run_mode(Napi::Value async_arg) {
  RunMode m;
  m.batch = batch_handle(async_arg);
  m.async = m.batch == nullptr && async_arg.ToBoolean();
  return m;
}

Napi::Value record(Napi::Env env, KernelBatch* batch, std::function<void()> work, const std::vector<Napi::Value>& keep_alive) {
  batch->works.push_back(std::move(work));
  for (const Napi::Value& v : keep_alive) batch->refs.push_back(Napi::Persistent(v));
  return env.Undefined();
}

void register_kernel_batch(Napi::Env env, Napi::Object exports) {
  exports.Set("batchBegin", Napi::Function::New(env, BatchBegin, "batchBegin"));
  exports.Set("batchRun", Napi::Function::New(env, BatchRun, "batchRun"));
}

}  // namespace tf::binding
