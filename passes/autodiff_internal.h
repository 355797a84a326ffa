#pragma once
// Shared by the jvp and transpose halves of autodiff (passes/autodiff.h): checking `wrt`,
// naming parameters, and a small builder that emits the few ops the rules need.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/function.h"

namespace kiln::passes::detail {

// The picked parameter indices: `wrt` checked (in range, no repeats, float), or every float
// parameter when it is empty. `component` prefixes errors ("jvp" -> "[jvp] ...").
std::vector<int> resolve_wrt(const ir::Function& f, std::span<const int> wrt,
                             std::string_view component);

// `name`, with "_" appended until no parameter of `f` has it.
std::string unique_param_name(const ir::Function& f, std::string name);

// A tangent (or cotangent) that may be symbolically zero.
using MaybeValue = std::optional<ir::Value>;

// Emits ops into a function under construction. Splats are broadcasts of scalar constants, the
// form simplify folds and recognizes; hash-consing makes repeated ones free.
class GraphBuilder {
 public:
  explicit GraphBuilder(ir::Function& out) : f_(out) {}

  ir::Function& fn() { return f_; }
  const ir::TensorType& type(ir::Value v) const { return f_.type(v); }

  ir::Value op(ir::OpKind kind, std::vector<ir::Value> operands, ir::Attrs attrs = {},
               std::optional<ir::TensorType> declared = std::nullopt) {
    return f_.add(kind, std::move(operands), std::move(attrs), std::move(declared));
  }

  ir::Value splat(ir::TensorType type, double value);  // by value: may alias a node of fn()
  ir::Value splat_like(ir::Value like, double value) { return splat(type(like), value); }
  ir::Value zeros(const ir::TensorType& type) { return splat(type, 0.0); }

  ir::Value add(ir::Value a, ir::Value b) { return op(ir::OpKind::Add, {a, b}); }
  ir::Value sub(ir::Value a, ir::Value b) { return op(ir::OpKind::Sub, {a, b}); }
  ir::Value mul(ir::Value a, ir::Value b) { return op(ir::OpKind::Mul, {a, b}); }
  ir::Value div(ir::Value a, ir::Value b) { return op(ir::OpKind::Div, {a, b}); }
  ir::Value neg(ir::Value a) { return op(ir::OpKind::Neg, {a}); }
  ir::Value select(ir::Value p, ir::Value a, ir::Value b) {
    return op(ir::OpKind::Select, {p, a, b});
  }
  ir::Value convert(ir::Value a, ir::DType dtype) {
    if (type(a).dtype == dtype) return a;
    return op(ir::OpKind::Convert, {a}, {}, ir::TensorType{dtype, type(a).shape});
  }
  ir::Value reduce_sum(ir::Value a, const std::vector<int64_t>& axes);
  ir::Value reduce_all(ir::Value a);  // to a scalar
  // Operand dim i goes to result dim dims[i].
  ir::Value broadcast(ir::Value a, const ir::Shape& shape, const std::vector<int64_t>& dims);
  ir::Value reshape(ir::Value a, const ir::Shape& shape);
  ir::Value transpose(ir::Value a, const std::vector<int64_t>& perm);

  // Symbolic-zero arithmetic: nullopt is zero and costs nothing.
  MaybeValue add(MaybeValue a, MaybeValue b);
  ir::Value accumulate(MaybeValue sum, ir::Value term) { return sum ? add(*sum, term) : term; }

 private:
  ir::Function& f_;
};

// The jvp of `f` with its picked parameters already resolved: f(x...) -> y... becomes
// name(x..., t...) -> (y..., t_y...) with one tangent result per float result of f. A call
// node is an error unless `linearize_calls`, where reverse mode is linearizing a function whose
// kept calls (custom vjp, checkpoint) the transposer handles: each float result of such a call
// with a nonzero tangent gets the placeholder tangent `call @f(x..., t...)` (same attributes;
// an argument with a zero tangent fills its own tangent slot), which is never evaluated.
ir::Function jvp_picked(const ir::Function& f, const std::vector<int>& picked, std::string name,
                        bool linearize_calls = false);

}  // namespace kiln::passes::detail
