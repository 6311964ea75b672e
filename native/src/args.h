// SPDX-License-Identifier: MIT
// Checked readers for export arguments and the writers of results. TS normalises arguments; C++ checks them
// anyway, because the binding is also reachable from user code and fuzz tests: a wrong type is a TypeError,
// never a crash.
#pragma once
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "guard.h"
#include "handle.h"

#include <ATen/ScalarOps.h>  // c10::scalar_to_tensor, at::detail::scalar_tensor_static (WrappedNumber)

namespace ilsgan {

[[noreturn]] inline void BadArg(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  throw Coded(info.Env(), "ERR_INVALID_ARG_TYPE", "argument " + std::to_string(i) + ": expected " + expected, true);
}

inline at::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  napi_value v = info[i];
  double h;
  if (napi_get_value_double(info.Env(), v, &h) != napi_ok) BadArg(info, i, "a tensor handle");
  return Handles().Get(info.Env(), h);
}

inline bool IsNullish(const Napi::CallbackInfo& info, size_t i) { return i >= info.Length() || info[i].IsNull() || info[i].IsUndefined(); }

inline c10::optional<at::Tensor> OptT(const Napi::CallbackInfo& info, size_t i) {
  if (IsNullish(info, i)) return c10::nullopt;
  return T(info, i);
}

inline double Num(const Napi::CallbackInfo& info, size_t i) {
  double d;
  if (napi_get_value_double(info.Env(), info[i], &d) != napi_ok) BadArg(info, i, "a number");
  return d;
}

/** A number as an at::Scalar: integral values become integer scalars, so int tensors accept them too. */
inline at::Scalar Sc(const Napi::CallbackInfo& info, size_t i) {
  const double d = Num(info, i);
  if (d == static_cast<double>(static_cast<int64_t>(d)) && d >= -9007199254740991.0 && d <= 9007199254740991.0) {
    return at::Scalar(static_cast<int64_t>(d));
  }
  return at::Scalar(d);
}

/**
 * A number as the other operand of `like (op) number`, passed as PyTorch's Python binding passes `x * 2.5`: a
 * 0-dim CPU tensor marked as a "wrapped number", which the Tensor overload takes with the Scalar overload's type
 * rules (a wrapped number never promotes the tensor's dtype; a CPU scalar is accepted with a CUDA tensor). For
 * float32/float64 tensors the number is stored in the tensor's dtype, which is the conversion TensorIterator
 * would make itself (its `to` of a CPU scalar to the common dtype); other dtypes keep a double and let
 * TensorIterator convert, since half/bfloat16 kernels read the unconverted value. libtorch 1.13's Scalar
 * overloads take five dispatches (mul → mul + to + _to_copy + empty_strided + copy_) where this takes one.
 */
inline at::Tensor WrappedNumber(const at::Scalar& s, const at::Tensor& like) {
  const at::ScalarType dt = like.scalar_type();
  at::Tensor t = (dt == at::kFloat || dt == at::kDouble) ? at::detail::scalar_tensor_static(s, dt, at::kCPU) : c10::scalar_to_tensor(s);
  t.unsafeGetTensorImpl()->set_wrapped_number(true);
  return t;
}

inline c10::optional<double> OptNum(const Napi::CallbackInfo& info, size_t i) {
  if (IsNullish(info, i)) return c10::nullopt;
  return Num(info, i);
}

inline int64_t Int(const Napi::CallbackInfo& info, size_t i) {
  const double d = Num(info, i);
  if (!(d >= -9007199254740991.0 && d <= 9007199254740991.0) || d != static_cast<double>(static_cast<int64_t>(d))) {
    BadArg(info, i, "an integer");
  }
  return static_cast<int64_t>(d);
}

inline bool Bool(const Napi::CallbackInfo& info, size_t i) {
  bool b;
  if (napi_get_value_bool(info.Env(), info[i], &b) != napi_ok) BadArg(info, i, "a boolean");
  return b;
}

inline std::string Str(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsString()) BadArg(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

/** A number for a message: "1e-07", "2.5", "nan" (std::to_string prints 1e-7 as 0.000000). */
inline std::string NumText(double d) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", d);
  return text;
}

[[noreturn]] inline void OutOfRange(const Napi::CallbackInfo& info, const std::string& message) {
  throw CodedRange(info.Env(), "ERR_OUT_OF_RANGE", message);
}

/** A finite number (hyperparameters, scale factors: NaN and ±Infinity mean nothing there). */
inline double FiniteNum(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name) {
  const double d = Num(info, i);
  if (!std::isfinite(d)) OutOfRange(info, std::string(op) + ": " + name + " must be a finite number, got " + NumText(d));
  return d;
}

