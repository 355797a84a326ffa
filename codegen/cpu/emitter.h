#pragma once
// Kernel IR -> one LLVM function per kernel, in a module of its own.
//
// The entry `symbol(void* const* buffers, i64 begin, i64 end)` (runtime::KernelEntry) loads the
// buffer pointers and calls an internal body that takes each buffer as a `noalias align 64`
// parameter (the runtime's guarantees: 64-byte alignment, outputs alias nothing); inlining
// turns those facts into alias scopes. The body walks outer indices [begin, end) as row
// segments: the last outer axis becomes a counted loop, so an elementwise kernel's
// innermost loop is contiguous. Inside, each phase is a nest of canonical loops (i64 from 0,
// step 1, bottom-tested) that LLVM's loop vectorizer widens. The buffer pointers are loaded
// with `!align 64`, which keeps the alignment known after inlining (for streaming stores).

#include <memory>
#include <string>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IR/Module.h>

#include "codegen/kernel.h"

namespace kiln::codegen::cpu {

struct TargetAttrs {
  std::string cpu;       // "target-cpu"
  std::string features;  // "target-features"
  unsigned prefer_vector_width = 256;
  // Outputs of at least this many bytes that the kernel never reads back are written with
  // non-temporal stores where the vector stores are aligned (see mark_streaming_stores in
  // target.h); 0: never.
  int64_t streaming_store_bytes = 0;
};

// The names of the function metadata through which the emitter tells the pipeline which
// buffers of an entry point take streaming stores.
inline constexpr const char* kStreamingBuffersMetadata = "kiln.streaming_buffers";

std::unique_ptr<llvm::Module> emit_kernel(const Kernel& kernel, const std::string& symbol,
                                          const TargetAttrs& target, llvm::LLVMContext& context);

}  // namespace kiln::codegen::cpu
