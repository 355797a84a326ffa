#pragma once
// The rules behind simplify, in the shape the rewriter calls them: each looks at one old node
// whose operands are already rebuilt in `out` and returns the node's simpler value built in
// `out`, or nullopt when no rule applies. A rule fires only when it changes the graph, which is
// how simplify knows it has reached a fixed point.

#include <optional>
#include <span>

#include "ir/function.h"

namespace kiln::passes::detail {

std::optional<ir::Value> fold_constant(const ir::Node& node, std::span<const ir::Value> operands,
                                       ir::Function& out);
std::optional<ir::Value> apply_algebra(const ir::Node& node, std::span<const ir::Value> operands,
                                       ir::Function& out);

// The scalar every element of `v` equals when `v` is a constant with one value or a broadcast
// of a scalar constant (a splat).
std::optional<ir::Attr> splat_value(const ir::Function& f, ir::Value v);

}  // namespace kiln::passes::detail
