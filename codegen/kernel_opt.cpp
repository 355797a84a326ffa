#include "codegen/kernel_opt.h"

#include <algorithm>
#include <optional>
#include <vector>

namespace kiln::codegen {

namespace {

// Whether `root` reaches `target` through operands.
bool reaches(const Kernel& k, ExprId root, ExprId target) {
  std::vector<bool> seen(k.exprs.size(), false);
  std::vector<ExprId> stack{root};
  while (!stack.empty()) {
    ExprId id = stack.back();
    stack.pop_back();
    if (id == target) return true;
    if (seen[id]) continue;
    seen[id] = true;
    for (ExprId o : k.exprs[id].operands)
      stack.push_back(o);
  }
  return false;
}

bool reaches_kind(const Kernel& k, ExprId root, ExprKind kind) {
  std::vector<bool> seen(k.exprs.size(), false);
  std::vector<ExprId> stack{root};
  while (!stack.empty()) {
    ExprId id = stack.back();
    stack.pop_back();
    if (seen[id]) continue;
    seen[id] = true;
    if (k.exprs[id].kind == kind) return true;
    for (ExprId o : k.exprs[id].operands)
      stack.push_back(o);
  }
  return false;
}

bool loads_buffer(const Kernel& k, int32_t buffer) {
  for (const Expr& e : k.exprs)
    if (e.kind == ExprKind::Load && e.buffer == buffer) return true;
  return false;
}

// `root` rebuilt with every use of `from` replaced by `to`. Post-order over the operands (each
// rebuilt before its users, in operand order) on an explicit stack, as a fused chain is as deep
// as it is long.
ExprId substitute(Kernel& k, ExprId root, ExprId from, ExprId to) {
  ExprBuilder builder(k.exprs);
  // rebuilt[id]: the expression id became; only the pool as it was is walked.
  std::vector<std::optional<ExprId>> rebuilt(k.exprs.size());
  rebuilt[from] = to;
  std::vector<ExprId> stack{root};
  while (!stack.empty()) {
    const ExprId id = stack.back();
    if (rebuilt[id]) {
      stack.pop_back();
      continue;
    }
    const std::vector<ExprId>& operands = k.exprs[id].operands;
    auto pending =
        std::find_if(operands.begin(), operands.end(), [&](ExprId o) { return !rebuilt[o]; });
    if (pending != operands.end()) {
      stack.push_back(*pending);
      continue;
    }
    Expr e = k.exprs[id];  // a copy: adding to the pool may move it
    bool changed = false;
    for (ExprId& o : e.operands) {
      changed = changed || *rebuilt[o] != o;
      o = *rebuilt[o];
    }
    rebuilt[id] = changed ? builder.add(std::move(e)) : id;
    stack.pop_back();
  }
  return *rebuilt[root];
}

// The reduce phase whose accumulated value the last phase's one store recomputes, if the
// rewrite is safe for it.
std::optional<size_t> candidate(const Kernel& k) {
  if (k.phases.size() < 2) return std::nullopt;
  const Phase& last = k.phases.back();
  if (last.kind != PhaseKind::Store || last.stores.size() != 1) return std::nullopt;
  const Store& store = last.stores.front();
  if (!k.buffers[store.buffer].is_output || k.is_scratch(store.buffer) ||
      loads_buffer(k, store.buffer) || reaches_kind(k, store.offset, ExprKind::PhaseResult))
    return std::nullopt;
  for (size_t p = k.phases.size() - 1; p-- > 0;) {
    const Phase& phase = k.phases[p];
    if (!phase.stores.empty()) return std::nullopt;  // something else writes: keep it simple
    const bool arg = ir::has_trait(phase.reduce_op, ir::OpTrait::ArgReduction);
    if (phase.kind != PhaseKind::Reduce || arg || phase.extents != last.extents) continue;
    const Expr& value = k.exprs[phase.value];
    if (value.dtype != k.buffers[store.buffer].type.dtype) continue;
    // Worth it only for a value computed per element, not a plain load or a constant.
    if (value.kind != ExprKind::Op || !reaches(k, store.value, phase.value) ||
        store.value == phase.value)
      continue;
    return p;
  }
  return std::nullopt;
}

}  // namespace

void store_reduced_operands(Kernel& kernel) {
  std::optional<size_t> p = candidate(kernel);
  if (!p) return;
  Phase& reduce = kernel.phases[*p];
  Store store = kernel.phases.back().stores.front();
  ExprId reload =
      ExprBuilder(kernel.exprs).load(store.buffer, kernel.exprs[reduce.value].dtype, store.offset);
  reduce.stores.push_back(Store{store.buffer, store.offset, reduce.value});
  kernel.phases.back().stores.front().value = substitute(kernel, store.value, reduce.value, reload);
}

}  // namespace kiln::codegen
