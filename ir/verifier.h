#pragma once
// Checks a function's invariants: SSA order (operands defined before use), every node's type
// and attributes against its op's rule, parameter names unique, at least one result.
// Throws TypeError with a message "[verify] @func: %N = op: rule".

#include "ir/function.h"

namespace kiln::ir {

void verify(const Function& function);
void verify(const Module& module);

}  // namespace kiln::ir
