#pragma once
// A scalar evaluator of kernel IR: runs a Kernel on host buffers exactly as written, one
// outer index and one inner iteration at a time. It checks lowering against the reference
// interpreter without any backend, and backends against it kernel by kernel.

#include <span>

#include "codegen/kernel.h"
#include "ir/array.h"

namespace kiln::codegen {

// `buffers` in Kernel::buffers order (scratch buffers included, allocated by the caller);
// outputs are written in place.
void evaluate_kernel(const Kernel& kernel, std::span<ir::HostArray> buffers);

}  // namespace kiln::codegen
