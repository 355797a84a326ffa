#include "codegen/kernel.h"

#include "ir/hash.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <functional>
#include <sstream>
#include <string_view>

#include "ir/attr.h"

namespace kiln::codegen {

namespace {

using ir::hash_combine;

template <typename T>
size_t hash_of(const T& value) {
  return std::hash<T>{}(value);
}

size_t hash_expr(const Expr& e) {
  size_t h = hash_of(static_cast<int>(e.kind));
  h = hash_combine(h, hash_of(static_cast<int>(e.dtype)));
  h = hash_combine(h, hash_of(static_cast<int>(e.op)));
  for (ExprId id : e.operands)
    h = hash_combine(h, id);
  h = hash_combine(h, static_cast<size_t>(e.loop));
  h = hash_combine(h, hash_of(e.axis));
  h = hash_combine(h, hash_of(e.buffer));
  h = hash_combine(h, hash_of(e.phase));
  h = hash_combine(h, hash_of(std::bit_cast<uint64_t>(e.float_value)));
  return hash_combine(h, hash_of(e.int_value));
}

size_t hash_ints(size_t h, const std::vector<int64_t>& values) {
  h = hash_combine(h, values.size());
  for (int64_t v : values)
    h = hash_combine(h, hash_of(v));
  return h;
}

size_t hash_type(size_t h, const ir::TensorType& type) {
  return hash_ints(hash_combine(h, static_cast<size_t>(type.dtype)), type.shape);
}

size_t hash_phase(size_t h, const Phase& p) {
  h = hash_combine(h, static_cast<size_t>(p.kind));
  h = hash_ints(h, p.extents);
  h = hash_combine(h, static_cast<size_t>(p.reduce_op));
  h = hash_combine(h, p.value);
  h = hash_combine(h, static_cast<size_t>(p.result_dtype));
  h = hash_combine(hash_combine(hash_combine(h, p.dot_lhs), p.dot_rhs), hash_of(p.contraction));
  h = hash_combine(hash_combine(h, static_cast<size_t>(p.accumulator)), p.sequential);
  for (const Store& s : p.stores)
    h = hash_combine(hash_combine(hash_combine(h, hash_of(s.buffer)), s.offset), s.value);
  return h;
}

}  // namespace

std::vector<ExprId> phase_roots(const Phase& phase) {
  std::vector<ExprId> roots;
  switch (phase.kind) {
    case PhaseKind::Reduce:
      roots.push_back(phase.value);
      break;
    case PhaseKind::Dot:
      roots.push_back(phase.dot_lhs);
      roots.push_back(phase.dot_rhs);
      break;
    case PhaseKind::Store:
      break;
  }
  for (const Store& s : phase.stores) {
    roots.push_back(s.offset);
    roots.push_back(s.value);
  }
  return roots;
}

ir::DType dot_accumulator(ir::DType dtype) {
  return dtype == ir::DType::F16 || dtype == ir::DType::BF16 ? ir::DType::F32 : dtype;
}

bool Kernel::is_scratch(int32_t buffer) const {
  for (int32_t s : scratch)
    if (s == buffer) return true;
  return false;
}

int64_t Kernel::outer_count() const {
  int64_t n = 1;
  for (int64_t e : outer)
    n *= e;
  return n;
}

size_t Kernel::hash() const {
  size_t h = 0x6b696c6eull;  // "kiln"
  for (const KernelBuffer& b : buffers)
    h = hash_combine(hash_type(h, b.type), b.is_output);
  h = hash_ints(h, outer);
  for (const Phase& p : phases)
    h = hash_phase(h, p);
  for (const Expr& e : exprs)
    h = hash_combine(h, hash_expr(e));
  for (int32_t s : scratch)
    h = hash_combine(h, hash_of(s));
  return h;
}

bool Kernel::same_structure(const Kernel& other) const {
  return buffers == other.buffers && outer == other.outer && phases == other.phases &&
         exprs == other.exprs && scratch == other.scratch;
}

// ---- ExprBuilder --------------------------------------------------------------------------

size_t ExprBuilder::ExprHash::operator()(const Expr& e) const {
  return hash_expr(e);
}

ExprId ExprBuilder::add(Expr expr) {
  // Entries appended to the pool behind the builder's back are indexed lazily.
  for (; indexed_ < pool_.size(); ++indexed_)
    interned_.emplace(pool_[indexed_], static_cast<ExprId>(indexed_));
  auto it = interned_.find(expr);
  if (it != interned_.end()) return it->second;
  for ([[maybe_unused]] ExprId operand : expr.operands)
    assert(operand < pool_.size() && "operands must precede their users");
  const ExprId id = static_cast<ExprId>(pool_.size());
  pool_.push_back(expr);
  interned_.emplace(std::move(expr), id);
  indexed_ = pool_.size();
  return id;
}

ExprId ExprBuilder::index(LoopLevel loop, int axis) {
  Expr e;
  e.kind = ExprKind::Index;
  e.dtype = ir::DType::I64;
  e.loop = loop;
  e.axis = axis;
  return add(std::move(e));
}

ExprId ExprBuilder::constant_int(int64_t value, ir::DType dtype) {
  Expr e;
  e.kind = ExprKind::Constant;
  e.dtype = dtype;
  e.int_value = value;
  if (ir::is_float(dtype)) e.float_value = static_cast<double>(value);
  return add(std::move(e));
}

ExprId ExprBuilder::constant_float(double value, ir::DType dtype) {
  Expr e;
  e.kind = ExprKind::Constant;
  e.dtype = dtype;
  e.float_value = value;
  return add(std::move(e));
}

ExprId ExprBuilder::load(int buffer, ir::DType dtype, ExprId offset) {
  Expr e;
  e.kind = ExprKind::Load;
  e.dtype = dtype;
  e.buffer = buffer;
  e.operands = {offset};
  return add(std::move(e));
}

ExprId ExprBuilder::op(ir::OpKind op, ir::DType dtype, std::vector<ExprId> operands) {
  Expr e;
  e.kind = ExprKind::Op;
  e.dtype = dtype;
  e.op = op;
  e.operands = std::move(operands);
  return add(std::move(e));
}

ExprId ExprBuilder::phase_result(int phase, ir::DType dtype) {
  Expr e;
  e.kind = ExprKind::PhaseResult;
  e.dtype = dtype;
  e.phase = phase;
  return add(std::move(e));
}

// ---- printing -----------------------------------------------------------------------------

namespace {

std::string list_str(const std::vector<int64_t>& values) {
  return ir::shape_str(values);
}

std::string reduce_name(ir::OpKind op) {
  switch (op) {
    case ir::OpKind::ReduceSum:
      return "sum";
    case ir::OpKind::ReduceMax:
      return "max";
    case ir::OpKind::ReduceMin:
      return "min";
    case ir::OpKind::ReduceProd:
      return "prod";
    case ir::OpKind::Argmax:
      return "argmax";
    case ir::OpKind::Argmin:
      return "argmin";
    default:
      return std::string(ir::op_name(op));
  }
}

std::string_view loop_name(LoopLevel loop) {
  switch (loop) {
    case LoopLevel::Outer:
      return "outer";
    case LoopLevel::Inner:
      return "inner";
    case LoopLevel::Contraction:
      return "contraction";
  }
  return "?";
}

std::string constant_str(const Expr& e) {
  if (ir::is_float(e.dtype)) return ir::float_str(e.float_value);
  return std::to_string(e.int_value);
}

std::string expr_line(const Expr& e, ExprId id) {
  std::ostringstream s;
  s << "e" << id << " = ";
  switch (e.kind) {
    case ExprKind::Index:
      s << "index " << loop_name(e.loop) << " " << e.axis;
      break;
    case ExprKind::Constant:
      s << "const " << constant_str(e);
      break;
    case ExprKind::Load:
      s << "load b" << e.buffer << "[e" << e.operands[0] << "]";
      break;
    case ExprKind::Op:
      s << ir::op_name(e.op);
      for (size_t i = 0; i < e.operands.size(); ++i)
        s << (i == 0 ? " e" : ", e") << e.operands[i];
      break;
    case ExprKind::PhaseResult:
      s << "result p" << e.phase;
      break;
  }
  s << " : " << ir::dtype_name(e.dtype);
  return s.str();
}

// Prints the expressions `roots` reach that no earlier phase printed, in pool order.
void print_exprs(const Kernel& k, std::vector<ExprId> roots, std::vector<bool>& printed,
                 std::ostringstream& out) {
  std::vector<bool> needed(k.exprs.size(), false);
  while (!roots.empty()) {
    ExprId id = roots.back();
    roots.pop_back();
    if (needed[id] || printed[id]) continue;
    needed[id] = true;
    for (ExprId operand : k.exprs[id].operands)
      roots.push_back(operand);
  }
  for (size_t id = 0; id < k.exprs.size(); ++id)
    if (needed[id]) {
      out << "    " << expr_line(k.exprs[id], static_cast<ExprId>(id)) << "\n";
      printed[id] = true;
    }
}

}  // namespace

std::string print_kernel(const Kernel& k) {
  std::ostringstream out;
  out << "kernel @" << k.name << " {\n";
  for (size_t i = 0; i < k.buffers.size(); ++i) {
    const bool is_scratch =
        std::find(k.scratch.begin(), k.scratch.end(), static_cast<int32_t>(i)) != k.scratch.end();
    out << "  %b" << i << ": " << k.buffers[i].type.str() << " "
        << (is_scratch               ? "scratch"
            : k.buffers[i].is_output ? "out"
                                     : "in")
        << "\n";
  }
  out << "  outer " << list_str(k.outer) << "\n";
  std::vector<bool> printed(k.exprs.size(), false);
  for (size_t p = 0; p < k.phases.size(); ++p) {
    const Phase& phase = k.phases[p];
    std::vector<ExprId> roots;
    const std::string_view sequential = phase.sequential ? " sequential" : "";
    switch (phase.kind) {
      case PhaseKind::Reduce:
        out << "  p" << p << ": reduce " << reduce_name(phase.reduce_op) << " over "
            << list_str(phase.extents) << " -> " << ir::dtype_name(phase.result_dtype) << sequential
            << " {\n";
        roots.push_back(phase.value);
        break;
      case PhaseKind::Store:
        out << "  p" << p << ": store over " << list_str(phase.extents) << sequential << " {\n";
        break;
      case PhaseKind::Dot:
        out << "  p" << p << ": dot over " << list_str(phase.extents) << " contracting "
            << phase.contraction << " in " << ir::dtype_name(phase.accumulator) << " -> "
            << ir::dtype_name(phase.result_dtype) << sequential << " {\n";
        roots.push_back(phase.dot_lhs);
        roots.push_back(phase.dot_rhs);
        break;
    }
    for (const Store& s : phase.stores) {
      roots.push_back(s.offset);
      roots.push_back(s.value);
    }
    print_exprs(k, roots, printed, out);
    for (const Store& s : phase.stores)
      out << "    store b" << s.buffer << "[e" << s.offset << "] = e" << s.value << "\n";
    if (phase.kind == PhaseKind::Reduce) out << "    yield e" << phase.value << "\n";
    if (phase.kind == PhaseKind::Dot)
      out << "    product e" << phase.dot_lhs << " * e" << phase.dot_rhs << "\n";
    out << "  }\n";
  }
  out << "}\n";
  return out.str();
}

bool exact_in_rounded_dtype(ir::OpKind op) {
  switch (op) {
    case ir::OpKind::Neg:
    case ir::OpKind::Abs:
    case ir::OpKind::Sign:
    case ir::OpKind::Floor:
    case ir::OpKind::Ceil:
    case ir::OpKind::Round:
    case ir::OpKind::Max:
    case ir::OpKind::Min:
    case ir::OpKind::Select:
    case ir::OpKind::Rem:
    case ir::OpKind::BitcastConvert:  // a value of the result's dtype, rebuilt from its bits
      return true;
    default:
      return false;
  }
}

}  // namespace kiln::codegen
