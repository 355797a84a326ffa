#pragma once
// Kernel-level rewrites that lowering applies to every kernel it makes. Each keeps results
// bit-identical to the kernel before it.
//
// store-reduced-operands: a row softmax lowers to reduce max, reduce sum of e = exp(x - max),
// then store e / sum, so e is computed twice per element. When the value a reduce phase
// accumulates reappears in the final store phase's value, over the same extents, the reduce
// phase now also stores it to the output and the store phase loads it back (the value is kept
// in its own dtype, so the reload is exact). The output row is read back while it is still in
// cache; the second exp is gone.

#include "codegen/kernel.h"

namespace kiln::codegen {

void store_reduced_operands(Kernel& kernel);

}  // namespace kiln::codegen
