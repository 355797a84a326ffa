#include "passes/inline.h"

#include <map>
#include <string>

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

bool is_marked(const Node& call) {
  const ir::Attr* checkpoint = call.attrs.find("checkpoint");
  return call.attrs.has("vjp") || (checkpoint && checkpoint->as_int() != 0);
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
    return rewrite(
        f,
        [&](const Node& node, std::span<const Value> operands,
            Function& out) -> std::optional<Value> {
          if (node.op != OpKind::Call) return std::nullopt;
          const std::string& callee = node.attrs.get("callee").as_string();
          const Function& body = flat(callee);  // inlines what the callee calls, once
          if (options_.keep_marked_calls && is_marked(node)) return std::nullopt;
          const ir::Attr* result = node.attrs.find("result");
          return splice(body, operands, out).at(result ? static_cast<size_t>(result->as_int()) : 0);
        });
  }

 private:
  const ir::Module& module_;
  const InlineOptions& options_;
  std::map<std::string, Function> done_;
};

}  // namespace

Function inline_calls(const ir::Module& module, const Function& f, const InlineOptions& options) {
  return Inliner(module, options).run(f);
}

}  // namespace kiln::passes
