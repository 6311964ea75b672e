// SPDX-License-Identifier: MIT
// Elementwise ops with broadcasting: tensor-tensor, tensor-scalar, unary, and the in-place updates that
// optimisers and EMA need. Each export is one ATen call.
#include <limits>

#include "args.h"

namespace ilsgan {
namespace {

#define UNARY(NAME, EXPR)                            \
  Napi::Value NAME(const Napi::CallbackInfo& info) { \
    const at::Tensor& x = T(info, 0);                \
    return Ret(info.Env(), EXPR);                    \
  }
#define BINARY(NAME, EXPR)                           \
  Napi::Value NAME(const Napi::CallbackInfo& info) { \
    const at::Tensor& a = T(info, 0);                \
    const at::Tensor& b = T(info, 1);                \
    return Ret(info.Env(), EXPR);                    \
  }
#define SCALAR(NAME, EXPR)                           \
  Napi::Value NAME(const Napi::CallbackInfo& info) { \
    const at::Tensor& a = T(info, 0);                \
    const at::Scalar s = Sc(info, 1);                \
    return Ret(info.Env(), EXPR);                    \
  }
#define INPLACE(NAME, EXPR)                          \
  Napi::Value NAME(const Napi::CallbackInfo& info) { \
    at::Tensor& a = T(info, 0);                      \
    EXPR;                                            \
    return info.Env().Undefined();                   \
  }

// x86's integer division traps (SIGFPE) on INT_MIN / -1, and ATen's integer div/remainder kernels do not
// guard it: refuse that case before it reaches the kernel. Only int32/int64 trap (narrower types are
// computed in int). The check costs two comparisons, and only for integer tensors.
void CheckIntDivision(const at::Tensor& a, const at::Tensor& b) {
  const at::ScalarType rt = at::result_type(a, b);
  if (rt != at::kInt && rt != at::kLong) return;
  at::NoGradGuard no_grad;
  const at::Scalar lowest = rt == at::kInt ? at::Scalar(static_cast<int64_t>(std::numeric_limits<int32_t>::min()))
                                           : at::Scalar(std::numeric_limits<int64_t>::min());
  const bool overflow = at::logical_and(at::eq(a, lowest), at::eq(b, -1)).any().item<bool>();
  TORCH_CHECK_VALUE(!overflow, "integer division overflow: the lowest ", rt, " value divided by -1");
}
void CheckIntDivision(const at::Tensor& a, const at::Scalar& s) {
  if (s.isIntegral(false) && s.toLong() == -1) CheckIntDivision(a, at::scalar_tensor(s, at::kLong));
}

// Tensor (op) tensor.
Napi::Value Add(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::add(T(info, 0), T(info, 1), Sc(info, 2))); }
Napi::Value Sub(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::sub(T(info, 0), T(info, 1), Sc(info, 2))); }
BINARY(Mul, at::mul(a, b))
BINARY(Div, at::div(a, b))
Napi::Value DivMode(const Napi::CallbackInfo& info) {
  CheckIntDivision(T(info, 0), T(info, 1));
  return Ret(info.Env(), at::div(T(info, 0), T(info, 1), Str(info, 2)));
}
BINARY(Pow, at::pow(a, b))
BINARY(Minimum, at::minimum(a, b))
BINARY(Maximum, at::maximum(a, b))
BINARY(Atan2, at::atan2(a, b))
BINARY(Remainder, (CheckIntDivision(a, b), at::remainder(a, b)))
BINARY(Eq, at::eq(a, b))
BINARY(Ne, at::ne(a, b))
BINARY(Lt, at::lt(a, b))
BINARY(Le, at::le(a, b))
BINARY(Gt, at::gt(a, b))
BINARY(Ge, at::ge(a, b))
BINARY(LogicalAnd, at::logical_and(a, b))
BINARY(LogicalOr, at::logical_or(a, b))
BINARY(LogicalXor, at::logical_xor(a, b))

// Tensor (op) scalar; the TS layer maps reversed forms (s - x, s / x, s ** x) onto these.
SCALAR(AddScalar, at::add(a, WrappedNumber(s, a)))
SCALAR(MulScalar, at::mul(a, WrappedNumber(s, a)))
SCALAR(DivScalar, at::div(a, WrappedNumber(s, a)))
SCALAR(RsubScalar, at::rsub(a, WrappedNumber(s, a)))
SCALAR(RdivScalar, at::mul(at::reciprocal(a), WrappedNumber(s, a)))
SCALAR(PowScalar, at::pow(a, s))
SCALAR(RpowScalar, at::pow(s, a))
SCALAR(RemainderScalar, (CheckIntDivision(a, s), at::remainder(a, s)))
SCALAR(EqScalar, at::eq(a, s))
SCALAR(NeScalar, at::ne(a, s))
SCALAR(LtScalar, at::lt(a, s))
SCALAR(LeScalar, at::le(a, s))
SCALAR(GtScalar, at::gt(a, s))
SCALAR(GeScalar, at::ge(a, s))
SCALAR(MinimumScalar, at::clamp_max(a, s))
SCALAR(MaximumScalar, at::clamp_min(a, s))

