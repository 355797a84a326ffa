// The C API (include/kiln/runtime.h) over runtime/bundle/bundle.h. Every entry point catches
// everything: a C caller gets a status and this thread's message, never an exception.

#include "kiln/runtime.h"

#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/scratch.h"
#include "runtime/bundle/bundle.h"
#include "runtime/thread_pool.h"

namespace rb = kiln::runtime::bundle;

struct kiln_runtime {
  rb::BundleOptions options;
  std::unique_ptr<kiln::runtime::ThreadPool> own_pool;
};

struct kiln_function {
  const rb::BundleFunction* function = nullptr;
};

struct kiln_bundle {
  std::optional<rb::Bundle> bundle;
  std::vector<kiln_function> functions;
};

namespace {

thread_local std::string last_error;

// Records the message; never throws (out of memory for the message leaves it empty). A view,
// so that a literal costs no allocation where one may fail (the guard's catch blocks).
kiln_status fail(kiln_status status, std::string_view message) noexcept {
  try {
    last_error.assign(message);
  } catch (...) {
    last_error.clear();  // keeps its capacity: cannot allocate
  }
  return status;
}

kiln_status status_of(rb::BundleError::Kind kind) {
  switch (kind) {
    case rb::BundleError::Kind::Io:
      return KILN_IO_ERROR;
    case rb::BundleError::Kind::Corrupt:
      return KILN_CORRUPT_BUNDLE;
    case rb::BundleError::Kind::Version:
      return KILN_VERSION_MISMATCH;
    case rb::BundleError::Kind::UnsupportedTarget:
      return KILN_UNSUPPORTED_TARGET;
    case rb::BundleError::Kind::Signature:
      return KILN_SIGNATURE_ERROR;
    case rb::BundleError::Kind::NotFound:
      return KILN_NOT_FOUND;
    case rb::BundleError::Kind::Argument:
      return KILN_INVALID_ARGUMENT;
    case rb::BundleError::Kind::OutOfMemory:
      return KILN_OUT_OF_MEMORY;
  }
  return KILN_INTERNAL;
}

// Runs `body`, turning whatever it throws into a status and a message: every entry point's
// whole body runs in here, so no exception crosses into C.
template <class F>
kiln_status guarded(F body) noexcept {
  try {
    last_error.clear();
    return body();
  } catch (const rb::BundleError& e) {
    return fail(status_of(e.kind()), e.what());
  } catch (const kiln::Error& e) {
    return fail(KILN_INTERNAL, e.what());
  } catch (const std::bad_alloc&) {
    return fail(KILN_OUT_OF_MEMORY, "[runtime] out of memory");
  } catch (const std::exception& e) {
    return fail(KILN_INTERNAL, e.what());
  } catch (...) {
    return fail(KILN_INTERNAL, "[runtime] internal error");
  }
}

#define KILN_REQUIRE(pointer, what)                                              \
  do {                                                                           \
    if (!(pointer))                                                              \
      return fail(KILN_INVALID_ARGUMENT,                                         \
                  std::string("[runtime] ") + entry + ": " + what + " is NULL"); \
  } while (0)

kiln_tensor_desc describe(const rb::TensorDesc& t) {
  return {t.name.c_str(), static_cast<kiln_dtype>(t.type.dtype),
          static_cast<int32_t>(t.type.shape.size()), t.type.shape.data()};
}

// A C enum field as the integer the caller stored: C allows any int there, while loading a
// value outside the enumerators into a C++ enum is undefined.
template <class Enum>
int32_t raw_value(const Enum& field) {
  static_assert(sizeof(Enum) == sizeof(int32_t));
  int32_t value;
  std::memcpy(&value, &field, sizeof value);
  return value;
}

bool aligned(const void* p) {
  return reinterpret_cast<uintptr_t>(p) % 64 == 0;
}

// "argument 1 (%w)" / "result 0": how messages name a tensor.
std::string tensor_name(bool input, size_t i, const rb::TensorDesc& desc) {
  return (input ? "argument " : "result ") + std::to_string(i) + " (%" + desc.name + ")";
}

std::string shape_text(int32_t rank, const int64_t* shape) {
  std::string out = "[";
  for (int32_t d = 0; d < rank; ++d)
    out += (d ? "," : "") + std::to_string(shape[d]);
  return out + "]";
}

// The first rule `t` breaks as tensor `i` of `desc`'s kind, or "".
std::string check_tensor(const kiln_tensor& t, const rb::TensorDesc& desc) {
  const kiln::ir::TensorType& type = desc.type;
  const int32_t dtype = raw_value(t.dtype);
  if (dtype != static_cast<int32_t>(type.dtype)) {
    const bool known = dtype >= KILN_BOOL && dtype <= KILN_F64;
    return "has dtype " +
           (known ? std::string(kiln::ir::dtype_name(static_cast<kiln::ir::DType>(dtype)))
                  : "#" + std::to_string(dtype)) +
           " but the function takes " + std::string(kiln::ir::dtype_name(type.dtype));
  }
  if (t.rank < 0 || static_cast<size_t>(t.rank) != type.shape.size() || (t.rank > 0 && !t.shape))
    return "has rank " + std::to_string(t.rank) + " but the function takes rank " +
           std::to_string(type.shape.size()) + " " + kiln::ir::shape_str(type.shape);
  for (int32_t d = 0; d < t.rank; ++d)
    if (t.shape[d] != type.shape[d])
      return "has shape " + shape_text(t.rank, t.shape) + " but the function takes " +
             kiln::ir::shape_str(type.shape);
  if (t.size_bytes != type.size_bytes())
    return "has size_bytes " + std::to_string(t.size_bytes) + " but its shape needs " +
           std::to_string(type.size_bytes());
  if (!t.data && t.size_bytes > 0) return "has no data (NULL)";
  return "";
}

bool overlap(const kiln_tensor& a, const kiln_tensor& b) {
  if (a.size_bytes == 0 || b.size_bytes == 0) return false;
  const auto* a0 = static_cast<const std::byte*>(a.data);
  const auto* b0 = static_cast<const std::byte*>(b.data);
  return a0 < b0 + b.size_bytes && b0 < a0 + a.size_bytes;
}

}  // namespace

