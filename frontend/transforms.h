#pragma once
// Function transforms, composable to any depth: grad, value_and_grad, jvp, vjp, vmap, and
// stop_gradient, custom_vjp and checkpoint. Each call traces the function on its inputs' types,
// runs the IR pass (passes/autodiff.h, passes/vmap.h), simplifies the result and applies it
// to the inputs as lazy tensors. So the inputs may be tracers of an enclosing transform or
// compile (grad(grad(f)), vmap(grad(f)), jvp(grad(f)), compile(grad(f))), and the function
// may close over such tracers and over data: they become extra inputs, never differentiated
// or batched.
//
//   auto loss = [](Tensor w, Tensor x) { return kiln::sum(kiln::tanh(kiln::matmul(x, w))); };
//   Tensor dw = kiln::grad(loss)(w, x)[0];                 // d loss / d w
//   auto [y, dy] = kiln::jvp(loss, {w, x}, {v, zeros_like(x)});
//   auto per_example = kiln::vmap(loss, {std::nullopt, 0})(w, xs);
//
// Every transform returns a std::vector<Tensor>, one entry per result (grad: one per argnum);
// with has_aux, grad and value_and_grad return that and f's aux. f may be a generic lambda
// and may return a tuple, pair, array or vector of tensors (frontend/callable.h).

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/callable.h"
#include "frontend/tensor.h"
#include "frontend/trace.h"

namespace kiln {

// A transformed function. Call it with a vector of tensors or with tensors as arguments.
template <class Out>
class BasicTransformed {
 public:
  using Fn = std::function<Out(const std::vector<Tensor>&)>;
  using takes_tensor_vector = void;  // for frontend/callable.h
  explicit BasicTransformed(Fn fn) : fn_(std::move(fn)) {}

  Out operator()(const std::vector<Tensor>& inputs) const { return fn_(inputs); }
  template <class... T>
  requires(sizeof...(T) > 0 && (std::is_convertible_v<const T&, Tensor> && ...)) Out operator()(
      const T&... inputs) const {
    return fn_(std::vector<Tensor>{Tensor(inputs)...});
  }

 private:
  Fn fn_;
};

// Returns one tensor per result (grad: per argnum).
using Transformed = BasicTransformed<std::vector<Tensor>>;
// With has_aux: what the transform returns without aux, then the aux flattened.
using TransformedWithAux = BasicTransformed<std::pair<std::vector<Tensor>, std::vector<Tensor>>>;

// Asks grad and value_and_grad for JAX's has_aux: f returns a pair (loss, aux), only the loss is
// differentiated, and aux (a Tensor, or a tuple, pair, array or vector of them) comes back
// beside the gradients: auto [grads, aux] = kiln::grad(f, kiln::has_aux)(w, x).
struct HasAux {
  explicit HasAux() = default;
};
inline constexpr HasAux has_aux{};

namespace detail {

Transformed grad(TracedFn f, std::vector<int> argnums, bool with_value);
TransformedWithAux grad_with_aux(TracedFn f, std::vector<int> argnums, bool with_value);
std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(const TracedFn& f,
                                                        const std::vector<Tensor>& primals,
                                                        const std::vector<Tensor>& tangents);
Transformed vmap(TracedFn f, std::vector<std::optional<int>> in_axes, std::vector<int> out_axes);
Transformed custom_vjp(TracedFn f, TracedFn bwd);
Transformed checkpoint(TracedFn f);

}  // namespace detail

// The gradients of f's one result (a float scalar) with respect to the inputs in argnums
// (negative counts from the end), in that order. Errors: "[grad] ..." for a result that is not
// one float scalar, "[frontend] grad: ..." for argnums out of range or naming an integer input.
template <class F>
Transformed grad(F f, std::vector<int> argnums = {0}) {
  return detail::grad(detail::as_traced_fn(std::move(f)), std::move(argnums), false);
}

// f's result followed by the gradients grad() gives.
template <class F>
Transformed value_and_grad(F f, std::vector<int> argnums = {0}) {
  return detail::grad(detail::as_traced_fn(std::move(f)), std::move(argnums), true);
}

// has_aux: f returns (loss, aux); these return {gradients, aux} and {loss and gradients, aux}.
template <class F>
TransformedWithAux grad(F f, std::vector<int> argnums, HasAux) {
  return detail::grad_with_aux(detail::as_traced_fn<true>(std::move(f)), std::move(argnums), false);
}
template <class F>
TransformedWithAux grad(F f, HasAux) {
  return grad(std::move(f), {0}, has_aux);
}
template <class F>
TransformedWithAux value_and_grad(F f, std::vector<int> argnums, HasAux) {
  return detail::grad_with_aux(detail::as_traced_fn<true>(std::move(f)), std::move(argnums), true);
}
template <class F>
TransformedWithAux value_and_grad(F f, HasAux) {
  return value_and_grad(std::move(f), {0}, has_aux);
}

// Forward mode: f's results and their tangents along `tangents` (one per primal, of its type;
// integer inputs' tangents are ignored, integer results get zero tangents).
template <class F>
std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(F f, const std::vector<Tensor>& primals,
                                                        const std::vector<Tensor>& tangents) {
  return detail::jvp(detail::as_traced_fn(std::move(f)), primals, tangents);
}

// Reverse mode: f's results and a pullback that maps one cotangent per result (of its type;
// integer results' cotangents are ignored) to one cotangent per primal (zeros for integers).
struct VjpResult {
  std::vector<Tensor> outputs;
  Transformed pullback;
};
VjpResult vjp_traced(const TracedFn& f, const std::vector<Tensor>& primals);
template <class F>
VjpResult vjp(F f, const std::vector<Tensor>& primals) {
  return vjp_traced(detail::as_traced_fn(std::move(f)), primals);
}

// f mapped over a batch axis: in_axes gives each input's batch axis or std::nullopt (not
// batched; empty means axis 0 for every input), out_axes each result's (one entry: for all).
// Errors "[vmap] ..." name the input and the rule (axis out of range, sizes that disagree).
template <class F>
Transformed vmap(F f, std::vector<std::optional<int>> in_axes = {},
                 std::vector<int> out_axes = {0}) {
  return detail::vmap(detail::as_traced_fn(std::move(f)), std::move(in_axes), std::move(out_axes));
}

// The identity, whose derivative is zero.
Tensor stop_gradient(const Tensor& x);

// f with a backward rule of the user's: bwd(primals..., one cotangent per result...) returns
// one cotangent per primal, of its type. Reverse mode (grad, vjp) calls bwd instead of
// differentiating f (bwd need not be f's true derivative: gradient clipping is a use);
// forward mode (jvp) has no rule for it, as in JAX. f and bwd take what they depend on as
// inputs: data they close over is a constant, and closing over a tracer is an error.
template <class F, class B>
Transformed custom_vjp(F f, B bwd) {
  return detail::custom_vjp(detail::as_traced_fn(std::move(f)),
                            detail::as_traced_fn(std::move(bwd)));
}

// f whose insides reverse mode recomputes in the backward pass instead of keeping (as JAX's
// checkpoint / remat): a memory-for-compute trade for deep models.
template <class F>
Transformed checkpoint(F f) {
  return detail::checkpoint(detail::as_traced_fn(std::move(f)));
}

}  // namespace kiln
