#include "compiler/graphviz.h"

#include <map>
#include <sstream>

#include "ir/ops.h"

namespace kiln::compiler {

namespace {

// Graphviz quoted strings: backslash and quote escaped.
std::string quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string value_label(const ir::Function& f, ir::Value v) {
  const ir::Node& node = f.node(v);
  const std::string head = node.op == ir::OpKind::Parameter ? "%" + node.param_name
                                                            : "%" + std::to_string(v.id) + " = " +
                                                                  std::string(ir::op_name(node.op));
  return head + "\\n" + node.type.str();
}

}  // namespace

std::string graphviz(const ir::Function& function, const CompileOptions& options) {
  const LoweredProgram program = lower_program(function, options);
  const ir::Function& f = program.function;
  const passes::FusionPlan& plan = program.fusion;
  std::ostringstream out;
  out << "digraph " << quoted(f.name()) << " {\n"
      << "  rankdir=TB;\n  node [shape=box, fontname=\"monospace\", fontsize=10];\n";

  // Where each value is computed: (group, value) nodes inside clusters; parameters and values
  // no kernel computes (inlined constants) as plain nodes outside them.
  std::map<uint32_t, int> writer;  // value -> the group that writes it to memory
  for (size_t g = 0; g < plan.groups.size(); ++g)
    for (ir::Value v : plan.groups[g].outputs)
      writer[v.id] = static_cast<int>(g);
  auto outside = [](ir::Value v) { return "v" + std::to_string(v.id); };
  auto inside = [](size_t g, ir::Value v) {
    return "g" + std::to_string(g) + "_v" + std::to_string(v.id);
  };
  std::map<uint32_t, bool> drawn_outside;
  auto node_outside = [&](ir::Value v) {
    if (drawn_outside[v.id]) return;
    drawn_outside[v.id] = true;
    const bool param = f.node(v).op == ir::OpKind::Parameter;
    out << "  " << outside(v) << " [label=" << quoted(value_label(f, v))
        << (param ? ", shape=ellipse" : ", style=dashed") << "];\n";
  };
  // The node a consumer in group `g` reads `v` from.
  auto source = [&](int g, ir::Value v, const std::vector<ir::Value>& members) -> std::string {
    for (ir::Value m : members)
      if (m == v) return inside(static_cast<size_t>(g), v);
    if (auto it = writer.find(v.id); it != writer.end())
      return inside(static_cast<size_t>(it->second), v);
    node_outside(v);
    return outside(v);
  };

  std::ostringstream edges;
  for (size_t g = 0; g < plan.groups.size(); ++g) {
    const passes::FusionGroup& group = plan.groups[g];
    out << "  subgraph cluster_" << g << " {\n    label="
        << quoted("kernel " + std::to_string(g) + " (" + std::to_string(group.members.size()) +
                  " op" + (group.members.size() == 1 ? "" : "s") + ")")
        << ";\n    style=rounded; color=\"#4060a0\";\n";
    for (ir::Value v : group.members)
      out << "    " << inside(g, v) << " [label=" << quoted(value_label(f, v)) << "];\n";
    out << "  }\n";
    for (ir::Value v : group.members)
      for (ir::Value operand : f.node(v).operands)
        edges << "  " << source(static_cast<int>(g), operand, group.members) << " -> "
              << inside(g, v) << ";\n";
  }
  out << edges.str();
  for (size_t k = 0; k < f.results().size(); ++k) {
    const ir::Value r = f.results()[k];
    out << "  result" << k << " [label=" << quoted("result " + std::to_string(k))
        << ", shape=ellipse];\n";
    std::string from;
    if (auto it = writer.find(r.id); it != writer.end()) {
      from = inside(static_cast<size_t>(it->second), r);
    } else {
      node_outside(r);
      from = outside(r);
    }
    out << "  " << from << " -> result" << k << ";\n";
  }
  out << "}\n";
  return out.str();
}

}  // namespace kiln::compiler
