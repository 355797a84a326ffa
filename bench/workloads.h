#pragma once
// The benchmark workloads W1-W5 as traced IR functions, shared by the benchmark program and
// the kernel-count tests.

#include "ir/function.h"

namespace kiln::bench {

// W1: y = gelu_tanh(x*a + b) * logistic(x) over `n` elements; a, b scalar parameters.
ir::Function w1_elementwise(int64_t n = 16 << 20);
// W2: softmax over the rows of rows x cols.
ir::Function w2_softmax(int64_t rows = 4096, int64_t cols = 4096);
// W3: layernorm (no affine, eps 1e-5) over the rows of rows x cols.
ir::Function w3_layernorm(int64_t rows = 8192, int64_t cols = 1024);
// W4: MLP forward, gelu(x @ w1 + b1) @ w2 + b2.
ir::Function w4_mlp(int64_t batch = 256, int64_t in = 1024, int64_t hidden = 4096,
                    int64_t out = 1024);
// W5: the sum of n elements.
ir::Function w5_sum(int64_t n = 64 << 20);

}  // namespace kiln::bench
