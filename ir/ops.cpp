#include "ir/ops.h"

#include <cassert>

namespace kiln::ir {

namespace {

using K = OpKind;
using T = OpTrait;

constexpr OpTraits kAnyDtype{T::AcceptsBool, T::AcceptsInteger, T::AcceptsFloat};
constexpr OpTraits kNumeric{T::AcceptsInteger, T::AcceptsFloat};
constexpr OpTraits kFloatOnly{T::AcceptsFloat};
constexpr OpTraits kBoolOrInteger{T::AcceptsBool, T::AcceptsInteger};

std::vector<OpInfo> build_table() {
  using F = AttrFamily;
  std::vector<OpInfo> t(kNumOpKinds);
  auto row = [&](K k, std::string_view name, OpTraits traits, int lo, int hi, F family = F::None,
                 bool declares = false) {
    t[static_cast<int>(k)] = OpInfo{k, name, traits, lo, hi, family, attr_schema(family), declares};
  };
  const OpTraits unary{T::Elementwise, T::Unary};
  const OpTraits binary{T::Elementwise, T::Binary};
  const OpTraits linear{T::LinearIn0};
  const OpTraits linear_in_both{T::LinearIn0, T::LinearIn1};
  row(K::Parameter, "parameter", kAnyDtype, 0, 0);
  row(K::Neg, "neg", unary | kNumeric | linear, 1, 1);
  row(K::Abs, "abs", unary | kNumeric, 1, 1);
  row(K::Sign, "sign", unary | kNumeric, 1, 1);
  const std::pair<K, std::string_view> float_unary[] = {
      {K::Exp, "exp"},       {K::Log, "log"},           {K::Log1p, "log1p"}, {K::Expm1, "expm1"},
      {K::Sqrt, "sqrt"},     {K::Rsqrt, "rsqrt"},       {K::Sin, "sin"},     {K::Cos, "cos"},
      {K::Tanh, "tanh"},     {K::Logistic, "logistic"}, {K::Erf, "erf"},     {K::Floor, "floor"},
      {K::Ceil, "ceil"},     {K::Round, "round"},       {K::Tan, "tan"},     {K::Asin, "asin"},
      {K::Acos, "acos"},     {K::Atan, "atan"},         {K::Sinh, "sinh"},   {K::Cosh, "cosh"},
      {K::Asinh, "asinh"},   {K::Acosh, "acosh"},       {K::Atanh, "atanh"}, {K::ErfInv, "erf_inv"},
      {K::Lgamma, "lgamma"}, {K::Digamma, "digamma"}};
  for (auto [k, name] : float_unary)
    row(k, name, unary | kFloatOnly, 1, 1);
  row(K::Not, "not", unary | kBoolOrInteger, 1, 1);
  row(K::Popcount, "popcount", unary | OpTraits{T::AcceptsInteger}, 1, 1);
  row(K::Clz, "clz", unary | OpTraits{T::AcceptsInteger}, 1, 1);
  row(K::Add, "add", binary | kNumeric | linear_in_both, 2, 2);
  row(K::Sub, "sub", binary | kNumeric | linear_in_both, 2, 2);
  row(K::Mul, "mul", binary | kNumeric | linear_in_both, 2, 2);
  row(K::Div, "div", binary | kNumeric | linear, 2, 2);
  row(K::Rem, "rem", binary | kNumeric, 2, 2);
  row(K::Pow, "pow", binary | kNumeric, 2, 2);
  row(K::Atan2, "atan2", binary | kFloatOnly, 2, 2);
  row(K::Max, "max", binary | kAnyDtype, 2, 2);
  row(K::Min, "min", binary | kAnyDtype, 2, 2);
  row(K::And, "and", binary | kBoolOrInteger, 2, 2);
  row(K::Or, "or", binary | kBoolOrInteger, 2, 2);
  row(K::Xor, "xor", binary | kBoolOrInteger, 2, 2);
  row(K::ShiftLeft, "shift_left", binary | OpTraits{T::AcceptsInteger}, 2, 2);
  row(K::ShiftRightLogical, "shift_right_logical", binary | OpTraits{T::AcceptsInteger}, 2, 2);
  row(K::ShiftRightArithmetic, "shift_right_arithmetic", binary | OpTraits{T::AcceptsInteger}, 2,
      2);
  const std::pair<K, std::string_view> compare[] = {{K::Eq, "eq"}, {K::Ne, "ne"}, {K::Lt, "lt"},
                                                    {K::Le, "le"}, {K::Gt, "gt"}, {K::Ge, "ge"}};
  for (auto [k, name] : compare)
    row(k, name, OpTraits{T::Elementwise, T::Comparison} | kAnyDtype, 2, 2);
  row(K::Select, "select", OpTraits{T::Elementwise, T::LinearIn1, T::LinearIn2} | kAnyDtype, 3, 3);
  row(K::IsFinite, "is_finite", OpTraits{T::Elementwise} | kFloatOnly, 1, 1);
  row(K::Convert, "convert", OpTraits{T::Elementwise} | kAnyDtype | linear, 1, 1, F::None, true);
  row(K::BitcastConvert, "bitcast_convert", OpTraits{T::Elementwise} | kNumeric, 1, 1, F::None,
      true);
  row(K::Constant, "constant", kAnyDtype, 0, 0, F::Constant, true);
  row(K::Iota, "iota", kNumeric, 0, 0, F::Iota, true);
  // Its key is u32 and its bits are u32: the dtype class both take.
  row(K::RngBits, "rng_bits", OpTraits{T::AcceptsInteger}, 1, 1, F::RngBits);
  row(K::Broadcast, "broadcast", kAnyDtype | linear, 1, 1, F::Broadcast);
  row(K::Reshape, "reshape", kAnyDtype | linear, 1, 1, F::Reshape);
  row(K::Transpose, "transpose", kAnyDtype | linear, 1, 1, F::Transpose);
  row(K::Slice, "slice", kAnyDtype | linear, 1, 1, F::Slice);
  row(K::Pad, "pad", kAnyDtype | linear_in_both, 2, 2, F::Pad);
  row(K::Concatenate, "concatenate", kAnyDtype | OpTraits{T::LinearInAll}, 1, -1, F::Concatenate);
  const OpTraits reduction{T::Reduction};
  row(K::ReduceSum, "reduce_sum", reduction | kNumeric | linear, 1, 1, F::Reduce);
  row(K::ReduceMax, "reduce_max", reduction | kAnyDtype, 1, 1, F::Reduce);
  row(K::ReduceMin, "reduce_min", reduction | kAnyDtype, 1, 1, F::Reduce);
  row(K::ReduceProd, "reduce_prod", reduction | kNumeric, 1, 1, F::Reduce);
  const OpTraits arg_reduction{T::Reduction, T::ArgReduction};
  row(K::Argmax, "argmax", arg_reduction | kAnyDtype, 1, 1, F::ArgReduce);
  row(K::Argmin, "argmin", arg_reduction | kAnyDtype, 1, 1, F::ArgReduce);
  row(K::DotGeneral, "dot_general", kNumeric | linear_in_both, 2, 2, F::DotGeneral);
  row(K::Take, "take", kAnyDtype | linear, 2, 2, F::Take);
  row(K::ScatterAdd, "scatter_add", kNumeric | OpTraits{T::LinearIn0, T::LinearIn2, T::Scatter}, 3,
      3, F::ScatterAdd);
  const OpTraits scan{T::Scan};
  row(K::CumSum, "cumsum", scan | kNumeric | linear, 1, 1, F::Scan);
  row(K::CumProd, "cumprod", scan | kNumeric, 1, 1, F::Scan);
  row(K::CumMax, "cummax", scan | kAnyDtype, 1, 1, F::Scan);
  row(K::CumMin, "cummin", scan | kAnyDtype, 1, 1, F::Scan);
  row(K::CumLogSumExp, "cumlogsumexp", scan | kFloatOnly, 1, 1, F::Scan);
  row(K::TakeAlongAxis, "take_along_axis", kAnyDtype | linear, 2, 2, F::AlongAxis);
  // Linear in x and the updates for modes add and set (the shape rule knows the mode); the
  // transposer checks the mode, as only those two reach it.
  row(K::ScatterAlongAxis, "scatter_along_axis",
      kAnyDtype | OpTraits{T::LinearIn0, T::LinearIn2, T::Scatter}, 3, 3, F::ScatterAlongAxis);
  row(K::StopGradient, "stop_gradient", OpTraits{T::Elementwise} | kAnyDtype, 1, 1);
  // A call's result type is the callee's, which only the module knows: it is written out, and
  // verify(Module) checks it against the callee.
  row(K::Call, "call", kAnyDtype, 0, -1, F::Call, true);
  for (int i = 0; i < kNumOpKinds; ++i)
    assert(t[i].kind == static_cast<K>(i) && !t[i].name.empty());
  return t;
}

const std::vector<OpInfo>& table() {
  static const std::vector<OpInfo> t = build_table();
  return t;
}

}  // namespace

const OpInfo& op_info(OpKind kind) {
  return table()[static_cast<int>(kind)];
}

std::string_view op_name(OpKind kind) {
  return op_info(kind).name;
}

std::optional<OpKind> op_from_name(std::string_view name) {
  for (const OpInfo& info : table())
    if (info.name == name && info.kind != OpKind::Parameter) return info.kind;
  return std::nullopt;
}

std::span<const OpKind> all_ops() {
  static const std::vector<OpKind> ops = [] {
    std::vector<OpKind> v;
    for (int i = 1; i < kNumOpKinds; ++i)
      v.push_back(static_cast<OpKind>(i));
    return v;
  }();
  return ops;
}

bool is_linear_in(OpKind kind, int operand) {
  const OpTraits traits = op_info(kind).traits;
  if (traits.has(T::LinearInAll)) return true;
  switch (operand) {
    case 0:
      return traits.has(T::LinearIn0);
    case 1:
      return traits.has(T::LinearIn1);
    case 2:
      return traits.has(T::LinearIn2);
  }
  return false;  // no op of fixed arity has more than three operands
}

bool accepts_dtype(OpKind kind, DType dtype) {
  const OpTraits traits = op_info(kind).traits;
  if (dtype == DType::Bool) return traits.has(T::AcceptsBool);
  if (is_integer(dtype)) return traits.has(T::AcceptsInteger);
  assert(is_float(dtype));
  return traits.has(T::AcceptsFloat);
}

}  // namespace kiln::ir
