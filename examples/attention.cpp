// Traces a pre-norm multi-head causal self-attention block, x + attention(layer_norm(x)) with
// q/k/v/o projections, and writes its .kir to argv[1] (stdout without an argument).

#include "examples/models.h"

int main(int argc, char** argv) {
  kiln::examples::AttentionConfig config;  // batch 2, seq 8, d_model 32, 4 heads, causal
  return kiln::examples::write_or_print_kir(kiln::examples::trace_attention(config), argc, argv);
}
