// SPDX-License-Identifier: MIT
// The only place that knows libtorch versions apart (Debian's 1.13 vs pip PyTorch 2.x).
#pragma once
#include "pch.h"
#include <ATen/autocast_mode.h>
#include <c10/util/Logging.h>
#include <torch/version.h>

namespace ilsgan::compat {

constexpr bool kTorch2 = TORCH_VERSION_MAJOR >= 2;

inline void SetAutocast(bool enabled, bool cuda, at::ScalarType dtype) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
  const auto type = cuda ? at::kCUDA : at::kCPU;
  at::autocast::set_autocast_enabled(type, enabled);
  at::autocast::set_autocast_dtype(type, dtype);
#else
  if (cuda) {
    at::autocast::set_enabled(enabled);
    at::autocast::set_autocast_gpu_dtype(dtype);
  } else {
    at::autocast::set_cpu_enabled(enabled);
    at::autocast::set_autocast_cpu_dtype(dtype);
  }
#endif
  if (!enabled) at::autocast::clear_cache();
}

// dst[i].lerp_(src[i], w) for all i in one _foreach_ call, where the libtorch has it (2.0+); false where not.
inline bool ForeachLerp_(std::vector<at::Tensor>& dst, const std::vector<at::Tensor>& src, double w) {
#if TORCH_VERSION_MAJOR >= 2
  at::_foreach_lerp_(dst, src, w);
  return true;
#else
  (void)dst, (void)src, (void)w;
  return false;
#endif
}

// libtorch builds a symbolised C++ backtrace into every c10::Error it throws (about 1–15 ms each), which the
// addon then drops (guard.h keeps what_without_backtrace). An empty fetcher makes a refused call cost what any
// JS exception costs. The std::string overload exists in 1.13 and 2.x alike.
inline void DisableErrorBacktraces() {
  c10::SetStackTraceFetcher(std::function<std::string()>([] { return std::string(); }));
}

}  // namespace ilsgan::compat
