#include "ir/walk.h"

namespace kiln::ir {

std::vector<bool> reachable_nodes(const Function& f, std::span<const Value> roots,
                                  bool with_params) {
  std::vector<bool> reached(f.num_nodes(), false);
  for (Value v : roots)
    reached[v.id] = true;
  // Operands precede their users, so one backward sweep marks everything reachable.
  for (size_t i = f.num_nodes(); i-- > 0;) {
    const Node& node = f.nodes()[i];
    if (with_params && node.op == OpKind::Parameter) reached[i] = true;
    if (!reached[i]) continue;
    for (Value operand : node.operands)
      reached[operand.id] = true;
  }
  return reached;
}

}  // namespace kiln::ir
