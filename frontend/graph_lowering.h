#pragma once
// Lowers the lazy graph behind Tensors to an ir::Function: the one road that eval() and trace()
// both take. Each node is lowered once (memoized by node identity); the Function hash-conses
// on top of that, so structurally equal subgraphs also collapse.

#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/tensor.h"
#include "ir/function.h"

namespace kiln {

// A tensor's value as a `constant` attribute: a scalar or nested lists in row-major order.
ir::Attr constant_value(const ir::HostArray& array);

class GraphLowering {
 public:
  // What data-backed leaves become. Evaluation passes them as arguments (Parameters); a trace
  // bakes them into the function (Constants). Embedded nodes (literals) are constants always.
  enum class Leaves { Parameters, Constants };

  GraphLowering(ir::Function& function, Leaves leaves, std::string caller);

  // Says which function value a trace parameter node stands for.
  void bind(const detail::Node* node, ir::Value value);

  ir::Value lower(const Tensor& tensor);

  // The data of the leaves made parameters, in parameter order (Leaves::Parameters only).
  std::vector<ir::HostArray> take_arguments() { return std::move(arguments_); }

 private:
  ir::Value emit(const detail::Node& node);
  ir::Value emit_leaf(const detail::Node& node);

  ir::Function& function_;
  Leaves leaves_;
  std::string caller_;  // names the public function in errors ("eval", "trace")
  std::unordered_map<const detail::Node*, ir::Value> lowered_;
  std::vector<ir::HostArray> arguments_;
};

}  // namespace kiln
