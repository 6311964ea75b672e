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

// The spatial output extents of a 2-D convolution (transposed or not) over x [N, C, H, W] or [C, H, W] with weight
// w [., ., kH, kW], computed in 128 bits so that no parameter can wrap them; refused when beyond int64 or when
// the result cannot be allocated. Extents <= 0 are left to libtorch's own message. `outChannels` as for w.
void CheckConvOutput(const Napi::CallbackInfo& info, const char* op, const at::Tensor& x, const at::Tensor& w, int64_t outChannels,
                     const std::vector<int64_t>& stride, const std::vector<int64_t>& padding, const std::vector<int64_t>& dilation,
                     const std::vector<int64_t>* outputPadding) {
  if ((x.dim() != 4 && x.dim() != 3) || w.dim() != 4) return;  // libtorch refuses these itself
  double numel = static_cast<double>(x.dim() == 4 ? x.size(0) : 1) * static_cast<double>(outChannels);
  for (int i = 0; i < 2; i++) {
    const __int128 in = x.size(x.dim() - 2 + i), k = w.size(2 + i);
    const __int128 out =
        outputPadding ? (in - 1) * stride[i] - 2 * static_cast<__int128>(padding[i]) + dilation[i] * (k - 1) + (*outputPadding)[i] + 1
                      : (in + 2 * static_cast<__int128>(padding[i]) - dilation[i] * (k - 1) - 1) / stride[i] + 1;
    if (out > INT64_MAX) OutOfRange(info, std::string(op) + ": the output size overflows int64 (stride, padding or dilation too large)");
    if (out <= 0) return;
    numel *= static_cast<double>(out);
  }
  CheckAlloc(info.Env(), op, numel, x.element_size(), x.device());
}