// Unary.
UNARY(Neg, at::neg(x))
UNARY(Abs, at::abs(x))
UNARY(Sign, at::sign(x))
UNARY(Sqrt, at::sqrt(x))
UNARY(Rsqrt, at::rsqrt(x))
UNARY(Square, at::square(x))
UNARY(Reciprocal, at::reciprocal(x))
UNARY(Exp, at::exp(x))
UNARY(Expm1, at::expm1(x))
UNARY(Log, at::log(x))
UNARY(Log1p, at::log1p(x))
UNARY(Sin, at::sin(x))
UNARY(Cos, at::cos(x))
UNARY(Erf, at::erf(x))
UNARY(Sigmoid, at::sigmoid(x))
UNARY(LogSigmoid, at::log_sigmoid(x))
UNARY(Tanh, at::tanh(x))
UNARY(Relu, at::relu(x))
UNARY(Round, at::round(x))
UNARY(Floor, at::floor(x))
UNARY(Ceil, at::ceil(x))
UNARY(Trunc, at::trunc(x))
UNARY(LogicalNot, at::logical_not(x))
UNARY(Isnan, at::isnan(x))
UNARY(Isinf, at::isinf(x))
UNARY(Isfinite, at::isfinite(x))

Napi::Value Softplus(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::softplus(T(info, 0), Num(info, 1), Num(info, 2))); }
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::leaky_relu(T(info, 0), Num(info, 1))); }
Napi::Value Gelu(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::gelu(T(info, 0))); }
// clamp(x, min | null, max | null)
Napi::Value Clamp(const Napi::CallbackInfo& info) {
  const c10::optional<double> lo = OptNum(info, 1), hi = OptNum(info, 2);
  const at::Tensor& x = T(info, 0);
  c10::optional<at::Scalar> slo, shi;
  if (lo) slo = *lo;
  if (hi) shi = *hi;
  return Ret(info.Env(), at::clamp(x, slo, shi));
}
// hardtanh(x, min, max): clamp's values with a one-kernel backward (gradient 0 at exactly min or max, where
// clamp passes it; clamp's backward takes four kernels).
Napi::Value Hardtanh(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::hardtanh(T(info, 0), Sc(info, 1), Sc(info, 2))); }
Napi::Value Where(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::where(T(info, 0), T(info, 1), T(info, 2))); }
Napi::Value Lerp(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::lerp(T(info, 0), T(info, 1), Num(info, 2))); }
Napi::Value LerpTensor(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::lerp(T(info, 0), T(info, 1), T(info, 2))); }
Napi::Value Addcmul(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::addcmul(T(info, 0), T(info, 1), T(info, 2), Num(info, 3)));
}
Napi::Value NanToNum(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::nan_to_num(T(info, 0), Num(info, 1), Num(info, 2), Num(info, 3)));
}

// In place (persistent state updated under no-grad: parameters, optimiser moments, EMA, running stats).
INPLACE(Add_, a.add_(T(info, 1), Sc(info, 2)))
INPLACE(AddScalar_, a.add_(WrappedNumber(Sc(info, 1), a)))
INPLACE(Mul_, a.mul_(T(info, 1)))
INPLACE(MulScalar_, a.mul_(WrappedNumber(Sc(info, 1), a)))
INPLACE(Div_, a.div_(T(info, 1)))
INPLACE(Lerp_, a.lerp_(T(info, 1), Num(info, 2)))
INPLACE(Zero_, a.zero_())
INPLACE(Fill_, a.fill_(Sc(info, 1)))
INPLACE(Addcmul_, a.addcmul_(T(info, 1), T(info, 2), Num(info, 3)))
INPLACE(NanToNum_, a.nan_to_num_(Num(info, 1), Num(info, 2), Num(info, 3)))
Napi::Value Clamp_(const Napi::CallbackInfo& info) {
  at::Tensor& x = T(info, 0);
  const c10::optional<double> lo = OptNum(info, 1), hi = OptNum(info, 2);
  c10::optional<at::Scalar> slo, shi;
  if (lo) slo = *lo;
  if (hi) shi = *hi;
  x.clamp_(slo, shi);
  return info.Env().Undefined();
}

}  // namespace

