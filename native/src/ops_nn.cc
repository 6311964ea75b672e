// SPDX-License-Identifier: MIT
// Neural-network functional ops: convolution, linear algebra, resampling, pooling, normalisation, losses.
#include "args.h"

namespace ilsgan {

at::Tensor GridSample(const at::Tensor& x, const at::Tensor& grid, int64_t mode, int64_t padding, bool alignCorners);

namespace {

// Enum codes from JS are checked here (not just in TS): out-of-range values reach ATen's switch statements.
int64_t Reduction(const Napi::CallbackInfo& info, size_t i) {
  const int64_t r = Int(info, i);
  TORCH_CHECK_VALUE(r >= 0 && r <= 2, "reduction code must be 0 (none), 1 (mean) or 2 (sum), got ", r);
  return r;
}

// conv2d(x, w, b | null, stride[2], padding[2], dilation[2], groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::conv2d(T(info, 0), T(info, 1), OptT(info, 2), Ints(info, 3), Ints(info, 4), Ints(info, 5),
                                    Int(info, 6)));
}
// Transposed convolution on the CPU as the input-gradient of the matching convolution. libtorch 1.13 runs
// at::conv_transpose2d on the CPU through im2col + BLAS (slow_conv_transpose2d) while the convolution's
// backward-data kernel is mkldnn's: measured fwd+bwd, batch 16, 3×3 stride 2: 128→128 @8 26.6 → 19.4 ms,
// 128→64 @16 43.3 → 34 ms. The same sums, so the same result up to rounding. Its backward is a convolution
// (input) and a convolution weight-gradient (weight); both are differentiable ops, so double backward works.
struct ConvTranspose2dFn : public torch::autograd::Function<ConvTranspose2dFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w,
                            std::vector<int64_t> stride, std::vector<int64_t> padding,
                            std::vector<int64_t> outputPadding, int64_t groups, std::vector<int64_t> dilation) {
    TORCH_CHECK(x.dim() == 4 && w.dim() == 4, "convTranspose2d: expected 4-d input and weight, got ", x.dim(), "-d and ",
                w.dim(), "-d");
    TORCH_CHECK(groups > 0 && x.size(1) == w.size(0) && w.size(0) % groups == 0, "convTranspose2d: input has ",
                x.size(1), " channels, weight ", w.sizes(), " with groups ", groups);
    std::vector<int64_t> outSize = {x.size(0), w.size(1) * groups, 0, 0};
    for (int i = 0; i < 2; i++) {
      TORCH_CHECK(stride[i] > 0 && dilation[i] > 0 && padding[i] >= 0 && outputPadding[i] >= 0 &&
                      (outputPadding[i] < stride[i] || outputPadding[i] < dilation[i]),
                  "convTranspose2d: bad stride/padding/outputPadding/dilation");
      outSize[2 + i] = (x.size(2 + i) - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.size(2 + i) - 1) +
                       outputPadding[i] + 1;
      TORCH_CHECK(outSize[2 + i] > 0, "convTranspose2d: output size would be ", outSize[2 + i]);
    }
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    const at::Tensor shapeOnly = at::empty(outSize, x.options());
    return std::get<0>(at::convolution_backward(x, shapeOnly, w, c10::nullopt, stride, padding, dilation, false,
                                                {0, 0}, groups, {true, false, false}));
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext* ctx, torch::autograd::tensor_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &w = saved[1], &gy = grads[0];
    const auto stride = ctx->saved_data["stride"].toIntVector();
    const auto padding = ctx->saved_data["padding"].toIntVector();
    const auto dilation = ctx->saved_data["dilation"].toIntVector();
    const int64_t groups = ctx->saved_data["groups"].toInt();
    at::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) gx = at::convolution(gy, w, c10::nullopt, stride, padding, dilation, false, {0, 0}, groups);
    if (ctx->needs_input_grad(1)) {
      gw = std::get<1>(at::convolution_backward(x, gy, w, c10::nullopt, stride, padding, dilation, false, {0, 0}, groups,
                                                {false, true, false}));
    }
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// convTranspose2d(x, w, b | null, stride[2], padding[2], outputPadding[2], groups, dilation[2])
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const at::Tensor& w = T(info, 1);
  const c10::optional<at::Tensor> b = OptT(info, 2);
  const auto stride = Ints(info, 3), padding = Ints(info, 4), outputPadding = Ints(info, 5), dilation = Ints(info, 7);
  const int64_t groups = Int(info, 6);
  const bool twoEach = stride.size() == 2 && padding.size() == 2 && outputPadding.size() == 2 && dilation.size() == 2;
  const bool plain = x.is_cpu() && w.is_cpu() && twoEach && x.dim() == 4 && w.dim() == 4 && x.numel() > 0 &&
                     w.numel() > 0 && at::isFloatingType(x.scalar_type()) && x.scalar_type() == w.scalar_type();
  if (!plain) {
    // CUDA (cuDNN has a native transposed convolution), unbatched input, empty or odd cases: libtorch's own.
    return Ret(info.Env(), at::conv_transpose2d(x, w, b, stride, padding, outputPadding, groups, dilation));
  }
  at::Tensor y = ConvTranspose2dFn::apply(x, w, stride, padding, outputPadding, groups, dilation);
  if (b && b->defined()) {
    TORCH_CHECK(b->dim() == 1 && b->size(0) == y.size(1), "convTranspose2d: bias must have ", y.size(1),
                " elements, got shape ", b->sizes());
    y = y + b->reshape({1, -1, 1, 1});
  }
  return Ret(info.Env(), y);
}
Napi::Value Linear(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::linear(T(info, 0), T(info, 1), OptT(info, 2))); }
Napi::Value Matmul(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::matmul(T(info, 0), T(info, 1))); }
Napi::Value Softmax(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::softmax(T(info, 0), Int(info, 1))); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::log_softmax(T(info, 0), Int(info, 1))); }

