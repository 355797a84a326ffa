#pragma once
// Shared by the LLVM backend's tests: running a compiled kernel on 64-byte aligned copies of
// host arrays (the runtime's guarantee, which the emitted code relies on), evaluating the
// reference interpreter on .kir text, and comparing within a number of ulps of the dtype
// (tests/codegen/ulp_compare.h).

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "codegen/cpu/cpu_compiler.h"
#include "codegen/kernel.h"
#include "ir/array.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "runtime/kernel_loader.h"
#include "tests/codegen/ulp_compare.h"

namespace kiln::codegen::testing {

using runtime::KernelEntry;

// Compiles `kernel` to object code and loads it with the runtime's loader, as the runtime
// would; the code stays mapped for the rest of the test program. `features` are appended to
// the host's ("-avx512f" compiles the AVX2 paths).
inline KernelEntry compile_kernel(const Kernel& kernel, const std::string& features = "") {
  static std::mutex mutex;
  static std::vector<runtime::LoadedKernel> loaded;
  runtime::PlanKernel code{
      kernel.name, "kernel_entry",
      CpuCompiler::instance().compile_to_object_for_testing(kernel, "kernel_entry", features)};
  runtime::LoadedKernel k = runtime::host_kernel_loader().load(code);
  std::lock_guard lock(mutex);
  loaded.push_back(k);
  return k.entry;
}

struct AlignedCopy {
  struct Free {
    void operator()(std::byte* p) const { std::free(p); }
  };
  std::unique_ptr<std::byte, Free> data;

  explicit AlignedCopy(const ir::HostArray& a) {
    const size_t size = (a.bytes().size() + 63) / 64 * 64 + 64;
    data.reset(static_cast<std::byte*>(std::aligned_alloc(64, size)));
    if (!a.bytes().empty()) std::memcpy(data.get(), a.data(), a.bytes().size());
  }
};

// Runs outer indices [begin, end) over aligned copies of `buffers` and copies them back.
inline void run_range(KernelEntry entry, std::span<ir::HostArray> buffers, int64_t begin,
                      int64_t end) {
  std::vector<AlignedCopy> copies;
  std::vector<void*> pointers;
  for (const ir::HostArray& b : buffers)
    copies.emplace_back(b);
  for (AlignedCopy& c : copies)
    pointers.push_back(c.data.get());
  entry(pointers.data(), begin, end);
  for (size_t i = 0; i < buffers.size(); ++i)
    if (!buffers[i].bytes().empty())
      std::memcpy(buffers[i].data(), copies[i].data.get(), buffers[i].bytes().size());
}

inline int64_t outer_count(const Kernel& k) {
  int64_t n = 1;
  for (int64_t e : k.outer)
    n *= e;
  return n;
}

// Fresh zeroed buffers of the kernel's types, with `inputs` copied into the first ones.
inline std::vector<ir::HostArray> make_buffers(const Kernel& k,
                                               const std::vector<ir::HostArray>& inputs) {
  std::vector<ir::HostArray> buffers;
  for (size_t i = 0; i < k.buffers.size(); ++i)
    buffers.push_back(i < inputs.size() ? inputs[i] : ir::HostArray(k.buffers[i].type));
  return buffers;
}

inline std::vector<ir::HostArray> interpret_text(const std::string& text,
                                                 const std::vector<ir::HostArray>& args) {
  ir::Module m = ir::parse_module(text);
  return ir::interpret(m.functions.at(0), args);
}

}  // namespace kiln::codegen::testing