void RegisterPointwise(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("add", Add);
  ILSGAN_EXPORT("sub", Sub);
  ILSGAN_EXPORT("mul", Mul);
  ILSGAN_EXPORT("div", Div);
  ILSGAN_EXPORT("divMode", DivMode);
  ILSGAN_EXPORT("pow", Pow);
  ILSGAN_EXPORT("minimum", Minimum);
  ILSGAN_EXPORT("maximum", Maximum);
  ILSGAN_EXPORT("atan2", Atan2);
  ILSGAN_EXPORT("remainder", Remainder);
  ILSGAN_EXPORT("eq", Eq);
  ILSGAN_EXPORT("ne", Ne);
  ILSGAN_EXPORT("lt", Lt);
  ILSGAN_EXPORT("le", Le);
  ILSGAN_EXPORT("gt", Gt);
  ILSGAN_EXPORT("ge", Ge);
  ILSGAN_EXPORT("logicalAnd", LogicalAnd);
  ILSGAN_EXPORT("logicalOr", LogicalOr);
  ILSGAN_EXPORT("logicalXor", LogicalXor);
  ILSGAN_EXPORT("addScalar", AddScalar);
  ILSGAN_EXPORT("mulScalar", MulScalar);
  ILSGAN_EXPORT("divScalar", DivScalar);
  ILSGAN_EXPORT("rsubScalar", RsubScalar);
  ILSGAN_EXPORT("rdivScalar", RdivScalar);
  ILSGAN_EXPORT("powScalar", PowScalar);
  ILSGAN_EXPORT("rpowScalar", RpowScalar);
  ILSGAN_EXPORT("remainderScalar", RemainderScalar);
  ILSGAN_EXPORT("eqScalar", EqScalar);
  ILSGAN_EXPORT("neScalar", NeScalar);
  ILSGAN_EXPORT("ltScalar", LtScalar);
  ILSGAN_EXPORT("leScalar", LeScalar);
  ILSGAN_EXPORT("gtScalar", GtScalar);
  ILSGAN_EXPORT("geScalar", GeScalar);
  ILSGAN_EXPORT("minimumScalar", MinimumScalar);
  ILSGAN_EXPORT("maximumScalar", MaximumScalar);
  ILSGAN_EXPORT("neg", Neg);
  ILSGAN_EXPORT("abs", Abs);
  ILSGAN_EXPORT("sign", Sign);
  ILSGAN_EXPORT("sqrt", Sqrt);
  ILSGAN_EXPORT("rsqrt", Rsqrt);
  ILSGAN_EXPORT("square", Square);
  ILSGAN_EXPORT("reciprocal", Reciprocal);
  ILSGAN_EXPORT("exp", Exp);
  ILSGAN_EXPORT("expm1", Expm1);
  ILSGAN_EXPORT("log", Log);
  ILSGAN_EXPORT("log1p", Log1p);
  ILSGAN_EXPORT("sin", Sin);
  ILSGAN_EXPORT("cos", Cos);
  ILSGAN_EXPORT("erf", Erf);
  ILSGAN_EXPORT("sigmoid", Sigmoid);
  ILSGAN_EXPORT("logSigmoid", LogSigmoid);
  ILSGAN_EXPORT("tanh", Tanh);
  ILSGAN_EXPORT("relu", Relu);
  ILSGAN_EXPORT("round", Round);
  ILSGAN_EXPORT("floor", Floor);
  ILSGAN_EXPORT("ceil", Ceil);
  ILSGAN_EXPORT("trunc", Trunc);
  ILSGAN_EXPORT("logicalNot", LogicalNot);
  ILSGAN_EXPORT("isnan", Isnan);
  ILSGAN_EXPORT("isinf", Isinf);
  ILSGAN_EXPORT("isfinite", Isfinite);
  ILSGAN_EXPORT("softplus", Softplus);
  ILSGAN_EXPORT("leakyRelu", LeakyRelu);
  ILSGAN_EXPORT("gelu", Gelu);
  ILSGAN_EXPORT("clamp", Clamp);
  ILSGAN_EXPORT("hardtanh", Hardtanh);
  ILSGAN_EXPORT("where", Where);
  ILSGAN_EXPORT("lerp", Lerp);
  ILSGAN_EXPORT("lerpTensor", LerpTensor);
  ILSGAN_EXPORT("addcmul", Addcmul);
  ILSGAN_EXPORT("nanToNum", NanToNum);
  ILSGAN_EXPORT("add_", Add_);
  ILSGAN_EXPORT("addScalar_", AddScalar_);
  ILSGAN_EXPORT("mul_", Mul_);
  ILSGAN_EXPORT("mulScalar_", MulScalar_);
  ILSGAN_EXPORT("div_", Div_);
  ILSGAN_EXPORT("lerp_", Lerp_);
  ILSGAN_EXPORT("zero_", Zero_);
  ILSGAN_EXPORT("fill_", Fill_);
  ILSGAN_EXPORT("addcmul_", Addcmul_);
  ILSGAN_EXPORT("nanToNum_", NanToNum_);
  ILSGAN_EXPORT("clamp_", Clamp_);
}

}  // namespace ilsgan
