// The scalar kernel evaluator. Its numeric model is the reference interpreter's: a float value
// is a double holding a number of its dtype, every op computes in double and rounds once to
// its dtype (f16 and bf16 through a round-to-odd f32); an integer value is an int64 wrapped to
// its dtype's width after every op. Reductions accumulate in double (or wrapping int64) and
// round once, like the interpreter, so only the order of a sum can differ from it.

#include "codegen/kernel_eval.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <limits>

#include "ir/half.h"
#include "ir/scalar_semantics.h"

namespace kiln::codegen {

namespace {

using ir::DType;
using ir::OpKind;
using namespace ir::scalar;  // the interpreter's scalar rules, shared

// A scalar: `f` for float dtypes, `i` for everything else (bool is 0 or 1).
struct Scalar {
  double f = 0;
  int64_t i = 0;
};

// Rounds a double to the nearest value of float dtype `d`.
double round_float(double v, DType d) {
  return ir::scalar::round_to_float_dtype(v, d);
}

// Wraps an int64 to integer dtype `d` (bool: nonzero is 1).
int64_t wrap_int(int64_t v, DType d) {
  switch (d) {
    case DType::Bool:
      return v != 0;
    case DType::I8:
      return static_cast<int8_t>(v);
    case DType::I16:
      return static_cast<int16_t>(v);
    case DType::I32:
      return static_cast<int32_t>(v);
    case DType::U8:
      return static_cast<uint8_t>(v);
    case DType::U32:
      return static_cast<uint32_t>(v);
    default:
      return v;
  }
}

Scalar make(double f, DType d) {
  return Scalar{round_float(f, d), 0};
}
Scalar make_int(int64_t i, DType d) {
  return Scalar{0, wrap_int(i, d)};
}

Scalar convert(Scalar x, DType from, DType to) {
  if (ir::is_float(from) && ir::is_float(to)) return make(x.f, to);
  if (ir::is_float(from) && to == DType::Bool) return make_int(x.f != 0.0, to);
  if (ir::is_float(from)) {
    auto [lo, hi] = int_range(to);
    return make_int(saturating_trunc(x.f, lo, hi), to);
  }
  if (to == DType::F64) return Scalar{static_cast<double>(x.i), 0};
  if (ir::is_float(to)) return make(round_to_odd_f64(x.i), to);
  return make_int(x.i, to);
}

// An element's bits as stored in memory (zero-extended), and back.
uint64_t to_bits(Scalar x, DType d) {
  switch (d) {
    case DType::F16:
      return ir::float_to_f16(static_cast<float>(x.f));
    case DType::BF16:
      return ir::float_to_bf16(static_cast<float>(x.f));
    case DType::F32:
      return std::bit_cast<uint32_t>(static_cast<float>(x.f));
    case DType::F64:
      return std::bit_cast<uint64_t>(x.f);
    case DType::Bool:
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U32:
      break;
  }
  const size_t bits = ir::dtype_size(d) * 8;
  const uint64_t pattern = static_cast<uint64_t>(x.i);
  return bits == 64 ? pattern : pattern & ((uint64_t{1} << bits) - 1);
}

Scalar from_bits(uint64_t bits, DType d) {
  switch (d) {
    case DType::F16:
      return Scalar{ir::f16_to_float(static_cast<uint16_t>(bits)), 0};
    case DType::BF16:
      return Scalar{ir::bf16_to_float(static_cast<uint16_t>(bits)), 0};
    case DType::F32:
      return Scalar{std::bit_cast<float>(static_cast<uint32_t>(bits)), 0};
    case DType::F64:
      return Scalar{std::bit_cast<double>(bits), 0};
    case DType::Bool:
    case DType::I8:
    case DType::I16:
    case DType::I32:
    case DType::I64:
    case DType::U8:
    case DType::U32:
      break;
  }
  return make_int(static_cast<int64_t>(bits), d);
}

Scalar unary(OpKind op, Scalar x, DType d) {
  const double v = x.f;
  switch (op) {
    case OpKind::Neg:
      return ir::is_float(d) ? make(-v, d) : make_int(wrap_sub(0, x.i), d);
    case OpKind::Abs:
      return ir::is_float(d) ? make(std::fabs(v), d)
                             : make_int(x.i < 0 ? wrap_sub(0, x.i) : x.i, d);
    case OpKind::Sign:
      if (ir::is_float(d)) return make(std::isnan(v) || v == 0.0 ? v : std::copysign(1.0, v), d);
      return make_int((x.i > 0) - (x.i < 0), d);
    case OpKind::Exp:
      return make(std::exp(v), d);
    case OpKind::Log:
      return make(std::log(v), d);
    case OpKind::Log1p:
      return make(std::log1p(v), d);
    case OpKind::Expm1:
      return make(std::expm1(v), d);
    case OpKind::Sqrt:
      return make(std::sqrt(v), d);
    case OpKind::Rsqrt:
      return make(1.0 / std::sqrt(v), d);
    case OpKind::Sin:
      return make(std::sin(v), d);
    case OpKind::Cos:
      return make(std::cos(v), d);
    case OpKind::Tanh:
      return make(std::tanh(v), d);
    case OpKind::Logistic:
      return make(1.0 / (1.0 + std::exp(-v)), d);
    case OpKind::Erf:
      return make(std::erf(v), d);
    case OpKind::Floor:
      return make(std::floor(v), d);
    case OpKind::Ceil:
      return make(std::ceil(v), d);
    case OpKind::Round:
      return make(round_half_even(v), d);
    case OpKind::Not:
      return make_int(d == DType::Bool ? 1 - x.i : ~x.i, d);
    case OpKind::Popcount:
      return make_int(popcount(x.i, d), d);
    case OpKind::Clz:
      return make_int(count_leading_zeros(x.i, d), d);
    default:
      assert(false && "not a unary op");
      return {};
  }
}

template <typename T>
bool compare(OpKind op, T a, T b) {
  switch (op) {
    case OpKind::Eq:
      return a == b;
    case OpKind::Ne:
      return a != b;
    case OpKind::Lt:
      return a < b;
    case OpKind::Le:
      return a <= b;
    case OpKind::Gt:
      return a > b;
    case OpKind::Ge:
      return a >= b;
    default:
      assert(false && "not a comparison");
      return false;
  }
}

Scalar binary_float(OpKind op, double a, double b, DType d) {
  switch (op) {
    case OpKind::Add:
      return make(a + b, d);
    case OpKind::Sub:
      return make(a - b, d);
    case OpKind::Mul:
      return make(a * b, d);
    case OpKind::Div:
      return make(a / b, d);
    case OpKind::Rem:
      return make(std::fmod(a, b), d);
    case OpKind::Pow:
      return make(std::pow(a, b), d);
    case OpKind::Max:
      return make(max_f64(a, b), d);
    case OpKind::Min:
      return make(min_f64(a, b), d);
    default:
      assert(false && "not a float binary op");
      return {};
  }
}

Scalar binary_int(OpKind op, int64_t a, int64_t b, DType d) {
  switch (op) {
    case OpKind::Add:
      return make_int(wrap_add(a, b), d);
    case OpKind::Sub:
      return make_int(wrap_sub(a, b), d);
    case OpKind::Mul:
      return make_int(wrap_mul(a, b), d);
    case OpKind::Div:
      return make_int(int_div(a, b), d);
    case OpKind::Rem:
      return make_int(int_rem(a, b), d);
    case OpKind::Pow:
      return make_int(int_pow(a, b), d);
    case OpKind::Max:
      return make_int(std::max(a, b), d);
    case OpKind::Min:
      return make_int(std::min(a, b), d);
    case OpKind::And:
      return make_int(a & b, d);
    case OpKind::Or:
      return make_int(a | b, d);
    case OpKind::Xor:
      return make_int(a ^ b, d);
    case OpKind::ShiftLeft:
      return make_int(shift_left(a, b, d), d);
    case OpKind::ShiftRightLogical:
      return make_int(shift_right_logical(a, b, d), d);
    case OpKind::ShiftRightArithmetic:
      return make_int(shift_right_arithmetic(a, b, d), d);
    default:
      assert(false && "not an integer binary op");
      return {};
  }
}

Scalar apply(const Expr& e, const std::vector<Expr>& pool, const std::vector<Scalar>& values) {
  auto in = [&](size_t i) { return values[e.operands[i]]; };
  const DType from = pool[e.operands[0]].dtype;
  if (e.op == OpKind::Select) return in(0).i ? in(1) : in(2);
  if (e.op == OpKind::Convert) return convert(in(0), from, e.dtype);
  if (e.op == OpKind::BitcastConvert) return from_bits(to_bits(in(0), from), e.dtype);
  if (e.op == OpKind::IsFinite) return make_int(std::isfinite(in(0).f), DType::Bool);
  if (ir::has_trait(e.op, ir::OpTrait::Unary)) return unary(e.op, in(0), e.dtype);
  if (ir::has_trait(e.op, ir::OpTrait::Comparison))
    return make_int(
        ir::is_float(from) ? compare(e.op, in(0).f, in(1).f) : compare(e.op, in(0).i, in(1).i),
        DType::Bool);
  assert(ir::has_trait(e.op, ir::OpTrait::Binary) && "an elementwise op of the kernel IR");
  if (ir::is_float(e.dtype)) return binary_float(e.op, in(0).f, in(1).f, e.dtype);
  return binary_int(e.op, in(0).i, in(1).i, e.dtype);
}

Scalar load(const ir::HostArray& buffer, int64_t offset) {
  assert(offset >= 0 && offset < buffer.num_elements() && "load out of bounds");
  if (ir::is_float(buffer.dtype())) return Scalar{buffer.get_f64(offset), 0};
  return Scalar{0, buffer.get_i64(offset)};
}

void store(ir::HostArray& buffer, int64_t offset, Scalar v) {
  assert(offset >= 0 && offset < buffer.num_elements() && "store out of bounds");
  if (ir::is_float(buffer.dtype()))
    buffer.set_f64(offset, v.f);
  else
    buffer.set_i64(offset, v.i);
}

// Calls fn(index) for every index of `extents` in row-major order (once for no extents).
template <typename Fn>
void for_each_index(const std::vector<int64_t>& extents, Fn fn) {
  for (int64_t e : extents)
    if (e == 0) return;
  std::vector<int64_t> index(extents.size(), 0);
  while (true) {
    fn(index);
    int d = static_cast<int>(extents.size()) - 1;
    for (; d >= 0; --d) {
      if (++index[d] < extents[d]) break;
      index[d] = 0;
    }
    if (d < 0) return;
  }
}

// Accumulates one reduce phase, like the interpreter's folds.
class Accumulator {
 public:
  Accumulator(const Phase& phase, DType value_dtype)
      : op_(phase.reduce_op), dtype_(value_dtype), result_(phase.result_dtype) {
    constexpr double inf = std::numeric_limits<double>::infinity();
    const auto [lo, hi] =
        ir::is_float(dtype_) ? std::pair<int64_t, int64_t>{0, 0} : int_range(dtype_);
    switch (op_) {
      case OpKind::ReduceSum:
        acc_ = {-0.0, 0};
        break;
      case OpKind::ReduceProd:
        acc_ = {1.0, 1};
        break;
      case OpKind::ReduceMax:
        acc_ = {-inf, lo};
        break;
      case OpKind::ReduceMin:
        acc_ = {inf, hi};
        break;
      default:
        break;
    }
  }

