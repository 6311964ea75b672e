// SPDX-License-Identifier: MIT
// A process group over PyTorch's c10d (TCPStore rendezvous, ProcessGroupGloo): init, all-reduce, broadcast,
// barrier, destroy. Generic: tensors in, tensors updated in place; no model names. Built only where the Gloo and
// c10d headers exist (ILSGAN_HAS_DIST=1, set by scripts/buildNative.mjs for this file alone); elsewhere
// distBackends() answers [] and the other exports are absent.
#include "args.h"

#if ILSGAN_HAS_DIST
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO 1
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace ilsgan {
namespace {

Napi::Value DistBackends(const Napi::CallbackInfo& info) {
  Napi::Array a = Napi::Array::New(info.Env());
#if ILSGAN_HAS_DIST
  a.Set(0u, Napi::String::New(info.Env(), "gloo"));
#endif
  return a;
}

#if ILSGAN_HAS_DIST

/** The one process group of this process (as torch.distributed's default group). */
struct Group {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> pg;
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

// distInit(rank, worldSize, masterAddr, masterPort, timeoutMs, device): rendezvous at masterAddr:masterPort
// (rank 0 hosts the TCPStore) and a Gloo group over it. device: "" Gloo's default, "iface:<name>" a network
// interface, else a hostname or address to bind (127.0.0.1 for one machine).
Napi::Value DistInit(const Napi::CallbackInfo& info) {
  const int64_t worldSize = IntIn(info, 1, "distInit", "worldSize", 1, 1 << 20);
  const int64_t rank = IntIn(info, 0, "distInit", "rank", 0, worldSize - 1);
  const std::string addr = Str(info, 2);
  const int64_t port = IntIn(info, 3, "distInit", "masterPort", 1, 65535);
  const int64_t timeoutMs = IntIn(info, 4, "distInit", "timeoutMs", 1, int64_t{1} << 40);
  const std::string device = Str(info, 5);
  if (Current()) DistFail(info.Env(), "ERR_DIST_ALREADY_INITIALIZED", "distInit: a process group already exists (distDestroy it first)");
  const std::chrono::milliseconds timeout(timeoutMs);
  auto g = std::make_unique<Group>();
  g->rank = static_cast<int>(rank);
  g->worldSize = static_cast<int>(worldSize);
  Collective(info, nullptr, "distInit", [&] {
    c10d::TCPStoreOptions opts;
    opts.port = static_cast<std::uint16_t>(port);
    opts.isServer = rank == 0;
    opts.numWorkers = static_cast<std::size_t>(worldSize);
    opts.waitWorkers = true;
    opts.timeout = timeout;
    g->store = c10::make_intrusive<c10d::TCPStore>(addr, opts);
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    if (device.rfind("iface:", 0) == 0) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(device.substr(6)));
    } else if (!device.empty()) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(device));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    g->pg = c10::make_intrusive<c10d::ProcessGroupGloo>(g->store, g->rank, g->worldSize, options);
  });
  Current() = std::move(g);
  return info.Env().Undefined();
}

/** The tensors as one flat buffer (a view when there is one contiguous tensor), all of one dtype and device. */
at::Tensor Flatten(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts, const char* op) {
  if (ts.empty()) OutOfRange(info, std::string(op) + ": an empty list of tensors");
  for (const at::Tensor& t : ts) {
    if (t.scalar_type() != ts[0].scalar_type() || t.device() != ts[0].device()) {
      DistFail(info.Env(), "ERR_INVALID_ARG_VALUE", std::string(op) + ": all tensors must have one dtype and device");
    }
  }
  if (ts.size() == 1 && ts[0].is_contiguous()) return ts[0].view(-1);
  std::vector<at::Tensor> flat;
  flat.reserve(ts.size());
  for (const at::Tensor& t : ts) flat.push_back(t.reshape(-1));
  return at::cat(flat);
}

void Unflatten(const at::Tensor& flat, const std::vector<at::Tensor>& ts) {
  if (ts.size() == 1 && ts[0].is_contiguous()) return;  // reduced in place
  int64_t offset = 0;
  for (const at::Tensor& t : ts) {
    const int64_t n = t.numel();
    t.copy_(flat.narrow(0, offset, n).view(t.sizes()));
    offset += n;
  }
}

// distAllReduce(tensors, average): every rank's tensors summed (average: then divided by the world size), in
// place, as one flat Gloo all-reduce.
Napi::Value DistAllReduce(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distAllReduce");
  const std::vector<at::Tensor> ts = Tensors(info, 0);
  const bool average = Bool(info, 1);
  at::NoGradGuard noGrad;
  at::Tensor flat = Flatten(info, ts, "distAllReduce");
  Collective(info, &g, "distAllReduce", [&] {
    std::vector<at::Tensor> bufs{flat};
    c10d::AllreduceOptions opts;
    opts.reduceOp = c10d::ReduceOp::SUM;
    g.pg->allreduce(bufs, opts)->wait();
  });
  if (average) flat.div_(g.worldSize);
  Unflatten(flat, ts);
  return info.Env().Undefined();
}

// distBroadcast(tensors, root): every rank's tensors overwritten with root's, in place.
Napi::Value DistBroadcast(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distBroadcast");
  const std::vector<at::Tensor> ts = Tensors(info, 0);
  const int64_t root = IntIn(info, 1, "distBroadcast", "root", 0, g.worldSize - 1);
  at::NoGradGuard noGrad;
  at::Tensor flat = Flatten(info, ts, "distBroadcast");
  Collective(info, &g, "distBroadcast", [&] {
    std::vector<at::Tensor> bufs{flat};
    c10d::BroadcastOptions opts;
    opts.rootRank = root;
    g.pg->broadcast(bufs, opts)->wait();
  });
  Unflatten(flat, ts);
  return info.Env().Undefined();
}

Napi::Value DistBarrier(const Napi::CallbackInfo& info) {
  Group& g = Live(info, "distBarrier");
  Collective(info, &g, "distBarrier", [&] { g.pg->barrier()->wait(); });
  return info.Env().Undefined();
}

// distDestroy(): drops the group and the store (idempotent).
Napi::Value DistDestroy(const Napi::CallbackInfo& info) {
  std::unique_ptr<Group>& g = Current();
  if (g) {
    g->pg.reset();
    g->store.reset();
    g.reset();
  }
  return info.Env().Undefined();
}

// distState() -> null, or {rank, worldSize, failure}
Napi::Value DistState(const Napi::CallbackInfo& info) {
  const std::unique_ptr<Group>& g = Current();
  if (!g) return info.Env().Null();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("rank", Napi::Number::New(info.Env(), g->rank));
  o.Set("worldSize", Napi::Number::New(info.Env(), g->worldSize));
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
