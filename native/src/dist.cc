// SPDX-License-Identifier: MIT
// A process group over PyTorch's c10d (TCPStore rendezvous; ProcessGroupGloo on the CPU, ProcessGroupNCCL on
// GPUs): init, all-reduce, broadcast, barrier, destroy. Generic: tensors in, tensors updated in place; no model
// names; the backend is chosen by the caller. Each backend is built only where its headers exist
// (ILSGAN_WITH_GLOO, ILSGAN_WITH_NCCL: set by scripts/buildNative.mjs for this file alone); without either,
// distBackends() answers [] and the other exports are absent.
//
// The NCCL parts were written against the 1.13 and 2.x headers but could not be compiled where they were written
// (no CUDA there); scripts/gpu/distCheck.sh builds and checks them on a GPU machine. If they do not compile there,
// the build says why and builds this file without NCCL.
#include "args.h"

#ifndef ILSGAN_WITH_GLOO
#define ILSGAN_WITH_GLOO 0
#endif
#ifndef ILSGAN_WITH_NCCL
#define ILSGAN_WITH_NCCL 0
#endif
#define ILSGAN_HAS_DIST (ILSGAN_WITH_GLOO || ILSGAN_WITH_NCCL)

#if ILSGAN_HAS_DIST
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if ILSGAN_WITH_GLOO
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if ILSGAN_WITH_NCCL
// ProcessGroupNCCL.hpp declares nothing unless USE_C10D_NCCL is defined (libtorch's own build defines it).
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL 1
#endif
#include <c10/cuda/CUDAFunctions.h>
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/cuda.h>
#endif
#if ILSGAN_HAS_DIST
#include "dist_compat.h"
#endif

namespace ilsgan {
namespace {

Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
  uint32_t n = 0;
#if ILSGAN_WITH_GLOO
  a.Set(n++, Napi::String::New(info.Env(), "gloo"));
#endif
#if ILSGAN_WITH_NCCL
  a.Set(n++, Napi::String::New(info.Env(), "nccl"));
#endif
  (void)n;
  return a;
}

#if ILSGAN_HAS_DIST

/** The one process group of this process (as torch.distributed's default group). */
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<compat::ProcessGroupBase> pg;
#if ILSGAN_WITH_NCCL
  c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;  // the same group as pg when the backend is NCCL (for shutdown)
#endif
  std::string backend;
  // Where the collectives run: the CPU for Gloo, this rank's GPU for NCCL. Tensors elsewhere are staged through
  // one buffer there (an NCCL group's host-side flags and counters, for instance).
  at::Device device{at::kCPU};
  int rank = 0;
  int worldSize = 1;
  std::string failure;  // the first collective's error: the group is unusable after it (peers are out of step)
};
std::unique_ptr<Group>& Current() {
  static std::unique_ptr<Group>* group = new std::unique_ptr<Group>();
  return *group;
}

[[noreturn]] void DistFail(const Napi::Env& env, const char* code, const std::string& message) { throw Coded(env, code, message); }

Group& Live(const Napi::CallbackInfo& info, const char* op) {
  std::unique_ptr<Group>& g = Current();
  if (!g) DistFail(info.Env(), "ERR_DIST_NOT_INITIALIZED", std::string(op) + ": no process group (call distInit first)");
  if (!g->failure.empty()) DistFail(info.Env(), "ERR_DIST", std::string(op) + ": the process group failed earlier: " + g->failure);
  return *g;
}

/** Gloo and c10d report peers that died or never came as exceptions; they become ERR_DIST (ERR_DIST_TIMEOUT). */
template <typename Fn>
void Collective(const Napi::CallbackInfo& info, Group* g, const char* op, Fn&& fn) {
  std::string message;
  try {
    fn();
    return;
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    message = e.what_without_backtrace();
  } catch (const std::exception& e) {
    message = e.what();
  }
  // The first line is the reason; Gloo appends its source location and the peer's address on later lines.
  const size_t nl = message.find('\n');
  if (nl != std::string::npos) message.resize(nl);
  if (g) g->failure = message;
  const bool timedOut = message.find("imeout") != std::string::npos || message.find("imed out") != std::string::npos;
  DistFail(info.Env(), timedOut ? "ERR_DIST_TIMEOUT" : "ERR_DIST", std::string(op) + ": " + message);
}