// conv2d(x, w, b | null, stride[2], padding[2], dilation[2], groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const at::Tensor& w = T(info, 1);
  const auto stride = WindowPair(info, 3, "conv2d", "stride", 1), padding = WindowPair(info, 4, "conv2d", "padding", 0);
  const auto dilation = WindowPair(info, 5, "conv2d", "dilation", 1);
  const int64_t groups = IntIn(info, 6, "conv2d", "groups", 1, kMaxWindowParam);
  CheckConvOutput(info, "conv2d", x, w, w.dim() == 4 ? w.size(0) : 0, stride, padding, dilation, nullptr);
  return Ret(info.Env(), at::conv2d(x, w, OptT(info, 2), stride, padding, dilation, groups));
}
// Transposed convolution on the CPU as the input-gradient of the matching convolution. libtorch 1.13 runs
// at::conv_transpose2d on the CPU through im2col + BLAS (slow_conv_transpose2d) while the convolution's
// backward-data kernel is mkldnn's: measured fwd+bwd, batch 16, 3×3 stride 2: 128→128 @8 26.6 → 19.4 ms,
// 128→64 @16 43.3 → 34 ms. The same sums, so the same result up to rounding. Its backward is a convolution
// (input) and a convolution weight-gradient (weight); both are differentiable ops, so double backward works.
struct ConvTranspose2dFn : public torch::autograd::Function<ConvTranspose2dFn> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, std::vector<int64_t> stride,
                            std::vector<int64_t> padding, std::vector<int64_t> outputPadding, int64_t groups,
                            std::vector<int64_t> dilation) {
    TORCH_CHECK(x.dim() == 4 && w.dim() == 4, "convTranspose2d: expected 4-d input and weight, got ", x.dim(), "-d and ", w.dim(), "-d");
    TORCH_CHECK(groups > 0 && x.size(1) == w.size(0) && w.size(0) % groups == 0, "convTranspose2d: input has ", x.size(1),
                " channels, weight ", w.sizes(), " with groups ", groups);
    std::vector<int64_t> outSize = {x.size(0), w.size(1) * groups, 0, 0};
    for (int i = 0; i < 2; i++) {
      TORCH_CHECK(stride[i] > 0 && dilation[i] > 0 && padding[i] >= 0 && outputPadding[i] >= 0 &&
                      (outputPadding[i] < stride[i] || outputPadding[i] < dilation[i]),
                  "convTranspose2d: bad stride/padding/outputPadding/dilation");
      outSize[2 + i] = (x.size(2 + i) - 1) * stride[i] - 2 * padding[i] + dilation[i] * (w.size(2 + i) - 1) + outputPadding[i] + 1;
      TORCH_CHECK(outSize[2 + i] > 0, "convTranspose2d: output size would be ", outSize[2 + i]);
    }
    ctx->save_for_backward({x, w});
    ctx->saved_data["stride"] = stride;
    ctx->saved_data["padding"] = padding;
    ctx->saved_data["dilation"] = dilation;
    ctx->saved_data["groups"] = groups;
    const at::Tensor shapeOnly = at::empty(outSize, x.options());
    return std::get<0>(
        at::convolution_backward(x, shapeOnly, w, c10::nullopt, stride, padding, dilation, false, {0, 0}, groups, {true, false, false}));
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
      gw = std::get<1>(
          at::convolution_backward(x, gy, w, c10::nullopt, stride, padding, dilation, false, {0, 0}, groups, {false, true, false}));
    }
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// convTranspose2d(x, w, b | null, stride[2], padding[2], outputPadding[2], groups, dilation[2])
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const at::Tensor& w = T(info, 1);
  const c10::optional<at::Tensor> b = OptT(info, 2);
  const char* op = "convTranspose2d";
  const auto stride = WindowPair(info, 3, op, "stride", 1), padding = WindowPair(info, 4, op, "padding", 0);
  const auto outputPadding = WindowPair(info, 5, op, "outputPadding", 0), dilation = WindowPair(info, 7, op, "dilation", 1);
  const int64_t groups = IntIn(info, 6, op, "groups", 1, kMaxWindowParam);
  CheckConvOutput(info, op, x, w, w.dim() == 4 ? w.size(1) * groups : 0, stride, padding, dilation, &outputPadding);
  const bool plain = x.is_cpu() && w.is_cpu() && x.dim() == 4 && w.dim() == 4 && x.numel() > 0 && w.numel() > 0 &&
                     at::isFloatingType(x.scalar_type()) && x.scalar_type() == w.scalar_type();
  if (!plain) {
    // CUDA (cuDNN has a native transposed convolution), unbatched input, empty or odd cases: libtorch's own.
    return Ret(info.Env(), at::conv_transpose2d(x, w, b, stride, padding, outputPadding, groups, dilation));
  }
  at::Tensor y = ConvTranspose2dFn::apply(x, w, stride, padding, outputPadding, groups, dilation);
  if (b && b->defined()) {
    TORCH_CHECK(b->dim() == 1 && b->size(0) == y.size(1), "convTranspose2d: bias must have ", y.size(1), " elements, got shape ",
                b->sizes());
    y = y + b->reshape({1, -1, 1, 1});
  }
  return Ret(info.Env(), y);
}
Napi::Value Linear(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::linear(T(info, 0), T(info, 1), OptT(info, 2))); }
Napi::Value Matmul(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::matmul(T(info, 0), T(info, 1))); }
// linalgEigvalsh(x, upper) / linalgEigh(x, upper): eigenvalues (ascending) / [values, vectors] of symmetric
// (batched) matrices, reading the upper or the lower triangle (LAPACK syevd on the CPU).
Napi::Value LinalgEigvalsh(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::linalg_eigvalsh(T(info, 0), Bool(info, 1) ? "U" : "L"));
}
Napi::Value LinalgEigh(const Napi::CallbackInfo& info) {
  auto r = at::linalg_eigh(T(info, 0), Bool(info, 1) ? "U" : "L");
  return RetList(info.Env(), {std::get<0>(r), std::get<1>(r)});
}
Napi::Value Softmax(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::softmax(T(info, 0), Int(info, 1))); }
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::log_softmax(T(info, 0), Int(info, 1))); }

