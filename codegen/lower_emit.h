#pragma once
// Private to lowering (codegen/lower*.cpp): writes one fused value at one index as scalar
// expressions of a kernel. Index movement becomes i64 index arithmetic on the way down, so a
// fused reshape, transpose, slice, pad, concatenate or take never copies. Every index into a
// dimension of size 1 is the constant 0, so equal positions are equal expressions.

#include <coroutine>
#include <exception>
#include <functional>
#include <map>
#include <optional>
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

// One step of the walk that writes a fused value as expressions. The walk follows operands as
// deep as the graph goes (a chain of 50,000 fused exps is 50,000 levels), far deeper than the
// C++ stack allows, so each step is a coroutine: it co_awaits the expressions of the values it
// reads and co_returns its own, and ScalarLowering::emit runs the suspended steps on a stack of its
// own. The steps read like the recursive walk and build expressions in the same order.
class Step {
 public:
  struct promise_type {
    ExprId result = 0;
    std::exception_ptr error;
    Step get_return_object() { return Step(Handle::from_promise(*this)); }
    std::suspend_always initial_suspend() noexcept { return {}; }  // ScalarLowering::emit starts it
    std::suspend_always final_suspend() noexcept { return {}; }    // and reads its result
    void return_value(ExprId id) { result = id; }
    void unhandled_exception() { error = std::current_exception(); }
  };
  using Handle = std::coroutine_handle<promise_type>;

  Step(Step&& other) noexcept : handle_(std::exchange(other.handle_, {})) {}
  Step& operator=(Step&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  Step(const Step&) = delete;
  Step& operator=(const Step&) = delete;
  ~Step() {
    if (handle_) handle_.destroy();
  }

  // Runs the step until it awaits another one or returns.
  void resume() { handle_.resume(); }
  bool done() const { return handle_.done(); }
  // The step's expression, once done; rethrows what the step threw.
  ExprId result() const {
    if (handle_.promise().error) std::rethrow_exception(handle_.promise().error);
    return handle_.promise().result;
  }

 private:
  explicit Step(Handle handle) : handle_(handle) {}
  Handle handle_;
};

class ScalarLowering {
 public:
  // Called for a member reduction (or a dot lowered as one) evaluated at `index`; its step
  // returns the phase result.
  using ReductionFn = std::function<Step(ir::Value value, const Index& index)>;
  // Buffers: the kernel buffer an input value is read from.
  ScalarLowering(const ir::Function& f, ExprBuilder& b, std::set<uint32_t> members,
                 std::unordered_map<uint32_t, int> input_buffers, ReductionFn reduction)
      : f_(f),
        b_(b),
        math_(b),
        members_(std::move(members)),
        buffers_(std::move(input_buffers)),
        reduction_(std::move(reduction)) {}

  // The expression of `v` at `index`. Not for use inside a step: a step co_awaits at().
  ExprId emit(ir::Value v, const Index& index);
  IndexMath& math() { return math_; }
  ExprBuilder& builder() { return b_; }
  // Reads `v` from its buffer instead of computing it (a Dot kernel's product).
  void read_from_buffer(ir::Value v, int buffer) {
    members_.erase(v.id);
    buffers_[v.id] = buffer;
  }

 private:
  using MemoKey = std::pair<uint32_t, Index>;
  // A step for emit to run before it resumes the step that awaits it, and where the result is
  // memoized (steps of at(), not those of run()).
  struct Pending {
    Step step;
    std::optional<MemoKey> memo_key;
  };

 public:
  // What a step co_awaits: an expression known at once (memoized, or a load), or a step that
  // emit runs first.
  class Awaiter {
   public:
    bool await_ready() const noexcept { return !pending_; }
    void await_suspend(std::coroutine_handle<>) { emitter_.pending_ = std::move(pending_); }
    ExprId await_resume() const { return ready_ ? *ready_ : emitter_.delivered_; }

   private:
    friend class ScalarLowering;
    Awaiter(ScalarLowering& emitter, ExprId ready) : emitter_(emitter), ready_(ready) {}
    Awaiter(ScalarLowering& emitter, Pending pending)
        : emitter_(emitter), pending_(std::move(pending)) {}

    ScalarLowering& emitter_;
    std::optional<ExprId> ready_;
    std::optional<Pending> pending_;
  };
  // Inside a step: `co_await at(v, index)` is the expression of `v` at `index`.
  Awaiter at(ir::Value v, Index index);
  // Inside a step: `co_await run(step)` runs another step (a reduction's) and gives its result.
  Awaiter run(Step step) { return Awaiter(*this, Pending{std::move(step), std::nullopt}); }

 private:
  Step compute(ir::Value v, Index index);
  ExprId constant(const ir::Node& node, const Index& index);
  Index movement_source(const ir::Node& node, const Index& index);
  Step pad(const ir::Node& node, Index index);
  Step concatenate(const ir::Node& node, Index index);
  Step take(const ir::Node& node, Index index);
  Index reshape_index(const ir::Shape& from, const ir::Shape& to, const Index& index);

  const ir::Function& f_;
  ExprBuilder& b_;
  IndexMath math_;
  std::set<uint32_t> members_;
  std::unordered_map<uint32_t, int> buffers_;
  ReductionFn reduction_;
  std::map<MemoKey, ExprId> memo_;
  // Between a step's suspension and emit's next move: the step it awaits; then the result
  // handed back to the step that awaited it.
  std::optional<Pending> pending_;
  ExprId delivered_ = 0;
};

// A value of an integer dtype as an i64 index.
ExprId to_index(ExprBuilder& b, ExprId value);

}  // namespace kiln::codegen::lowering
