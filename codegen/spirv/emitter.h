#pragma once
// The emitter behind compile_kernel: the module's words, before validation.

#include <string>
#include <vector>

#include "codegen/kernel.h"
#include "codegen/spirv/spirv_compiler.h"

namespace kiln::codegen::spirv {

std::vector<uint32_t> emit_module(const Kernel& kernel, const SpirvTarget& target,
                                  const DispatchPlan& plan, const std::string& entry);

}  // namespace kiln::codegen::spirv
