#include "bench/workloads.h"

#include "frontend/kiln.h"

namespace kiln::bench {

namespace {
ir::TensorType f32(Shape shape) {
  return {DType::F32, std::move(shape)};
}
}  // namespace

ir::Function w1_elementwise(int64_t n) {
  return trace([](Tensor x, Tensor a,
                  Tensor b) { return gelu(x * a + b, /*approximate=*/true) * sigmoid(x); },
               {f32({n}), f32({}), f32({})}, {"x", "a", "b"}, "w1");
}

ir::Function w2_softmax(int64_t rows, int64_t cols) {
  return trace([](Tensor x) { return softmax(x, -1); }, {f32({rows, cols})}, {"x"}, "w2");
}

ir::Function w3_layernorm(int64_t rows, int64_t cols) {
  return trace([](Tensor x) { return layer_norm(x, 1e-5); }, {f32({rows, cols})}, {"x"}, "w3");
}

ir::Function w4_mlp(int64_t batch, int64_t in, int64_t hidden, int64_t out) {
  return trace(
      [](Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) {
        return matmul(gelu(matmul(x, w1) + b1, /*approximate=*/true), w2) + b2;
      },
      {f32({batch, in}), f32({in, hidden}), f32({hidden}), f32({hidden, out}), f32({out})},
      {"x", "w1", "b1", "w2", "b2"}, "w4");
}

ir::Function w5_sum(int64_t n) {
  return trace([](Tensor x) { return sum(x); }, {f32({n})}, {"x"}, "w5");
}

}  // namespace kiln::bench