// The output of a resize of x (any leading dims, then H, W) to size[2], checked before it is allocated.
void CheckResizeOutput(const Napi::CallbackInfo& info, const char* op, const at::Tensor& x, const std::vector<int64_t>& size) {
  if (size.size() != 2 || size[0] < 0 || size[1] < 0) {
    OutOfRange(info, std::string(op) + ": size must be 2 non-negative integers, got " + ListText(size));
  }
  if (x.dim() < 2) return;  // libtorch refuses it
  double lead = 1;
  for (int64_t d = 0; d < x.dim() - 2; d++) lead *= static_cast<double>(x.size(d));
  CheckAlloc(info.Env(), op, lead * static_cast<double>(size[0]) * static_cast<double>(size[1]), x.element_size(), x.device());
}

// interpolate(x, size[2], mode, alignCorners, scaleH | null, scaleW | null)
// mode 0 nearest, 1 bilinear, 2 bicubic, 3 area (adaptive average pooling, as PyTorch does).
//
// A scale factor is what torch.nn.functional.interpolate passes along with the size it implies, floor(in·scale),
// and the kernels map output pixels back through it: a scale that does not match the size makes them read
// outside the input (scale 1e-7 with size 3 read out of bounds and crashed). So a given scale must be finite,
// positive and imply exactly the given size.
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const std::vector<int64_t> size = Ints(info, 1);
  const int64_t mode = IntIn(info, 2, "interpolate", "mode", 0, 3);
  const bool alignCorners = Bool(info, 3);
  const c10::optional<double> sh = OptNum(info, 4), sw = OptNum(info, 5);
  if (x.dim() != 4) OutOfRange(info, "interpolate: expected a 4-D [N, C, H, W] input, got " + std::to_string(x.dim()) + "-D");
  CheckResizeOutput(info, "interpolate", x, size);
  const c10::optional<double> scales[2] = {sh, sw};
  for (int i = 0; i < 2; i++) {
    if (!scales[i]) continue;
    const double s = *scales[i];
    const double in = static_cast<double>(x.size(2 + i));
    const char* name = i == 0 ? "scaleH" : "scaleW";
    if (!std::isfinite(s) || !(s > 0))
      OutOfRange(info, std::string("interpolate: ") + name + " must be a finite positive number, got " + NumText(s));
    if (std::floor(in * s) != static_cast<double>(size[i])) {
      OutOfRange(info, std::string("interpolate: ") + name + " " + NumText(s) + " implies size " + NumText(std::floor(in * s)) +
                           " for an input of " + std::to_string(x.size(2 + i)) + ", but size " + std::to_string(size[i]) +
                           " was given (give a scale only with the size it implies)");
    }
  }
  switch (mode) {
    case 0:
      return Ret(info.Env(), at::upsample_nearest2d(x, size, sh, sw));
    case 1:
      return Ret(info.Env(), at::upsample_bilinear2d(x, size, alignCorners, sh, sw));
    case 2:
      return Ret(info.Env(), at::upsample_bicubic2d(x, size, alignCorners, sh, sw));
    case 3:
      return Ret(info.Env(), at::adaptive_avg_pool2d(x, size));
    default:
      throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "interpolate: unknown mode");
  }
}
// avgPool2d(x, kernel[2], stride[2], padding[2], ceilMode, countIncludePad)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  const char* op = "avgPool2d";
  return Ret(info.Env(), at::avg_pool2d(T(info, 0), WindowPair(info, 1, op, "kernel", 1), WindowPair(info, 2, op, "stride", 1),
                                        WindowPair(info, 3, op, "padding", 0), Bool(info, 4), Bool(info, 5)));
}
// maxPool2d(x, kernel[2], stride[2], padding[2], dilation[2], ceilMode)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  const char* op = "maxPool2d";
  return Ret(info.Env(), at::max_pool2d(T(info, 0), WindowPair(info, 1, op, "kernel", 1), WindowPair(info, 2, op, "stride", 1),
                                        WindowPair(info, 3, op, "padding", 0), WindowPair(info, 4, op, "dilation", 1), Bool(info, 5)));
}
Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const std::vector<int64_t> size = Ints(info, 1);
  CheckResizeOutput(info, "adaptiveAvgPool2d", x, size);
  return Ret(info.Env(), at::adaptive_avg_pool2d(x, size));
}
// gridSample(x, grid, mode (0 bilinear, 1 nearest), padding (0 zeros, 1 border, 2 reflection), alignCorners)
Napi::Value GridSampleExport(const Napi::CallbackInfo& info) {
  const int64_t mode = Int(info, 2), padding = Int(info, 3);
  TORCH_CHECK_VALUE(mode >= 0 && mode <= 2, "gridSample: mode code must be 0, 1 or 2, got ", mode);
  TORCH_CHECK_VALUE(padding >= 0 && padding <= 2, "gridSample: padding code must be 0, 1 or 2, got ", padding);
  return Ret(info.Env(), GridSample(T(info, 0), T(info, 1), mode, padding, Bool(info, 4)));
}
// affineGrid(theta, size [N, C, H, W] or [N, C, D, H, W], alignCorners) -> grid [N, (D,) H, W, 2 or 3]
Napi::Value AffineGrid(const Napi::CallbackInfo& info) {
  const at::Tensor& theta = T(info, 0);
  const std::vector<int64_t> size = Ints(info, 1);
  if (size.size() != 4 && size.size() != 5) OutOfRange(info, "affineGrid: size must have 4 or 5 entries, got " + ListText(size));
  double numel = static_cast<double>(size.size() - 2);
  for (size_t k = 0; k < size.size(); k++) {
    if (size[k] < 0) OutOfRange(info, "affineGrid: size must be non-negative, got " + ListText(size));
    if (k != 1) numel *= static_cast<double>(size[k]);
  }
  CheckAlloc(info.Env(), "affineGrid", numel, theta.element_size(), theta.device());
  return Ret(info.Env(), at::affine_grid_generator(theta, size, Bool(info, 2)));
}
// batchNorm(x, weight | null, bias | null, runningMean | null, runningVar | null, training, momentum, eps)
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return Ret(info.Env(),
             at::batch_norm(T(info, 0), OptT(info, 1), OptT(info, 2), OptT(info, 3), OptT(info, 4), Bool(info, 5),
                            FiniteNum(info, 6, "batchNorm", "momentum"), FiniteNum(info, 7, "batchNorm", "eps"), /*cudnn_enabled=*/true));
}
Napi::Value Dropout(const Napi::CallbackInfo& info) {
  const double p = Num(info, 1);
  if (!(p >= 0 && p <= 1)) OutOfRange(info, "dropout: p must be from 0 to 1, got " + NumText(p));
  return Ret(info.Env(), at::dropout(T(info, 0), p, Bool(info, 2)));
}
// crossEntropy(logits, target, weight | null, reduction (0 none, 1 mean, 2 sum), ignoreIndex, labelSmoothing)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::cross_entropy_loss(T(info, 0), T(info, 1), OptT(info, 2), Reduction(info, 3), Int(info, 4),
                                                FiniteNum(info, 5, "crossEntropy", "labelSmoothing")));
}
// binaryCrossEntropyWithLogits(x, target, weight | null, posWeight | null, reduction)
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), OptT(info, 2), OptT(info, 3), Reduction(info, 4)));
}
// oneHot(x, numClasses | -1): -1 takes max(x) + 1 classes (libtorch computes it; its allocation errors are coded).
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const int64_t classes = IntIn(info, 1, "oneHot", "numClasses", -1, INT64_MAX);
  if (classes > 0) CheckAlloc(info.Env(), "oneHot", static_cast<double>(x.numel()) * static_cast<double>(classes), 8, x.device());
  return Ret(info.Env(), at::one_hot(x, classes));
}

}  // namespace

void RegisterNn(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("conv2d", Conv2d);
  ILSGAN_EXPORT("convTranspose2d", ConvTranspose2d);
  ILSGAN_EXPORT("linear", Linear);
  ILSGAN_EXPORT("matmul", Matmul);
  ILSGAN_EXPORT("linalgEigvalsh", LinalgEigvalsh);
  ILSGAN_EXPORT("linalgEigh", LinalgEigh);
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
