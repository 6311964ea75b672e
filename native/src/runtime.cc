// SPDX-License-Identifier: MIT
// Devices and runtime switches: CUDA availability, synchronisation, memory statistics, cuDNN/TF32, autocast.
#include <ATen/Parallel.h>
#include <ATen/record_function.h>

#include <chrono>
#include <map>
#include <mutex>
#include <torch/cuda.h>

#include "args.h"
#include "compat.h"

#ifdef ILSGAN_CUDA_HEADERS
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace ilsgan {
namespace {

Napi::Value CudaIsAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), torch::cuda::is_available()); }
Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(torch::cuda::device_count()));
}
Napi::Value CudaSynchronize(const Napi::CallbackInfo& info) {
  if (!torch::cuda::is_available()) throw Coded(info.Env(), "ERR_NO_CUDA", "CUDA is not available");
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  torch::cuda::synchronize(IsNullish(info, 0) ? -1 : IntIn(info, 0, "cudaSynchronize", "device", 0, count - 1));
  return info.Env().Undefined();
}
// cudaMemoryStats(device) -> [allocatedBytes, reservedBytes, peakAllocatedBytes] (null without CUDA headers)
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
#ifdef ILSGAN_CUDA_HEADERS
  // getDeviceStats indexes a per-device array without a check: the index is checked here.
  const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
  if (count == 0) return info.Env().Null();
  const int64_t device = IntIn(info, 0, "cudaMemoryStats", "device", 0, count - 1);
  auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(static_cast<c10::DeviceIndex>(device));
  const size_t agg = static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE);
  Napi::Array a = Napi::Array::New(info.Env(), 3);
  a.Set(0u, Napi::Number::New(info.Env(), static_cast<double>(stats.allocated_bytes[agg].current)));
  a.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(stats.reserved_bytes[agg].current)));
  a.Set(2u, Napi::Number::New(info.Env(), static_cast<double>(stats.allocated_bytes[agg].peak)));
  return a;
#else
  return info.Env().Null();
#endif
}
Napi::Value CudaEmptyCache(const Napi::CallbackInfo& info) {
#ifdef ILSGAN_CUDA_HEADERS
  c10::cuda::CUDACachingAllocator::emptyCache();
#endif
  return info.Env().Undefined();
}
Napi::Value SetCudnnBenchmark(const Napi::CallbackInfo& info) {
  at::globalContext().setBenchmarkCuDNN(Bool(info, 0));
  return info.Env().Undefined();
}
Napi::Value SetTf32(const Napi::CallbackInfo& info) {
  const bool on = Bool(info, 0);
  at::globalContext().setAllowTF32CuBLAS(on);
  at::globalContext().setAllowTF32CuDNN(on);
  return info.Env().Undefined();
}
// setAutocast(enabled, cuda, dtype)
Napi::Value SetAutocast(const Napi::CallbackInfo& info) {
  compat::SetAutocast(Bool(info, 0), Bool(info, 1), Dtype(info, 2));
  return info.Env().Undefined();
}
Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("torchVersion", Napi::String::New(info.Env(), TORCH_VERSION));
  o.Set("cudaHeaders",
#ifdef ILSGAN_CUDA_HEADERS
        Napi::Boolean::New(info.Env(), true)
#else
        Napi::Boolean::New(info.Env(), false)
#endif
  );
  o.Set("parallelInfo", Napi::String::New(info.Env(), at::get_parallel_info()));
  return o;
}

// A light op profiler over libtorch's RecordFunction hooks (forward ops and autograd backward nodes alike):
// per name, the call count, inclusive time and self time (inclusive minus that of nested recorded ops).
// For finding where training time goes; `ilsgan` exposes it as t.profile().
struct ProfileStat {
  int64_t count = 0;
  double totalUs = 0, selfUs = 0;
};
struct ProfileState {
  std::mutex mutex;
  std::map<std::string, ProfileStat> stats;
  c10::optional<at::CallbackHandle> handle;
  bool byCaller = false;  // key each row "caller > op" (the enclosing recorded op, or "" at top level)
};
ProfileState& Profile() {
  static ProfileState* state = new ProfileState();
  return *state;
}
struct ProfileContext : at::ObserverContext {
  std::chrono::steady_clock::time_point start;
  double childUs = 0;
  ProfileContext* parent = nullptr;
  std::string key, name;
};
thread_local ProfileContext* profileTop = nullptr;

