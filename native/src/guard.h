// SPDX-License-Identifier: MIT
// The one try/catch: every C++ exception leaving an export becomes a JS Error with a Node-style `code`.
#pragma once
#include <cstring>

#include "pch.h"

namespace ilsgan {

/** The JS class native errors are made of (TensorError, registered by TS at load); Error until then. */
Napi::FunctionReference& ErrorClass();

/** A JS error carrying `code`: a TypeError for wrong argument types, else an instance of ErrorClass(). */
inline Napi::Error Coded(Napi::Env env, const char* code, const std::string& message, bool typeError = false) {
  Napi::Error e;
  if (typeError) {
    e = Napi::TypeError::New(env, message);
  } else if (!ErrorClass().IsEmpty()) {
    e = Napi::Error(env, ErrorClass().New({Napi::String::New(env, message)}));
  } else {
    e = Napi::Error::New(env, message);
  }
  e.Set("code", Napi::String::New(env, code));
  return e;
}

/** A RangeError carrying `code`: a number, size or list length outside what the export accepts. */
inline Napi::Error CodedRange(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::RangeError::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

/**
 * libtorch 1.13 reports a failed host allocation as a plain c10::Error ("DefaultCPUAllocator: can't allocate
 * memory", or "Storage size calculation overflowed" for a size beyond int64); only CUDA's has its own class.
 * Both mean "this tensor cannot be allocated", which callers handle as ERR_OUT_OF_MEMORY.
 */
inline bool IsAllocationFailure(const c10::Error& e) {
  const char* m = e.what_without_backtrace();
  return std::strstr(m, "can't allocate memory") || std::strstr(m, "not enough memory") || std::strstr(m, "out of memory") ||
         std::strstr(m, "Storage size calculation overflowed");
}

inline const char* CodeFor(const c10::Error& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e) || IsAllocationFailure(e)) return "ERR_OUT_OF_MEMORY";
  if (dynamic_cast<const c10::IndexError*>(&e)) return "ERR_TORCH_INDEX";
  if (dynamic_cast<const c10::ValueError*>(&e)) return "ERR_TORCH_VALUE";
  if (dynamic_cast<const c10::TypeError*>(&e)) return "ERR_TORCH_TYPE";
  if (dynamic_cast<const c10::NotImplementedError*>(&e)) return "ERR_TORCH_NOT_IMPLEMENTED";
  return "ERR_TORCH";
}

template <Napi::Value (*Fn)(const Napi::CallbackInfo&)>
Napi::Value Exported(const Napi::CallbackInfo& info) {
  try {
    return Fn(info);
  } catch (const Napi::Error&) {
    throw;  // already JS-shaped (args.h, handle.h)
  } catch (const c10::Error& e) {
    throw Coded(info.Env(), CodeFor(e), e.what_without_backtrace());
  } catch (const std::bad_alloc&) {
    throw Coded(info.Env(), "ERR_OUT_OF_MEMORY", "host allocation failed");
  } catch (const std::length_error& e) {
    throw Coded(info.Env(), "ERR_OUT_OF_MEMORY", std::string("host allocation failed: ") + e.what());
  } catch (const std::exception& e) {
    throw Coded(info.Env(), "ERR_NATIVE", e.what());
  }
}

}  // namespace ilsgan