  void add(Scalar v) {
    const bool is_float = ir::is_float(dtype_);
    switch (op_) {
      case OpKind::ReduceSum:
        acc_ = is_float ? Scalar{acc_.f + v.f, 0} : Scalar{0, wrap_add(acc_.i, v.i)};
        break;
      case OpKind::ReduceProd:
        acc_ = is_float ? Scalar{acc_.f * v.f, 0} : Scalar{0, wrap_mul(acc_.i, v.i)};
        break;
      case OpKind::ReduceMax:
        acc_ = is_float ? Scalar{max_f64(acc_.f, v.f), 0} : Scalar{0, std::max(acc_.i, v.i)};
        break;
      case OpKind::ReduceMin:
        acc_ = is_float ? Scalar{min_f64(acc_.f, v.f), 0} : Scalar{0, std::min(acc_.i, v.i)};
        break;
      case OpKind::Argmax:
      case OpKind::Argmin:
        arg(v, is_float);
        break;
      default:
        assert(false && "not a reduction");
    }
    ++count_;
  }

  Scalar result() const {
    if (ir::has_trait(op_, ir::OpTrait::ArgReduction)) return make_int(best_, result_);
    if (op_ == OpKind::ReduceSum && count_ == 0) return Scalar{0.0, 0};
    return ir::is_float(result_) ? make(acc_.f, result_) : make_int(acc_.i, result_);
  }

