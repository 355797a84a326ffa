#pragma once
// What loaded kernel code may call: the runtime's helpers of runtime/kernel_abi.h, the C
// library's double-precision math (the interpreter's definitions of exp, log, pow, ...), and the
// memory functions that LLVM emits for loops it recognizes. Nothing else resolves: an object
// that needs another symbol is refused when it loads.

#include <span>

#include "runtime/object_loader.h"

namespace kiln::runtime {

std::span<const ImportedSymbol> kernel_imports();

}  // namespace kiln::runtime
