#include "codegen/cpu/gemm_call.h"

#include "codegen/dot_layout.h"
#include "runtime/kernel_abi.h"

namespace kiln::codegen::cpu {

std::optional<GemmCall> gemm_call(const Kernel& kernel, size_t p) {
  const std::optional<DotLayout> layout = dot_layout(kernel, p);
  if (!layout) return std::nullopt;
  const int32_t flags = (layout->lhs_batched ? runtime::kLhsBatched : 0) |
                        (layout->rhs_batched ? runtime::kRhsBatched : 0) |
                        (layout->lhs_transposed ? runtime::kTransposeLhs : 0) |
                        (layout->rhs_transposed ? runtime::kTransposeRhs : 0);
  return GemmCall{layout->lhs, layout->rhs, layout->out, layout->dtype, layout->batch,
                  layout->m,   layout->n,   layout->k,   flags};
}

}  // namespace kiln::codegen::cpu
