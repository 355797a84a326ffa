// Traces an MLP, softmax(gelu(x @ w1 + b1) @ w2 + b2), and writes its .kir to argv[1]
// (stdout without an argument). Parse it back with the kiln tool, run it, or compile it.

#include "examples/models.h"

int main(int argc, char** argv) {
  kiln::examples::MlpConfig config{.batch = 32, .in = 784, .hidden = 128, .out = 10};
  return kiln::examples::write_or_print_kir(kiln::examples::trace_mlp(config), argc, argv);
}