extern "C" {

const char* kiln_last_error(void) {
  return last_error.c_str();
}

const char* kiln_status_name(kiln_status status) {
  switch (status) {
    case KILN_OK:
      return "KILN_OK";
    case KILN_INVALID_ARGUMENT:
      return "KILN_INVALID_ARGUMENT";
    case KILN_NOT_FOUND:
      return "KILN_NOT_FOUND";
    case KILN_IO_ERROR:
      return "KILN_IO_ERROR";
    case KILN_CORRUPT_BUNDLE:
      return "KILN_CORRUPT_BUNDLE";
    case KILN_VERSION_MISMATCH:
      return "KILN_VERSION_MISMATCH";
    case KILN_UNSUPPORTED_TARGET:
      return "KILN_UNSUPPORTED_TARGET";
    case KILN_SIGNATURE_ERROR:
      return "KILN_SIGNATURE_ERROR";
    case KILN_OUT_OF_MEMORY:
      return "KILN_OUT_OF_MEMORY";
    case KILN_INTERNAL:
      return "KILN_INTERNAL";
  }
  return "(not a kiln_status)";
}

kiln_status kiln_runtime_create(const kiln_runtime_options* options, kiln_runtime** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(out, "out");
    *out = nullptr;
    return guarded([&] {
      kiln_runtime_options o{};
      if (options) {
        if (options->struct_size <
                offsetof(kiln_runtime_options, require_signature) + sizeof(int32_t) &&
            options->struct_size != 0)
          return fail(KILN_INVALID_ARGUMENT,
                      "[runtime] kiln_runtime_create: options->struct_size is " +
                          std::to_string(options->struct_size) +
                          ", smaller than any version of "
                          "kiln_runtime_options (set it to sizeof(kiln_runtime_options))");
        if (options->struct_size == 0)
          return fail(KILN_INVALID_ARGUMENT,
                      "[runtime] kiln_runtime_create: options->struct_size is 0 (set it to "
                      "sizeof(kiln_runtime_options))");
        std::memcpy(&o, options, std::min(options->struct_size, sizeof o));
      }
      if (o.num_threads < 0)
        return fail(KILN_INVALID_ARGUMENT, "[runtime] kiln_runtime_create: num_threads is " +
                                               std::to_string(o.num_threads) + " (0 or more)");
      const int32_t device = raw_value(o.device);
      if (device != KILN_DEVICE_CPU && device != KILN_DEVICE_VULKAN)
        return fail(KILN_INVALID_ARGUMENT,
                    "[runtime] kiln_runtime_create: unknown device " + std::to_string(device));
      if (o.num_trusted_public_keys > 0 && !o.trusted_public_keys)
        return fail(KILN_INVALID_ARGUMENT,
                    "[runtime] kiln_runtime_create: "
                    "num_trusted_public_keys is set but the keys are NULL");
      auto runtime = std::make_unique<kiln_runtime>();
      runtime->options.device = device == KILN_DEVICE_VULKAN ? rb::BundleOptions::Device::Vulkan
                                                             : rb::BundleOptions::Device::Cpu;
      for (size_t i = 0; i < o.num_trusted_public_keys; ++i) {
        rb::PublicKey key;
        std::memcpy(key.data(), o.trusted_public_keys[i], key.size());
        runtime->options.trusted_keys.push_back(key);
      }
      runtime->options.require_signature = o.require_signature != 0;
      if (o.num_threads > 0) {
        runtime->own_pool = std::make_unique<kiln::runtime::ThreadPool>(o.num_threads);
        runtime->options.threads = runtime->own_pool.get();
      }
      *out = runtime.release();
      return KILN_OK;
    });
  });
}

