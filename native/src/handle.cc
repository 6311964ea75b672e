// SPDX-License-Identifier: MIT
// Tensor handle table (see handle.h).
#include "handle.h"

#include <unordered_set>

#include "guard.h"

namespace ilsgan {

HandleTable& Handles() {
  // Never destroyed: tensors must not be freed during static destruction, after libtorch's own teardown.
  static auto* table = new HandleTable();
  return *table;
}

double HandleTable::Store(at::Tensor t) {
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    if (slots_.size() > kIndexMask) throw std::runtime_error("too many live tensors (16M): dispose some");
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.tensor = std::move(t);
  s.used = true;
  ++live_;
  return static_cast<double>((uint64_t{s.generation} << kIndexBits) | index);
}

HandleTable::Slot* HandleTable::Find(Napi::Env env, double handle, bool allowDisposed) {
  if (!(handle >= 0) || handle > 9007199254740991.0 || handle != static_cast<double>(static_cast<uint64_t>(handle))) {
    throw Coded(env, "ERR_INVALID_HANDLE", "not a tensor handle");
  }
  const uint64_t h = static_cast<uint64_t>(handle);
  const uint64_t index = h & kIndexMask;
  const uint64_t generation = h >> kIndexBits;
  if (index >= slots_.size() || generation == 0 || generation > slots_[index].generation) {
    throw Coded(env, "ERR_INVALID_HANDLE", "not a tensor handle");
  }
  Slot& s = slots_[index];
  if (generation != s.generation || !s.used) {
    if (allowDisposed) return nullptr;
    throw Coded(env, "ERR_DISPOSED", "tensor was disposed");
  }
  return &s;
}

at::Tensor& HandleTable::Get(Napi::Env env, double handle) { return Find(env, handle, false)->tensor; }

void HandleTable::Release(Napi::Env env, double handle) {
  Slot* s = Find(env, handle, true);
  if (s == nullptr) return;
  s->tensor = at::Tensor();
  s->used = false;
  s->generation = s->generation + 1 >= kMaxGeneration ? 1 : s->generation + 1;
  free_.push_back(static_cast<uint32_t>(s - slots_.data()));
  --live_;
}

size_t HandleTable::ReleaseAll() {
  size_t n = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    Slot& s = slots_[i];
    if (!s.used) continue;
    s.tensor = at::Tensor();
    s.used = false;
    s.generation = s.generation + 1 >= kMaxGeneration ? 1 : s.generation + 1;
    free_.push_back(static_cast<uint32_t>(i));
    ++n;
  }
  live_ = 0;
  return n;
}

int64_t HandleTable::LiveBytes(bool cuda) const {
  std::unordered_set<const void*> seen;
  int64_t bytes = 0;
  for (const Slot& s : slots_) {
    if (!s.used || !s.tensor.defined() || s.tensor.is_cuda() != cuda) continue;
    if (!s.tensor.has_storage()) continue;
    const auto& storage = s.tensor.storage();
    if (seen.insert(storage.unsafeGetStorageImpl()).second) bytes += static_cast<int64_t>(storage.nbytes());
  }
  return bytes;
}

}  // namespace ilsgan
