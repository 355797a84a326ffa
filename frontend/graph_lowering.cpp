#include "frontend/graph_lowering.h"

#include <bit>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

namespace kiln {

GraphLowering::GraphLowering(ir::Function& function, Leaves leaves, std::string caller)
    : function_(function), leaves_(leaves), caller_(std::move(caller)) {}

void GraphLowering::bind(const detail::Node* node, ir::Value value) {
  lowered_[node] = value;
}

ir::Value GraphLowering::lower(const Tensor& tensor) {
  if (!tensor.valid()) detail::fail(caller_, "the tensor is empty (default-constructed)");
  // Post-order walk with an explicit stack: deep graphs (long loops) must not overflow the
  // C++ stack.
  struct Frame {
    std::shared_ptr<detail::Node> node;
    size_t next_input;
  };
  std::vector<Frame> stack{{tensor.node(), 0}};
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (lowered_.count(top.node.get())) {
      stack.pop_back();
      continue;
    }
    if (capture_before_ && !top.node->data && top.next_input == 0 &&
        top.node->op != ir::OpKind::Parameter && top.node->serial < capture_before_ &&
        !detail::depends_on_trace_input(top.node.get(), depends_on_input_))
      Tensor::from_node(top.node).eval();  // made outside the function: a closed-over value
    if (!top.node->data && top.next_input < top.node->inputs.size()) {
      const std::shared_ptr<detail::Node>& input = top.node->inputs[top.next_input++];
      if (!lowered_.count(input.get())) stack.push_back({input, 0});
      continue;
    }
    lowered_[top.node.get()] = emit(top.node);
    stack.pop_back();
  }
  return lowered_.at(tensor.node().get());
}

ir::Value GraphLowering::emit(const std::shared_ptr<detail::Node>& node_ptr) {
  const detail::Node& node = *node_ptr;
  if (node.data) return emit_leaf(node_ptr);
  if (node.op == ir::OpKind::Parameter) {
    if (leaves_ == Leaves::Captured) return capture(node_ptr);
    detail::fail(caller_, "the tensor depends on trace input '" + node.param_name +
                              "', which has no value outside the trace that made it");
  }
  std::vector<ir::Value> operands;
  operands.reserve(node.inputs.size());
  for (const auto& input : node.inputs)
    operands.push_back(lowered_.at(input.get()));
  std::optional<ir::TensorType> declared;
  if (ir::op_info(node.op).declares_result_type) declared = node.type;
  if (node.op == ir::OpKind::Call) {
    // Callee names are unique per traced function (frontend/transforms.cpp), so a name seen
    // before is the same function.
    for (const ir::Function& f : node.callees->functions)
      if (!callees_.find(f.name())) callees_.functions.push_back(f);
  }
  return function_.add(node.op, std::move(operands), node.attrs, declared);
}

ir::Value GraphLowering::capture(const std::shared_ptr<detail::Node>& node) {
  captured_.push_back(Tensor::from_node(node));
  std::string name = "captured" + std::to_string(captured_.size() - 1);
  while (function_.find_param(name))
    name += "_";
  return function_.add_param(std::move(name), node->type);
}

ir::Value GraphLowering::emit_leaf(const std::shared_ptr<detail::Node>& node_ptr) {
  const detail::Node& node = *node_ptr;
  const ir::HostArray& data = *node.data;
  // Evaluation passes scalars made from C++ numbers as arguments too: the graph's structure,
  // not its numbers, then keys the compiled code, so `sum(x * float(i))` in a loop compiles
  // once. Traces keep them as constants, which the passes may fold.
  const bool runtime_scalar =
      leaves_ == Leaves::Parameters && node.literal && data.type().rank() == 0;
  if ((node.embed && !runtime_scalar) || leaves_ == Leaves::Constants) {
    ir::Attr value = ir::constant_value_of(data);
    // A float literal prints as written (1e-05, not the f32 rounding 9.99999974e-06); it
    // rounds to the same element.
    const double* literal = node.literal ? std::get_if<double>(&*node.literal) : nullptr;
    if (literal && ir::is_float(data.dtype())) value = *literal;
    return function_.add(ir::OpKind::Constant, {}, make_attrs(ir::ConstantAttrs{std::move(value)}),
                         data.type());
  }
  if (leaves_ == Leaves::Captured) return capture(node_ptr);
  // Equal scalars share one argument, as equal constants share one node: `x = x + 1.0` in a
  // loop of any length passes one number.
  std::optional<std::pair<int, int64_t>> scalar_key;
  if (runtime_scalar) {
    const bool fp = ir::is_float(data.dtype());
    scalar_key = {static_cast<int>(data.dtype()),
                  fp ? std::bit_cast<int64_t>(data.get_f64(0)) : data.get_i64(0)};
    if (auto it = runtime_scalars_.find(*scalar_key); it != runtime_scalars_.end())
      return it->second;
  }
  std::string name = "a" + std::to_string(arguments_.size());
  arguments_.push_back(data);
  const ir::Value param = function_.add_param(std::move(name), data.type());
  if (scalar_key) runtime_scalars_.emplace(*scalar_key, param);
  return param;
}

namespace detail {

bool depends_on_trace_input(const Node* root, std::unordered_map<const Node*, bool>& memo) {
  std::vector<const Node*> stack{root};
  while (!stack.empty()) {
    const Node* node = stack.back();
    if (memo.count(node)) {
      stack.pop_back();
      continue;
    }
    if (node->data || node->op == ir::OpKind::Parameter) {
      memo[node] = !node->data;
      stack.pop_back();
      continue;
    }
    bool pending = false, depends = false;
    for (const auto& input : node->inputs) {
      auto it = memo.find(input.get());
      if (it == memo.end()) {
        stack.push_back(input.get());
        pending = true;
      } else {
        depends = depends || it->second;
      }
    }
    if (pending) continue;
    memo[node] = depends;
    stack.pop_back();
  }
  return memo.at(root);
}

bool depends_on_trace_input(const Tensor& t) {
  if (t.has_data()) return false;
  std::unordered_map<const Node*, bool> memo;
  return depends_on_trace_input(t.node().get(), memo);
}

}  // namespace detail

}  // namespace kiln