void kiln_runtime_destroy(kiln_runtime* runtime) {
  delete runtime;
}

static kiln_status finish_open(rb::Bundle bundle, kiln_bundle** out) {
  auto b = std::make_unique<kiln_bundle>();
  b->bundle.emplace(std::move(bundle));
  for (const rb::BundleFunction& f : b->bundle->functions())
    b->functions.push_back({&f});
  *out = b.release();
  return KILN_OK;
}

kiln_status kiln_bundle_open_file(kiln_runtime* runtime, const char* path, kiln_bundle** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(out, "out");
    *out = nullptr;
    KILN_REQUIRE(runtime, "runtime");
    KILN_REQUIRE(path, "path");
    return guarded([&] { return finish_open(rb::Bundle::open_file(path, runtime->options), out); });
  });
}

kiln_status kiln_bundle_open_memory(kiln_runtime* runtime, const void* data, size_t size,
                                    kiln_bundle** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(out, "out");
    *out = nullptr;
    KILN_REQUIRE(runtime, "runtime");
    if (!data && size > 0) KILN_REQUIRE(data, "data");
    return guarded([&] {
      return finish_open(
          rb::Bundle::open_memory({static_cast<const std::byte*>(data), size}, runtime->options),
          out);
    });
  });
}

void kiln_bundle_close(kiln_bundle* bundle) {
  delete bundle;
}

kiln_status kiln_bundle_function_count(const kiln_bundle* bundle, size_t* out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(bundle, "bundle");
    KILN_REQUIRE(out, "out");
    *out = bundle->functions.size();
    return KILN_OK;
  });
}

kiln_status kiln_bundle_function_name(const kiln_bundle* bundle, size_t index, const char** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(bundle, "bundle");
    KILN_REQUIRE(out, "out");
    if (index >= bundle->functions.size())
      return fail(KILN_NOT_FOUND, "[runtime] kiln_bundle_function_name: index " +
                                      std::to_string(index) + " but the bundle has " +
                                      std::to_string(bundle->functions.size()) + " functions");
    *out = bundle->functions[index].function->name().c_str();
    return KILN_OK;
  });
}

kiln_status kiln_bundle_find_function(kiln_bundle* bundle, const char* name, kiln_function** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(out, "out");
    *out = nullptr;
    KILN_REQUIRE(bundle, "bundle");
    KILN_REQUIRE(name, "name");
    for (kiln_function& f : bundle->functions)
      if (f.function->name() == name) {
        *out = &f;
        return KILN_OK;
      }
    std::string known;
    for (const kiln_function& f : bundle->functions)
      known += (known.empty() ? "@" : ", @") + f.function->name();
    return fail(KILN_NOT_FOUND, std::string("[runtime] kiln_bundle_find_function: no function @") +
                                    name + " (the bundle has " + (known.empty() ? "none" : known) +
                                    ")");
  });
}

kiln_status kiln_bundle_target(const kiln_bundle* bundle, const char** out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(bundle, "bundle");
    KILN_REQUIRE(out, "out");
    *out = bundle->bundle->target().c_str();
    return KILN_OK;
  });
}

kiln_status kiln_function_signature(const kiln_function* function, size_t* num_params,
                                    size_t* num_results) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(function, "function");
    KILN_REQUIRE(num_params, "num_params");
    KILN_REQUIRE(num_results, "num_results");
    *num_params = function->function->params().size();
    *num_results = function->function->results().size();
    return KILN_OK;
  });
}

