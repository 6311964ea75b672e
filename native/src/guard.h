// SPDX-License-Identifier: MIT
// The one try/catch: every C++ exception leaving an export becomes a JS Error with a Node-style `code`.
#pragma once
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

inline const char* CodeFor(const c10::Error& e) {
  if (dynamic_cast<const c10::OutOfMemoryError*>(&e)) return "ERR_OUT_OF_MEMORY";
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
  } catch (const std::exception& e) {
    throw Coded(info.Env(), "ERR_NATIVE", e.what());
  }
}

}  // namespace ilsgan
