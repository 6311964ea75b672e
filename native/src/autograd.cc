// SPDX-License-Identifier: MIT
// Autograd: requires-grad flags, .grad, backward, grad() with create_graph (double backward), grad mode, and
// gridSample with a differentiable input-gradient (libtorch's grid_sampler_2d_backward has no derivative).
#include "args.h"

namespace ilsgan {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

struct GridSampleForward;

// d(x-grad)/d(upstream grad): since grid sampling is linear in its input for a fixed grid, the input gradient
// is linear in the upstream gradient, and its derivative is grid sampling again (as in StyleGAN2-ADA's
// grid_sample_gradfix). The x-gradient does not depend on x; no second derivative w.r.t. the grid is offered.
struct GridSampleBackward : public torch::autograd::Function<GridSampleBackward> {
  static tensor_list forward(AutogradContext* ctx, const at::Tensor& gy, const at::Tensor& x, const at::Tensor& grid, int64_t mode,
                             int64_t padding, bool alignCorners, bool needX, bool needGrid) {
    auto r = at::grid_sampler_2d_backward(gy, x, grid, mode, padding, alignCorners, {needX, needGrid});
    ctx->save_for_backward({grid});
    ctx->saved_data["mode"] = mode;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["align"] = alignCorners;
    ctx->set_materialize_grads(false);
    return {std::get<0>(r), std::get<1>(r)};
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads);
};

struct GridSampleForward : public torch::autograd::Function<GridSampleForward> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& grid, int64_t mode, int64_t padding,
                            bool alignCorners) {
    ctx->save_for_backward({x, grid});
    ctx->saved_data["mode"] = mode;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["align"] = alignCorners;
    return at::grid_sampler_2d(x, grid, mode, padding, alignCorners);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    auto saved = ctx->get_saved_variables();
    const int64_t mode = ctx->saved_data["mode"].toInt(), padding = ctx->saved_data["padding"].toInt();
    const bool align = ctx->saved_data["align"].toBool();
    if (!ctx->needs_input_grad(0)) {
      // Grid gradient only: first order. libtorch's own backward op refuses a further derivative loudly.
      auto r = at::grid_sampler_2d_backward(grads[0], saved[0], saved[1], mode, padding, align, {false, true});
      return {at::Tensor(), std::get<1>(r), at::Tensor(), at::Tensor(), at::Tensor()};
    }
    auto r = GridSampleBackward::apply(grads[0], saved[0], saved[1], mode, padding, align, true, ctx->needs_input_grad(1));
    return {r[0], r[1], at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

tensor_list GridSampleBackward::backward(AutogradContext* ctx, tensor_list grads) {
  TORCH_CHECK_NOT_IMPLEMENTED(grads.size() < 2 || !grads[1].defined(),
                              "gridSample: second-order gradients through the grid are not supported");
  // The input-gradient depends on the grid too; that derivative is not implemented, so refuse rather than
  // silently return none when the grid requires grad.
  TORCH_CHECK_NOT_IMPLEMENTED(!grads[0].defined() || !ctx->needs_input_grad(2),
                              "gridSample: second-order gradients w.r.t. the grid are not supported");
  at::Tensor ggy;
  if (grads[0].defined()) {
    auto saved = ctx->get_saved_variables();
    ggy = GridSampleForward::apply(grads[0], saved[0], ctx->saved_data["mode"].toInt(), ctx->saved_data["padding"].toInt(),
                                   ctx->saved_data["align"].toBool());
  }
  return {ggy, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  T(info, 0).set_requires_grad(Bool(info, 1));
  return info.Env().Undefined();
}
Napi::Value RequiresGrad(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T(info, 0).requires_grad()); }
Napi::Value IsLeaf(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T(info, 0).is_leaf()); }
Napi::Value RetainGrad(const Napi::CallbackInfo& info) {
  // libtorch 1.13 segfaults in retain_grad() on a view whose base was changed in place under no-grad
  // (PyTorch 1.13 does too); reading grad_fn first regenerates the view's stale grad_fn and avoids it.
  (void)T(info, 0).grad_fn();
  T(info, 0).retain_grad();
  return info.Env().Undefined();
}
Napi::Value GetGrad(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).grad()); }
// setGrad(x, g | null): null clears (PyTorch's `p.grad = None`).
Napi::Value SetGrad(const Napi::CallbackInfo& info) {
  at::Tensor& x = T(info, 0);
  x.mutable_grad() = IsNullish(info, 1) ? at::Tensor() : T(info, 1);
  return info.Env().Undefined();
}
Napi::Value GradFnName(const Napi::CallbackInfo& info) {
  const auto& fn = T(info, 0).grad_fn();
  if (!fn) return info.Env().Null();
  return Napi::String::New(info.Env(), fn->name());
}
// backward(roots[], grads[] (null = ones for scalars), retainGraph, createGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  const auto roots = Tensors(info, 0);
  const auto grads = OptTensors(info, 1);
  if (grads.size() != roots.size() && !grads.empty()) {
    throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "backward: one gradient (or null) per root");
  }
  c10::optional<bool> retain;
  if (!IsNullish(info, 2)) retain = Bool(info, 2);
  torch::autograd::backward(roots, grads, retain, Bool(info, 3));
  return info.Env().Undefined();
}
// grad(outputs[], inputs[], gradOutputs[] (nulls allowed), retainGraph | null, createGraph, allowUnused) -> (handle|null)[]
Napi::Value Grad(const Napi::CallbackInfo& info) {
  const auto outputs = Tensors(info, 0);
  const auto inputs = Tensors(info, 1);
  const auto gradOutputs = OptTensors(info, 2);
  c10::optional<bool> retain;
  if (!IsNullish(info, 3)) retain = Bool(info, 3);
  auto r = torch::autograd::grad(outputs, inputs, gradOutputs, retain, Bool(info, 4), Bool(info, 5));
  return RetList(info.Env(), r);
}
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  const bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(Bool(info, 0));
  return Napi::Boolean::New(info.Env(), previous);
}
Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled()); }

}  // namespace

at::Tensor GridSample(const at::Tensor& x, const at::Tensor& grid, int64_t mode, int64_t padding, bool alignCorners) {
  if (x.dim() != 4 || grid.dim() != 4) {
    return at::grid_sampler(x, grid, mode, padding, alignCorners);  // 5-D (volumetric) has no gradfix
  }
  return GridSampleForward::apply(x, grid, mode, padding, alignCorners);
}

void RegisterAutograd(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("setRequiresGrad", SetRequiresGrad);
  ILSGAN_EXPORT("requiresGrad", RequiresGrad);
  ILSGAN_EXPORT("isLeaf", IsLeaf);
  ILSGAN_EXPORT("retainGrad", RetainGrad);
  ILSGAN_EXPORT("getGrad", GetGrad);
  ILSGAN_EXPORT("setGrad", SetGrad);
  ILSGAN_EXPORT("gradFnName", GradFnName);
  ILSGAN_EXPORT("backward", Backward);
  ILSGAN_EXPORT("grad", Grad);
  ILSGAN_EXPORT("setGradEnabled", SetGradEnabled);
  ILSGAN_EXPORT("isGradEnabled", IsGradEnabled);
}

}  // namespace ilsgan
