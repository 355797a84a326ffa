// The README's first command: trace a small MLP into kiln IR, print the IR, run it with the
// reference interpreter on deterministic inputs and print the result. Then compute the same
// thing with lazy Tensors (eval() compiles the graph for the CPU) and show that the two agree.

#include <algorithm>
#include <cmath>
#include <iostream>

#include "examples/models.h"
#include "frontend/kiln.h"
#include "ir/interpreter.h"
#include "ir/printer.h"

int main() {
  using namespace kiln;
  examples::MlpConfig config;  // batch 4, 8 -> 16 -> 4
  ir::Function function = examples::trace_mlp(config);

  std::cout << "kiln demo: softmax(gelu(x @ w1 + b1) @ w2 + b2), batch " << config.batch << ", "
            << config.in << " -> " << config.hidden << " -> " << config.out << "\n\n"
            << "== traced IR (" << function.num_nodes() << " values) ==\n"
            << ir::print(function) << "\n";

  std::vector<Tensor> inputs = examples::mlp_inputs(config);
  std::vector<ir::HostArray> args;
  for (const Tensor& t : inputs)
    args.push_back(t.data());
  ir::HostArray result = ir::interpret(function, args).at(0);

  std::cout << "== input x " << inputs[0].type().str() << " ==\n"
            << to_string(inputs[0], 4) << "\n\n"
            << "== output " << result.type().str() << " (each row sums to 1) ==\n"
            << to_string(Tensor(result), 4) << "\n\n";

  // The same model through lazy Tensors: ops build a graph, eval() lowers and compiles it.
  Tensor lazy = examples::mlp(inputs[0], inputs[1], inputs[2], inputs[3], inputs[4]);
  Tensor row_sums = sum(lazy, -1);
  eval({lazy, row_sums});
  double worst = 0;
  for (int64_t i = 0; i < result.num_elements(); ++i)
    worst = std::max(worst, std::abs(lazy.data().get_f64(i) - result.get_f64(i)));
  std::cout << "row sums: " << to_string(row_sums, 6) << "\n"
            << "lazy Tensor evaluation matches the traced function: max |difference| = " << worst
            << "\n";
  return 0;
}
