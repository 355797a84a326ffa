#pragma once
// Single-threaded, thread-safe, deterministic matrix products for f32 and f64. Callers split
// rows or columns over threads themselves: every element of C is the same chain of fused
// multiply-adds over p = 0, 1, ..., k-1 whatever part of C one call covers, so a split never
// changes a bit (see gemm.cpp for the contract and why it holds).

#include <cstdint>

namespace kiln::runtime {

// Called with each block of C (rows [row_begin, row_end) x columns [col_begin, col_end), in
// C's own indices) as soon as its values are final, while the block is still in cache (in
// the last k block, right after its last update): the product's epilogue runs there. Every
// element is in exactly one block; the per-element chain, and so the bits, are unchanged.
struct BlockDone {
  void (*fn)(const void* context, int64_t row_begin, int64_t row_end, int64_t col_begin,
             int64_t col_end) = nullptr;
  const void* context = nullptr;
  void operator()(int64_t r0, int64_t r1, int64_t c0, int64_t c1) const {
    if (fn) fn(context, r0, r1, c0, c1);
  }
};

// C[i, j] = sum_p A[i, p] * B[p, j] for i in [0, m), j in [0, n), overwriting C (row-major,
// leading dimension ldc). A is m x k: element (i, p) at a[i * lda + p], or at a[p * lda + i]
// when transpose_a. B is k x n: element (p, j) at b[p * ldb + j], or at b[j * ldb + p] when
// transpose_b. k == 0 writes zeros; m == 0 or n == 0 does nothing. C must not overlap A or B.
void gemm_f32(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, bool transpose_a,
              const float* b, int64_t ldb, bool transpose_b, float* c, int64_t ldc,
              BlockDone done = {});
void gemm_f64(int64_t m, int64_t n, int64_t k, const double* a, int64_t lda, bool transpose_a,
              const double* b, int64_t ldb, bool transpose_b, double* c, int64_t ldc,
              BlockDone done = {});

// C (f32) = A @ B for f16 or bf16 operands given as their bits: A and B as for gemm_f32, each
// element widened exactly to f32 while the operands are packed, so every C[i, j] is gemm_f32's
// chain over the widened values (one rounding per step, in k order); the caller rounds C to
// the half type once.
enum class HalfType { kF16, kBf16 };
void gemm_half(HalfType type, int64_t m, int64_t n, int64_t k, const uint16_t* a, int64_t lda,
               bool transpose_a, const uint16_t* b, int64_t ldb, bool transpose_b, float* c,
               int64_t ldc, BlockDone done = {});

// ---- For tests only ----------------------------------------------------------------------
// The instruction-set paths. All of them give the same bits; tests force each in turn to check
// that. kAuto (the default) picks the widest one the CPU supports.
enum class GemmIsa { kAuto, kScalar, kAvx2, kAvx512 };

// Makes later calls, from every thread, use `isa`. Returns false (and changes nothing) when
// the CPU lacks it. Not for production code: it is process-wide.
bool gemm_force_isa_for_testing(GemmIsa isa);

}  // namespace kiln::runtime