 private:
  void arg(Scalar v, bool is_float) {
    const bool is_max = op_ == OpKind::Argmax;
    if (count_ == 0) {
      acc_ = v;
      return;
    }
    if (is_float) {
      if (std::isnan(acc_.f)) return;
      if (std::isnan(v.f) || (is_max ? v.f > acc_.f : v.f < acc_.f)) {
        acc_ = v;
        best_ = count_;
      }
    } else if (is_max ? v.i > acc_.i : v.i < acc_.i) {
      acc_ = v;
      best_ = count_;
    }
  }

  OpKind op_;
  DType dtype_, result_;
  Scalar acc_;
  int64_t count_ = 0, best_ = 0;
};

// The expressions each phase needs, in pool order (operands first).
std::vector<ExprId> needed(const Kernel& k, std::vector<ExprId> roots) {
  std::vector<bool> seen(k.exprs.size(), false);
  while (!roots.empty()) {
    const ExprId id = roots.back();
    roots.pop_back();
    if (seen[id]) continue;
    seen[id] = true;
    for (ExprId o : k.exprs[id].operands)
      roots.push_back(o);
  }
  std::vector<ExprId> out;
  for (size_t id = 0; id < seen.size(); ++id)
    if (seen[id]) out.push_back(static_cast<ExprId>(id));
  return out;
}

class Evaluator {
 public:
  Evaluator(const Kernel& k, std::span<ir::HostArray> buffers)
      : k_(k), buffers_(buffers), values_(k.exprs.size()), results_(k.phases.size()) {
    for (const Phase& p : k.phases) {
      std::vector<ExprId> stores;
      for (const Store& s : p.stores) {
        stores.push_back(s.offset);
        stores.push_back(s.value);
      }
      // A Dot phase's store reads its own result, so its loads and its store evaluate apart.
      needed_.push_back(needed(k, p.kind == PhaseKind::Dot ? stores : phase_roots(p)));
      dot_operands_.push_back(p.kind == PhaseKind::Dot ? needed(k, {p.dot_lhs, p.dot_rhs})
                                                       : std::vector<ExprId>{});
    }
  }