// distInit(rank, worldSize, masterAddr, masterPort, timeoutMs, glooDevice, backend, cudaDevice): rendezvous at
// masterAddr:masterPort (rank 0 hosts the TCPStore) and a process group over it. backend: "gloo" (default) or
// "nccl". glooDevice (Gloo only): "" Gloo's default, "iface:<name>" a network interface, else a hostname or
// address to bind (127.0.0.1 for one machine). cudaDevice (NCCL only): the GPU index of this rank (its LOCAL_RANK).
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  const int64_t worldSize = IntIn(info, 1, "distInit", "worldSize", 1, 1 << 20);
  const int64_t rank = IntIn(info, 0, "distInit", "rank", 0, worldSize - 1);
  const std::string addr = Str(info, 2);
  const int64_t port = IntIn(info, 3, "distInit", "masterPort", 1, 65535);
  const int64_t timeoutMs = IntIn(info, 4, "distInit", "timeoutMs", 1, int64_t{1} << 40);
  const std::string glooDevice = Str(info, 5);
  const std::string backend = IsNullish(info, 6) ? "gloo" : Str(info, 6);
  if (backend != "gloo" && backend != "nccl") {
    DistFail(info.Env(), "ERR_INVALID_ARG_VALUE", "distInit: backend must be \"gloo\" or \"nccl\", got \"" + backend + "\"");
  }
  if ((backend == "gloo" && !ILSGAN_WITH_GLOO) || (backend == "nccl" && !ILSGAN_WITH_NCCL)) {
    DistFail(info.Env(), "ERR_DIST_NOT_BUILT", "distInit: this addon was built without the " + backend + " backend");
  }
  if (Current()) DistFail(info.Env(), "ERR_DIST_ALREADY_INITIALIZED", "distInit: a process group already exists (distDestroy it first)");
  const std::chrono::milliseconds timeout(timeoutMs);
  auto g = std::make_unique<Group>();
  g->rank = static_cast<int>(rank);
  g->worldSize = static_cast<int>(worldSize);
  g->backend = backend;
#if ILSGAN_WITH_NCCL
  if (backend == "nccl") {
    const int64_t count = static_cast<int64_t>(torch::cuda::device_count());
    if (count == 0) DistFail(info.Env(), "ERR_NO_CUDA", "distInit: the nccl backend needs a GPU, and CUDA sees none");
    g->device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(IntIn(info, 7, "distInit", "cudaDevice", 0, count - 1)));
  }
#endif
  Collective(info, nullptr, "distInit", [&] {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = rank == 0;
    opts.numWorkers = static_cast<std::size_t>(worldSize);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    g->store = c10::make_intrusive<c10d::TCPStore>(addr, opts);
#if ILSGAN_WITH_GLOO
    if (backend == "gloo") {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      if (glooDevice.rfind("iface:", 0) == 0) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(glooDevice.substr(6)));
      } else if (!glooDevice.empty()) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(glooDevice));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->worldSize, options);
    }
#endif
#if ILSGAN_WITH_NCCL
    if (backend == "nccl") {
      // As torch.cuda.set_device(local_rank) before init_process_group: NCCL's communicator and its streams belong
      // to this GPU, and no rank creates a context on GPU 0 that it does not use.
      c10::cuda::set_device(g->device.index());
      auto options = c10d::ProcessGroupNCCL::Options::create();
      options->timeout = timeout;  // the watchdog's limit for one collective
      g->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(g->store, g->rank, g->worldSize, options);
      g->pg = g->nccl;
    }
#endif
  });
  Current() = std::move(g);
  return info.Env().Undefined();
}

/** Whether the collective can work on the tensor itself: one contiguous tensor, already on the group's device. */
bool InPlace(const std::vector<at::Tensor>& ts, const at::Device& device) {
  return ts.size() == 1 && ts[0].is_contiguous() && ts[0].device() == device;
}

/**
 * The tensors as one flat buffer on the group's device (a view when InPlace), all of one dtype and device. One
 * buffer is one collective call, whatever the length of the list.
 */
