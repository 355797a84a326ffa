#pragma once
// Rebuilding a Function. A Function is append-only and hash-consed, so a pass never edits one:
// it walks the old nodes in order and builds a new Function, mapping each old value to a new
// one. Parameters (names, types, order) and results carry over; nodes the results do not reach
// are never visited, and nodes a rewrite created but left unused are dropped, so every rewrite
// is also dead code removal. The walk itself is ir::map_values (ir/walk.h), which jvp, vmap,
// the frontend's transforms and constant evaluation use too.

#include <functional>
#include <optional>
#include <span>
#include <vector>

#include "ir/function.h"
#include "ir/walk.h"

namespace kiln::passes {

// Called once per live non-parameter node of the old function, in order. `operands` are the
// node's operands already mapped into `out`. Returns the node's new value, or nullopt to copy
// the op unchanged (with the mapped operands).
using RewriteFn = std::function<std::optional<ir::Value>(
    const ir::Node& node, std::span<const ir::Value> operands, ir::Function& out)>;

// The rebuilt function; with no callback, a copy without dead code.
ir::Function rewrite(const ir::Function& in, const RewriteFn& fn = {});

// Adds `node`'s op, attributes and result type to `out` with new operands (the default
// rewrite of one node).
ir::Value copy_node(const ir::Node& node, std::vector<ir::Value> operands, ir::Function& out);

// Builds `callee`'s live body into `out` with its parameters bound to `args` (of the
// parameters' types) and returns its results as values of `out`: inlining one call, or applying
// a transformed function to values of another.
std::vector<ir::Value> splice(const ir::Function& callee, std::span<const ir::Value> args,
                              ir::Function& out);

using ir::live_nodes;

}  // namespace kiln::passes
