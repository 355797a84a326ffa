// runtime::gemm_half: f16 and bf16 operands widened while packed, then gemm_f32's FMA chain.
// Its contract is bit-identity with that chain over the widened values, on every ISA path.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "ir/half.h"
#include "runtime/gemm.h"

namespace kiln::runtime {
namespace {

struct IsaGuard {
  ~IsaGuard() { gemm_force_isa_for_testing(GemmIsa::kAuto); }
};

std::vector<uint16_t> random_half(int64_t count, HalfType type, std::mt19937& rng) {
  std::normal_distribution<float> value(0, 1);
  std::vector<uint16_t> bits(static_cast<size_t>(count));
  for (auto& b : bits) {
    const float v = value(rng);
    b = type == HalfType::kBf16 ? ir::float_to_bf16(v) : ir::float_to_f16(v);
  }
  return bits;
}

float widen(uint16_t bits, HalfType type) {
  return type == HalfType::kBf16 ? ir::bf16_to_float(bits) : ir::f16_to_float(bits);
}

TEST(GemmHalf, EqualsTheWidenedFmaChainOnEveryPath) {
  IsaGuard restore;
  std::mt19937 rng(3);
  for (GemmIsa isa : {GemmIsa::kScalar, GemmIsa::kAvx2, GemmIsa::kAvx512}) {
    if (!gemm_force_isa_for_testing(isa)) continue;
    for (HalfType type : {HalfType::kF16, HalfType::kBf16})
      for (int64_t m : {1, 3, 17, 255})
        for (int64_t n : {1, 17, 255})
          for (int64_t k : {1, 3, 255, 1023})
            for (int transposes = 0; transposes < 4; ++transposes) {
              if (m * n * k > 4'000'000) continue;
              const bool ta = transposes & 1, tb = transposes & 2;
              const std::vector<uint16_t> a = random_half(m * k, type, rng);
              const std::vector<uint16_t> b = random_half(k * n, type, rng);
              const int64_t lda = ta ? m : k, ldb = tb ? k : n;
              std::vector<float> c(static_cast<size_t>(m * n), NAN);
              gemm_half(type, m, n, k, a.data(), lda, ta, b.data(), ldb, tb, c.data(), n);
              int mismatches = 0;
              for (int64_t i = 0; i < m; ++i)
                for (int64_t j = 0; j < n; ++j) {
                  float acc = 0;
                  for (int64_t p = 0; p < k; ++p)
                    acc = std::fma(widen(a[ta ? p * lda + i : i * lda + p], type),
                                   widen(b[tb ? j * ldb + p : p * ldb + j], type), acc);
                  const float got = c[i * n + j];
                  if (std::bit_cast<uint32_t>(got) != std::bit_cast<uint32_t>(acc) &&
                      ++mismatches <= 3)
                    ADD_FAILURE() << "isa " << static_cast<int>(isa) << " type "
                                  << static_cast<int>(type) << " m=" << m << " n=" << n
                                  << " k=" << k << " ta=" << ta << " tb=" << tb << " at (" << i
                                  << ", " << j << "): " << got << " != " << acc;
                }
            }
  }
}

}  // namespace
}  // namespace kiln::runtime
