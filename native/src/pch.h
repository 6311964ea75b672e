// SPDX-License-Identifier: MIT
// Precompiled header: the heavy libtorch headers every translation unit needs, compiled once (~17 s on 2 cores).
#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/autograd/generated/variable_factories.h>
#include <napi.h>
