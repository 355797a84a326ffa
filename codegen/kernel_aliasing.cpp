#include "codegen/kernel_aliasing.h"

#include <optional>

namespace kiln::codegen {

namespace {

int64_t product(const std::vector<int64_t>& extents) {
  int64_t p = 1;
  for (int64_t e : extents)
    p *= e;
  return p;
}

// The one store to `buffer`, if it is the last phase's only store.
std::optional<Store> sole_final_store(const Kernel& kernel, int32_t buffer) {
  int stores = 0;
  for (const Phase& phase : kernel.phases)
    for (const Store& s : phase.stores)
      stores += s.buffer == buffer;
  if (stores != 1 || kernel.phases.empty()) return std::nullopt;
  const Phase& last = kernel.phases.back();
  if (last.kind != PhaseKind::Store || last.stores.size() != 1 || last.stores[0].buffer != buffer)
    return std::nullopt;
  return last.stores[0];
}

// Phases whose expressions reach each expression (a Load may be shared by several).
std::vector<std::vector<size_t>> phases_using(const Kernel& kernel) {
  std::vector<std::vector<size_t>> users(kernel.exprs.size());
  for (size_t p = 0; p < kernel.phases.size(); ++p) {
    std::vector<ExprId> stack = phase_roots(kernel.phases[p]);
    std::vector<bool> seen(kernel.exprs.size(), false);
    while (!stack.empty()) {
      ExprId id = stack.back();
      stack.pop_back();
      if (seen[id]) continue;
      seen[id] = true;
      users[id].push_back(p);
      for (ExprId operand : kernel.exprs[id].operands)
        stack.push_back(operand);
    }
  }
  return users;
}

bool reads_only_at(const Kernel& kernel, const std::vector<std::vector<size_t>>& users,
                   int32_t input, const Store& store) {
  const std::vector<int64_t>& extents = kernel.phases.back().extents;
  bool any = false;
  for (size_t id = 0; id < kernel.exprs.size(); ++id) {
    const Expr& e = kernel.exprs[id];
    if (e.kind != ExprKind::Load || e.buffer != input || users[id].empty()) continue;
    if (e.operands.at(0) != store.offset) return false;
    for (size_t p : users[id])
      if (kernel.phases[p].extents != extents) return false;
    any = true;
  }
  return any;
}

// A Dot phase reads its operands' whole rows and columns, not one element per store.
bool used_by_dot(const Kernel& kernel, int32_t buffer) {
  for (const Phase& phase : kernel.phases) {
    if (phase.kind != PhaseKind::Dot) continue;
    for (ExprId load : {phase.dot_lhs, phase.dot_rhs})
      if (kernel.exprs[load].buffer == buffer) return true;
    for (const Store& s : phase.stores)
      if (s.buffer == buffer) return true;
  }
  return false;
}

}  // namespace

std::vector<std::pair<int32_t, int32_t>> in_place_pairs(const Kernel& kernel) {
  std::vector<std::pair<int32_t, int32_t>> pairs;
  const std::vector<std::vector<size_t>> users = phases_using(kernel);
  const int32_t n = static_cast<int32_t>(kernel.buffers.size());
  for (int32_t out = 0; out < n; ++out) {
    const KernelBuffer& o = kernel.buffers[out];
    if (!o.is_output || kernel.is_scratch(out) || used_by_dot(kernel, out)) continue;
    std::optional<Store> store = sole_final_store(kernel, out);
    if (!store) continue;
    if (kernel.outer_count() * product(kernel.phases.back().extents) != o.type.num_elements())
      continue;
    for (int32_t in = 0; in < n; ++in) {
      const KernelBuffer& b = kernel.buffers[in];
      if (b.is_output || kernel.is_scratch(in) || used_by_dot(kernel, in)) continue;
      if (ir::dtype_size(b.type.dtype) != ir::dtype_size(o.type.dtype) ||
          b.type.num_elements() != o.type.num_elements())
        continue;
      if (reads_only_at(kernel, users, in, *store)) pairs.emplace_back(in, out);
    }
  }
  return pairs;
}

}  // namespace kiln::codegen
