#include "passes/simplify.h"

#include <initializer_list>

#include "passes/rewriter.h"
#include "passes/simplify_rules.h"

namespace kiln::passes {

namespace detail {

std::optional<ir::Attr> splat_value(const ir::Function& f, ir::Value v) {
  const ir::Node* node = &f.node(v);
  if (node->op == ir::OpKind::Broadcast) {
    node = &f.node(node->operands[0]);
    if (node->type.rank() != 0) return std::nullopt;
  }
  if (node->op != ir::OpKind::Constant) return std::nullopt;
  const ir::Attr& value = ir::constant_value(*node);
  if (value.is_list() || value.is_dense()) return std::nullopt;
  return value;
}

}  // namespace detail

namespace {

using Rule = std::optional<ir::Value> (*)(const ir::Node&, std::span<const ir::Value>,
                                          ir::Function&);

// Rewrites with the first rule that fires at each node until a round fires none. Operands are
// rebuilt before their users, so one round usually suffices; a second confirms it.
ir::Function to_fixed_point(const ir::Function& function, std::initializer_list<Rule> rules) {
  ir::Function current = rewrite(function);
  for (int round = 0; round < kMaxSimplifyRounds; ++round) {
    int fired = 0;
    current = rewrite(current,
                      [&](const ir::Node& node, std::span<const ir::Value> operands,
                          ir::Function& out) -> std::optional<ir::Value> {
                        for (Rule rule : rules)
                          if (auto v = rule(node, operands, out)) {
                            ++fired;
                            return v;
                          }
                        return std::nullopt;
                      });
    if (fired == 0) break;
  }
  return current;
}

}  // namespace

ir::Function simplify(const ir::Function& function) {
  return to_fixed_point(function, {detail::apply_algebra, detail::fold_constant});
}

ir::Function fold_constants(const ir::Function& function) {
  return to_fixed_point(function, {detail::fold_constant});
}

ir::Function simplify_algebra(const ir::Function& function) {
  return to_fixed_point(function, {detail::apply_algebra});
}

}  // namespace kiln::passes
