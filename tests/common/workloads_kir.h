#pragma once
// The benchmark workloads W1-W5 as .kir text at test sizes, for the tests that count their
// kernels, compare `kiln opt --stats` with `kiln run --stats` and check determinism. W5 is
// large enough (2^21 elements) that the CPU pipeline splits its reduction.

namespace kiln::testing::workloads {

// W1: y = gelu_tanh(x*a + b) * logistic(x), a and b scalars.
inline constexpr const char* kW1 = R"(func @w1(%x: f32[4096], %a: f32[], %b: f32[]) -> f32[4096] {
  %ab = broadcast %a {shape=[4096], dims=[]} : f32[4096]
  %bb = broadcast %b {shape=[4096], dims=[]} : f32[4096]
  %z0 = mul %x, %ab : f32[4096]
  %z = add %z0, %bb : f32[4096]
  %z2 = mul %z, %z : f32[4096]
  %z3 = mul %z2, %z : f32[4096]
  %k = constant {value=0.044715} : f32[4096]
  %t0 = mul %z3, %k : f32[4096]
  %t1 = add %z, %t0 : f32[4096]
  %c = constant {value=0.7978845608028654} : f32[4096]
  %t2 = mul %t1, %c : f32[4096]
  %t3 = tanh %t2 : f32[4096]
  %one = constant {value=1.0} : f32[4096]
  %t4 = add %t3, %one : f32[4096]
  %half = constant {value=0.5} : f32[4096]
  %t5 = mul %z, %half : f32[4096]
  %g = mul %t5, %t4 : f32[4096]
  %l = logistic %x : f32[4096]
  %y = mul %g, %l : f32[4096]
  return %y
})";

// W2: softmax over the rows.
inline constexpr const char* kW2 = R"(func @w2(%x: f32[64, 128]) -> f32[64, 128] {
  %m = reduce_max %x {axes=[1]} : f32[64]
  %mb = broadcast %m {shape=[64, 128], dims=[0]} : f32[64, 128]
  %d = sub %x, %mb : f32[64, 128]
  %e = exp %d : f32[64, 128]
  %s = reduce_sum %e {axes=[1]} : f32[64]
  %sb = broadcast %s {shape=[64, 128], dims=[0]} : f32[64, 128]
  %y = div %e, %sb : f32[64, 128]
  return %y
})";

// W3: layernorm over the rows, no affine, eps 1e-5.
inline constexpr const char* kW3 = R"(func @w3(%x: f32[32, 256]) -> f32[32, 256] {
  %s = reduce_sum %x {axes=[1]} : f32[32]
  %n = constant {value=256.0} : f32[32]
  %mean = div %s, %n : f32[32]
  %mb = broadcast %mean {shape=[32, 256], dims=[0]} : f32[32, 256]
  %c = sub %x, %mb : f32[32, 256]
  %sq = mul %c, %c : f32[32, 256]
  %ss = reduce_sum %sq {axes=[1]} : f32[32]
  %var = div %ss, %n : f32[32]
  %eps = constant {value=1e-5} : f32[32]
  %ve = add %var, %eps : f32[32]
  %r = rsqrt %ve : f32[32]
  %rb = broadcast %r {shape=[32, 256], dims=[0]} : f32[32, 256]
  %y = mul %c, %rb : f32[32, 256]
  return %y
})";

// W4: an MLP forward pass, gelu after the first layer, biases on both.
inline constexpr const char* kW4 = R"(func @w4(%x: f32[16, 64], %w1: f32[64, 128], %b1: f32[128],
                             %w2: f32[128, 64], %b2: f32[64]) -> f32[16, 64] {
  %h0 = dot_general %x, %w1 {lhs_contract=[1], rhs_contract=[0]} : f32[16, 128]
  %b1b = broadcast %b1 {shape=[16, 128], dims=[1]} : f32[16, 128]
  %h1 = add %h0, %b1b : f32[16, 128]
  %h2 = mul %h1, %h1 : f32[16, 128]
  %h3 = mul %h2, %h1 : f32[16, 128]
  %k = constant {value=0.044715} : f32[16, 128]
  %h4 = mul %h3, %k : f32[16, 128]
  %h5 = add %h1, %h4 : f32[16, 128]
  %c = constant {value=0.7978845608028654} : f32[16, 128]
  %h6 = mul %h5, %c : f32[16, 128]
  %h7 = tanh %h6 : f32[16, 128]
  %one = constant {value=1.0} : f32[16, 128]
  %h8 = add %h7, %one : f32[16, 128]
  %half = constant {value=0.5} : f32[16, 128]
  %h9 = mul %h1, %half : f32[16, 128]
  %h = mul %h9, %h8 : f32[16, 128]
  %y0 = dot_general %h, %w2 {lhs_contract=[1], rhs_contract=[0]} : f32[16, 64]
  %b2b = broadcast %b2 {shape=[16, 64], dims=[1]} : f32[16, 64]
  %y = add %y0, %b2b : f32[16, 64]
  return %y
})";

// W5: a sum of everything.
inline constexpr const char* kW5 = R"(func @w5(%x: f32[2097152]) -> f32[] {
  %s = reduce_sum %x {axes=[0]} : f32[]
  return %s
})";

inline constexpr const char* kAll[] = {kW1, kW2, kW3, kW4, kW5};

}  // namespace kiln::testing::workloads
