#pragma once
// The op table: one OpKind per op and one OpInfo row each (name, traits, operand count,
// attribute family), plus the shape rule that gives an op's result type or says which rule it
// breaks (shape_rules.cpp). The attributes themselves are declared in op_attrs.h.
// Transforms and backends are switches over OpKind with no default, so a new op makes the
// compiler list every rule it still lacks.

#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "ir/attr.h"
#include "ir/op_attrs.h"
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
  // Lowering writes these out in the ops above (codegen/math_expand.h); the interpreter
  // computes them in double (libm, or ir/special_functions.h).
  Tan,
  Asin,
  Acos,
  Atan,
  Sinh,
  Cosh,
  Asinh,
  Acosh,
  Atanh,
  ErfInv,
  Lgamma,   // log |Gamma(x)|
  Digamma,  // Gamma'(x) / Gamma(x)
  Floor,
  Ceil,
  Round,
  Not,
  Popcount,  // set bits of an integer, in its dtype
  Clz,       // leading zero bits of an integer at its dtype's width, in its dtype
  // elementwise binary
  Add,
  Sub,
  Mul,
  Div,
  Rem,
  Pow,
  Atan2,  // atan2(a, b): the angle of the point (b, a), in [-pi, pi]
  Max,
  Min,
  And,
  Or,
  Xor,
  // Integer shifts; the amount reads as unsigned, and at the width or more the result is 0
  // (arithmetic: copies of the top bit, on unsigned dtypes too).
  ShiftLeft,
  ShiftRightLogical,
  ShiftRightArithmetic,
  // comparisons, result bool
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Select,
  IsFinite,  // float to bool: neither infinite nor NaN
  Convert,
  BitcastConvert,  // reinterprets an element's bits as another dtype of the same width
  Constant,
  Iota,
  RngBits,  // Threefry-2x32 counter-mode bits (ir/scalar_semantics.h)
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
  // Inclusive scans along one axis (from its end with reverse=true).
  CumSum,
  CumProd,
  CumMax,
  CumMin,
  CumLogSumExp,
  TakeAlongAxis,     // result[..., i, ...] = x[..., idx[..., i, ...], ...] along one axis
  ScatterAlongAxis,  // the same positions written into a copy of x, combined by its mode
  StopGradient,      // identity when evaluated; its tangent is zero
  Call,              // one result of another function of the same module
};
inline constexpr int kNumOpKinds = static_cast<int>(OpKind::Call) + 1;

// What an op is, for the code that treats ops by kind rather than one by one. Each trait is a
// fact of the op's definition, stated once in its OpInfo row (ops.cpp) and asked with
// has_trait, never re-derived from a list of ops.
enum class OpTrait : uint8_t {
  Elementwise,   // result element i reads only element i of each operand, all of one shape
  Unary,         // elementwise arithmetic on one operand, result of its dtype (neg ... not)
  Binary,        // elementwise arithmetic on two operands of one dtype (add ... xor)
  Comparison,    // elementwise comparison of two operands of one dtype; the result is bool
  Reduction,     // folds its one operand over axes that the result drops
  ArgReduction,  // a reduction to the (i32) index of an extremum rather than to a value
  // The dtype classes the op's values may have (its operands' and result's; select's branches';
  // iota's and constant's result). Every op takes at least one; the shape rule checks them.
  AcceptsBool,
  AcceptsInteger,
  AcceptsFloat,
  // Linear in operand k while the other operands stay fixed (mul is linear in each operand, not
  // in both at once): the operands through which reverse mode transposes the op.
  LinearIn0,
  LinearIn1,
  LinearIn2,
  LinearInAll,  // linear in every operand, however many (concatenate)
  // Writes its updates into a copy of operand 0 at positions operand 1 gives, in order: a
  // kernel of its own (the copy, then the updates in sequence), never fused into others.
  Scatter,
  // An inclusive scan along one axis: a kernel of its own whose phase runs along the axis in
  // order, never fused into others.
  Scan,
};
inline constexpr int kNumOpTraits = static_cast<int>(OpTrait::Scan) + 1;

// A set of traits.
class OpTraits {
 public:
  constexpr OpTraits() = default;
  constexpr OpTraits(std::initializer_list<OpTrait> traits) {
    for (OpTrait t : traits)
      bits_ |= bit(t);
  }
  constexpr bool has(OpTrait t) const { return (bits_ & bit(t)) != 0; }
  constexpr OpTraits operator|(OpTraits other) const { return OpTraits(bits_ | other.bits_); }
  constexpr bool operator==(const OpTraits&) const = default;

 private:
  constexpr explicit OpTraits(uint32_t bits) : bits_(bits) {}
  static constexpr uint32_t bit(OpTrait t) { return uint32_t{1} << static_cast<int>(t); }
  uint32_t bits_ = 0;
};
static_assert(kNumOpTraits <= 32, "OpTraits holds the traits in 32 bits");

struct OpInfo {
  OpKind kind;
  std::string_view name;
  OpTraits traits;
  int min_operands;
  int max_operands;  // -1: any number
  AttrFamily attr_family;
  std::span<const AttrSpec> attrs;  // attr_schema(attr_family): in the order the printer writes
  // The result type comes from the text ("convert %x : f16[3]"); for every other op it
  // is inferred and the text's type is checked against it.
  bool declares_result_type;
};

const OpInfo& op_info(OpKind kind);
std::string_view op_name(OpKind kind);
std::optional<OpKind> op_from_name(std::string_view name);  // never returns Parameter
std::span<const OpKind> all_ops();                          // every op but Parameter

inline bool has_trait(OpKind kind, OpTrait trait) {
  return op_info(kind).traits.has(trait);
}
// Whether the op is linear in operand `operand` (LinearIn<k>, or LinearInAll).
bool is_linear_in(OpKind kind, int operand);
// Whether the op takes values of `dtype` (its Accepts* traits).
bool accepts_dtype(OpKind kind, DType dtype);

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
