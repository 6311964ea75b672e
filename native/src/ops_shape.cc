// SPDX-License-Identifier: MIT
// Shape, indexing and layout ops.
#include "args.h"

namespace ilsgan {
namespace {

Napi::Value Reshape(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::reshape(T(info, 0), Ints(info, 1))); }
Napi::Value View(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).view(Ints(info, 1))); }
Napi::Value Permute(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).permute(Ints(info, 1))); }
Napi::Value Transpose(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::transpose(T(info, 0), Int(info, 1), Int(info, 2))); }
Napi::Value Expand(const Napi::CallbackInfo& info) { return Ret(info.Env(), T(info, 0).expand(Ints(info, 1))); }
// repeat(x, repeats): allocates numel(x)·prod(repeats) elements, checked first.
Napi::Value Repeat(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const std::vector<int64_t> repeats = Ints(info, 1);
  double numel = static_cast<double>(x.numel());
  for (int64_t r : repeats) {
    if (r < 0) OutOfRange(info, "repeat: repeats must be non-negative, got " + ListText(repeats));
    numel *= static_cast<double>(r);
  }
  CheckAlloc(info.Env(), "repeat", numel, x.element_size(), x.device());
  return Ret(info.Env(), x.repeat(repeats));
}
Napi::Value Flatten(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::flatten(T(info, 0), Int(info, 1), Int(info, 2))); }
Napi::Value Squeeze(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::squeeze(T(info, 0))); }
Napi::Value SqueezeDim(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::squeeze(T(info, 0), Int(info, 1))); }
Napi::Value Unsqueeze(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::unsqueeze(T(info, 0), Int(info, 1))); }
Napi::Value Cat(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::cat(Tensors(info, 0), Int(info, 1))); }
Napi::Value Stack(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::stack(Tensors(info, 0), Int(info, 1))); }
// split(x, sizes[], dim) -> handles
Napi::Value SplitWithSizes(const Napi::CallbackInfo& info) {
  return RetList(info.Env(), at::split_with_sizes(T(info, 0), Ints(info, 1), Int(info, 2)));
}
Napi::Value Chunk(const Napi::CallbackInfo& info) { return RetList(info.Env(), at::chunk(T(info, 0), Int(info, 1), Int(info, 2))); }
Napi::Value Unbind(const Napi::CallbackInfo& info) { return RetList(info.Env(), at::unbind(T(info, 0), Int(info, 1))); }
// slice(x, dim, start, end, step); end may be null (to the end)
Napi::Value Slice(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> end;
  if (!IsNullish(info, 3)) end = Int(info, 3);
  return Ret(info.Env(), at::slice(T(info, 0), Int(info, 1), Int(info, 2), end, Int(info, 4)));
}
Napi::Value Select(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::select(T(info, 0), Int(info, 1), Int(info, 2))); }
Napi::Value Narrow(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::narrow(T(info, 0), Int(info, 1), Int(info, 2), Int(info, 3)));
}
Napi::Value IndexSelect(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::index_select(T(info, 0), Int(info, 1), T(info, 2))); }
Napi::Value Gather(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::gather(T(info, 0), Int(info, 1), T(info, 2))); }
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::scatter(T(info, 0), Int(info, 1), T(info, 2), T(info, 3)));
}
Napi::Value ScatterAdd(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::scatter_add(T(info, 0), Int(info, 1), T(info, 2), T(info, 3)));
}
c10::List<c10::optional<at::Tensor>> IndexList(const Napi::CallbackInfo& info, size_t i) {
  c10::List<c10::optional<at::Tensor>> list;
  for (const at::Tensor& t : OptTensors(info, i)) {
    if (t.defined())
      list.push_back(c10::optional<at::Tensor>(t));
    else
      list.push_back(c10::nullopt);
  }
  return list;
}
// index(x, [idx | null, ...]): advanced indexing, x[idx0, idx1, ...]
Napi::Value Index(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::index(T(info, 0), IndexList(info, 1))); }
// indexPut(x, indices, values, accumulate): out-of-place x[indices] = values
Napi::Value IndexPut(const Napi::CallbackInfo& info) {
  return Ret(info.Env(), at::index_put(T(info, 0), IndexList(info, 1), T(info, 2), Bool(info, 3)));
}
Napi::Value MaskedFill(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::masked_fill(T(info, 0), T(info, 1), Num(info, 2))); }
Napi::Value MaskedSelect(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::masked_select(T(info, 0), T(info, 1))); }
Napi::Value Nonzero(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::nonzero(T(info, 0))); }
Napi::Value Roll(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::roll(T(info, 0), Ints(info, 1), Ints(info, 2))); }
Napi::Value Flip(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::flip(T(info, 0), Ints(info, 1))); }
Napi::Value Tril(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::tril(T(info, 0), Int(info, 1))); }
Napi::Value Triu(const Napi::CallbackInfo& info) { return Ret(info.Env(), at::triu(T(info, 0), Int(info, 1))); }

