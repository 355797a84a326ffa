#pragma once
// The benchmark workloads W1-W5 as traced IR functions, shared by the benchmark program and
// the kernel-count tests.

#include "frontend/tensor.h"
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

// The same workloads as frontend functions (what the traces above trace), for the end-to-end
// benchmarks that call them through kiln::compile.
Tensor w1_fn(const Tensor& x, const Tensor& a, const Tensor& b);
Tensor w2_fn(const Tensor& x);
Tensor w3_fn(const Tensor& x);
Tensor w4_fn(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2,
             const Tensor& b2);
Tensor w5_fn(const Tensor& x);

}  // namespace kiln::bench
