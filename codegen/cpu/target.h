#pragma once
// The CPU targets (this machine, or an x86-64 level for ahead-of-time bundles), the kernel
// optimization pipeline, and code generation. Compilation runs on the calling thread with a
// target machine of its own per target, so kernels compile concurrently. Object code is linked by
// the runtime's loader (runtime/kernel_loader.h), not here: the compiler only produces it.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <llvm/IR/Module.h>
#include <llvm/Target/TargetMachine.h>

#include "codegen/cpu/emitter.h"

namespace kiln::codegen::cpu {

struct CpuTarget {
  std::string name;  // "host", "x86-64-v3", ...
  std::string triple;
  std::string cpu;
  std::string features;     // "+avx2,-avx512bf16,...": every known feature (host) or those enabled
  std::string description;  // "triple cpu +f1,+f2,...": the enabled features, sorted
  TargetAttrs attrs;
};

// This machine: its CPU and every feature it has.
const CpuTarget& host_info();

// The x86-64 micro-architecture levels code may be compiled for ahead of time, lowest first.
inline constexpr const char* kCpuLevels[] = {"x86-64-v2", "x86-64-v3", "x86-64-v4"};

// "host" (host_info()) or one of kCpuLevels: the level's generic CPU with exactly the features
// the level guarantees. Throws kiln::Error "[compile] ..." naming the known targets otherwise.
const CpuTarget& cpu_target(std::string_view name);

// This thread's target machine for `target` (optimization level O3).
llvm::TargetMachine& thread_target_machine(const CpuTarget& target = host_info());

// Sets the module's triple and data layout, runs the kernel pipeline (see target.cpp), then
// mark_streaming_stores.
void optimize_module(llvm::Module& module, llvm::TargetMachine& tm);

// In each entry point that lists streaming buffers (kStreamingBuffersMetadata), makes every
// vector store into one of them whose address is provably aligned to its size non-temporal,
// and ends the function with an sfence: non-temporal stores are weakly ordered, and the
// thread that reads the results next synchronizes with this one only through ordinary
// stores. Stores of unknown alignment stay ordinary (an unaligned non-temporal vector store
// would be split into scalar ones). Runs after vectorization, since a non-temporal scalar
// store keeps the loop vectorizer away. Returns how many stores it marked.
int mark_streaming_stores(llvm::Function& entry);

enum class FileKind { Object, Assembly };
std::vector<char> emit_file(llvm::Module& module, llvm::TargetMachine& tm, FileKind kind);

}  // namespace kiln::codegen::cpu
