// emit_kernel: one KernelEmitter (kernel_emitter.h, emitter_reduce.cpp) per kernel.

#include "codegen/cpu/emitter.h"

#include "codegen/cpu/kernel_emitter.h"

namespace kiln::codegen::cpu {

std::unique_ptr<llvm::Module> emit_kernel(const Kernel& kernel, const std::string& symbol,
                                          const TargetAttrs& target, llvm::LLVMContext& context) {
  auto module = std::make_unique<llvm::Module>(symbol, context);
  detail::KernelEmitter(kernel, *module, target).emit(symbol);
  return module;
}

}  // namespace kiln::codegen::cpu
