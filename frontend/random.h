#pragma once
// kiln::random: counter-based random numbers, as JAX and MLX make them. A key is a u32[2]
// tensor; the IR op `rng_bits` turns a key into any number of u32 bits by Threefry-2x32 of each
// element's row-major index (ir/scalar_semantics.h), so the same key gives the same bits on
// every device, thread count and run. Every distribution is a graph over those bits.
//
// Keys:
//   key(seed)          [seed >> 32, seed & 0xffffffff]
//   split(key, num)    rng_bits(key, shape=[num, 2]): key i is bits 2i and 2i + 1
//   fold_in(key, data) rng_bits(key ^ [0x6a09e667, data], shape=[2]); the constant keeps
//                      fold_in(key, d) apart from key's own split children
// Each function takes an optional key; without one it draws from a global key that
// `seed(s)` sets (0 until then, so a program is reproducible by default) and each such call
// advances, as MLX does: the global key becomes split(global)[0] and the call uses
// split(global)[1]. The global key is host state read when the graph is built, so a
// function traced by `compile` or a transform should take its keys as arguments.

#include <cstdint>

#include "frontend/tensor.h"

namespace kiln::random {

Tensor key(uint64_t seed);
void seed(uint64_t seed);
Tensor split(const Tensor& key, int num = 2);  // u32[num, 2]
Tensor fold_in(const Tensor& key, uint32_t data);

// Raw u32 bits.
Tensor bits(const Shape& shape, const Tensor& key = {});

// Uniform in [low, high): the dtype's mantissa filled from the bits (f64 from two words),
// scaled and shifted (a rounding of low + u * (high - low) can reach high, as in JAX).
Tensor uniform(const Shape& shape, DType dtype = DType::F32, const Tensor& key = {});
Tensor uniform(const Tensor& low, const Tensor& high, const Shape& shape, DType dtype = DType::F32,
               const Tensor& key = {});
// Standard normal (Box-Muller over two uniforms per element), scaled by `scale` and shifted
// by `loc`.
Tensor normal(const Shape& shape, DType dtype = DType::F32, const Tensor& loc = 0.0,
              const Tensor& scale = 1.0, const Tensor& key = {});
// A standard normal truncated to [lower, upper] (broadcast against `shape`), by the inverse
// CDF as JAX does: uniform between erf(lower / sqrt 2) and erf(upper / sqrt 2), then
// sqrt 2 * erf_inv, clipped into the interval against rounding.
Tensor truncated_normal(const Tensor& lower, const Tensor& upper, const Shape& shape,
                        DType dtype = DType::F32, const Tensor& key = {});
// Integers in [low, high) (the bits modulo the range, bias below 2^-32 * range).
Tensor randint(int64_t low, int64_t high, const Shape& shape, DType dtype = DType::I32,
               const Tensor& key = {});
// True with probability p (broadcast against `shape`).
Tensor bernoulli(const Tensor& p, const Shape& shape, const Tensor& key = {});
Tensor gumbel(const Shape& shape, DType dtype = DType::F32, const Tensor& key = {});
Tensor laplace(const Shape& shape, DType dtype = DType::F32, const Tensor& loc = 0.0,
               const Tensor& scale = 1.0, const Tensor& key = {});
// Indices drawn from the softmax of `logits` along `axis` (Gumbel-max): `num_samples`
// draws per row appended as the last axis, or one draw per row with the axis removed.
Tensor categorical(const Tensor& logits, int axis = -1, std::optional<int64_t> num_samples = {},
                   const Tensor& key = {});

}  // namespace kiln::random
