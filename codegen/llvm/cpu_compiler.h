#pragma once
// The CPU backend: kernel IR -> LLVM IR -> native code through one ORC LLJIT per process.
// No LLVM type appears in this header, so the runtime and tools include it without LLVM's.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "codegen/kernel.h"

namespace kiln::codegen {

// A compiled kernel: `buffers` in Kernel::buffers order; runs outer indices [begin, end).
// Disjoint ranges may run concurrently on different threads.
using KernelEntry = void (*)(void* const* buffers, int64_t begin, int64_t end);

class CpuCompiler {
 public:
  // The process's compiler (LLJIT with the host's target machine). Thread-safe.
  static CpuCompiler& instance();

  // "cpu-name +feature1,+feature2,...": part of every disk-cache key.
  const std::string& host_description() const;
  static std::string llvm_version();

  KernelEntry compile(const Kernel& kernel);
  // Object code for the disk cache, defining `symbol`; load_object links it into the JIT and
  // returns the entry, or throws kiln::Error "[jit] ..." for an object that does not load.
  std::vector<char> compile_to_object(const Kernel& kernel, const std::string& symbol);
  KernelEntry load_object(std::span<const char> object, const std::string& symbol);

  // For `kiln opt --emit=llvm|asm`: the optimized LLVM IR and the host assembly.
  std::string emit_llvm_ir(const Kernel& kernel);
  std::string emit_asm(const Kernel& kernel);

  ~CpuCompiler();
  CpuCompiler(const CpuCompiler&) = delete;
  CpuCompiler& operator=(const CpuCompiler&) = delete;

 private:
  CpuCompiler();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::codegen
