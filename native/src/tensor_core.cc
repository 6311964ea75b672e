// SPDX-License-Identifier: MIT
// Tensor lifetime, metadata, creation from host memory and constants, conversion back to host memory.
#include <ATen/Parallel.h>

#include <atomic>

#include "args.h"

namespace ilsgan {

Napi::FunctionReference& ErrorClass() {
  // Never destroyed: deleting a reference after the environment is torn down at exit would crash.
  static auto* ref = new Napi::FunctionReference();
  return *ref;
}

namespace {

// setErrorClass(ctor): native errors become `new ctor(message)` with `code` set.
Napi::Value SetErrorClass(const Napi::CallbackInfo& info) {
  if (!info[0].IsFunction()) BadArg(info, 0, "a constructor");
  ErrorClass() = Napi::Persistent(info[0].As<Napi::Function>());
  return info.Env().Undefined();
}

at::TensorOptions Opts(at::ScalarType dtype, at::Device device) { return at::TensorOptions().dtype(dtype).device(device); }

Napi::Value Dispose(const Napi::CallbackInfo& info) {
  double h;
  if (napi_get_value_double(info.Env(), info[0], &h) != napi_ok) BadArg(info, 0, "a tensor handle");
  Handles().Release(info.Env(), h);
  return info.Env().Undefined();
}

Napi::Value ReleaseAll(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Handles().ReleaseAll()));
}

Napi::Value LiveTensors(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Handles().live()));
}

Napi::Value LiveBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Handles().LiveBytes(Bool(info, 0))));
}

Napi::Value Shape(const Napi::CallbackInfo& info) { return RetInts(info.Env(), T(info, 0).sizes()); }
Napi::Value Strides(const Napi::CallbackInfo& info) { return RetInts(info.Env(), T(info, 0).strides()); }
Napi::Value Dim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).dim())); }
Napi::Value Numel(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).numel()));
}
Napi::Value DtypeOf(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).scalar_type()));
}
Napi::Value DeviceOf(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(DeviceCode(T(info, 0).device())));
}
Napi::Value IsContiguous(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T(info, 0).is_contiguous()); }

size_t ElementSize(at::ScalarType t) { return c10::elementSize(t); }

// fromBuffer(bytes: ArrayBuffer | TypedArray, dtype, shape, device)
Napi::Value FromBuffer(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const void* data = nullptr;
  size_t byteLength = 0;
  if (info[0].IsTypedArray()) {
    Napi::TypedArray ta = info[0].As<Napi::TypedArray>();
    data = static_cast<const uint8_t*>(ta.ArrayBuffer().Data()) + ta.ByteOffset();
    byteLength = ta.ByteLength();
  } else if (info[0].IsArrayBuffer()) {
    Napi::ArrayBuffer ab = info[0].As<Napi::ArrayBuffer>();
    data = ab.Data();
    byteLength = ab.ByteLength();
  } else if (info[0].IsDataView()) {
    Napi::DataView dv = info[0].As<Napi::DataView>();
    data = static_cast<const uint8_t*>(dv.ArrayBuffer().Data()) + dv.ByteOffset();
    byteLength = dv.ByteLength();
  } else {
    BadArg(info, 0, "an ArrayBuffer or typed array");
  }
  const at::ScalarType dtype = Dtype(info, 1);
  const std::vector<int64_t> shape = Ints(info, 2);
  const at::Device device = Dev(info, 3);
  int64_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0) throw Coded(env, "ERR_INVALID_ARG_VALUE", "fromBuffer: negative dimension in shape");
    numel *= s;
  }
  if (static_cast<size_t>(numel) * ElementSize(dtype) != byteLength) {
    throw Coded(env, "ERR_INVALID_ARG_VALUE",
                "fromBuffer: " + std::to_string(byteLength) + " bytes do not hold " + std::to_string(numel) +
                    " elements of " + c10::toString(dtype));
  }
  // For a device, stage the bytes in pinned memory and copy without waiting: a blocking copy would stall the
  // host until the device's queue drains (a sync per uploaded batch). The caching host allocator keeps the
  // pinned block until the copy has run.
  at::Tensor t = at::empty(shape, Opts(dtype, at::kCPU).pinned_memory(!device.is_cpu()));
  if (byteLength > 0) std::memcpy(t.data_ptr(), data, byteLength);
  if (!device.is_cpu()) t = t.to(device, /*non_blocking=*/true);
  return Ret(env, std::move(t));
}

// Reads of tensor contents into JS (toBuffer, item) since the addon loaded: on a GPU each one waits for the
// device's queue to drain, so benchmarks count them.
std::atomic<int64_t> hostReads{0};

// toBuffer(h) -> ArrayBuffer holding the elements in row-major order (copied to the host).
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  hostReads++;
  at::Tensor t = T(info, 0).detach().to(at::kCPU).contiguous();
  const size_t n = t.nbytes();
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(info.Env(), n);
  if (n > 0) std::memcpy(ab.Data(), t.data_ptr(), n);
  return ab;
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  hostReads++;
  const at::Tensor& t = T(info, 0);
  return Napi::Number::New(info.Env(), t.item().toDouble());
}

