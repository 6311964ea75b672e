// SPDX-License-Identifier: MIT
// Reductions over dims (an empty dim list means all dims), with keepdim.
#include "args.h"

namespace ilsgan {
namespace {

std::vector<int64_t> DimsOrAll(const Napi::CallbackInfo& info, size_t i, const at::Tensor& x) {
  std::vector<int64_t> dims = Ints(info, i);
  if (dims.empty()) {
    dims.resize(static_cast<size_t>(x.dim()));
    for (int64_t d = 0; d < x.dim(); ++d) dims[static_cast<size_t>(d)] = d;
  }
  return dims;
}

// sum(x, dims, keepdim, dtype | null)
Napi::Value Sum(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::sum(x, DimsOrAll(info, 1, x), Bool(info, 2), OptDtype(info, 3)));
}
Napi::Value Mean(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::mean(x, DimsOrAll(info, 1, x), Bool(info, 2), OptDtype(info, 3)));
}
// var(x, dims, unbiased, keepdim)
Napi::Value Var(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::var(x, at::IntArrayRef(DimsOrAll(info, 1, x)), Bool(info, 2), Bool(info, 3)));
}
Napi::Value Std(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::std(x, at::IntArrayRef(DimsOrAll(info, 1, x)), Bool(info, 2), Bool(info, 3)));
}
Napi::Value Prod(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::prod(T(info, 0))); }
Napi::Value Amax(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::amax(x, DimsOrAll(info, 1, x), Bool(info, 2)));
}
Napi::Value Amin(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::amin(x, DimsOrAll(info, 1, x), Bool(info, 2)));
}
// max(x, dim, keepdim) -> [values, indices]
Napi::Value MaxDim(const Napi::CallbackInfo& info) {
  auto r = at::max(T(info, 0), Int(info, 1), Bool(info, 2));
  return RetList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value MinDim(const Napi::CallbackInfo& info) {
  auto r = at::min(T(info, 0), Int(info, 1), Bool(info, 2));
  return RetList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
// argmax(x, dim | null, keepdim)
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> dim;
  if (!IsNullish(info, 1)) dim = Int(info, 1);
  return Ret(info.Env(), at::argmax(T(info, 0), dim, Bool(info, 2)));
}
Napi::Value Argmin(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> dim;
  if (!IsNullish(info, 1)) dim = Int(info, 1);
  return Ret(info.Env(), at::argmin(T(info, 0), dim, Bool(info, 2)));
}
Napi::Value Logsumexp(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  return Ret(info.Env(), at::logsumexp(x, DimsOrAll(info, 1, x), Bool(info, 2)));
}
Napi::Value All(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::all(T(info, 0))); }
Napi::Value Any(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::any(T(info, 0))); }
Napi::Value Cumsum(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::cumsum(T(info, 0), Int(info, 1))); }
// sort(x, dim, descending) -> [values, indices]
Napi::Value Sort(const Napi::CallbackInfo& info) {
  auto r = at::sort(T(info, 0), Int(info, 1), Bool(info, 2));
  return RetList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
// topk(x, k, dim, largest) -> [values, indices]
Napi::Value Topk(const Napi::CallbackInfo& info) {
  auto r = at::topk(T(info, 0), Int(info, 1), Int(info, 2), Bool(info, 3), true);
  return RetList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}

}  // namespace

void RegisterReduce(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("sum", Sum);
  ILSGAN_EXPORT("mean", Mean);
  ILSGAN_EXPORT("var", Var);
  ILSGAN_EXPORT("std", Std);
  ILSGAN_EXPORT("prod", Prod);
  ILSGAN_EXPORT("amax", Amax);
  ILSGAN_EXPORT("amin", Amin);
  ILSGAN_EXPORT("maxDim", MaxDim);
  ILSGAN_EXPORT("minDim", MinDim);
  ILSGAN_EXPORT("argmax", Argmax);
  ILSGAN_EXPORT("argmin", Argmin);
  ILSGAN_EXPORT("logsumexp", Logsumexp);
  ILSGAN_EXPORT("all", All);
  ILSGAN_EXPORT("any", Any);
  ILSGAN_EXPORT("cumsum", Cumsum);
  ILSGAN_EXPORT("sort", Sort);
  ILSGAN_EXPORT("topk", Topk);
}

}  // namespace ilsgan
