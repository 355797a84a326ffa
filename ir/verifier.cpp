#include "ir/verifier.h"

#include <set>

#include "ir/error.h"

namespace kiln::ir {

namespace {
[[noreturn]] void fail(const Function& f, const std::string& where, const std::string& rule) {
  throw TypeError("[verify] @" + f.name() + ": " + where + ": " + rule);
}
}  // namespace

void verify(const Function& f) {
  std::set<std::string> names;
  for (Value p : f.params()) {
    const std::string& name = f.node(p).param_name;
    if (name.empty()) fail(f, "parameter " + std::to_string(p.id), "has no name");
    if (!names.insert(name).second) fail(f, "%" + name, "parameter name used twice");
  }
  for (size_t i = 0; i < f.num_nodes(); ++i) {
    const Node& node = f.nodes()[i];
    if (node.op == OpKind::Parameter) continue;
    std::string where = "%" + std::to_string(i) + " = " + std::string(op_name(node.op));
    std::vector<TensorType> operand_types;
    for (Value v : node.operands) {
      if (!v.valid() || v.id >= i) fail(f, where, "uses a value before it is defined");
      operand_types.push_back(f.type(v));
    }
    TensorType inferred;
    try {
      inferred = infer_type(node.op, operand_types, node.attrs, node.type);
    } catch (const TypeError& e) {
      fail(f, where, e.what());
    }
    if (inferred != node.type)
      fail(f, where, "result type is " + node.type.str() + " but the op gives " + inferred.str());
  }
  if (f.results().empty()) fail(f, "return", "a function returns at least one value");
  for (Value v : f.results())
    if (!v.valid() || v.id >= f.num_nodes()) fail(f, "return", "returns an undefined value");
}

void verify(const Module& module) {
  std::set<std::string> names;
  for (const Function& f : module.functions) {
    if (!names.insert(f.name()).second)
      throw TypeError("[verify] @" + f.name() + ": function name used twice");
    verify(f);
  }
}

}  // namespace kiln::ir
