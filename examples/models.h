#pragma once
// The models the examples trace, shared with tests/frontend so that what the examples print is
// what the tests check. Header-only: examples are meant to be copied.

#include <cmath>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "frontend/kiln.h"
#include "ir/printer.h"

namespace kiln::examples {

// Deterministic pseudo-random values in [-scale, scale): a 64-bit LCG, so every run and every
// machine prints the same numbers.
inline std::vector<float> pseudo_random(size_t n, uint64_t seed, float scale = 1.0f) {
  std::vector<float> out(n);
  uint64_t state = seed * 6364136223846793005ull + 1442695040888963407ull;
  for (float& v : out) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    double unit = static_cast<double>(state >> 11) * 0x1p-53;  // [0, 1)
    v = static_cast<float>((2 * unit - 1) * scale);
  }
  return out;
}

inline Tensor random_tensor(const Shape& shape, uint64_t seed, float scale = 1.0f) {
  return Tensor(pseudo_random(static_cast<size_t>(ir::TensorType{DType::F32, shape}.num_elements()),
                              seed, scale),
                shape);
}

// ---- MLP: softmax(gelu(x @ w1 + b1) @ w2 + b2) ----

struct MlpConfig {
  int64_t batch = 4;
  int64_t in = 8;
  int64_t hidden = 16;
  int64_t out = 4;
};

inline std::vector<ir::TensorType> mlp_input_types(const MlpConfig& c) {
  return {{DType::F32, {c.batch, c.in}},
          {DType::F32, {c.in, c.hidden}},
          {DType::F32, {c.hidden}},
          {DType::F32, {c.hidden, c.out}},
          {DType::F32, {c.out}}};
}

inline const std::vector<std::string> kMlpNames = {"x", "w1", "b1", "w2", "b2"};

inline Tensor mlp(const Tensor& x, const Tensor& w1, const Tensor& b1, const Tensor& w2,
                  const Tensor& b2) {
  Tensor hidden = gelu(matmul(x, w1) + b1);
  return softmax(matmul(hidden, w2) + b2);
}

inline ir::Function trace_mlp(const MlpConfig& config = {}) {
  return trace(mlp, mlp_input_types(config), kMlpNames, "mlp");
}

// Inputs for the MLP, weights scaled by 1/sqrt(fan_in) as an initializer would (times 2, so
// that the demo's softmax rows are visibly different from uniform).
inline std::vector<Tensor> mlp_inputs(const MlpConfig& c) {
  auto s = [](int64_t fan_in) { return static_cast<float>(2 / std::sqrt(double(fan_in))); };
  return {random_tensor({c.batch, c.in}, 1, 2.0f), random_tensor({c.in, c.hidden}, 2, s(c.in)),
          random_tensor({c.hidden}, 3, 0.1f), random_tensor({c.hidden, c.out}, 4, s(c.hidden)),
          random_tensor({c.out}, 5, 0.1f)};
}

// ---- Pre-norm multi-head self-attention block: x + attention(layer_norm(x)) ----

struct AttentionConfig {
  int64_t batch = 2;
  int64_t seq = 8;
  int64_t d_model = 32;
  int64_t heads = 4;
  bool causal = true;
};

inline std::vector<ir::TensorType> attention_input_types(const AttentionConfig& c) {
  ir::TensorType proj{DType::F32, {c.d_model, c.d_model}};
  return {{DType::F32, {c.batch, c.seq, c.d_model}}, proj, proj, proj, proj};
}

inline const std::vector<std::string> kAttentionNames = {"x", "wq", "wk", "wv", "wo"};

// [batch, seq, heads * d] -> [batch, heads, seq, d]
inline Tensor split_heads(const Tensor& t, int64_t heads) {
  Shape s = t.shape();
  return transpose(reshape(t, {s[0], s[1], heads, s[2] / heads}), {0, 2, 1, 3});
}

// [batch, heads, seq, d] -> [batch, seq, heads * d]
inline Tensor merge_heads(const Tensor& t) {
  Shape s = t.shape();
  return reshape(transpose(t, {0, 2, 1, 3}), {s[0], s[2], s[1] * s[3]});
}

inline Tensor attention(const Tensor& x, const Tensor& wq, const Tensor& wk, const Tensor& wv,
                        const Tensor& wo, int64_t heads, bool causal) {
  Tensor h = layer_norm(x);
  Tensor q = split_heads(matmul(h, wq), heads);
  Tensor k = split_heads(matmul(h, wk), heads);
  Tensor v = split_heads(matmul(h, wv), heads);
  double scale = 1 / std::sqrt(static_cast<double>(q.shape(-1)));
  Tensor scores = matmul(q, swapaxes(k, -1, -2)) * scale;  // [batch, heads, seq, seq]
  if (causal) {
    int64_t n = x.shape(1);
    Tensor visible = expand_dims(arange(n), 1) >= expand_dims(arange(n), 0);
    scores = where(visible, scores, -INFINITY);
  }
  Tensor context = matmul(softmax(scores, -1), v);
  return x + matmul(merge_heads(context), wo);
}

inline ir::Function trace_attention(const AttentionConfig& c = {}) {
  return trace(
      [&](const std::vector<Tensor>& in) {
        return attention(in[0], in[1], in[2], in[3], in[4], c.heads, c.causal);
      },
      attention_input_types(c), kAttentionNames, "attention");
}

// What the example programs do with a traced function: write its .kir to argv[1], or print
// it when no path is given. Returns the process exit status.
inline int write_or_print_kir(const ir::Function& function, int argc, char** argv) {
  std::string text = ir::print(function);
  if (argc < 2) {
    std::cout << text;
    return 0;
  }
  std::ofstream out(argv[1]);
  out << text;
  if (!out) {
    std::cerr << argv[0] << ": cannot write " << argv[1] << "\n";
    return 1;
  }
  return 0;
}

}  // namespace kiln::examples
