// SPDX-License-Identifier: MIT
// Devices and runtime switches: CUDA availability, synchronisation, memory statistics, cuDNN/TF32, autocast.
#include <ATen/Parallel.h>
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
  torch::cuda::synchronize(IsNullish(info, 0) ? -1 : Int(info, 0));
  return info.Env().Undefined();
}
// cudaMemoryStats(device) -> [allocatedBytes, reservedBytes, peakAllocatedBytes] (null without CUDA headers)
Napi::Value CudaMemoryStats(const Napi::CallbackInfo& info) {
#ifdef ILSGAN_CUDA_HEADERS
  const int64_t device = Int(info, 0);
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
}

}  // namespace ilsgan