// pad(x, pads, mode, value): pads as in torch.nn.functional.pad (last dim first);
// mode 0 constant, 1 reflect, 2 replicate, 3 circular.
Napi::Value Pad(const Napi::CallbackInfo& info) {
  const at::Tensor& x = T(info, 0);
  const std::vector<int64_t> pads = Ints(info, 1);
  const int64_t mode = Int(info, 2);
  // The padded result, checked before it is allocated (pads apply to the last dims, last dim first).
  if (pads.size() % 2 == 0 && pads.size() / 2 <= static_cast<size_t>(x.dim())) {
    double numel = 1;
    for (int64_t d = 0; d < x.dim(); d++) {
      const size_t fromLast = static_cast<size_t>(x.dim() - 1 - d);
      double extent = static_cast<double>(x.size(d));
      if (2 * fromLast + 1 < pads.size()) extent += static_cast<double>(pads[2 * fromLast]) + static_cast<double>(pads[2 * fromLast + 1]);
      numel *= std::max(0.0, extent);
    }
    CheckAlloc(info.Env(), "pad", numel, x.element_size(), x.device());
  }
  if (mode == 0) return Ret(info.Env(), at::constant_pad_nd(x, pads, Num(info, 3)));
  const size_t spatial = pads.size() / 2;
  if (pads.size() % 2 != 0 || spatial < 1 || spatial > 3 || x.dim() < static_cast<int64_t>(spatial) + 1) {
    throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE",
                "pad: non-constant padding takes 2, 4 or 6 pad values and an input with a batch or channel dim");
  }
  if (mode == 1) {
    if (spatial == 1) return Ret(info.Env(), at::reflection_pad1d(x, pads));
    if (spatial == 2) return Ret(info.Env(), at::reflection_pad2d(x, pads));
    return Ret(info.Env(), at::reflection_pad3d(x, pads));
  }
  if (mode == 2) {
    if (spatial == 1) return Ret(info.Env(), at::replication_pad1d(x, pads));
    if (spatial == 2) return Ret(info.Env(), at::replication_pad2d(x, pads));
    return Ret(info.Env(), at::replication_pad3d(x, pads));
  }
  if (mode == 3) return Ret(info.Env(), at::_pad_circular(x, pads));
  throw Coded(info.Env(), "ERR_INVALID_ARG_VALUE", "pad: unknown mode");
}

}  // namespace

void RegisterShape(Napi::Env env, Exports exports) {
  ILSGAN_EXPORT("reshape", Reshape);
  ILSGAN_EXPORT("view", View);
  ILSGAN_EXPORT("permute", Permute);
  ILSGAN_EXPORT("transpose", Transpose);
  ILSGAN_EXPORT("expand", Expand);
  ILSGAN_EXPORT("repeat", Repeat);
  ILSGAN_EXPORT("flatten", Flatten);
  ILSGAN_EXPORT("squeeze", Squeeze);
  ILSGAN_EXPORT("squeezeDim", SqueezeDim);
  ILSGAN_EXPORT("unsqueeze", Unsqueeze);
  ILSGAN_EXPORT("cat", Cat);
  ILSGAN_EXPORT("stack", Stack);
  ILSGAN_EXPORT("splitWithSizes", SplitWithSizes);
  ILSGAN_EXPORT("chunk", Chunk);
  ILSGAN_EXPORT("unbind", Unbind);
  ILSGAN_EXPORT("slice", Slice);
  ILSGAN_EXPORT("select", Select);
  ILSGAN_EXPORT("narrow", Narrow);
  ILSGAN_EXPORT("indexSelect", IndexSelect);
  ILSGAN_EXPORT("gather", Gather);
  ILSGAN_EXPORT("scatter", Scatter);
  ILSGAN_EXPORT("scatterAdd", ScatterAdd);
  ILSGAN_EXPORT("index", Index);
  ILSGAN_EXPORT("indexPut", IndexPut);
  ILSGAN_EXPORT("maskedFill", MaskedFill);
  ILSGAN_EXPORT("maskedSelect", MaskedSelect);
  ILSGAN_EXPORT("nonzero", Nonzero);
  ILSGAN_EXPORT("roll", Roll);
  ILSGAN_EXPORT("flip", Flip);
  ILSGAN_EXPORT("tril", Tril);
  ILSGAN_EXPORT("triu", Triu);
  ILSGAN_EXPORT("pad", Pad);
}

}  // namespace ilsgan
