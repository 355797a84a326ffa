#pragma once
// A function as a Graphviz graph (`kiln opt --emit=dot`, `kiln bundle inspect --dot`): the IR
// after the compile pipeline's rewrites, one node per op, each fused kernel of the fusion plan
// a cluster. A value that fusion recomputes in several kernels appears once in each.

#include <string>

#include "compiler/pipeline.h"
#include "ir/function.h"

namespace kiln::compiler {

// `function` must be flat. Runs lower_program with `options` and prints the graph.
std::string graphviz(const ir::Function& function, const CompileOptions& options = {});

}  // namespace kiln::compiler
