#include "binding/async_work.h"

#include <exception>
#include <string>

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

}  // namespace tf::binding
