#pragma once
// The reference interpreter: evaluates a function op by op in plain scalar code. It is the
// oracle every compiled path is tested against, so it is written for obviousness, not speed.
// f16 and bf16 compute in f32 and round after every op.

#include <span>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"

namespace kiln::ir {

// Throws kiln::Error "[interp] ..." when the arguments do not match the parameters in number
// or type.
std::vector<HostArray> interpret(const Function& function, std::span<const HostArray> args);

}  // namespace kiln::ir
