#include "ir/verifier.h"

#include <algorithm>
#include <optional>
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

namespace {

std::string types_str(const std::vector<TensorType>& types) {
  std::string s = "(";
  for (size_t i = 0; i < types.size(); ++i)
    s += (i ? ", " : "") + types[i].str();
  return s + ")";
}

}  // namespace

std::optional<std::string> call_rule_broken(const Module& module, const Node& node,
                                            std::span<const TensorType> args) {
  const CallAttrs call = call_attrs(node);
  const std::string& name = call.callee;
  const Function* callee = module.find(name);
  if (!callee) return "calls @" + name + ", which the module does not define";
  std::vector<TensorType> arg_types(args.begin(), args.end());
  if (arg_types != callee->param_types())
    return "passes " + types_str(arg_types) + " to @" + name + ", which takes " +
           types_str(callee->param_types());
  const size_t k = static_cast<size_t>(call.result);
  if (k >= callee->results().size())
    return "asks for result " + std::to_string(k) + " of @" + name + ", which has " +
           std::to_string(callee->results().size());
  if (callee->type(callee->results()[k]) != node.type)
    return "result " + std::to_string(k) + " of @" + name + " is " +
           callee->type(callee->results()[k]).str() + ", not " + node.type.str();
  if (call.vjp) {
    const Function* bwd = module.find(*call.vjp);
    if (!bwd) return "names vjp @" + *call.vjp + ", which the module does not define";
    std::vector<TensorType> expected = callee->param_types();
    for (const TensorType& t : callee->result_types())
      expected.push_back(t);
    if (bwd->param_types() != expected || bwd->result_types() != callee->param_types())
      return "vjp @" + bwd->name() + " must map " + types_str(expected) + " to " +
             types_str(callee->param_types()) +
             " (the callee's arguments and a cotangent per result, to a cotangent per argument)";
  }
  return std::nullopt;
}

namespace {

// Depth-first over the call graph (vjp functions count as callees); a cycle is an error, so
// inlining always ends.
std::optional<std::string> find_cycle(const Module& module, const Function& f,
                                      std::vector<std::string>& path, std::set<std::string>& done) {
  if (done.count(f.name())) return std::nullopt;
  if (std::find(path.begin(), path.end(), f.name()) != path.end()) {
    std::string cycle;
    for (auto it = std::find(path.begin(), path.end(), f.name()); it != path.end(); ++it)
      cycle += "@" + *it + " -> ";
    return cycle + "@" + f.name();
  }
  path.push_back(f.name());
  for (const Node& node : f.nodes()) {
    if (node.op != OpKind::Call) continue;
    const CallAttrs call = call_attrs(node);
    for (const std::optional<std::string>& name : {std::optional(call.callee), call.vjp})
      if (name)
        if (const Function* g = module.find(*name))
          if (auto cycle = find_cycle(module, *g, path, done)) return cycle;
  }
  path.pop_back();
  done.insert(f.name());
  return std::nullopt;
}

}  // namespace

std::optional<std::pair<std::string, std::string>> recursion_in(const Module& module) {
  std::set<std::string> done;
  for (const Function& f : module.functions) {
    std::vector<std::string> path;
    if (auto cycle = find_cycle(module, f, path, done))
      return std::pair{cycle->substr(1, cycle->find(' ') - 1), *cycle};
  }
  return std::nullopt;
}

void verify(const Module& module) {
  std::set<std::string> names;
  for (const Function& f : module.functions) {
    if (!names.insert(f.name()).second)
      throw TypeError("[verify] @" + f.name() + ": function name used twice");
    verify(f);
  }
  for (const Function& f : module.functions)
    for (size_t i = 0; i < f.num_nodes(); ++i) {
      const Node& node = f.nodes()[i];
      if (node.op != OpKind::Call) continue;
      std::vector<TensorType> args;
      for (Value v : node.operands)
        args.push_back(f.type(v));
      if (auto rule = call_rule_broken(module, node, args))
        fail(f, "%" + std::to_string(i) + " = call", *rule);
    }
  if (auto cycle = recursion_in(module))
    throw TypeError("[verify] @" + cycle->first + ": calls itself (" + cycle->second +
                    "); recursion is not allowed");
}

}  // namespace kiln::ir
