#pragma once
// The reference interpreter: evaluates a function op by op in plain scalar code. It is the
// oracle every compiled path is tested against, so it is written for obviousness, not speed.
// Floats compute in double and round once per op to their dtype (for f16 and bf16 through a
// round-to-odd f32, so no value is rounded twice); this equals computing f16/bf16 in f32 for
// + - * / sqrt. Integers compute in int64 and wrap to their width.

#include <span>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"

namespace kiln::ir {

// Throws kiln::Error "[interp] ..." when the arguments do not match the parameters in number
// or type.
std::vector<HostArray> interpret(const Function& function, std::span<const HostArray> args);

// The same for a function that calls others in `module` (which must pass verify(Module)). The
// overload above refuses a `call` node.
std::vector<HostArray> interpret(const Module& module, const Function& function,
                                 std::span<const HostArray> args);

// Either of the above: module may be null.
std::vector<HostArray> interpret_in(const Module* module, const Function& function,
                                    std::span<const HostArray> args);

}  // namespace kiln::ir
