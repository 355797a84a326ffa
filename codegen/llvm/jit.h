#pragma once
// The host target and the process's one ORC LLJIT. Compilation (optimization and code
// generation) runs on the calling thread with a target machine of its own, so kernels compile
// concurrently; the JIT only links the resulting objects.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/llvm/emitter.h"

namespace llvm::orc {
class LLJIT;
}

namespace kiln::codegen::cpu {

struct HostInfo {
  std::string triple;
  std::string cpu;
  std::string features;     // every known feature, "+avx2,-avx512bf16,..."
  std::string description;  // "cpu +f1,+f2,...": the enabled features, sorted
  TargetAttrs attrs;
};

const HostInfo& host_info();

// This thread's target machine for the host (optimization level O3).
llvm::TargetMachine& thread_target_machine();

// Sets the module's triple and data layout and runs the kernel pipeline (see jit.cpp).
void optimize_module(llvm::Module& module, llvm::TargetMachine& tm);

enum class FileKind { Object, Assembly };
std::vector<char> emit_file(llvm::Module& module, llvm::TargetMachine& tm, FileKind kind);

class Jit {
 public:
  Jit();
  ~Jit();
  // Links an ELF object into a library of its own (which sees kiln's helpers and the
  // process's symbols) and returns `symbol`'s address; throws kiln::Error "[jit] ..." when
  // the object does not parse, is for another machine, lacks the symbol or does not link.
  void* add_object(std::span<const char> object, const std::string& symbol);

 private:
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  uint64_t libraries_ = 0;
};

}  // namespace kiln::codegen::cpu
