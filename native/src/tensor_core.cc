// SPDX-License-Identifier: MIT
// Tensor lifetime, metadata, creation from host memory and constants, conversion back to host memory.
#include <ATen/Parallel.h>
#include <sys/resource.h>
#include <sys/sysinfo.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>

#include "args.h"

namespace ilsgan {

uint64_t HostMemoryLimit() {
  // RAM + swap (the kernel's overcommit bound) and the cgroup's limit do not change: read them once.
  static const uint64_t machine = [] {
    uint64_t limit = UINT64_MAX;
    struct sysinfo si;
    if (sysinfo(&si) == 0 && si.totalram > 0) {
      limit = (static_cast<uint64_t>(si.totalram) + static_cast<uint64_t>(si.totalswap)) * si.mem_unit;
    }
    for (const char* file : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
      std::ifstream in(file);
      unsigned long long v = 0;
      if (in >> v && v > 0) limit = std::min<uint64_t>(limit, v);  // "max" (no limit) does not parse
    }
    return limit;
  }();
  // The process's own limits (ulimit -v / -d) can be changed while it runs (prlimit): read them each time.
  uint64_t limit = machine;
  for (int resource : {RLIMIT_AS, RLIMIT_DATA}) {
    struct rlimit rl;
    if (getrlimit(resource, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) limit = std::min<uint64_t>(limit, rl.rlim_cur);
  }
  return limit;
}

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

Napi::Value LiveTensors(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(Handles().live())); }

Napi::Value LiveBytes(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(Handles().LiveBytes(Bool(info, 0))));
}

