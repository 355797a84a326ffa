#pragma once
// The CPU backend: kernel IR -> LLVM IR (emitter.h) -> the kernel pipeline -> x86-64 object
// code for the host (target.cpp). The object's entry point follows runtime/kernel_abi.h, and
// the runtime's loader links it; nothing here runs code. No LLVM type appears in this header,
// so the compiler layer and tools include it without LLVM's.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/kernel.h"

namespace kiln::codegen {

// Changes whenever the code this backend generates for a kernel changes (the emitter, the
// math approximations, the optimization pipeline), so that no disk cache serves code from
// before the change. Part of cache_description().
inline constexpr int kCpuCodegenVersion = 9;

class CpuCompiler {
 public:
  // The process's compiler for the host CPU. Thread-safe: kernels compile concurrently.
  static CpuCompiler& instance();

  // "x86_64-pc-linux-gnu <cpu> +f1,+f2,...": what the object code needs, as written into plans
  // (the runtime checks it against the machine it loads on). `target` is "host" (this
  // machine) or an x86-64 level ("x86-64-v3", codegen/cpu/target.h); an unknown one throws
  // kiln::Error "[compile] ...".
  const std::string& target_description(std::string_view target = "host") const;
  // Everything the object code depends on besides the kernel: the LLVM version, the codegen
  // and kernel imports versions and the target. Part of every kernel-cache key.
  std::string cache_description(std::string_view target = "host") const;
  static std::string llvm_version();

  // Relocatable object code (ELF, PIC) for `target` that defines `symbol` as the kernel's
  // entry point.
  std::vector<std::byte> compile_to_object(const Kernel& kernel, const std::string& symbol,
                                           std::string_view target = "host");
  // The same with `features` appended to the host's feature list (none: compile_to_object), so
  // that tests compile, and check, the paths of a lesser CPU ("-avx512f") on this one.
  std::vector<std::byte> compile_to_object_for_testing(const Kernel& kernel,
                                                       const std::string& symbol,
                                                       const std::string& features);

  // For `kiln opt --emit=llvm|asm`: the optimized LLVM IR and the host assembly.
  std::string emit_llvm_ir(const Kernel& kernel);
  std::string emit_asm(const Kernel& kernel);

  CpuCompiler(const CpuCompiler&) = delete;
  CpuCompiler& operator=(const CpuCompiler&) = delete;

 private:
  CpuCompiler() = default;
};

}  // namespace kiln::codegen
