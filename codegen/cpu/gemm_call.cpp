#include "codegen/cpu/gemm_call.h"

#include <array>

#include "codegen/affine.h"
#include "runtime/kernel_abi.h"

namespace kiln::codegen::cpu {

namespace {

// The loop indices a Dot kernel's offsets may use, with their extents.
struct Loops {
  int64_t batch, m, n, k;
};

// The strides an offset must have along (batch, row, column, contraction).
using Strides = std::array<int64_t, 4>;

// Whether `offset` is exactly sum stride * index over the four loops. A loop of extent 1 has
// index 0 always, so its stride does not matter (lowering writes such an index as 0).
bool has_strides(const Kernel& kernel, ExprId offset, const Loops& loops, const Strides& strides) {
  const std::optional<AffineIndex> form = affine_index(kernel, offset);
  if (!form || form->constant != 0) return false;
  struct Axis {
    LoopLevel loop;
    int32_t axis;
    int64_t extent;
  };
  const std::array<Axis, 4> axes{
      Axis{LoopLevel::Outer, 0, loops.batch}, Axis{LoopLevel::Outer, 1, loops.m},
      Axis{LoopLevel::Inner, 0, loops.n}, Axis{LoopLevel::Contraction, 0, loops.k}};
  size_t matched = 0;
  for (size_t i = 0; i < axes.size(); ++i) {
    const int64_t c = form->coefficient(axes[i].loop, axes[i].axis);
    matched += c != 0;
    if (axes[i].extent > 1 && c != strides[i]) return false;
  }
  return matched == form->terms.size();  // no term on any other index
}

const Expr* load_of(const Kernel& kernel, ExprId id, ir::DType dtype) {
  const Expr& e = kernel.exprs[id];
  if (e.kind != ExprKind::Load || e.dtype != dtype) return nullptr;
  if (kernel.buffers[e.buffer].type.dtype != dtype) return nullptr;
  return &e;
}

bool covers(const Kernel& kernel, int32_t buffer, int64_t elements) {
  return kernel.buffers[buffer].type.num_elements() >= elements;
}

}  // namespace

std::optional<GemmCall> gemm_call(const Kernel& kernel, size_t p) {
  const Phase& phase = kernel.phases.at(p);
  const ir::DType dtype = phase.result_dtype;
  if (p != 0 || phase.kind != PhaseKind::Dot || dtype == ir::DType::Bool ||
      phase.accumulator != dot_accumulator(dtype) || kernel.outer.size() != 2 ||
      phase.extents.size() != 1 || phase.stores.size() != 1)
    return std::nullopt;
  const Loops loops{kernel.outer[0], kernel.outer[1], phase.extents[0], phase.contraction};
  const Store& store = phase.stores[0];
  const Expr& value = kernel.exprs[store.value];
  const Expr* lhs = load_of(kernel, phase.dot_lhs, dtype);
  const Expr* rhs = load_of(kernel, phase.dot_rhs, dtype);
  if (!lhs || !rhs || value.kind != ExprKind::PhaseResult || value.phase != 0 ||
      kernel.buffers[store.buffer].type.dtype != dtype || store.buffer == lhs->buffer ||
      store.buffer == rhs->buffer)
    return std::nullopt;
  const auto [batch, m, n, k] = loops;
  if (!has_strides(kernel, store.offset, loops, {m * n, n, 1, 0})) return std::nullopt;

  GemmCall call{lhs->buffer, rhs->buffer, store.buffer, dtype, batch, m, n, k, 0};
  // Every layout the GEMM takes, the plainest first (with a loop of extent 1 several match).
  bool found_lhs = false, found_rhs = false;
  for (const bool batched : {true, false})
    for (const bool transposed : {false, true}) {
      if (found_lhs) break;
      const Strides s{batched ? m * k : 0, transposed ? 1 : k, 0, transposed ? m : 1};
      if (!has_strides(kernel, lhs->operands[0], loops, s)) continue;
      found_lhs = true;
      call.flags |=
          (batched ? runtime::kLhsBatched : 0) | (transposed ? runtime::kTransposeLhs : 0);
    }
  for (const bool batched : {true, false})
    for (const bool transposed : {false, true}) {
      if (found_rhs) break;
      const Strides s{batched ? k * n : 0, 0, transposed ? k : 1, transposed ? 1 : n};
      if (!has_strides(kernel, rhs->operands[0], loops, s)) continue;
      found_rhs = true;
      call.flags |=
          (batched ? runtime::kRhsBatched : 0) | (transposed ? runtime::kTransposeRhs : 0);
    }
  if (!found_lhs || !found_rhs) return std::nullopt;
  // The GEMM reads whole operand matrices: make sure the buffers hold them.
  const int64_t lhs_batches = (call.flags & runtime::kLhsBatched) ? batch : 1;
  const int64_t rhs_batches = (call.flags & runtime::kRhsBatched) ? batch : 1;
  if (!covers(kernel, call.lhs, lhs_batches * m * k) ||
      !covers(kernel, call.rhs, rhs_batches * k * n) || !covers(kernel, call.out, batch * m * n))
    return std::nullopt;
  return call;
}

}  // namespace kiln::codegen::cpu