Napi::Value HostReads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(hostReads.load())); }

// Constants: full(shape, value, dtype, device), empty/zeros/ones(shape, dtype, device)
Napi::Value Full(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::full(Ints(info, 0), Num(info, 1), Opts(Dtype(info, 2), Dev(info, 3))));
}
Napi::Value Empty(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::empty(Ints(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value Zeros(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::zeros(Ints(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value Ones(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::ones(Ints(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value ScalarTensor(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::scalar_tensor(Num(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value ZerosLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::zeros_like(T(info, 0))); }
Napi::Value OnesLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::ones_like(T(info, 0))); }
Napi::Value FullLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::full_like(T(info, 0), Num(info, 1))); }
Napi::Value Arange(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::arange(Num(info, 0), Num(info, 1), Num(info, 2), Opts(Dtype(info, 3), Dev(info, 4))));
}
Napi::Value Linspace(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::linspace(Num(info, 0), Num(info, 1), Int(info, 2), Opts(Dtype(info, 3), Dev(info, 4))));
}
Napi::Value Eye(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::eye(Int(info, 0), Int(info, 1), Opts(Dtype(info, 2), Dev(info, 3))));
}

// to(h, dtype | null, device | null, copy)
Napi::Value To(const Napi::CallbackInfo& info) {
  const at::Tensor& t = T(info, 0);
  const at::ScalarType dtype = IsNullish(info, 1) ? t.scalar_type() : Dtype(info, 1);
  const at::Device device = IsNullish(info, 2) ? t.device() : Dev(info, 2);
  return Ret(info.Env(), t.to(device, dtype, /*non_blocking=*/false, /*copy=*/Bool(info, 3)));
}
Napi::Value Clone(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).clone()); }
Napi::Value Contiguous(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).contiguous()); }
Napi::Value Detach(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).detach()); }
Napi::Value Alias(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0)); }
// setData(dst, src): dst keeps its identity (handles, requires_grad, leaf-ness) but now holds src's data,
// possibly on another device or of another dtype (PyTorch's `param.data = …`).
Napi::Value SetData(const Napi::CallbackInfo& info) {
  T(info, 0).set_data(T(info, 1));
  return info.Env().Undefined();
}
Napi::Value Copy_(const Napi::CallbackInfo& info) {
  T(info, 0).copy_(T(info, 1));
  return info.Env().Undefined();
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const int64_t n = Int(info, 0);
  if (n < 1) throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "setNumThreads: expected a positive integer");
  at::set_num_threads(static_cast<int>(n));
  return info.Env().Undefined();
}
Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

}  // namespace

void RegisterTensorCore(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("setErrorClass", SetErrorClass);
  ILSGAN_EXPORT("dispose", Dispose);
  ILSGAN_EXPORT("releaseAll", ReleaseAll);
  ILSGAN_EXPORT("liveTensors", LiveTensors);
  ILSGAN_EXPORT("liveBytes", LiveBytes);
  ILSGAN_EXPORT("shape", Shape);
  ILSGAN_EXPORT("strides", Strides);
  ILSGAN_EXPORT("dim", Dim);
  ILSGAN_EXPORT("numel", Numel);
  ILSGAN_EXPORT("dtype", DtypeOf);
  ILSGAN_EXPORT("device", DeviceOf);
  ILSGAN_EXPORT("isContiguous", IsContiguous);
  ILSGAN_EXPORT("fromBuffer", FromBuffer);
  ILSGAN_EXPORT("toBuffer", ToBuffer);
  ILSGAN_EXPORT("item", Item);
  ILSGAN_EXPORT("hostReads", HostReads);
  ILSGAN_EXPORT("full", Full);
  ILSGAN_EXPORT("empty", Empty);
  ILSGAN_EXPORT("zeros", Zeros);
  ILSGAN_EXPORT("ones", Ones);
  ILSGAN_EXPORT("scalarTensor", ScalarTensor);
  ILSGAN_EXPORT("zerosLike", ZerosLike);
  ILSGAN_EXPORT("onesLike", OnesLike);
  ILSGAN_EXPORT("fullLike", FullLike);
  ILSGAN_EXPORT("arange", Arange);
  ILSGAN_EXPORT("linspace", Linspace);
  ILSGAN_EXPORT("eye", Eye);
  ILSGAN_EXPORT("to", To);
  ILSGAN_EXPORT("clone", Clone);
  ILSGAN_EXPORT("contiguous", Contiguous);
  ILSGAN_EXPORT("detach", Detach);
  ILSGAN_EXPORT("alias", Alias);
  ILSGAN_EXPORT("copy_", Copy_);
  ILSGAN_EXPORT("setData", SetData);
  ILSGAN_EXPORT("setNumThreads", SetNumThreads);
  ILSGAN_EXPORT("getNumThreads", GetNumThreads);
}

}  // namespace ilsgan
