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

}  // namespace kiln::passes
