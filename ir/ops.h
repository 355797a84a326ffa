#pragma once
// The op table: one OpKind per op and one OpInfo row each (name, operand count, attribute
// schema), plus the shape rule that gives an op's result type or says which rule it breaks.
// Transforms and backends are switches over OpKind with no default, so a new op makes the
// compiler list every rule it still lacks.

#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ir/attr.h"
#include "ir/type.h"

namespace kiln::ir {

enum class OpKind : uint8_t {
  Parameter,  // a function parameter; never written as an op in text
  // elementwise unary
  Neg,
  Abs,
  Sign,
  Exp,
  Log,
  Log1p,
  Expm1,
  Sqrt,
  Rsqrt,
  Sin,
  Cos,
  Tanh,
  Logistic,
  Erf,
  Floor,
  Ceil,
  Round,
  Not,
  // elementwise binary
  Add,
  Sub,
  Mul,
  Div,
  Rem,
  Pow,
  Max,
  Min,
  And,
  Or,
  Xor,
  // comparisons, result bool
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Select,
  Convert,
  Constant,
  Iota,
  // index movement
  Broadcast,
  Reshape,
  Transpose,
  Slice,
  Pad,
  Concatenate,
  // reductions
  ReduceSum,
  ReduceMax,
  ReduceMin,
  ReduceProd,
  Argmax,
  Argmin,
  DotGeneral,
  Take,
  ScatterAdd,
  StopGradient,  // identity when evaluated; its tangent is zero
  Call,          // one result of another function of the same module
};
inline constexpr int kNumOpKinds = static_cast<int>(OpKind::Call) + 1;

enum class OpClass : uint8_t { Parameter, Unary, Binary, Compare, Other };

enum class AttrKind : uint8_t {
  Int,      // an integer
  IntList,  // a list of integers
  Value,    // a scalar or a nested list (constant's value)
  String,   // a string (call's callee)
};

struct AttrSpec {
  std::string_view name;
  AttrKind kind;
  bool required;
};

struct OpInfo {
  OpKind kind;
  std::string_view name;
  OpClass op_class;
  int min_operands;
  int max_operands;             // -1: any number
  std::vector<AttrSpec> attrs;  // in the order the printer writes them
  // The result type comes from the text ("convert %x : f16[3]"); for every other op it
  // is inferred and the text's type is checked against it.
  bool declares_result_type;
};

const OpInfo& op_info(OpKind kind);
std::string_view op_name(OpKind kind);
std::optional<OpKind> op_from_name(std::string_view name);  // never returns Parameter
std::span<const OpKind> all_ops();                          // every op but Parameter

inline bool is_elementwise(OpKind k) {
  OpClass c = op_info(k).op_class;
  return c == OpClass::Unary || c == OpClass::Binary || c == OpClass::Compare ||
         k == OpKind::Select || k == OpKind::Convert || k == OpKind::StopGradient;
}

// Checks attributes and operand types against the op's rule and returns the result type.
// `declared` is the result type written in the text; it is required for ops with
// declares_result_type and ignored otherwise. Throws TypeError naming the rule broken.
TensorType infer_type(OpKind kind, std::span<const TensorType> operands, const Attrs& attrs,
                      const std::optional<TensorType>& declared);

// Puts attributes in canonical form so that equal ops hash-cons: fills defaults (stride,
// interior, lhs_batch, rhs_batch), sorts reduction axes, stores float constants as floats.
// Call after infer_type has accepted them.
Attrs canonical_attrs(OpKind kind, Attrs attrs, const TensorType& result);

}  // namespace kiln::ir
