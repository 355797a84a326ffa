// The reference interpreter's driver: checks the arguments, evaluates every node the results
// need in order, and holds the scalar definition of every elementwise op (StableHLO's
// semantics where they differ from C's or numpy's). The kernels live in interpreter_*.cpp.

#include <cmath>
#include <limits>
#include <new>
#include <string>

#include "ir/buffer_pool.h"
#include "ir/error.h"
#include "ir/interpreter.h"
#include "ir/interpreter_kernels.h"
#include "ir/special_functions.h"

namespace kiln::ir {

namespace {

using namespace interp;

// ---- scalar definitions -------------------------------------------------------------------

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double logistic(double x) {
  return 1.0 / (1.0 + std::exp(-x));
}

// ---- elementwise helpers ------------------------------------------------------------------

// For ops whose dtype rule allows only one class of operand: the other function is never
// called.
constexpr auto kNoInt = [](auto...) -> int64_t { return 0; };
constexpr auto kNoFloat = [](auto...) -> double { return kNaN; };

template <typename Fn>
HostArray float_unary(const HostArray& x, Fn fn) {
  return map_unary(x, fn, kNoInt);
}

template <typename FloatFn, typename IntFn>
HostArray binary(const HostArray& x, const HostArray& y, FloatFn float_fn, IntFn int_fn) {
  return map_binary(x, y, x.dtype(), float_fn, int_fn);
}

// Comparisons read both operand classes with one generic function. Unsigned operands are
// non-negative int64s, so they compare as unsigned; NaN compares false except under ne.
template <typename Fn>
HostArray compare(const HostArray& x, const HostArray& y, Fn fn) {
  return map_binary(x, y, DType::Bool, fn, fn);
}

// ---- evaluation ---------------------------------------------------------------------------

HostArray call(const Node& node, std::span<const HostArray* const> in, const Module* module);

// Evaluates one node from its operands' values. One case per op and no default, so a new op
// does not compile until it has a rule here.

HostArray evaluate(const Node& node, std::span<const HostArray* const> in, const Module* module,
                   const HostArray* argument) {
  auto x = [&]() -> const HostArray& { return *in[0]; };
  auto y = [&]() -> const HostArray& { return *in[1]; };
  switch (node.op) {
    case OpKind::Parameter:
      return *argument;

    case OpKind::Neg:
      return map_unary(
          x(), [](double v) { return -v; }, [](int64_t v) { return wrap_sub(0, v); });
    case OpKind::Abs:
      return map_unary(
          x(), [](double v) { return std::fabs(v); },
          [](int64_t v) { return v < 0 ? wrap_sub(0, v) : v; });
    case OpKind::Sign:
      return map_unary(x(), sign_f64, sign_i64);
    case OpKind::Exp:
      return float_unary(x(), [](double v) { return std::exp(v); });
    case OpKind::Log:
      return float_unary(x(), [](double v) { return std::log(v); });
    case OpKind::Log1p:
      return float_unary(x(), [](double v) { return std::log1p(v); });
    case OpKind::Expm1:
      return float_unary(x(), [](double v) { return std::expm1(v); });
    case OpKind::Sqrt:
      return float_unary(x(), [](double v) { return std::sqrt(v); });
    case OpKind::Rsqrt:
      return float_unary(x(), [](double v) { return 1.0 / std::sqrt(v); });
    case OpKind::Sin:
      return float_unary(x(), [](double v) { return std::sin(v); });
    case OpKind::Cos:
      return float_unary(x(), [](double v) { return std::cos(v); });
    case OpKind::Tanh:
      return float_unary(x(), [](double v) { return std::tanh(v); });
    case OpKind::Logistic:
      return float_unary(x(), logistic);
    case OpKind::Erf:
      return float_unary(x(), [](double v) { return std::erf(v); });
    case OpKind::Tan:
      return float_unary(x(), [](double v) { return std::tan(v); });
    case OpKind::Asin:
      return float_unary(x(), [](double v) { return std::asin(v); });
    case OpKind::Acos:
      return float_unary(x(), [](double v) { return std::acos(v); });
    case OpKind::Atan:
      return float_unary(x(), [](double v) { return std::atan(v); });
    case OpKind::Sinh:
      return float_unary(x(), [](double v) { return std::sinh(v); });
    case OpKind::Cosh:
      return float_unary(x(), [](double v) { return std::cosh(v); });
    case OpKind::Asinh:
      return float_unary(x(), [](double v) { return std::asinh(v); });
    case OpKind::Acosh:
      return float_unary(x(), [](double v) { return std::acosh(v); });
    case OpKind::Atanh:
      return float_unary(x(), [](double v) { return std::atanh(v); });
    case OpKind::ErfInv:
      return float_unary(x(), special::erf_inv);
    case OpKind::Lgamma:
      return float_unary(x(), [](double v) {
        int sign = 0;  // lgamma_r: std::lgamma may write the global signgam
        return ::lgamma_r(v, &sign);
      });
    case OpKind::Digamma:
      return float_unary(x(), special::digamma);
    case OpKind::Floor:
      return float_unary(x(), [](double v) { return std::floor(v); });
    case OpKind::Ceil:
      return float_unary(x(), [](double v) { return std::ceil(v); });
    case OpKind::Round:
      return float_unary(x(), round_half_even);
    case OpKind::Not:
      // Logical on bool, bitwise on integers.
      if (x().dtype() == DType::Bool)
        return map_unary(x(), kNoFloat, [](int64_t v) { return 1 - v; });
      return map_unary(x(), kNoFloat, [](int64_t v) { return ~v; });
    case OpKind::Popcount:
      return map_unary(x(), kNoFloat, [d = x().dtype()](int64_t v) { return popcount(v, d); });
    case OpKind::Clz:
      return map_unary(x(), kNoFloat,
                       [d = x().dtype()](int64_t v) { return count_leading_zeros(v, d); });

    case OpKind::Add:
      return binary(
          x(), y(), [](double a, double b) { return a + b; }, wrap_add);
    case OpKind::Sub:
      return binary(
          x(), y(), [](double a, double b) { return a - b; }, wrap_sub);
    case OpKind::Mul:
      return binary(
          x(), y(), [](double a, double b) { return a * b; }, wrap_mul);
    case OpKind::Div:
      return binary(
          x(), y(), [](double a, double b) { return a / b; }, int_div);
    case OpKind::Rem:
      return binary(
          x(), y(), [](double a, double b) { return std::fmod(a, b); }, int_rem);
    case OpKind::Pow:
      return binary(
          x(), y(), [](double a, double b) { return std::pow(a, b); }, int_pow);
    case OpKind::Atan2:
      return binary(
          x(), y(), [](double a, double b) { return std::atan2(a, b); }, kNoInt);
    // On bool (0 and 1) max is or and min is and.
    case OpKind::Max:
      return binary(x(), y(), max_f64, [](int64_t a, int64_t b) { return std::max(a, b); });
    case OpKind::Min:
      return binary(x(), y(), min_f64, [](int64_t a, int64_t b) { return std::min(a, b); });
    // Bitwise on 0 and 1 is logical on bool.
    case OpKind::And:
      return binary(x(), y(), kNoFloat, [](int64_t a, int64_t b) { return a & b; });
    case OpKind::Or:
      return binary(x(), y(), kNoFloat, [](int64_t a, int64_t b) { return a | b; });
    case OpKind::Xor:
      return binary(x(), y(), kNoFloat, [](int64_t a, int64_t b) { return a ^ b; });
    case OpKind::ShiftLeft:
      return binary(x(), y(), kNoFloat,
                    [d = x().dtype()](int64_t a, int64_t b) { return shift_left(a, b, d); });
    case OpKind::ShiftRightLogical:
      return binary(x(), y(), kNoFloat, [d = x().dtype()](int64_t a, int64_t b) {
        return shift_right_logical(a, b, d);
      });
    case OpKind::ShiftRightArithmetic:
      return binary(x(), y(), kNoFloat, [d = x().dtype()](int64_t a, int64_t b) {
        return shift_right_arithmetic(a, b, d);
      });

    case OpKind::Eq:
      return compare(x(), y(), [](auto a, auto b) { return a == b; });
    case OpKind::Ne:
      return compare(x(), y(), [](auto a, auto b) { return a != b; });
    case OpKind::Lt:
      return compare(x(), y(), [](auto a, auto b) { return a < b; });
    case OpKind::Le:
      return compare(x(), y(), [](auto a, auto b) { return a <= b; });
    case OpKind::Gt:
      return compare(x(), y(), [](auto a, auto b) { return a > b; });
    case OpKind::Ge:
      return compare(x(), y(), [](auto a, auto b) { return a >= b; });

    case OpKind::Select:
      return select(*in[0], *in[1], *in[2]);
    case OpKind::IsFinite: {
      HostArray out(node.type);
      map_into<double, int64_t>(x(), out, [](double v) { return std::isfinite(v); });
      return out;
    }
    case OpKind::Convert:
      return convert(x(), node.type.dtype);
    case OpKind::BitcastConvert: {
      HostArray out(node.type);  // the same bytes, read as another dtype
      std::copy(x().bytes().begin(), x().bytes().end(), out.bytes().begin());
      return out;
    }
    case OpKind::Constant:
      return constant(node.type, constant_value(node));
    case OpKind::Iota:
      return iota(node.type, iota_attrs(node).axis);
    case OpKind::RngBits:
      return rng_bits(x(), node.type);

    case OpKind::Broadcast: {
      const BroadcastAttrs a = broadcast_attrs(node);
      return broadcast(x(), a.shape, a.dims);
    }
    case OpKind::Reshape:
      return reshape(x(), reshape_attrs(node).shape);
    case OpKind::Transpose:
      return transpose(x(), transpose_attrs(node).perm);
    case OpKind::Slice: {
      const SliceAttrs a = slice_attrs(node);
      return slice(x(), a.start, a.limit, a.stride);
    }
    case OpKind::Pad: {
      const PadAttrs a = pad_attrs(node);
      return pad(x(), y(), a.low, a.high, a.interior);
    }
    case OpKind::Concatenate:
      return concatenate(in, concatenate_attrs(node).axis);

    case OpKind::ReduceSum:
      return reduce(x(), reduce_attrs(node).axes, Reduction::Sum);
    case OpKind::ReduceMax:
      return reduce(x(), reduce_attrs(node).axes, Reduction::Max);
    case OpKind::ReduceMin:
      return reduce(x(), reduce_attrs(node).axes, Reduction::Min);
    case OpKind::ReduceProd:
      return reduce(x(), reduce_attrs(node).axes, Reduction::Prod);
    case OpKind::Argmax:
      return arg_extreme(x(), arg_reduce_attrs(node).axis, /*is_max=*/true);
    case OpKind::Argmin:
      return arg_extreme(x(), arg_reduce_attrs(node).axis, /*is_max=*/false);

    case OpKind::DotGeneral: {
      const DotGeneralAttrs a = dot_general_attrs(node);
      return dot_general(x(), y(), a.lhs_batch, a.rhs_batch, a.lhs_contract, a.rhs_contract);
    }
    case OpKind::Take:
      return take(x(), y(), take_attrs(node).axis);
    case OpKind::ScatterAdd:
      return scatter_add(x(), y(), *in[2], scatter_add_attrs(node).axis);
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp: {
      const ScanAttrs a = scan_attrs(node);
      return scan(x(), node.op, a.axis, a.reverse);
    }
    case OpKind::TakeAlongAxis:
      return take_along_axis(x(), y(), along_axis_attrs(node).axis);
    case OpKind::ScatterAlongAxis: {
      const ScatterAlongAxisAttrs a = scatter_along_axis_attrs(node);
      return scatter_along_axis(x(), y(), *in[2], a.axis, a.mode);
    }
    case OpKind::StopGradient:
      return x();
    case OpKind::Call:
      return call(node, in, module);
  }
  return {};  // unreachable: every enumerator returns above
}

// Runs the callee on copies of the arguments (the oracle favours plain over fast) and keeps
// the result the node names.
HostArray call(const Node& node, std::span<const HostArray* const> in, const Module* module) {
  const CallAttrs attrs = call_attrs(node);
  const std::string& name = attrs.callee;
  const Function* callee = module ? module->find(name) : nullptr;
  if (!callee)
    throw Error("[interp] call @" + name + ": " +
                (module ? "the module does not define it"
                        : "a function with calls runs only with the module that defines them"));
  std::vector<HostArray> args;
  for (const HostArray* a : in)
    args.push_back(*a);
  std::vector<HostArray> results = interpret(*module, *callee, args);
  return std::move(results.at(static_cast<size_t>(attrs.result)));
}

void check_arguments(const Function& f, std::span<const HostArray> args) {
  const std::string where = "[interp] @" + f.name() + ": ";
  if (args.size() != f.params().size())
    throw Error(where + "expected " + std::to_string(f.params().size()) + " argument" +
                (f.params().size() == 1 ? "" : "s") + ", got " + std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i) {
    const Node& param = f.node(f.params()[i]);
    if (args[i].type() != param.type)
      throw Error(where + "argument " + std::to_string(i) + " (%" + param.param_name +
                  ") has type " + args[i].type().str() + " but the parameter is " +
                  param.type.str());
  }
}

// For each node: the position of the last node that reads it, so its value can be dropped
// after that; results are read "after the end". Nodes the results do not need stay at -1 and
// are never evaluated.
std::vector<int64_t> last_uses(const Function& f) {
  const int64_t n = static_cast<int64_t>(f.num_nodes());
  std::vector<int64_t> last(static_cast<size_t>(n), -1);
  for (Value v : f.results())
    last[v.id] = n;
  for (int64_t i = n - 1; i >= 0; --i) {
    if (last[i] < 0) continue;  // dead, so its operands are not read on its behalf
    for (Value operand : f.nodes()[i].operands)
      last[operand.id] = std::max(last[operand.id], i);
  }
  return last;
}

Error out_of_memory(const Function& f, const Node& node) {
  return Error("[interp] @" + f.name() + ": " + std::string(op_name(node.op)) + " : " +
               node.type.str() + " " +
               ir::exceeds_memory(node.type.size_bytes())
                   .value_or("needs more memory than this machine can allocate"));
}

// Refuses a value larger than physical memory before allocating it: past that an allocation
// either fails (fine) or, with overcommit, succeeds and gets the process killed while filling.
void check_fits_in_memory(const Function& f, const Node& node) {
  if (node.type.size_bytes() > physical_memory_bytes()) throw out_of_memory(f, node);
}

}  // namespace

std::vector<HostArray> interpret(const Function& function, std::span<const HostArray> args) {
  return interpret_in(nullptr, function, args);
}

std::vector<HostArray> interpret(const Module& module, const Function& function,
                                 std::span<const HostArray> args) {
  return interpret_in(&module, function, args);
}

std::vector<HostArray> interpret_in(const Module* module, const Function& function,
                                    std::span<const HostArray> args) {
  check_arguments(function, args);
  const std::vector<int64_t> last_use = last_uses(function);
  std::vector<int64_t> param_index(function.num_nodes(), -1);
  for (size_t i = 0; i < function.params().size(); ++i)
    param_index[function.params()[i].id] = static_cast<int64_t>(i);

  std::vector<HostArray> values(function.num_nodes());
  std::vector<const HostArray*> operands;
  for (size_t i = 0; i < function.num_nodes(); ++i) {
    if (last_use[i] < 0) continue;
    const Node& node = function.nodes()[i];
    operands.clear();
    for (Value v : node.operands)
      operands.push_back(&values[v.id]);
    const HostArray* argument = param_index[i] >= 0 ? &args[param_index[i]] : nullptr;
    check_fits_in_memory(function, node);
    try {
      values[i] = evaluate(node, operands, module, argument);
    } catch (const std::bad_alloc&) {
      throw out_of_memory(function, node);
    }
    for (Value v : node.operands)
      if (last_use[v.id] == static_cast<int64_t>(i)) values[v.id] = HostArray();
  }

  // A value returned once is moved out; one returned twice is copied for all but the last.
  std::vector<HostArray> results(function.results().size());
  for (size_t k = function.results().size(); k-- > 0;) {
    Value v = function.results()[k];
    bool returned_earlier = false;
    for (size_t j = 0; j < k; ++j)
      returned_earlier |= function.results()[j] == v;
    results[k] = returned_earlier ? values[v.id] : std::move(values[v.id]);
  }
  return results;
}

}  // namespace kiln::ir
