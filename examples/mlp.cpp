// Traces an MLP, softmax(gelu(x @ w1 + b1) @ w2 + b2), and writes its .kir to argv[1]
// (stdout without an argument). Parse it back with the kiln tool, run it, or compile it.

#include <fstream>
#include <iostream>

#include "examples/models.h"
#include "ir/printer.h"

int main(int argc, char** argv) {
  kiln::examples::MlpConfig config{.batch = 32, .in = 784, .hidden = 128, .out = 10};
  std::string text = kiln::ir::print(kiln::examples::trace_mlp(config));
  if (argc < 2) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(argv[1]);
  out << text;
  if (!out) {
    std::cerr << "kiln_example_mlp: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