std::unique_ptr<at::ObserverContext> ProfileEnter(const at::RecordFunction& fn) {
  auto ctx = std::make_unique<ProfileContext>();
  std::string& key = ctx->key;
  key = fn.name();
  if (Profile().byCaller) key = (profileTop ? profileTop->name : std::string()) + " > " + key;
  ctx->name = fn.name();
  ctx->parent = profileTop;
  profileTop = ctx.get();
  ctx->start = std::chrono::steady_clock::now();
  return ctx;
}
void ProfileExit(const at::RecordFunction&, at::ObserverContext* base) {
  auto* ctx = static_cast<ProfileContext*>(base);
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - ctx->start).count();
  if (profileTop == ctx) profileTop = ctx->parent;
  if (ctx->parent) ctx->parent->childUs += us;
  std::lock_guard<std::mutex> lock(Profile().mutex);
  ProfileStat& s = Profile().stats[ctx->key];
  s.count++;
  s.totalUs += us;
  s.selfUs += us - ctx->childUs;
}
// profileStart(byCaller)
Napi::Value ProfileStart(const Napi::CallbackInfo& info) {
  ProfileState& p = Profile();
  if (!p.handle) {
    p.stats.clear();
    p.byCaller = Bool(info, 0);
    p.handle = at::addGlobalCallback(at::RecordFunctionCallback(ProfileEnter, ProfileExit).needsInputs(false));
  }
  return info.Env().Undefined();
}
// profileStop() -> [[name, count, totalMs, selfMs], ...] sorted by self time, descending
Napi::Value ProfileStop(const Napi::CallbackInfo& info) {
  ProfileState& p = Profile();
  if (p.handle) {
    at::removeCallback(*p.handle);
    p.handle = c10::nullopt;
  }
  std::vector<std::pair<std::string, ProfileStat>> rows(p.stats.begin(), p.stats.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.selfUs > b.second.selfUs; });
  Napi::Array out = Napi::Array::New(info.Env(), rows.size());
  for (size_t i = 0; i < rows.size(); i++) {
    Napi::Array r = Napi::Array::New(info.Env(), 4);
    r.Set(0u, Napi::String::New(info.Env(), rows[i].first));
    r.Set(1u, Napi::Number::New(info.Env(), static_cast<double>(rows[i].second.count)));
    r.Set(2u, Napi::Number::New(info.Env(), rows[i].second.totalUs / 1000));
    r.Set(3u, Napi::Number::New(info.Env(), rows[i].second.selfUs / 1000));
    out.Set(static_cast<uint32_t>(i), r);
  }
  p.stats.clear();
  return out;
}
}  // namespace

void RegisterRuntime(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("cudaIsAvailable", CudaIsAvailable);
  ILSGAN_EXPORT("cudaDeviceCount", CudaDeviceCount);
  ILSGAN_EXPORT("cudaSynchronize", CudaSynchronize);
  ILSGAN_EXPORT("cudaMemoryStats", CudaMemoryStats);
  ILSGAN_EXPORT("cudaEmptyCache", CudaEmptyCache);
  ILSGAN_EXPORT("setCudnnBenchmark", SetCudnnBenchmark);
  ILSGAN_EXPORT("setTf32", SetTf32);
  ILSGAN_EXPORT("setAutocast", SetAutocast);
  ILSGAN_EXPORT("buildInfo", BuildInfo);
  ILSGAN_EXPORT("profileStart", ProfileStart);
  ILSGAN_EXPORT("profileStop", ProfileStop);
}

}  // namespace ilsgan