// Lists longer than this are refused before anything is allocated for them (a sparse `new Array(2 ** 32 - 1)`
// would otherwise reserve 32 GB): no shape, index list or parameter group comes near it.
constexpr uint32_t kMaxListLength = uint32_t{1} << 24;

inline Napi::Array Arr(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  if (i >= info.Length() || !info[i].IsArray()) BadArg(info, i, expected);
  Napi::Array a = info[i].As<Napi::Array>();
  if (a.Length() > kMaxListLength) {
    OutOfRange(info, "argument " + std::to_string(i) + ": a list of " + std::to_string(a.Length()) +
                         " entries is longer than any the binding takes (" + std::to_string(kMaxListLength) + ")");
  }
  return a;
}

inline std::vector<int64_t> Ints(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = Arr(info, i, "an array of integers");
  const uint32_t n = a.Length();
  std::vector<int64_t> out(n);
  for (uint32_t k = 0; k < n; ++k) {
    double d;
    if (napi_get_value_double(info.Env(), a.Get(k), &d) != napi_ok || !(d >= -9007199254740991.0 && d <= 9007199254740991.0) ||
        d != static_cast<double>(static_cast<int64_t>(d))) {
      BadArg(info, i, "an array of integers");
    }
    out[k] = static_cast<int64_t>(d);
  }
  return out;
}

inline std::string ListText(c10::IntArrayRef v) {
  std::string s = "[";
  for (size_t k = 0; k < v.size(); ++k) s += (k ? ", " : "") + std::to_string(v[k]);
  return s + "]";
}

/**
 * The largest host allocation that can succeed here: physical memory, the cgroup's memory limit and the
 * process's address-space and data limits, whichever is least (each read where it can be; unknown ones are
 * skipped). Defined in tensor_core.cc.
 */
uint64_t HostMemoryLimit();

/**
 * Refuses, before anything is allocated, a result of `numel` elements of `itemBytes` each that cannot exist:
 * a byte count beyond int64 anywhere, or beyond HostMemoryLimit() on the CPU. libtorch would otherwise try
 * (and a size that fits the overcommit heuristic but not the machine is then touched page by page until the
 * kernel kills the process). `numel` is a double so that products of huge sizes cannot wrap.
 */
inline void CheckAlloc(const Napi::Env& env, const char* op, double numel, size_t itemBytes, const at::Device& device) {
  const double bytes = numel * static_cast<double>(itemBytes);
  if (!(bytes >= 0)) throw CodedRange(env, "ERR_OUT_OF_RANGE", std::string(op) + ": invalid result size");
  if (bytes > 9.2e18) {
    throw Coded(env, "ERR_OUT_OF_MEMORY",
                std::string(op) + ": the result would take " + NumText(bytes) + " bytes, more than any allocation can hold");
  }
  if (!device.is_cpu() || bytes < 64.0 * 1024 * 1024) return;  // small: the allocator's own error is enough
  const uint64_t limit = HostMemoryLimit();
  if (bytes > static_cast<double>(limit)) {
    throw Coded(env, "ERR_OUT_OF_MEMORY",
                std::string(op) + ": the result would take " + NumText(bytes / 1e9) + " GB, more than this process can allocate (" +
                    NumText(static_cast<double>(limit) / 1e9) + " GB)");
  }
}

/**
 * A shape for a new tensor: integers >= 0, at most 64 of them, whose product and byte count fit (see
 * CheckAlloc). Wrong types are a TypeError (Ints); negative sizes ERR_OUT_OF_RANGE; too big ERR_OUT_OF_MEMORY.
 */
inline std::vector<int64_t> ShapeOf(const Napi::CallbackInfo& info, size_t i, const char* op, at::ScalarType dtype,
                                    const at::Device& device) {
  std::vector<int64_t> shape = Ints(info, i);
  if (shape.size() > 64) OutOfRange(info, std::string(op) + ": a shape has at most 64 dims, got " + std::to_string(shape.size()));
  double numel = 1;
  for (int64_t s : shape) {
    if (s < 0) OutOfRange(info, std::string(op) + ": shape " + ListText(shape) + " has a negative size");
    numel *= static_cast<double>(s);
  }
  CheckAlloc(info.Env(), op, numel, c10::elementSize(dtype), device);
  return shape;
}

/** The largest stride, padding, dilation or kernel size: libtorch's pooling kernels keep them in `int`. */
constexpr int64_t kMaxWindowParam = 2147483647;

/**
 * Two integers in [lo, kMaxWindowParam] (a 2-D stride, padding, dilation or kernel size). Outside that range
 * libtorch truncates some of them to `int` (a kernel of 2^32 + 2 pooled as a kernel of 2), so they are refused.
 */
