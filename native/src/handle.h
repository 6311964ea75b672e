// SPDX-License-Identifier: MIT
// Tensor handles: JS holds a plain number naming a slot in this table, never a pointer.
//
// A handle is `generation * 2^24 + index`. Disposing a slot bumps its generation, so a stale or forged number
// can only ever miss (ERR_DISPOSED / ERR_INVALID_HANDLE), never reach freed memory. Numbers are the cheapest
// values to pass through Node-API: no object, wrap or finaliser per tensor (see README, "Engine design").
#pragma once
#include "pch.h"

namespace ilsgan {

class HandleTable {
 public:
  static constexpr uint64_t kIndexBits = 24;
  static constexpr uint64_t kIndexMask = (uint64_t{1} << kIndexBits) - 1;
  static constexpr uint64_t kMaxGeneration = uint64_t{1} << 28;

  /** Stores a tensor and returns its handle; an undefined tensor is a caller bug (use Ret's null path). */
  double Store(at::Tensor t);
  /** The tensor behind a handle; throws a coded JS error for disposed or invalid handles. */
  at::Tensor& Get(Napi::Env env, double handle);
  /** Frees a slot. Disposing an already-disposed handle is a no-op; an invalid one throws. */
  void Release(Napi::Env env, double handle);
  /** Frees every live slot (tests and shutdown). */
  size_t ReleaseAll();

  size_t live() const { return live_; }
  /** Bytes held by live tensors' storages, counting each storage once. */
  int64_t LiveBytes(bool cuda) const;

 private:
  struct Slot {
    at::Tensor tensor;
    uint32_t generation = 1;
    bool used = false;
  };
  Slot* Find(Napi::Env env, double handle, bool allowDisposed);
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

HandleTable& Handles();

}  // namespace ilsgan
