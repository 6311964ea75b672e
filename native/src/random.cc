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
  return Ret(info.Env(), at::randn(Ints(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value Rand(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::rand(Ints(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
// randint(low, high, shape, dtype, device): integers in [low, high)
Napi::Value Randint(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::randint(Int(info, 0), Int(info, 1), Ints(info, 2), Opts(Dtype(info, 3), Dev(info, 4))));
}
Napi::Value Randperm(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::randperm(Int(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
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
