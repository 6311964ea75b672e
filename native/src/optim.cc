// SPDX-License-Identifier: MIT
// Fixed update sequences over parameter lists (one call per group instead of ~10 small calls per parameter):
// Adam, gradient sanitising, EMA lerp and list copies. All run without building an autograd graph.
#include "args.h"
#include "compat.h"

namespace ilsgan {
namespace {

// adamStep(params[], expAvg[], expAvgSq[], steps: Float64Array, lr, beta1, beta2, eps, weightDecay, foreach)
// PyTorch's Adam (not AdamW). As torch.optim.Adam, a parameter without a gradient is skipped and keeps its step
// count; the others get steps[i] += 1 (written back into the caller's Float64Array) and the bias corrections
// of their own step. `foreach` runs each update over the whole list in one _foreach_ call (on CUDA a few fused
// multi-tensor kernels instead of 8 launches per parameter, as torch.optim.Adam's default there); the
// per-parameter loop passes its numbers as wrapped numbers (one dispatch each). Both compute the same values.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  auto params = Tensors(info, 0);
  auto m = Tensors(info, 1);
  auto v = Tensors(info, 2);
  if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array) {
    BadArg(info, 3, "a Float64Array of step counts");
  }
  Napi::Float64Array steps = info[3].As<Napi::Float64Array>();
  const double lr = FiniteNum(info, 4, "adamStep", "lr"), beta1 = FiniteNum(info, 5, "adamStep", "beta1");
  const double beta2 = FiniteNum(info, 6, "adamStep", "beta2"), eps = FiniteNum(info, 7, "adamStep", "eps");
  const double weightDecay = FiniteNum(info, 8, "adamStep", "weightDecay");
  const bool foreach = Bool(info, 9);
  if (m.size() != params.size() || v.size() != params.size() || steps.ElementLength() != params.size()) {
    throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "adamStep: one first moment, second moment and step per parameter");
  }
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> ps, gs, ms, vs;
  std::vector<at::Scalar> bc2Sqrt, stepSize;
  for (size_t i = 0; i < params.size(); ++i) {
    at::Tensor g = params[i].grad();
    if (!g.defined()) continue;
    const double step = steps[i] + 1;
    steps[i] = step;
    ps.push_back(params[i]);
    gs.push_back(g);
    ms.push_back(m[i]);
    vs.push_back(v[i]);
    bc2Sqrt.emplace_back(std::sqrt(1 - std::pow(beta2, step)));
    stepSize.emplace_back(-lr / (1 - std::pow(beta1, step)));
  }
  if (ps.empty()) return info.Env().Undefined();
  if (foreach) {
    if (weightDecay != 0) gs = at::_foreach_add(gs, ps, weightDecay);
    at::_foreach_mul_(ms, beta1);
    at::_foreach_add_(ms, gs, 1 - beta1);
    at::_foreach_mul_(vs, beta2);
    at::_foreach_addcmul_(vs, gs, gs, 1 - beta2);
    std::vector<at::Tensor> denom = at::_foreach_sqrt(vs);
    at::_foreach_div_(denom, bc2Sqrt);
    at::_foreach_add_(denom, eps);
    at::_foreach_addcdiv_(ps, ms, denom, stepSize);
    return info.Env().Undefined();
  }
  for (size_t i = 0; i < ps.size(); ++i) {
    at::Tensor g = weightDecay != 0 ? gs[i].add(ps[i], weightDecay) : gs[i];
    ms[i].mul_(WrappedNumber(beta1, ms[i])).add_(g, 1 - beta1);
    vs[i].mul_(WrappedNumber(beta2, vs[i])).addcmul_(g, g, 1 - beta2);
    at::Tensor denom = vs[i].sqrt();
    denom.div_(WrappedNumber(bc2Sqrt[i], denom)).add_(WrappedNumber(eps, denom));
    ps[i].addcdiv_(ms[i], denom, stepSize[i]);
  }
  return info.Env().Undefined();
}

// sanitizeGrads(params[], nan, posinf, neginf, flat): nan_to_num on every defined .grad. With `flat`, as
// StyleGAN2-ADA does it: the gradients are concatenated into one buffer, sanitised there, and each .grad becomes
// a view of its part (two kernels for the whole list instead of one per parameter, for three cheap view
// dispatches each: worth it on a GPU, not on the CPU). Mixed dtypes or devices take the per-tensor loop.
Napi::Value SanitizeGrads(const Napi::CallbackInfo& info) {
  auto params = Tensors(info, 0);
  const double nan = Num(info, 1), posinf = Num(info, 2), neginf = Num(info, 3);
  const bool flatten = Bool(info, 4);
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> owners, flats;
  std::vector<int64_t> sizes;
  bool uniform = true;
  for (at::Tensor& p : params) {
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    if (!flats.empty() && (g.scalar_type() != flats[0].scalar_type() || g.device() != flats[0].device())) uniform = false;
    owners.push_back(p);
    flats.push_back(g.reshape({-1}));
    sizes.push_back(g.numel());
  }
  if (flats.empty()) return info.Env().Undefined();
  if (!flatten || !uniform || flats.size() == 1) {
    for (at::Tensor& p : owners) p.mutable_grad().nan_to_num_(nan, posinf, neginf);
    return info.Env().Undefined();
  }
  at::Tensor flat = at::cat(flats);
  flat.nan_to_num_(nan, posinf, neginf);
  std::vector<at::Tensor> parts = flat.split_with_sizes(sizes);
  for (size_t i = 0; i < owners.size(); ++i) owners[i].mutable_grad() = parts[i].view(owners[i].grad().sizes());
  return info.Env().Undefined();
}

// clearGrads(params[]): p.grad = None for each.
Napi::Value ClearGrads(const Napi::CallbackInfo& info) {
  auto params = Tensors(info, 0);
  for (at::Tensor& p : params) p.mutable_grad() = at::Tensor();
  return info.Env().Undefined();
}

// lerpList_(dst[], src[], weight, foreach): dst += weight·(src − dst), elementwise per pair (EMA: weight = 1 − β).
Napi::Value LerpList_(const Napi::CallbackInfo& info) {
  auto dst = Tensors(info, 0);
  auto src = Tensors(info, 1);
  const double w = FiniteNum(info, 2, "lerpList_", "weight");
  if (dst.size() != src.size()) throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "lerpList_: lists differ in length");
  at::NoGradGuard noGrad;
  // One multi-tensor call where the libtorch has it (a few fused kernels on CUDA instead of one per parameter).
  if (Bool(info, 3) && compat::ForeachLerp_(dst, src, w)) return info.Env().Undefined();
  for (size_t i = 0; i < dst.size(); ++i) dst[i].lerp_(src[i], w);
  return info.Env().Undefined();
}

// copyList_(dst[], src[])
Napi::Value CopyList_(const Napi::CallbackInfo& info) {
  auto dst = Tensors(info, 0);
  auto src = Tensors(info, 1);
  if (dst.size() != src.size()) throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "copyList_: lists differ in length");
  at::NoGradGuard noGrad;
  for (size_t i = 0; i < dst.size(); ++i) dst[i].copy_(src[i]);
  return info.Env().Undefined();
}

}  // namespace

void RegisterOptim(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("adamStep", AdamStep);
  ILSGAN_EXPORT("sanitizeGrads", SanitizeGrads);
  ILSGAN_EXPORT("clearGrads", ClearGrads);
  ILSGAN_EXPORT("lerpList_", LerpList_);
  ILSGAN_EXPORT("copyList_", CopyList_);
}

}  // namespace ilsgan
