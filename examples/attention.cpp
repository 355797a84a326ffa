// Traces a pre-norm multi-head causal self-attention block, x + attention(layer_norm(x)) with
// q/k/v/o projections, and writes its .kir to argv[1] (stdout without an argument).

#include <fstream>
#include <iostream>

#include "examples/models.h"
#include "ir/printer.h"

int main(int argc, char** argv) {
  kiln::examples::AttentionConfig config;  // batch 2, seq 8, d_model 32, 4 heads, causal
  std::string text = kiln::ir::print(kiln::examples::trace_attention(config));
  if (argc < 2) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(argv[1]);
  out << text;
  if (!out) {
    std::cerr << "kiln_example_attention: cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}
