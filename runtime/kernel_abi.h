#pragma once
// The contract between generated kernel code and the runtime that runs it, written once for
// both sides: the CPU backend (codegen/cpu) emits calls by these names and signatures, and the
// runtime (runtime/kernel_imports.h) resolves exactly these names when it loads object code.
// Header only and free of LLVM, so that both layers include it.
//
// Changing a signature or a flag, or removing a name, changes kKernelImportsVersion: it is part
// of every kernel-cache key and every plan, and a plan compiled against another version is
// refused instead of run. A name added to runtime/kernel_imports.cpp leaves it alone (plans
// that do not use the name still load; an older runtime refuses a plan that does, naming it).

#include <cstdint>

namespace kiln::runtime {

inline constexpr uint32_t kKernelImportsVersion = 3;

// A kernel's entry point: runs outer indices [begin, end) over `buffers` (in the kernel's buffer
// order). Disjoint ranges may run concurrently on different threads.
using KernelEntry = void (*)(void* const* buffers, int64_t begin, int64_t end);

// A kernel's epilogue over one block of a matrix product's result: the phases after the Dot
// phase for rows [row_begin, row_end) of the flattened [batch, m] row space, restricted to
// columns [col_begin, col_end). `buffers` is the kernel's own buffer array.
using EpilogueEntry = void (*)(void* const* buffers, int64_t row_begin, int64_t row_end,
                               int64_t col_begin, int64_t col_end);

// Rows [begin, end) of the flattened [batch, m] row space of out[b] = lhs[b] @ rhs[b] (see
// codegen/cpu/gemm_call.h for the layouts); `dtype` is an ir::DType and `flags` are MatmulFlags:
//   void kiln_matmul_rows(int32_t dtype, const void* lhs, const void* rhs, void* out,
//                         int64_t batch, int64_t m, int64_t n, int64_t k, int32_t flags,
//                         int64_t begin, int64_t end, EpilogueEntry epilogue,
//                         void* const* buffers);
// Every row's bits are the same whichever range a call covers. A non-null `epilogue` is called
// with `buffers` on each block of `out` as soon as the block is final (while it is in cache),
// every element in exactly one block.
inline constexpr const char* kMatmulRowsSymbol = "kiln_matmul_rows";
enum MatmulFlags : int32_t {
  kLhsBatched = 1,
  kRhsBatched = 2,
  kTransposeLhs = 4,
  kTransposeRhs = 8,
};

// The interpreter's integer pow (ir::scalar::int_pow): int64_t kiln_ipow_i64(int64_t, int64_t).
inline constexpr const char* kIntPowSymbol = "kiln_ipow_i64";

}  // namespace kiln::runtime
