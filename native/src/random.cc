// SPDX-License-Identifier: MIT
// Random tensors from libtorch's default generators, seeding, and CPU generator state save/restore.
#include <torch/cuda.h>

#include "args.h"

namespace ilsgan {
namespace {

at::TensorOptions Opts(at::ScalarType dtype, at::Device device) { return at::TensorOptions().dtype(dtype).device(device); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  const int64_t seed = Int(info, 0);
  {
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(static_cast<uint64_t>(seed));
  }
  if (torch::cuda::is_available()) torch::cuda::manual_seed_all(static_cast<uint64_t>(seed));
  return info.Env().Undefined();
}
Napi::Value Randn(const Napi::CallbackInfo& info) {
  const at::ScalarType dtype = Dtype(info, 1);
  const at::Device device = Dev(info, 2);
  return Ret(info.Env(), at::randn(ShapeOf(info, 0, "randn", dtype, device), Opts(dtype, device)));
}
Napi::Value Rand(const Napi::CallbackInfo& info) {
  const at::ScalarType dtype = Dtype(info, 1);
  const at::Device device = Dev(info, 2);
  return Ret(info.Env(), at::rand(ShapeOf(info, 0, "rand", dtype, device), Opts(dtype, device)));
}
// randint(low, high, shape, dtype, device): integers in [low, high)
Napi::Value Randint(const Napi::CallbackInfo& info) {
  const at::ScalarType dtype = Dtype(info, 3);
  const at::Device device = Dev(info, 4);
  return Ret(info.Env(), at::randint(Int(info, 0), Int(info, 1), ShapeOf(info, 2, "randint", dtype, device), Opts(dtype, device)));
}
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  const int64_t n = IntIn(info, 0, "randperm", "n", 0, INT64_MAX);
  const at::ScalarType dtype = Dtype(info, 1);
  const at::Device device = Dev(info, 2);
  // randperm draws through an int64 permutation whatever the result dtype.
  CheckAlloc(info.Env(), "randperm", static_cast<double>(n), std::max<size_t>(8, c10::elementSize(dtype)), device);
  return Ret(info.Env(), at::randperm(n, Opts(dtype, device)));
}
// bernoulli(p): one draw per element of the probability tensor p
Napi::Value Bernoulli(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::bernoulli(T(info, 0))); }
Napi::Value Normal_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  T(info, 0).normal_(Num(info, 1), Num(info, 2));
  return info.Env().Undefined();
}
Napi::Value Uniform_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  T(info, 0).uniform_(Num(info, 1), Num(info, 2));
  return info.Env().Undefined();
}
// The CPU generator's full state as a uint8 tensor (for checkpoints), and its restore.
Napi::Value GetRngState(const Napi::CallbackInfo& info) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return Ret(info.Env(), gen.get_state());
}
Napi::Value SetRngState(const Napi::CallbackInfo& info) {
  const at::Tensor& state = T(info, 0);
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
  return info.Env().Undefined();
}

}  // namespace

void RegisterRandom(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("manualSeed", ManualSeed);
  ILSGAN_EXPORT("randn", Randn);
  ILSGAN_EXPORT("rand", Rand);
  ILSGAN_EXPORT("randint", Randint);
  ILSGAN_EXPORT("randperm", Randperm);
  ILSGAN_EXPORT("bernoulli", Bernoulli);
  ILSGAN_EXPORT("normal_", Normal_);
  ILSGAN_EXPORT("uniform_", Uniform_);
  ILSGAN_EXPORT("getRngState", GetRngState);
  ILSGAN_EXPORT("setRngState", SetRngState);
}

}  // namespace ilsgan
