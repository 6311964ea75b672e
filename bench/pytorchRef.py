# SPDX-License-Identifier: MIT
# PyTorch side of bench/engine.ts: the same work timed from Python. Prints one JSON line.
import json
import sys
import time

import torch

threads, reps, conv_iters, small_iters = (int(a) for a in sys.argv[1:5])
device = sys.argv[5] if len(sys.argv) > 5 else 'cpu'
cuda = device.startswith('cuda')
torch.set_num_threads(threads)
torch.manual_seed(0)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


x = torch.randn(16, 64, 64, 64, device=device, requires_grad=True)
w = torch.randn(64, 64, 3, 3, device=device, requires_grad=True)


def sync():
    if cuda:
        torch.cuda.synchronize()


def conv_step():
    y = torch.nn.functional.conv2d(x, w, padding=1)
    y.backward(torch.ones_like(y))
    x.grad = None
    w.grad = None


for _ in range(2):
    conv_step()
conv = []
sync()
for _ in range(reps):
    t0 = time.perf_counter()
    for _ in range(conv_iters):
        conv_step()
    sync()
    conv.append((time.perf_counter() - t0) / conv_iters * 1e3)

a = torch.randn(16, device=device)
b = torch.randn(16, device=device)


def small_loop(n):
    for _ in range(n):
        c = a + b
        c = a * b
        c = a * 0.5
        c = a.sigmoid()


small_loop(1000)
small = []
for _ in range(reps):
    t0 = time.perf_counter()
    small_loop(small_iters)
    sync()
    small.append((time.perf_counter() - t0) / (small_iters * 4) * 1e6)

print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(),
                  "conv_ms": median(conv), "small_op_us": median(small), "conv_all": conv, "small_all": small}))