Napi::Value Shape(const Napi::CallbackInfo& info) { return RetInts(info.Env(), T(info, 0).sizes()); }
Napi::Value Strides(const Napi::CallbackInfo& info) { return RetInts(info.Env(), T(info, 0).strides()); }
Napi::Value Dim(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).dim())); }
Napi::Value Numel(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).numel())); }
Napi::Value DtypeOf(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(T(info, 0).scalar_type())); }
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
  const at::Device device = Dev(info, 3);
  // ShapeOf refuses sizes whose byte count overflows, so the product below cannot wrap.
  const std::vector<int64_t> shape = ShapeOf(info, 2, "fromBuffer", dtype, device);
  int64_t numel = 1;
  for (int64_t s : shape) numel *= s;
  if (static_cast<size_t>(numel) * ElementSize(dtype) != byteLength) {
    throw Coded(env, "ERR_INVALID_ARG_VALUE",
                "fromBuffer: " + std::to_string(byteLength) + " bytes do not hold " + std::to_string(numel) + " elements of " +
                    c10::toString(dtype));
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

// The largest ArrayBuffer V8 makes (2^53 - 1 bytes on 64-bit); asking for more is a fatal CHECK, not an error.
constexpr double kMaxArrayBufferBytes = 9007199254740991.0;

// toBuffer(h) -> ArrayBuffer holding the elements in row-major order (copied to the host).
//
// V8 aborts the whole process when it cannot get the memory for an ArrayBuffer: napi_create_arraybuffer calls
// v8::ArrayBuffer::New, whose failure is FatalProcessOutOfMemory, not a status. So the size is checked first
// (against V8's limit and HostMemoryLimit), and a large buffer's memory is probed with a fallible malloc of
// the same size (plus a margin) freed just before V8 allocates it: when the probe fails, the call throws
// ERR_OUT_OF_MEMORY instead. (An external ArrayBuffer over our own allocation would avoid the probe, but Node
// frees external memory only when its event loop turns, which a synchronous training loop never lets happen.)
Napi::Value ToBuffer(const Napi::CallbackInfo& info) {
  hostReads++;
  Napi::Env env = info.Env();
  const at::Tensor& src = T(info, 0);
  const double bytes = static_cast<double>(src.numel()) * static_cast<double>(src.element_size());
  if (bytes > kMaxArrayBufferBytes) {
    throw Coded(env, "ERR_OUT_OF_MEMORY", "toBuffer: " + NumText(bytes) + " bytes exceed the largest ArrayBuffer");
  }
  CheckAlloc(env, "toBuffer", static_cast<double>(src.numel()), src.element_size(), at::kCPU);
  at::Tensor t = src.detach().to(at::kCPU).contiguous();
  const size_t n = t.nbytes();
  if (n >= (size_t{1} << 20)) {
    void* probe = std::malloc(n + (size_t{32} << 20));
    if (probe == nullptr) {
      throw Coded(
          env, "ERR_OUT_OF_MEMORY",
          "toBuffer: cannot allocate " + std::to_string(n) + " bytes for the host copy (read the tensor in slices, or free memory)");
    }
    std::free(probe);
  }
  Napi::ArrayBuffer ab = Napi::ArrayBuffer::New(env, n);
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
  const at::ScalarType dtype = Dtype(info, 2);
  const at::Device device = Dev(info, 3);
  return Ret(info.Env(), at::full(ShapeOf(info, 0, "full", dtype, device), Num(info, 1), Opts(dtype, device)));
}
// empty/zeros/ones(shape, dtype, device)
template <at::Tensor (*Make)(at::IntArrayRef, at::TensorOptions)>
Napi::Value Constant(const Napi::CallbackInfo& info, const char* op) {
  const at::ScalarType dtype = Dtype(info, 1);
  const at::Device device = Dev(info, 2);
  return Ret(info.Env(), Make(ShapeOf(info, 0, op, dtype, device), Opts(dtype, device)));
}
at::Tensor MakeEmpty(at::IntArrayRef s, at::TensorOptions o) { return at::empty(s, o); }
at::Tensor MakeZeros(at::IntArrayRef s, at::TensorOptions o) { return at::zeros(s, o); }
at::Tensor MakeOnes(at::IntArrayRef s, at::TensorOptions o) { return at::ones(s, o); }
Napi::Value Empty(const Napi::CallbackInfo& info) { return Constant<MakeEmpty>(info, "empty"); }
Napi::Value Zeros(const Napi::CallbackInfo& info) { return Constant<MakeZeros>(info, "zeros"); }
Napi::Value Ones(const Napi::CallbackInfo& info) { return Constant<MakeOnes>(info, "ones"); }
Napi::Value ScalarTensor(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::scalar_tensor(Num(info, 0), Opts(Dtype(info, 1), Dev(info, 2))));
}
Napi::Value ZerosLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::zeros_like(T(info, 0))); }
Napi::Value OnesLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::ones_like(T(info, 0))); }
Napi::Value FullLike(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::full_like(T(info, 0), Num(info, 1))); }
Napi::Value Arange(const Napi::CallbackInfo& info) {
  const double start = Num(info, 0), end = Num(info, 1), step = Num(info, 2);
  const at::ScalarType dtype = Dtype(info, 3);
  const at::Device device = Dev(info, 4);
  // libtorch checks finiteness and the step's sign itself; the count is checked here before it allocates.
  if (std::isfinite(start) && std::isfinite(end) && std::isfinite(step) && step != 0) {
    CheckAlloc(info.Env(), "arange", std::max(0.0, std::ceil((end - start) / step)), c10::elementSize(dtype), device);
  }
  return Ret(info.Env(), at::arange(start, end, step, Opts(dtype, device)));
}
Napi::Value Linspace(const Napi::CallbackInfo& info) {
  const int64_t steps = IntIn(info, 2, "linspace", "steps", 0, INT64_MAX);
  const at::ScalarType dtype = Dtype(info, 3);
  const at::Device device = Dev(info, 4);
  CheckAlloc(info.Env(), "linspace", static_cast<double>(steps), c10::elementSize(dtype), device);
  return Ret(info.Env(), at::linspace(Num(info, 0), Num(info, 1), steps, Opts(dtype, device)));
}
Napi::Value Eye(const Napi::CallbackInfo& info) {
  const int64_t n = IntIn(info, 0, "eye", "n", 0, INT64_MAX), m = IntIn(info, 1, "eye", "m", 0, INT64_MAX);
  const at::ScalarType dtype = Dtype(info, 2);
  const at::Device device = Dev(info, 3);
  CheckAlloc(info.Env(), "eye", static_cast<double>(n) * static_cast<double>(m), c10::elementSize(dtype), device);
  return Ret(info.Env(), at::eye(n, m, Opts(dtype, device)));
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
