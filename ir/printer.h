#pragma once
// The .kir text form (see shared/ARCHITECTURE.md, "Text form"). Values are renumbered
// canonically (%0, %1, ... in body order; parameters keep their names), optional attributes
// equal to their defaults are left out, and attributes print in the op table's order, so
// print -> parse -> print is the identity.

#include <string>

#include "ir/function.h"

namespace kiln::ir {

std::string print(const Function& function);
std::string print(const Module& module);  // functions separated by a blank line

}  // namespace kiln::ir
