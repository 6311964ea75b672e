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
// convTranspose2d(x, w, b | null, stride[2], padding[2], outputPadding[2], groups, dilation[2])
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::conv_transpose2d(T(info, 0), T(info, 1), OptT(info, 2), Ints(info, 3), Ints(info, 4),
                                              Ints(info, 5), Int(info, 6), Ints(info, 7)));
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
