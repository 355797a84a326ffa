#pragma once
// Private to lowering (codegen/lower*.cpp): writes one fused value at one index as scalar
// expressions of a kernel. Index movement becomes i64 index arithmetic on the way down, so a
// fused reshape, transpose, slice, pad, concatenate or take never copies. Every index into a
// dimension of size 1 is the constant 0, so equal positions are equal expressions.

#include <functional>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "codegen/kernel.h"
#include "ir/function.h"

namespace kiln::codegen::lowering {

using Index = std::vector<ExprId>;

// Small i64 arithmetic with constant folding, over an ExprBuilder.
class IndexMath {
 public:
  explicit IndexMath(ExprBuilder& b) : b_(b) {}
  ExprId cst(int64_t v) { return b_.constant_int(v); }
  std::optional<int64_t> value(ExprId e) const;
  ExprId add(ExprId a, ExprId b);
  ExprId sub(ExprId a, ExprId b);
  ExprId mul(ExprId a, int64_t c);
  ExprId div(ExprId a, int64_t c);
  ExprId rem(ExprId a, int64_t c);
  ExprId clamp(ExprId a, int64_t lo, int64_t hi);
  ExprId cmp(ir::OpKind op, ExprId a, ExprId b);  // bool
  ExprId both(ExprId a, ExprId b);                // bool and
  // Row-major linear offset of `index` in `shape`, and its inverse.
  ExprId linear(const Index& index, const ir::Shape& shape);
  Index delinear(ExprId linear, const ir::Shape& shape);

 private:
  ExprBuilder& b_;
};

class Emitter {
 public:
  // Called for a member reduction (or a dot lowered as one) evaluated at `index`; returns its
  // phase result.
  using ReductionFn = std::function<ExprId(ir::Value value, const Index& index)>;
  // Buffers: the kernel buffer an input value is read from.
  Emitter(const ir::Function& f, ExprBuilder& b, std::set<uint32_t> members,
          std::unordered_map<uint32_t, int> input_buffers, ReductionFn reduction)
      : f_(f),
        b_(b),
        math_(b),
        members_(std::move(members)),
        buffers_(std::move(input_buffers)),
        reduction_(std::move(reduction)) {}

  ExprId emit(ir::Value v, const Index& index);
  IndexMath& math() { return math_; }
  ExprBuilder& builder() { return b_; }
  // Reads `v` from its buffer instead of computing it (a Dot kernel's product).
  void read_from_buffer(ir::Value v, int buffer) {
    members_.erase(v.id);
    buffers_[v.id] = buffer;
  }

 private:
  ExprId compute(ir::Value v, const Index& index);
  ExprId constant(const ir::Node& node, const Index& index);
  ExprId movement(const ir::Node& node, const Index& index);
  ExprId pad(const ir::Node& node, const Index& index);
  ExprId concatenate(const ir::Node& node, const Index& index);
  ExprId take(const ir::Node& node, const Index& index);
  Index reshape_index(const ir::Shape& from, const ir::Shape& to, const Index& index);

  const ir::Function& f_;
  ExprBuilder& b_;
  IndexMath math_;
  std::set<uint32_t> members_;
  std::unordered_map<uint32_t, int> buffers_;
  ReductionFn reduction_;
  std::map<std::pair<uint32_t, Index>, ExprId> memo_;
};

// A value of an integer dtype as an i64 index.
ExprId to_index(ExprBuilder& b, ExprId value);

}  // namespace kiln::codegen::lowering