// interpolate(x, size[2], mode, alignCorners, scaleH | null, scaleW | null)
// mode 0 nearest, 1 bilinear, 2 bicubic, 3 area (adaptive average pooling, as PyTorch does).
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const std::vector<int64_t> size = Ints(info, 1);
  const int64_t mode = Int(info, 2);
  const bool alignCorners = Bool(info, 3);
  const c10::optional<double> sh = OptNum(info, 4), sw = OptNum(info, 5);
  if (size.size() != 2) throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "interpolate: size must have 2 entries");
  switch (mode) {
    case 0: return Ret(info.Env(), at::upsample_nearest2d(x, size, sh, sw));
    case 1: return Ret(info.Env(), at::upsample_bilinear2d(x, size, alignCorners, sh, sw));
    case 2: return Ret(info.Env(), at::upsample_bicubic2d(x, size, alignCorners, sh, sw));
    case 3: return Ret(info.Env(), at::adaptive_avg_pool2d(x, size));
    default: throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "interpolate: unknown mode");
  }
}
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::avg_pool2d(T(info, 0), Ints(info, 1), Ints(info, 2), Ints(info, 3), Bool(info, 4), Bool(info, 5)));
}
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::max_pool2d(T(info, 0), Ints(info, 1), Ints(info, 2), Ints(info, 3), Ints(info, 4), Bool(info, 5)));
}
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::adaptive_avg_pool2d(T(info, 0), Ints(info, 1)));
}
// gridSample(x, grid, mode (0 bilinear, 1 nearest), padding (0 zeros, 1 border, 2 reflection), alignCorners)
Napi::Value GridSampleExport(const Napi::CallbackInfo& info) {
  const int64_t mode = Int(info, 2), padding = Int(info, 3);
  TORCH_CHECK_VALUE(mode >= 0 && mode <= 2, "gridSample: mode code must be 0, 1 or 2, got ", mode);
  TORCH_CHECK_VALUE(padding >= 0 && padding <= 2, "gridSample: padding code must be 0, 1 or 2, got ", padding);
  return Ret(info.Env(), GridSample(T(info, 0), T(info, 1), mode, padding, Bool(info, 4)));
}
Napi::Value AffineGrid(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::affine_grid_generator(T(info, 0), Ints(info, 1), Bool(info, 2)));
}
// batchNorm(x, weight | null, bias | null, runningMean | null, runningVar | null, training, momentum, eps)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::batch_norm(T(info, 0), OptT(info, 1), OptT(info, 2), OptT(info, 3), OptT(info, 4),
                                        Bool(info, 5), Num(info, 6), Num(info, 7), /*cudnn_enabled=*/true));
}
Napi::Value Dropout(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::dropout(T(info, 0), Num(info, 1), Bool(info, 2))); }
// crossEntropy(logits, target, weight | null, reduction (0 none, 1 mean, 2 sum), ignoreIndex, labelSmoothing)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::cross_entropy_loss(T(info, 0), T(info, 1), OptT(info, 2), Reduction(info, 3), Int(info, 4), Num(info, 5)));
}
// binaryCrossEntropyWithLogits(x, target, weight | null, posWeight | null, reduction)
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return Ret(info.Env(),
             at::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), OptT(info, 2), OptT(info, 3), Reduction(info, 4)));
}
Napi::Value OneHot(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::one_hot(T(info, 0), Int(info, 1))); }

}  // namespace

void RegisterNn(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("conv2d", Conv2d);
  ILSGAN_EXPORT("convTranspose2d", ConvTranspose2d);
  ILSGAN_EXPORT("linear", Linear);
  ILSGAN_EXPORT("matmul", Matmul);
  ILSGAN_EXPORT("softmax", Softmax);
  ILSGAN_EXPORT("logSoftmax", LogSoftmax);
  ILSGAN_EXPORT("interpolate", Interpolate);
  ILSGAN_EXPORT("avgPool2d", AvgPool2d);
  ILSGAN_EXPORT("maxPool2d", MaxPool2d);
  ILSGAN_EXPORT("adaptiveAvgPool2d", AdaptiveAvgPool2d);
  ILSGAN_EXPORT("gridSample", GridSampleExport);
  ILSGAN_EXPORT("affineGrid", AffineGrid);
  ILSGAN_EXPORT("batchNorm", BatchNorm);
  ILSGAN_EXPORT("dropout", Dropout);
  ILSGAN_EXPORT("crossEntropy", CrossEntropy);
  ILSGAN_EXPORT("binaryCrossEntropyWithLogits", BceWithLogits);
  ILSGAN_EXPORT("oneHot", OneHot);
}

}  // namespace ilsgan