  void run() {
    for_each_index(k_.outer, [&](const std::vector<int64_t>& outer) {
      outer_ = &outer;
      for (size_t p = 0; p < k_.phases.size(); ++p)
        run_phase(p);
    });
  }

 private:
  void run_phase(size_t p) {
    const Phase& phase = k_.phases[p];
    auto run_stores = [&] {
      for (const Store& s : phase.stores)
        store(buffers_[s.buffer], values_[s.offset].i, values_[s.value]);
    };
    switch (phase.kind) {
      case PhaseKind::Store:
        for_each_index(phase.extents, [&](const std::vector<int64_t>& inner) {
          evaluate(needed_[p], inner);
          run_stores();
        });
        return;
      case PhaseKind::Dot:
        for_each_index(phase.extents, [&](const std::vector<int64_t>& inner) {
          results_[p] = dot(p, inner);
          evaluate(needed_[p], inner);
          run_stores();
        });
        return;
      case PhaseKind::Reduce:
        break;
    }
    Accumulator acc(phase, k_.exprs[phase.value].dtype);
    for_each_index(phase.extents, [&](const std::vector<int64_t>& inner) {
      evaluate(needed_[p], inner);
      acc.add(values_[phase.value]);
      run_stores();  // a reduce phase may also write its operand out
    });
    results_[p] = acc.result();
  }

  // Sums exact products in f64 and rounds once, like the interpreter: the evaluator checks
  // lowering's index arithmetic against the interpreter, so it computes as accurately as the
  // oracle does, not as a backend's GEMM (an f32 FMA chain for f32) does.
  Scalar dot(size_t p, const std::vector<int64_t>& inner) {
    const Phase& phase = k_.phases[p];
    const bool is_float = ir::is_float(phase.result_dtype);
    double accf = phase.contraction > 0 ? -0.0 : 0.0;
    int64_t acci = 0;
    for (int64_t k = 0; k < phase.contraction; ++k) {
      evaluate(dot_operands_[p], inner, k);
      const Scalar l = values_[phase.dot_lhs], r = values_[phase.dot_rhs];
      if (is_float)
        accf += l.f * r.f;
      else
        acci = wrap_add(acci, wrap_mul(l.i, r.i));
    }
    return is_float ? make(accf, phase.result_dtype) : make_int(acci, phase.result_dtype);
  }

  void evaluate(const std::vector<ExprId>& exprs, const std::vector<int64_t>& inner,
                int64_t contraction = 0) {
    for (ExprId id : exprs) {
      const Expr& e = k_.exprs[id];
      Scalar& v = values_[id];
      switch (e.kind) {
        case ExprKind::Index:
          v = Scalar{0, index(e, inner, contraction)};
          break;
        case ExprKind::Constant:
          v = ir::is_float(e.dtype) ? make(e.float_value, e.dtype) : make_int(e.int_value, e.dtype);
          break;
        case ExprKind::Load:
          v = load(buffers_[e.buffer], values_[e.operands[0]].i);
          break;
        case ExprKind::Op:
          v = apply(e, k_.exprs, values_);
          break;
        case ExprKind::PhaseResult:
          v = results_[e.phase];
          break;
      }
    }
  }

  int64_t index(const Expr& e, const std::vector<int64_t>& inner, int64_t contraction) const {
    switch (e.loop) {
      case LoopLevel::Outer:
        return (*outer_)[e.axis];
      case LoopLevel::Inner:
        return inner[e.axis];
      case LoopLevel::Contraction:
        return contraction;
    }
    return 0;
  }

  const Kernel& k_;
  std::span<ir::HostArray> buffers_;
  std::vector<Scalar> values_;
  std::vector<Scalar> results_;
  std::vector<std::vector<ExprId>> needed_, dot_operands_;
  const std::vector<int64_t>* outer_ = nullptr;
};

}  // namespace

void evaluate_kernel(const Kernel& kernel, std::span<ir::HostArray> buffers) {
  assert(buffers.size() == kernel.buffers.size());
  Evaluator(kernel, buffers).run();
}

}  // namespace kiln::codegen
