#include "passes/inline.h"

#include <map>
#include <string>
#include <vector>

#include "ir/error.h"
#include "passes/rewriter.h"

namespace kiln::passes {

using ir::Function;
using ir::Node;
using ir::OpKind;
using ir::Value;

bool has_calls(const Function& f) {
  for (const Node& node : f.nodes())
    if (node.op == OpKind::Call) return true;
  return false;
}

namespace {

bool is_checkpointed(const Node& call) {
  return ir::call_attrs(call).checkpoint != 0;
}

bool is_marked(const Node& call) {
  return ir::call_attrs(call).vjp || is_checkpointed(call);
}

class Inliner {
 public:
  Inliner(const ir::Module& module, const InlineOptions& options)
      : module_(module), options_(options) {}

  const Function& flat(const std::string& name) {
    if (auto it = done_.find(name); it != done_.end()) return it->second;
    const Function* f = module_.find(name);
    if (!f) throw Error("[inline] no function @" + name + " in the module");
    Function result = run(*f);
    return done_.emplace(name, std::move(result)).first->second;
  }

  Function run(const Function& f) {
    if (!has_calls(f)) return rewrite(f);
    return rewrite(f,
                   [&](const Node& node, std::span<const Value> operands,
                       Function& out) -> std::optional<Value> {
                     if (node.op != OpKind::Call) return std::nullopt;
                     const ir::CallAttrs call = ir::call_attrs(node);
                     const std::string& callee = call.callee;
                     const Function& body = flat(callee);  // inlines what the callee calls, once
                     if (options_.keep_marked_calls && is_marked(node)) return std::nullopt;
                     std::vector<Value> args(operands.begin(), operands.end());
                     if (options_.checkpoint_barriers && is_checkpointed(node))
                       for (Value& arg : args)
                         arg = barrier(arg, callee, out);
                     return splice(body, args, out).at(static_cast<size_t>(call.result));
                   });
  }

 private:
  // One stop_gradient would not do: the forward call @f(x) and the recomputation inside
  // @f_vjp(x, c) would both see stop_gradient(x), and hash-consing would merge the bodies
  // again. So the k-th checkpointed callee met gets a chain of k stop_gradients: two different
  // functions never share a barrier, two calls of one function on the same arguments still
  // merge (they are the same computation).
  Value barrier(Value arg, const std::string& callee, Function& out) {
    const size_t depth = depth_.emplace(callee, depth_.size() + 1).first->second;
    for (size_t i = 0; i < depth; ++i)
      arg = out.add(OpKind::StopGradient, {arg});
    return arg;
  }

  const ir::Module& module_;
  const InlineOptions& options_;
  std::map<std::string, Function> done_;
  std::map<std::string, size_t> depth_;  // barrier chain length per checkpointed callee
};

}  // namespace

Function inline_calls(const ir::Module& module, const Function& f, const InlineOptions& options) {
  return Inliner(module, options).run(f);
}

}  // namespace kiln::passes
