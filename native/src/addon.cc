// SPDX-License-Identifier: MIT
// The addon's export table: each family file registers its own exports.
#include "args.h"
#include "compat.h"

namespace ilsgan {
void RegisterTensorCore(Napi::Env env, Exports exports);
void RegisterPointwise(Napi::Env env, Exports exports);
void RegisterReduce(Napi::Env env, Exports exports);
void RegisterShape(Napi::Env env, Exports exports);
void RegisterNn(Napi::Env env, Exports exports);
void RegisterAutograd(Napi::Env env, Exports exports);
void RegisterOptim(Napi::Env env, Exports exports);
void RegisterRandom(Napi::Env env, Exports exports);
void RegisterRuntime(Napi::Env env, Exports exports);
void RegisterDist(Napi::Env env, Exports exports);
}  // namespace ilsgan

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ilsgan::compat::DisableErrorBacktraces();
  ilsgan::RegisterTensorCore(env, exports);
  ilsgan::RegisterPointwise(env, exports);
  ilsgan::RegisterReduce(env, exports);
  ilsgan::RegisterShape(env, exports);
  ilsgan::RegisterNn(env, exports);
  ilsgan::RegisterAutograd(env, exports);
  ilsgan::RegisterOptim(env, exports);
  ilsgan::RegisterRandom(env, exports);
  ilsgan::RegisterRuntime(env, exports);
  ilsgan::RegisterDist(env, exports);
  return exports;
}

NODE_API_MODULE(ilsgan_native, Init)
