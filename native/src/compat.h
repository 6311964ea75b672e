// SPDX-License-Identifier: MIT
// The only place that knows libtorch versions apart (Debian's 1.13 vs pip PyTorch 2.x).
#pragma once
#include "pch.h"
#include <ATen/autocast_mode.h>
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

}  // namespace ilsgan::compat
