#pragma once
// Lowers the lazy graph behind Tensors to an ir::Function: the one road that eval() and trace()
// both take. Each node is lowered once (memoized by node identity); the Function hash-conses
// on top of that, so structurally equal subgraphs also collapse.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "frontend/tensor.h"
#include "frontend/trace.h"
#include "ir/function.h"

namespace kiln {

class GraphLowering {
 public:
  // What data-backed leaves become. Evaluation passes them as arguments (Parameters), scalars
  // made from C++ numbers included; a trace bakes them into the function (Constants).
  // Other embedded nodes (index tables) are constants always.
  // A trace for a transform (Captured) makes parameters of both data leaves and the inputs of
  // an enclosing trace that the function closes over, and records them as tensors, so that
  // the transformed function can be applied to them again.
  enum class Leaves { Parameters, Constants, Captured };

  GraphLowering(ir::Function& function, Leaves leaves, std::string caller);

  // Says which function value a trace parameter node stands for.
  void bind(const detail::Node* node, ir::Value value);

  ir::Value lower(const Tensor& tensor);

  // compile's rule for what a function closed over (Leaves::Captured): a lazy tensor made
  // before node serial `first_serial` (before the trace began) that does not depend on an
  // enclosing trace's inputs is evaluated and captured by reference, like evaluated weights,
  // rather than lowered into the code; Tensor::assign on it then reaches later calls.
  void capture_lazy_made_before(uint64_t first_serial) { capture_before_ = first_serial; }

  // The data of the leaves made parameters, in parameter order (Leaves::Parameters only).
  std::vector<ir::HostArray> take_arguments() { return std::move(arguments_); }
  // What the function closed over, in parameter order after the bound ones (Leaves::Captured).
  const std::vector<Tensor>& captured() const { return captured_; }
  // The functions that `call` nodes lowered so far reach (empty without calls).
  const ir::Module& callees() const { return callees_; }

 private:
  ir::Value emit(const std::shared_ptr<detail::Node>& node);
  ir::Value emit_leaf(const std::shared_ptr<detail::Node>& node);
  ir::Value capture(const std::shared_ptr<detail::Node>& node);

  ir::Function& function_;
  Leaves leaves_;
  std::string caller_;  // names the public function in errors ("eval", "trace")
  std::unordered_map<const detail::Node*, ir::Value> lowered_;
  std::vector<ir::HostArray> arguments_;
  std::map<std::pair<int, int64_t>, ir::Value> runtime_scalars_;  // (dtype, value bits)
  std::vector<Tensor> captured_;
  ir::Module callees_;
  uint64_t capture_before_ = 0;                                     // 0: no lazy tensor is captured
  std::unordered_map<const detail::Node*, bool> depends_on_input_;  // memo of the walk below
};

namespace detail {

// What trace_lowered gives: the function first, then the functions its calls reach, and (for
// Leaves::Captured) the tensors it closed over, which follow the inputs as parameters.
struct TraceResult {
  ir::Module module;
  std::vector<Tensor> captured;
};

// The one tracing road: runs fn on fresh trace inputs of `input_types` (named by `names`, or
// x0, x1, ...) and lowers what it returns with `leaves`. Errors are "[frontend] CALLER: ...".
// trace() and the transforms (frontend/transforms.h) differ only in the arguments.
// With `capture_lazy`, closed-over lazy tensors are evaluated and captured (compile's rule,
// see GraphLowering::capture_lazy_made_before).
TraceResult trace_lowered(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                          const std::vector<std::string>& names, const std::string& function_name,
                          GraphLowering::Leaves leaves, const std::string& caller,
                          bool capture_lazy = false);

// Whether `t`'s value depends on an input of a trace in progress (an enclosing grad, vmap,
// jvp, checkpoint or compile): such a tensor has no value to run compiled code on. The node
// form keeps its answers in `memo`, so asking about many nodes of one graph walks it once.
bool depends_on_trace_input(const Tensor& t);
bool depends_on_trace_input(const Node* root, std::unordered_map<const Node*, bool>& memo);

}  // namespace detail

}  // namespace kiln
