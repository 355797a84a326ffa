#pragma once
// The .kir text form (see ARCHITECTURE.md, "Text form"). Values are renumbered
// canonically (%0, %1, ... in body order; parameters keep their names), optional attributes
// equal to their defaults are left out, and attributes print in the op table's order, so
// print -> parse -> print is the identity.

#include <functional>
#include <string>

#include "ir/function.h"

namespace kiln::ir {

std::string print(const Function& function);
// Lines an analysis prints before a value's statement (comments, "// ..."), so that annotated
// output still parses. `names` are the printed names (value_names) for the annotation to use.
using Annotator = std::function<std::string(Value value, const std::vector<std::string>& names)>;
std::string print(const Function& function, const Annotator& annotate);
std::string print(const Module& module);  // functions separated by a blank line

}  // namespace kiln::ir