inline std::vector<int64_t> WindowPair(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo) {
  std::vector<int64_t> v = Ints(info, i);
  const bool ok = v.size() == 2 && v[0] >= lo && v[1] >= lo && v[0] <= kMaxWindowParam && v[1] <= kMaxWindowParam;
  if (!ok) {
    OutOfRange(info, std::string(op) + ": " + name + " must be 2 integers from " + std::to_string(lo) + " to " +
                         std::to_string(kMaxWindowParam) + ", got " + ListText(v));
  }
  return v;
}

/** An integer in [lo, hi]. */
inline int64_t IntIn(const Napi::CallbackInfo& info, size_t i, const char* op, const char* name, int64_t lo, int64_t hi) {
  const int64_t v = Int(info, i);
  if (v < lo || v > hi) {
    OutOfRange(info, std::string(op) + ": " + name + " must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
                         ", got " + std::to_string(v));
  }
  return v;
}

inline std::vector<at::Tensor> Tensors(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = Arr(info, i, "an array of tensor handles");
  const uint32_t n = a.Length();
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (uint32_t k = 0; k < n; ++k) {
    double h;
    if (napi_get_value_double(info.Env(), a.Get(k), &h) != napi_ok) BadArg(info, i, "an array of tensor handles");
    out.push_back(Handles().Get(info.Env(), h));
  }
  return out;
}

/** An array whose entries are handles or null (e.g. optional gradients). */
inline std::vector<at::Tensor> OptTensors(const Napi::CallbackInfo& info, size_t i) {
  Napi::Array a = Arr(info, i, "an array of tensor handles or nulls");
  const uint32_t n = a.Length();
  std::vector<at::Tensor> out(n);
  for (uint32_t k = 0; k < n; ++k) {
    Napi::Value v = a.Get(k);
    if (v.IsNull() || v.IsUndefined()) continue;
    double h;
    if (napi_get_value_double(info.Env(), v, &h) != napi_ok) BadArg(info, i, "an array of tensor handles or nulls");
    out[k] = Handles().Get(info.Env(), h);
  }
  return out;
}

/** Dtype codes are at::ScalarType values; only the ones the TS API names are accepted. */
inline at::ScalarType Dtype(const Napi::CallbackInfo& info, size_t i) {
  const int64_t c = Int(info, i);
  switch (c) {
    case static_cast<int64_t>(at::kByte):
    case static_cast<int64_t>(at::kChar):
    case static_cast<int64_t>(at::kShort):
    case static_cast<int64_t>(at::kInt):
    case static_cast<int64_t>(at::kLong):
    case static_cast<int64_t>(at::kHalf):
    case static_cast<int64_t>(at::kFloat):
    case static_cast<int64_t>(at::kDouble):
    case static_cast<int64_t>(at::kBool):
    case static_cast<int64_t>(at::kBFloat16):
      return static_cast<at::ScalarType>(c);
    default:
      BadArg(info, i, "a dtype code");
  }
}

inline c10::optional<at::ScalarType> OptDtype(const Napi::CallbackInfo& info, size_t i) {
  if (IsNullish(info, i)) return c10::nullopt;
  return Dtype(info, i);
}

/** Device codes: -1 is the CPU, k >= 0 is cuda:k. */
inline at::Device Dev(const Napi::CallbackInfo& info, size_t i) {
  const int64_t c = Int(info, i);
  if (c == -1) return at::Device(at::kCPU);
  if (c >= 0 && c < 64) return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(c));
  BadArg(info, i, "a device code");
}

inline int64_t DeviceCode(const at::Device& d) { return d.is_cuda() ? (d.has_index() ? d.index() : 0) : -1; }

inline Napi::Value Ret(const Napi::Env& env, at::Tensor t) {
  if (!t.defined()) return env.Null();
  return Napi::Number::New(env, Handles().Store(std::move(t)));
}

inline Napi::Value RetList(const Napi::Env& env, const std::vector<at::Tensor>& ts) {
  Napi::Array a = Napi::Array::New(env, ts.size());
  for (size_t k = 0; k < ts.size(); ++k) a.Set(static_cast<uint32_t>(k), Ret(env, ts[k]));
  return a;
}

inline Napi::Value RetInts(const Napi::Env& env, c10::IntArrayRef v) {
  Napi::Array a = Napi::Array::New(env, v.size());
  for (size_t k = 0; k < v.size(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(env, static_cast<double>(v[k])));
  return a;
}

using Exports = Napi::Object;
#define ILSGAN_EXPORT(name, fn) exports.Set(name, Napi::Function::New<::ilsgan::Exported<fn>>(env, name))

}  // namespace ilsgan
