#pragma once
// The host target: what it is, the kernel optimization pipeline, and code generation.
// Compilation runs on the calling thread with a target machine of its own, so kernels compile
// concurrently. Object code is linked by the runtime's loader (runtime/kernel_loader.h), not
// here: the compiler only produces it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/cpu/emitter.h"

namespace kiln::codegen::cpu {

struct HostInfo {
  std::string triple;
  std::string cpu;
  std::string features;     // every known feature, "+avx2,-avx512bf16,..."
  std::string description;  // "triple cpu +f1,+f2,...": the enabled features, sorted
  TargetAttrs attrs;
};

const HostInfo& host_info();

// This thread's target machine for the host (optimization level O3).
llvm::TargetMachine& thread_target_machine();

// Sets the module's triple and data layout and runs the kernel pipeline (see target.cpp).
void optimize_module(llvm::Module& module, llvm::TargetMachine& tm);

enum class FileKind { Object, Assembly };
std::vector<char> emit_file(llvm::Module& module, llvm::TargetMachine& tm, FileKind kind);

}  // namespace kiln::codegen::cpu
