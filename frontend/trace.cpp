#include "frontend/trace.h"

#include "frontend/graph_lowering.h"
#include "passes/inline.h"

namespace kiln {

namespace detail {

void check_arity(size_t expected, size_t got) {
  if (expected != got)
    fail("trace", "the function takes " + std::to_string(expected) + " tensors but " +
                      std::to_string(got) + " input types were given");
}

void fail_generic_arity(size_t got) {
  fail("trace", "the generic function cannot be called with " + std::to_string(got) + " tensors");
}

}  // namespace detail

namespace detail {

TraceResult trace_lowered(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                          const std::vector<std::string>& names, const std::string& function_name,
                          GraphLowering::Leaves leaves, const std::string& caller,
                          bool capture_lazy) {
  if (!names.empty() && names.size() != input_types.size())
    fail(caller, std::to_string(names.size()) + " names for " + std::to_string(input_types.size()) +
                     " inputs");
  ir::Function function(function_name);
  GraphLowering lowering(function, leaves, caller);
  if (capture_lazy) lowering.capture_lazy_made_before(next_node_serial());
  std::vector<Tensor> inputs;
  for (size_t i = 0; i < input_types.size(); ++i) {
    auto node = std::make_shared<Node>();
    node->op = ir::OpKind::Parameter;
    node->type = input_types[i];
    node->param_name = names.empty() ? "x" + std::to_string(i) : names[i];
    if (function.find_param(node->param_name))
      fail(caller, "two inputs are named '" + node->param_name + "'");
    lowering.bind(node.get(), function.add_param(node->param_name, node->type));
    inputs.push_back(Tensor::from_node(std::move(node)));
  }
  std::vector<Tensor> outputs = fn(inputs);
  if (outputs.empty()) fail(caller, "the function returned no tensors");
  std::vector<ir::Value> results;
  for (const Tensor& t : outputs)
    results.push_back(lowering.lower(t));
  function.set_results(std::move(results));
  TraceResult traced;
  traced.module.functions.push_back(std::move(function));
  for (const ir::Function& callee : lowering.callees().functions)
    traced.module.functions.push_back(callee);
  traced.captured = lowering.captured();
  return traced;
}

}  // namespace detail

ir::Module trace_module(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                        const std::vector<std::string>& names, const std::string& function_name) {
  return detail::trace_lowered(fn, input_types, names, function_name,
                               GraphLowering::Leaves::Constants, "trace")
      .module;
}

ir::Function trace_vector(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                          const std::vector<std::string>& names, const std::string& function_name) {
  ir::Module module = trace_module(fn, input_types, names, function_name);
  if (module.functions.size() == 1) return std::move(module.functions.front());
  return passes::inline_calls(module, module.functions.front());
}

}  // namespace kiln
