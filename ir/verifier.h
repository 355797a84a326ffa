#pragma once
// Checks a function's invariants: SSA order (operands defined before use), every node's type
// and attributes against its op's rule, parameter names unique, at least one result.
// Throws TypeError with a message "[verify] @func: %N = op: rule".

#include <optional>
#include <span>
#include <string>
#include <utility>

#include "ir/function.h"

namespace kiln::ir {

void verify(const Function& function);
// Each function, unique names, and every call against its callee (and its custom vjp's
// signature); no function may reach itself through calls.
void verify(const Module& module);

// The rule a call node with arguments of types `args` breaks in `module`, if any; the parser
// reports it at the call's place.
std::optional<std::string> call_rule_broken(const Module& module, const Node& call,
                                            std::span<const TensorType> args);
// A function that reaches itself through calls, and the cycle ("@f -> @g -> @f").
std::optional<std::pair<std::string, std::string>> recursion_in(const Module& module);

}  // namespace kiln::ir