static kiln_status describe_at(const kiln_function* function, size_t i, kiln_tensor_desc* out,
                               bool param, const char* caller) {
  const char* const entry = caller;
  KILN_REQUIRE(function, "function");
  KILN_REQUIRE(out, "out");
  const auto& list = param ? function->function->params() : function->function->results();
  if (i >= list.size())
    return fail(KILN_NOT_FOUND,
                std::string("[runtime] ") + caller + ": @" + function->function->name() + " has " +
                    std::to_string(list.size()) + (param ? " parameters" : " results") +
                    ", no index " + std::to_string(i));
  *out = describe(list[i]);
  return KILN_OK;
}

kiln_status kiln_function_param(const kiln_function* function, size_t i, kiln_tensor_desc* out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status { return describe_at(function, i, out, true, entry); });
}

kiln_status kiln_function_result(const kiln_function* function, size_t i, kiln_tensor_desc* out) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status { return describe_at(function, i, out, false, entry); });
}

kiln_status kiln_call(kiln_function* function, const kiln_tensor* inputs, size_t num_inputs,
                      kiln_tensor* outputs, size_t num_outputs) {
  const char* const entry = __func__;
  return guarded([&]() -> kiln_status {
    KILN_REQUIRE(function, "function");
    if (num_inputs > 0) KILN_REQUIRE(inputs, "inputs");
    if (num_outputs > 0) KILN_REQUIRE(outputs, "outputs");
    const rb::BundleFunction& f = *function->function;
    // The message's start, made only when a call fails: a call that succeeds allocates nothing
    // but copies of unaligned buffers.
    const auto who = [&] { return "[runtime] kiln_call @" + f.name() + ": "; };
    if (num_inputs != f.params().size() || num_outputs != f.results().size())
      return fail(KILN_INVALID_ARGUMENT, who() + "expected " + std::to_string(f.params().size()) +
                                             " inputs and " + std::to_string(f.results().size()) +
                                             " outputs, got " + std::to_string(num_inputs) +
                                             " and " + std::to_string(num_outputs));
    for (size_t i = 0; i < num_inputs; ++i)
      if (std::string why = check_tensor(inputs[i], f.params()[i]); !why.empty())
        return fail(KILN_INVALID_ARGUMENT, who() + tensor_name(true, i, f.params()[i]) + " " + why);
    for (size_t k = 0; k < num_outputs; ++k) {
      if (std::string why = check_tensor(outputs[k], f.results()[k]); !why.empty())
        return fail(KILN_INVALID_ARGUMENT,
                    who() + tensor_name(false, k, f.results()[k]) + " " + why);
      for (size_t i = 0; i < num_inputs; ++i)
        if (overlap(outputs[k], inputs[i]))
          return fail(KILN_INVALID_ARGUMENT, who() + tensor_name(false, k, f.results()[k]) +
                                                 " overlaps " +
                                                 tensor_name(true, i, f.params()[i]));
      for (size_t j = 0; j < k; ++j)
        if (overlap(outputs[k], outputs[j]))
          return fail(KILN_INVALID_ARGUMENT, who() + tensor_name(false, k, f.results()[k]) +
                                                 " overlaps " +
                                                 tensor_name(false, j, f.results()[j]));
    }
    // Refused before allocating: with overcommit an arena larger than memory may be granted and
    // get the process killed while it fills.
    if (std::optional<std::string> refusal = kiln::ir::exceeds_memory(f.executable().peak_bytes()))
      return fail(KILN_OUT_OF_MEMORY, who() + *refusal);
    // Kernels assume 64-byte-aligned buffers (the emitter marks them so): other memory goes
    // through aligned copies.
    std::vector<kiln::ir::Buffer> copies;
    kiln::ir::Scratch<const void*, 16> in(num_inputs);
    kiln::ir::Scratch<void*, 16> out(num_outputs);
    auto& pool = kiln::ir::BufferPool::instance();
    for (size_t i = 0; i < num_inputs; ++i) {
      in[i] = inputs[i].data;
      if (aligned(in[i]) || inputs[i].size_bytes == 0) continue;
      copies.push_back(pool.allocate(inputs[i].size_bytes));
      std::memcpy(copies.back().data(), inputs[i].data, inputs[i].size_bytes);
      in[i] = copies.back().data();
    }
    for (size_t k = 0; k < num_outputs; ++k) {
      out[k] = outputs[k].data;
      if (aligned(out[k]) || outputs[k].size_bytes == 0) continue;
      copies.push_back(pool.allocate(outputs[k].size_bytes));
      out[k] = copies.back().data();
    }
    f.call_raw(in.span(), out.span());
    for (size_t k = 0; k < num_outputs; ++k)
      if (out[k] != outputs[k].data) std::memcpy(outputs[k].data, out[k], outputs[k].size_bytes);
    return KILN_OK;
  });
}

}  // extern "C"
