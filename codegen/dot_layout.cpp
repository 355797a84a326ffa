#include "codegen/dot_layout.h"

#include <array>

#include "codegen/affine.h"

namespace kiln::codegen {

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

std::optional<DotLayout> dot_layout(const Kernel& kernel, size_t p) {
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

  DotLayout layout{lhs->buffer, rhs->buffer, store.buffer, dtype, batch, m, n, k};
  // Every layout there is, the plainest first (with a loop of extent 1 several match).
  bool found_lhs = false, found_rhs = false;
  for (const bool batched : {true, false})
    for (const bool transposed : {false, true}) {
      if (found_lhs) break;
      const Strides s{batched ? m * k : 0, transposed ? 1 : k, 0, transposed ? m : 1};
      if (!has_strides(kernel, lhs->operands[0], loops, s)) continue;
      found_lhs = true;
      layout.lhs_batched = batched;
      layout.lhs_transposed = transposed;
    }
  for (const bool batched : {true, false})
    for (const bool transposed : {false, true}) {
      if (found_rhs) break;
      const Strides s{batched ? k * n : 0, 0, transposed ? k : 1, transposed ? 1 : n};
      if (!has_strides(kernel, rhs->operands[0], loops, s)) continue;
      found_rhs = true;
      layout.rhs_batched = batched;
      layout.rhs_transposed = transposed;
    }
  if (!found_lhs || !found_rhs) return std::nullopt;
  // A matrix engine reads whole operand matrices: make sure the buffers hold them.
  const int64_t lhs_batches = layout.lhs_batched ? batch : 1;
  const int64_t rhs_batches = layout.rhs_batched ? batch : 1;
  if (!covers(kernel, layout.lhs, lhs_batches * m * k) ||
      !covers(kernel, layout.rhs, rhs_batches * k * n) ||
      !covers(kernel, layout.out, batch * m * n))
    return std::nullopt;
  return layout;
}

bool dot_epilogue_fits(const Kernel& kernel, const DotLayout& layout) {
  if (kernel.phases.size() < 2) return false;
  const Store& product = kernel.phases[0].stores.at(0);
  std::vector<ExprId> stack;
  for (size_t p = 1; p < kernel.phases.size(); ++p) {
    const Phase& phase = kernel.phases[p];
    if (phase.kind != PhaseKind::Store || phase.extents != std::vector<int64_t>{layout.n})
      return false;
    for (const Store& s : phase.stores)
      stack.insert(stack.end(), {s.offset, s.value});
  }
  std::vector<bool> seen(kernel.exprs.size(), false);
  while (!stack.empty()) {
    const ExprId id = stack.back();
    stack.pop_back();
    if (seen[id]) continue;
    seen[id] = true;
    const Expr& e = kernel.exprs[id];
    const bool written = e.kind == ExprKind::Load &&
                         (kernel.buffers[e.buffer].is_output || kernel.is_scratch(e.buffer));
    if (e.kind == ExprKind::PhaseResult ||
        (written && !(e.buffer == product.buffer && e.operands[0] == product.offset)))
      return false;
    stack.insert(stack.end(), e.operands.begin(), e.operands.end());
  }
  return true;
}

}  // namespace kiln::codegen
