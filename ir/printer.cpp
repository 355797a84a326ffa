#include "ir/printer.h"

#include "ir/syntax.h"

namespace kiln::ir {

namespace {

std::string signature(const Function& f, const std::vector<std::string>& names) {
  std::string s = "func @" + f.name() + "(";
  for (size_t i = 0; i < f.params().size(); ++i) {
    Value p = f.params()[i];
    if (i) s += ", ";
    s += "%" + names[p.id] + ": " + f.type(p).str();
  }
  s += ") -> ";
  // One result is written bare, several in parentheses. None prints as "()" so that a dump
  // of an unfinished function still shows it; the parser rejects that, as the verifier does.
  std::vector<TensorType> results = f.result_types();
  if (results.size() == 1) return s + results[0].str();
  s += "(";
  for (size_t i = 0; i < results.size(); ++i)
    s += (i ? ", " : "") + results[i].str();
  return s + ")";
}

std::string value_list(const std::vector<Value>& values, const std::vector<std::string>& names) {
  std::string s;
  for (size_t i = 0; i < values.size(); ++i)
    s += (i ? ", %" : " %") + names[values[i].id];
  return s;
}

std::string statement(const Node& node, const std::string& name,
                      const std::vector<std::string>& names) {
  std::string s = "  %" + name + " = " + std::string(op_name(node.op));
  auto attrs = written_attrs(node);
  if (node.op == OpKind::Call) {
    // call @f(%a, %b): the callee leaves the attribute list.
    s += " @" + call_attrs(node).callee + "(" +
         (node.operands.empty() ? "" : value_list(node.operands, names).substr(1)) + ")";
    std::erase_if(attrs, [](const auto& attr) { return attr.first == CallAttrs::callee_name; });
  } else {
    s += value_list(node.operands, names);
  }
  for (size_t i = 0; i < attrs.size(); ++i) {
    s += i ? ", " : " {";
    s += std::string(attrs[i].first) + "=" + attr_str(*attrs[i].second);
  }
  if (!attrs.empty()) s += "}";
  return s + " : " + node.type.str() + "\n";
}

}  // namespace

std::string print(const Function& function) {
  return print(function, nullptr);
}

std::string print(const Function& function, const Annotator& annotate) {
  std::vector<std::string> names = value_names(function);
  std::string out = signature(function, names) + " {\n";
  for (size_t i = 0; i < function.num_nodes(); ++i) {
    const Node& node = function.nodes()[i];
    if (node.op == OpKind::Parameter) continue;
    if (annotate) out += annotate(Value{static_cast<uint32_t>(i)}, names);
    out += statement(node, names[i], names);
  }
  return out + "  return" + value_list(function.results(), names) + "\n}\n";
}

std::string print(const Module& module) {
  std::string out;
  for (size_t i = 0; i < module.functions.size(); ++i) {
    if (i) out += "\n";
    out += print(module.functions[i]);
  }
  return out;
}

}  // namespace kiln::ir
