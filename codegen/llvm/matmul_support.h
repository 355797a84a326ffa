#pragma once
// C helpers that JIT-compiled kernels call by name (the JIT defines these symbols as
// absolute addresses in its main library): the rows of a matrix product, and integer pow.

#include <cstdint>

namespace kiln::codegen::cpu {

enum MatmulFlags : int32_t {
  kLhsBatched = 1,
  kRhsBatched = 2,
  kTransposeLhs = 4,
  kTransposeRhs = 8,
};

}  // namespace kiln::codegen::cpu

extern "C" {
// Rows [begin, end) of the flattened [batch, m] row space of out[b] = lhs[b] @ rhs[b] (see
// codegen::Matmul for the layouts; `flags` are MatmulFlags; `dtype` is an ir::DType). f32 and
// f64 go to the serial OpenBLAS, so the caller's thread is the only one doing the work.
void kiln_matmul_rows(int32_t dtype, const void* lhs, const void* rhs, void* out, int64_t batch,
                      int64_t m, int64_t n, int64_t k, int32_t flags, int64_t begin, int64_t end);
// The interpreter's integer pow: wrapping, negative exponents truncate 1 / base^-e.
int64_t kiln_ipow_i64(int64_t base, int64_t exponent);
}
