// SPDX-License-Identifier: MIT
// The c10d part of compat.h: where libtorch 1.13 (Debian) and 2.x (pip PyTorch) differ in the process-group API.
// Included by dist.cc only, after the c10d headers, so that no other translation unit pays for them.
#pragma once
#include <torch/version.h>

namespace ilsgan::compat {

// ProcessGroupGloo and ProcessGroupNCCL derive from c10d::ProcessGroup up to 1.13 and from c10d::Backend from
// 2.0 on (a ProcessGroup then wraps one Backend per device type). The collectives used here (allreduce,
// broadcast, barrier) have the same signatures on both.
#if TORCH_VERSION_MAJOR >= 2
using ProcessGroupBase = c10d::Backend;
#else
using ProcessGroupBase = c10d::ProcessGroup;
#endif

#if ILSGAN_WITH_NCCL
// From about 2.3 on, a ProcessGroupNCCL destroyed without shutdown() warns and aborts its communicators from the
// destructor; shutdown() ends them and the watchdog threads in order. 1.13 has no shutdown(): the destructor does it.
// (Written from the 2.x headers; first compiled on the GPU machine, see scripts/gpu/distCheck.sh.)
inline void ShutdownNccl(c10d::ProcessGroupNCCL& pg) {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 3)
  pg.shutdown();
#else
  (void)pg;
#endif
}
#endif

}  // namespace ilsgan::compat
