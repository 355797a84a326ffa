#include "codegen/kernel_opt.h"

#include <functional>
#include <optional>

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

// `root` rebuilt with every use of `from` replaced by `to`.
ExprId substitute(Kernel& k, ExprId root, ExprId from, ExprId to) {
  ExprBuilder builder(k.exprs);
  std::vector<std::optional<ExprId>> memo(k.exprs.size());
  std::function<ExprId(ExprId)> rebuild = [&](ExprId id) -> ExprId {
    if (id == from) return to;
    if (id < memo.size() && memo[id]) return *memo[id];
    Expr e = k.exprs[id];
    bool changed = false;
    for (ExprId& o : e.operands) {
      ExprId n = rebuild(o);
      changed = changed || n != o;
      o = n;
    }
    ExprId result = changed ? builder.add(e) : id;
    if (id < memo.size()) memo[id] = result;
    return result;
  };
  return rebuild(root);
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
    bool arg = phase.reduce_op == ir::OpKind::Argmax || phase.reduce_op == ir::OpKind::Argmin;
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
