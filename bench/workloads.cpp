#include "bench/workloads.h"

#include "frontend/kiln.h"

namespace kiln::bench {

namespace {
ir::TensorType f32(Shape shape) {
  return {DType::F32, std::move(shape)};
}
}  // namespace

Tensor w1_fn(const Tensor& x, const Tensor& a, const Tensor& b) {
  return gelu(x * a + b, /*approximate=*/true) * sigmoid(x);
}
Tensor w2_fn(const Tensor& x) {
  return softmax(x, -1);
}
Tensor w3_fn(const Tensor& x) {
  return layer_norm(x, 1e-5);
}
Tensor w4_fn(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2,
             const Tensor& b2) {
  return matmul(gelu(matmul(x, w1) + b1, /*approximate=*/true), w2) + b2;
}
Tensor w5_fn(const Tensor& x) {
  return sum(x);
}

ir::Function w1_elementwise(int64_t n) {
  return trace([](Tensor x, Tensor a, Tensor b) { return w1_fn(x, a, b); },
               {f32({n}), f32({}), f32({})}, {"x", "a", "b"}, "w1");
}

ir::Function w2_softmax(int64_t rows, int64_t cols) {
  return trace([](Tensor x) { return w2_fn(x); }, {f32({rows, cols})}, {"x"}, "w2");
}

ir::Function w3_layernorm(int64_t rows, int64_t cols) {
  return trace([](Tensor x) { return w3_fn(x); }, {f32({rows, cols})}, {"x"}, "w3");
}

ir::Function w4_mlp(int64_t batch, int64_t in, int64_t hidden, int64_t out) {
  return trace(
      [](Tensor x, Tensor w1, Tensor b1, Tensor w2, Tensor b2) { return w4_fn(x, w1, b1, w2, b2); },
      {f32({batch, in}), f32({in, hidden}), f32({hidden}), f32({hidden, out}), f32({out})},
      {"x", "w1", "b1", "w2", "b2"}, "w4");
}

ir::Function w5_sum(int64_t n) {
  return trace([](Tensor x) { return w5_fn(x); }, {f32({n})}, {"x"}, "w5");
}

}  // namespace kiln::bench
