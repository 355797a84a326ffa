#pragma once
// The one value-mapping walk over a Function, as JAX's eval_jaxpr and MLIR's IRMapping: every
// live node, in order, gets a value of some domain T computed from its operands' values. A new
// Function (a rewrite, inlining, jvp, vmap), lazy Tensors (the frontend's transforms) and
// constant evaluation are each one instance, so none of them writes the loop again.

#include <span>
#include <vector>

#include "ir/function.h"

namespace kiln::ir {

// For each node, whether one of `roots` depends on it. With `with_params`, parameters count as
// reached whatever uses them (they are part of the signature).
std::vector<bool> reachable_nodes(const Function& f, std::span<const Value> roots,
                                  bool with_params);

// For each node, whether the results reach it; parameters always count.
inline std::vector<bool> live_nodes(const Function& f) {
  return reachable_nodes(f, f.results(), /*with_params=*/true);
}

// Maps each node that `live` marks to a T. Parameter i maps to params[i]; every other marked
// node to visit(node, operand_values), called in node order (so operands come first). Returns
// the map indexed by Value id; unmarked nodes keep a default T.
template <class T, class Visit>
std::vector<T> map_values(const Function& f, std::vector<T> params, const std::vector<bool>& live,
                          Visit&& visit) {
  std::vector<T> map(f.num_nodes());
  for (size_t i = 0; i < params.size(); ++i)
    map[f.params()[i].id] = std::move(params[i]);
  std::vector<T> operands;
  for (size_t i = 0; i < f.num_nodes(); ++i) {
    const Node& node = f.nodes()[i];
    if (node.op == OpKind::Parameter || !live[i]) continue;
    operands.clear();
    for (Value v : node.operands)
      operands.push_back(map[v.id]);
    map[i] = visit(node, std::span<const T>(operands));
  }
  return map;
}

// map_values over the live nodes, returning the results' values.
template <class T, class Visit>
std::vector<T> map_results(const Function& f, std::vector<T> params, Visit&& visit) {
  const std::vector<T> map = map_values(f, std::move(params), live_nodes(f), visit);
  std::vector<T> results;
  for (Value r : f.results())
    results.push_back(map[r.id]);
  return results;
}

}  // namespace kiln::ir