at::Tensor Flatten(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts, const char* op, const at::Device& device) {
  if (ts.empty()) OutOfRange(info, std::string(op) + ": an empty list of tensors");
  for (const at::Tensor& t : ts) {
    if (t.scalar_type() != ts[0].scalar_type() || t.device() != ts[0].device()) {
      DistFail(info.Env(), "ERR_INVALID_ARG_VALUE", std::string(op) + ": all tensors must have one dtype and device");
    }
  }
  if (InPlace(ts, device)) return ts[0].view(-1);
  std::vector<at::Tensor> flat;
  flat.reserve(ts.size());
  for (const at::Tensor& t : ts) flat.push_back(t.reshape(-1));
  return at::cat(flat).to(device);
}

/** Copies the reduced buffer back into the tensors (copy_ crosses devices where it was staged). */
void Unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& ts, const at::Device& device) {
  if (InPlace(ts, device)) return;  // reduced in place
  int64_t offset = 0;
  for (const at::Tensor& t : ts) {
    const int64_t n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

// distAllReduce(tensors, average): every rank's tensors summed (average: then divided by the world size), in
// place, as one flat all-reduce. Sum then divide, not ReduceOp::AVG: Gloo has no AVG.
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distAllReduce");
  const std::vector<at::Tensor> ts = Tensors(info, 0);
  const bool average = Bool(info, 1);
  at::NoGradGuard noGrad;
  at::Tensor flat = Flatten(info, ts, "distAllReduce", g.device);
  Collective(info, &g, "distAllReduce", [&] {
    std::vector<at::Tensor> bufs{flat};
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    g.pg->allreduce(bufs, opts)->wait();
  });
  if (average) flat.div_(g.worldSize);
  Unflatten(flat, ts, g.device);
  return info.Env().Undefined();
}

// distBroadcast(tensors, root): every rank's tensors overwritten with root's, in place.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distBroadcast");
  const std::vector<at::Tensor> ts = Tensors(info, 0);
  const int64_t root = IntIn(info, 1, "distBroadcast", "root", 0, g.worldSize - 1);
  at::NoGradGuard noGrad;
  at::Tensor flat = Flatten(info, ts, "distBroadcast", g.device);
  Collective(info, &g, "distBroadcast", [&] {
    std::vector<at::Tensor> bufs{flat};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    g.pg->broadcast(bufs, opts)->wait();
  });
  Unflatten(flat, ts, g.device);
  return info.Env().Undefined();
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distBarrier");
  Collective(info, &g, "distBarrier", [&] {
    c10d::BarrierOptions opts;
    // NCCL's barrier is an all-reduce on a GPU: name this rank's, or it guesses one from the rank.
    if (g.device.is_cuda()) opts.device_ids = {g.device.index()};
    g.pg->barrier(opts)->wait();
  });
  return info.Env().Undefined();
}

// distDestroy(): drops the group and the store (idempotent).
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  std::unique_ptr<Group>& g = Current();
  if (g) {
#if ILSGAN_WITH_NCCL
    if (g->nccl) {
      try {
        compat::ShutdownNccl(*g->nccl);
      } catch (const std::exception&) {
        // A group whose peer died may fail to shut down cleanly; it is dropped all the same.
      }
      g->nccl.reset();
    }
#endif
    g->pg.reset();
    g->store.reset();
    g.reset();
  }
  return info.Env().Undefined();
}

// distState() -> null, or {rank, worldSize, backend, device, failure}
Napi::Value DistState(const Napi::CallbackInfo& info) {
  const std::unique_ptr<Group>& g = Current();
  if (!g) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rank", Napi::Number::New(info.Env(), g->rank));
  o.Set("worldSize", Napi::Number::New(info.Env(), g->worldSize));
  o.Set("backend", Napi::String::New(info.Env(), g->backend));
  o.Set("device", Napi::String::New(info.Env(), g->device.str()));
  o.Set("failure", g->failure.empty() ? info.Env().Null() : Napi::String::New(info.Env(), g->failure));
  return o;
}

#endif  // ILSGAN_HAS_DIST

}  // namespace

void RegisterDist(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("distBackends", DistBackends);
#if ILSGAN_HAS_DIST
  ILSGAN_EXPORT("distInit", DistInit);
  ILSGAN_EXPORT("distAllReduce", DistAllReduce);
  ILSGAN_EXPORT("distBroadcast", DistBroadcast);
  ILSGAN_EXPORT("distBarrier", DistBarrier);
  ILSGAN_EXPORT("distDestroy", DistDestroy);
  ILSGAN_EXPORT("distState", DistState);
#endif
}

}  // namespace ilsgan
