#pragma once
// Automatic differentiation as passes, after JAX: a forward-mode (JVP) rule per op, a
// transpose rule per linear op, and reverse mode as linearize-then-transpose. Each takes a
// call-free function (inline calls first) and returns a new one, unsimplified; run `simplify`
// after for a readable graph.
//
// `wrt` picks the parameters that get tangents (jvp) or cotangents (vjp, grad) by index into
// f.params(), in the order given; empty means every float parameter. Integer and bool
// parameters cannot be picked ("[jvp] ..." etc.). Tangents never flow through integer or bool
// values, compares, argmax/argmin, floor/ceil/round/sign, iota or stop_gradient.

#include <span>

#include "ir/function.h"

namespace kiln::passes {

// f(x...) -> y...  becomes  f_jvp(x..., t_w...) -> (y..., t_y...): one tangent parameter per
// picked parameter (same type, named "t_" + its name) and one tangent result per float result
// of f (int and bool results get none). Zero tangents stay symbolic while the graph is built;
// only a float result whose tangent is zero gets a zero tensor.
ir::Function jvp(const ir::Function& f, std::span<const int> wrt = {});

// f(x...) -> y...  becomes  f_vjp(x..., c_y...) -> (y..., c_w...): one cotangent parameter per
// float result of f (same type, named "c" + result index) and one cotangent result per picked
// parameter.
ir::Function vjp(const ir::Function& f, std::span<const int> wrt = {});

// f must have one result, a float scalar ("[grad] ..." otherwise).
// grad: f_grad(x...) -> (g_w...); value_and_grad: f_value_and_grad(x...) -> (y, g_w...).
ir::Function grad(const ir::Function& f, std::span<const int> wrt = {});
ir::Function value_and_grad(const ir::Function& f, std::span<const int> wrt = {});

// The same over a module, where `f` may call other functions of `module` (which must pass
// verify(Module)). Calls are inlined first, except those that carry a custom `vjp` or
// `checkpoint=1`, which reverse mode treats by their own rules:
// - `call @f(x...) {vjp="g"}`: the backward pass calls @g(x..., c_y...) for the arguments'
//   cotangents instead of differentiating @f (as JAX's custom_vjp). Forward mode (jvp) has no
//   rule for it and says so ("[jvp] ...").
// - `call @f(x...) {checkpoint=1}`: the forward pass keeps only @f's results; the backward pass
//   calls a generated function "<f>_vjp" (= vjp of @f, which recomputes @f's insides) through a
//   call marked checkpoint=1, so activations inside @f are recomputed, not kept (as JAX's
//   checkpoint/remat). jvp inlines checkpointed calls (forward mode keeps nothing anyway).
// The result module holds the transformed function first and every function it calls after
// it (so it prints as `kiln transform` prints and runs with `kiln run`).
ir::Module jvp(const ir::Module& module, const ir::Function& f, std::span<const int> wrt = {});
ir::Module vjp(const ir::Module& module, const ir::Function& f, std::span<const int> wrt = {});
ir::Module grad(const ir::Module& module, const ir::Function& f, std::span<const int> wrt = {});
ir::Module value_and_grad(const ir::Module& module, const ir::Function& f,
                          std::span<const int> wrt = {});

}  // namespace kiln::passes
