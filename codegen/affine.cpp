#include "codegen/affine.h"

#include <algorithm>
#include <unordered_map>

namespace kiln::codegen {

namespace {

using Affine = std::optional<AffineIndex>;

bool checked_mul(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

bool checked_add(int64_t a, int64_t b, int64_t& out) {
  return !__builtin_add_overflow(a, b, &out);
}

// a + sign * b, term by term.
Affine add(const AffineIndex& a, const AffineIndex& b, int64_t sign) {
  AffineIndex out = a;
  int64_t scaled = 0;
  if (!checked_mul(sign, b.constant, scaled) || !checked_add(out.constant, scaled, out.constant))
    return std::nullopt;
  for (const AffineTerm& t : b.terms) {
    if (!checked_mul(sign, t.coefficient, scaled)) return std::nullopt;
    auto it = std::find_if(out.terms.begin(), out.terms.end(), [&](const AffineTerm& o) {
      return o.loop == t.loop && o.axis == t.axis;
    });
    if (it == out.terms.end()) {
      out.terms.push_back({t.loop, t.axis, scaled});
      continue;
    }
    if (!checked_add(it->coefficient, scaled, it->coefficient)) return std::nullopt;
    if (it->coefficient == 0) out.terms.erase(it);
  }
  return out;
}

Affine scale(const AffineIndex& a, int64_t factor) {
  if (factor == 0) return AffineIndex{};
  AffineIndex out = a;
  if (!checked_mul(out.constant, factor, out.constant)) return std::nullopt;
  for (AffineTerm& t : out.terms)
    if (!checked_mul(t.coefficient, factor, t.coefficient)) return std::nullopt;
  return out;
}

bool is_constant(const AffineIndex& a) {
  return a.terms.empty();
}

// One expression, given its operands' forms.
Affine affine_of(const Expr& e, const std::vector<const Affine*>& operands) {
  for (const Affine* o : operands)
    if (!*o) return std::nullopt;
  switch (e.kind) {
    case ExprKind::Index:
      return AffineIndex{0, {{e.loop, e.axis, 1}}};
    case ExprKind::Constant:
      if (ir::is_float(e.dtype)) return std::nullopt;
      return AffineIndex{e.int_value, {}};
    case ExprKind::Load:
    case ExprKind::PhaseResult:
      return std::nullopt;
    case ExprKind::Op:
      break;
  }
  if (e.dtype != ir::DType::I64) return std::nullopt;
  // Only these four keep an index affine; Div and Rem (delinearizing) and everything else do
  // not in general, so an if-chain says it better than a switch over every op.
  const ir::OpKind op = e.op;
  if (op == ir::OpKind::Add) return add(**operands[0], **operands[1], 1);
  if (op == ir::OpKind::Sub) return add(**operands[0], **operands[1], -1);
  if (op == ir::OpKind::Neg) return scale(**operands[0], -1);
  if (op == ir::OpKind::Mul) {
    const AffineIndex &a = **operands[0], &b = **operands[1];
    if (is_constant(b)) return scale(a, b.constant);
    if (is_constant(a)) return scale(b, a.constant);
  }
  return std::nullopt;
}

}  // namespace

int64_t AffineIndex::coefficient(LoopLevel loop, int32_t axis) const {
  for (const AffineTerm& t : terms)
    if (t.loop == loop && t.axis == axis) return t.coefficient;
  return 0;
}

std::optional<AffineIndex> affine_index(const Kernel& kernel, ExprId id) {
  // Forms of every expression `id` reaches, in pool order (operands come first).
  std::vector<bool> reached(kernel.exprs.size(), false);
  std::vector<ExprId> stack{id};
  while (!stack.empty()) {
    const ExprId e = stack.back();
    stack.pop_back();
    if (reached[e]) continue;
    reached[e] = true;
    for (ExprId o : kernel.exprs[e].operands)
      stack.push_back(o);
  }
  std::unordered_map<ExprId, Affine> forms;
  for (ExprId e = 0; e <= id; ++e) {
    if (!reached[e]) continue;
    std::vector<const Affine*> operands;
    for (ExprId o : kernel.exprs[e].operands)
      operands.push_back(&forms.at(o));
    forms[e] = affine_of(kernel.exprs[e], operands);
  }
  return forms.at(id);
}

}  // namespace kiln::codegen
