#include "passes/rewriter.h"

#include <algorithm>
#include <cassert>

namespace kiln::passes {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::Value;

Value copy_node(const Node& node, std::vector<Value> operands, Function& out) {
  assert(node.op != OpKind::Parameter);
  return out.add(node.op, std::move(operands), node.attrs, node.type);
}

std::vector<Value> splice(const Function& callee, std::span<const Value> args, Function& out) {
  assert(args.size() == callee.params().size());
  for (size_t i = 0; i < args.size(); ++i)
    assert(out.type(args[i]) == callee.type(callee.params()[i]));
  return ir::map_results(callee, std::vector<Value>(args.begin(), args.end()),
                         [&](const Node& node, std::span<const Value> operands) {
                           return copy_node(node, {operands.begin(), operands.end()}, out);
                         });
}

namespace {

Function walk(const Function& in, const RewriteFn& fn) {
  Function out(in.name());
  // Parameters first, so that they keep their order even where the old function interleaved
  // them with the body.
  std::vector<Value> params;
  for (Value p : in.params())
    params.push_back(out.add_param(in.node(p).param_name, in.type(p)));
  out.set_results(ir::map_results(
      in, std::move(params), [&](const Node& node, std::span<const Value> operands) {
        std::optional<Value> replaced = fn ? fn(node, operands, out) : std::nullopt;
        const Value v =
            replaced ? *replaced : copy_node(node, {operands.begin(), operands.end()}, out);
        assert(out.type(v) == node.type && "a rewrite must keep the value's type");
        return v;
      }));
  return out;
}

}  // namespace

Function rewrite(const Function& in, const RewriteFn& fn) {
  Function out = walk(in, fn);
  if (!fn) return out;
  // A callback may have built values that a later node bypassed; one plain copy drops them.
  const std::vector<bool> live = live_nodes(out);
  if (std::all_of(live.begin(), live.end(), [](bool b) { return b; })) return out;
  return walk(out, {});
}

}  // namespace kiln::passes
