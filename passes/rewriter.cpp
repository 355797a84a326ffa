#include "passes/rewriter.h"

#include <algorithm>
#include <cassert>

namespace kiln::passes {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::Value;

std::vector<bool> live_nodes(const Function& f) {
  std::vector<bool> live(f.num_nodes(), false);
  for (Value v : f.results())
    live[v.id] = true;
  // Operands precede their users, so one backward sweep marks everything reachable.
  for (size_t i = f.num_nodes(); i-- > 0;) {
    const Node& node = f.nodes()[i];
    if (node.op == OpKind::Parameter) live[i] = true;
    if (!live[i]) continue;
    for (Value operand : node.operands)
      live[operand.id] = true;
  }
  return live;
}

Value copy_node(const Node& node, std::vector<Value> operands, Function& out) {
  assert(node.op != OpKind::Parameter);
  return out.add(node.op, std::move(operands), node.attrs, node.type);
}

std::vector<Value> splice(const Function& callee, std::span<const Value> args, Function& out) {
  assert(args.size() == callee.params().size());
  std::vector<Value> map(callee.num_nodes());
  for (size_t i = 0; i < args.size(); ++i) {
    assert(out.type(args[i]) == callee.type(callee.params()[i]));
    map[callee.params()[i].id] = args[i];
  }
  const std::vector<bool> live = live_nodes(callee);
  std::vector<Value> operands;
  for (size_t i = 0; i < callee.num_nodes(); ++i) {
    const Node& node = callee.nodes()[i];
    if (node.op == OpKind::Parameter || !live[i]) continue;
    operands.clear();
    for (Value v : node.operands)
      operands.push_back(map[v.id]);
    map[i] = copy_node(node, operands, out);
  }
  std::vector<Value> results;
  for (Value v : callee.results())
    results.push_back(map[v.id]);
  return results;
}

namespace {

Function walk(const Function& in, const RewriteFn& fn) {
  Function out(in.name());
  std::vector<Value> map(in.num_nodes());
  // Parameters first, so that they keep their order even where the old function interleaved
  // them with the body.
  for (Value p : in.params())
    map[p.id] = out.add_param(in.node(p).param_name, in.type(p));
  const std::vector<bool> live = live_nodes(in);
  std::vector<Value> operands;
  for (size_t i = 0; i < in.num_nodes(); ++i) {
    const Node& node = in.nodes()[i];
    if (node.op == OpKind::Parameter || !live[i]) continue;
    operands.clear();
    for (Value v : node.operands) {
      assert(map[v.id].valid());
      operands.push_back(map[v.id]);
    }
    std::optional<Value> replaced = fn ? fn(node, operands, out) : std::nullopt;
    map[i] = replaced ? *replaced : copy_node(node, operands, out);
    assert(out.type(map[i]) == node.type && "a rewrite must keep the value's type");
  }
  std::vector<Value> results;
  for (Value v : in.results())
    results.push_back(map[v.id]);
  out.set_results(std::move(results));
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
