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
// and may return a tuple, pair, array, vector or map of tensors (frontend/callable.h).
//
// f may take tensor trees (frontend/tree.h): the transform is then called with the same
// parameters, and argnums and in_axes name arguments, each standing for all its leaves. The
// results stay flat, as the rest of the frontend's: grad gives the leaves' gradients, those of
// the arguments in argnums one after the other, each in its flattening order (a map's in key
// order), and unflatten_like puts them back in the argument's shape:
//
//   auto loss = [](const std::map<std::string, Tensor>& p, Tensor x) { ... };
//   std::map<std::string, Tensor> dp = kiln::unflatten_like(params, kiln::grad(loss)(params, x));

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/callable.h"
#include "frontend/tensor.h"
#include "frontend/trace.h"
#include "frontend/tree.h"

namespace kiln {

// A transformed function. Call it with a vector of tensors or with tensors as arguments.
template <class Out>
class BasicTransformed {
 public:
  using Fn = std::function<Out(const std::vector<Tensor>&)>;
  using takes_tensor_vector = void;  // for frontend/callable.h
  using result_type = Out;
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

// A transform of a function taking tensor trees, called with the same parameters: each call
// flattens its arguments and runs the transform, made for their structure, on their leaves.
// Its one call operator is not a template, so compile and the transforms take it in turn.
template <class Out, class... P>
class TreeTransformed {
 public:
  using Run = std::function<Out(const std::vector<Tensor>& leaves, const TreeDef& arguments)>;
  explicit TreeTransformed(Run run) : run_(std::move(run)) {}

  Out operator()(const P&... args) const {
    std::vector<Tensor> leaves;
    const TreeDef arguments = detail::flatten_arguments(leaves, args...);
    return run_(leaves, arguments);
  }

 private:
  Run run_;
};

// Asks grad and value_and_grad for JAX's has_aux: f returns a pair (loss, aux), only the loss is
// differentiated, and aux (a Tensor, or a tuple, pair, array, vector or string-keyed map of
// them) comes back beside the gradients: auto [grads, aux] = kiln::grad(f, kiln::has_aux)(w, x).
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

// argnums, which name arguments, as the indices of their leaves in `arguments` (a tuple of one
// tree per argument). Throws "[frontend] CALLER: ..." for an argnum out of range.
std::vector<int> leaf_argnums(const std::vector<int>& argnums, const TreeDef& arguments,
                              const std::string& caller);
// in_axes, one per argument (empty: 0 for all), as one per leaf.
std::vector<std::optional<int>> leaf_in_axes(const std::vector<std::optional<int>>& in_axes,
                                             const TreeDef& arguments);
// Throws "[frontend] CALLER: the WHAT are ... but the primals are ..." when they differ.
void check_same_structure(const TreeDef& primals, const TreeDef& given, const std::string& what,
                          const std::string& caller);

template <bool kHasAux, class F, class Make, class... P>
auto transform_trees(F f, Make make, std::type_identity<std::tuple<P...>>) {
  using Out = typename std::invoke_result_t<Make&, TracedFn, std::optional<TreeDef>>::result_type;
  auto shared = std::make_shared<F>(std::move(f));
  return TreeTransformed<Out, P...>(
      [shared, make = std::move(make)](const std::vector<Tensor>& leaves,
                                       const TreeDef& arguments) {
        return make(as_traced_tree_fn<kHasAux>(shared, arguments), arguments)(leaves);
      });
}

// The transform `make` makes of f: make(traced f, the arguments' structure) for a function of
// tensor trees, at each call; make(traced f, nullopt) once for the others.
template <bool kHasAux = false, class F, class Make>
auto transformed(F f, Make make) {
  if constexpr (TakesTrees<F>)
    return transform_trees<kHasAux>(std::move(f), std::move(make),
                                    std::type_identity<tree_parameters<F>>{});
  else
    return make(as_traced_fn<kHasAux>(std::move(f)), std::optional<TreeDef>{});
}

// grad's transform (with has_aux: grad_with_aux's); argnums name arguments, so for a function
// of trees they become the indices of those arguments' leaves.
template <bool kHasAux>
auto make_grad(std::vector<int> argnums, bool with_value) {
  return [argnums = std::move(argnums), with_value](TracedFn fn,
                                                    const std::optional<TreeDef>& arguments) {
    std::vector<int> wrt =
        arguments ? leaf_argnums(argnums, *arguments, with_value ? "value_and_grad" : "grad")
                  : argnums;
    if constexpr (kHasAux)
      return grad_with_aux(std::move(fn), std::move(wrt), with_value);
    else
      return grad(std::move(fn), std::move(wrt), with_value);
  };
}

}  // namespace detail

// The gradients of f's one result (a float scalar) with respect to the inputs in argnums
// (negative counts from the end), in that order. Errors: "[grad] ..." for a result that is not
// one float scalar, "[frontend] grad: ..." for argnums out of range or naming an integer input.
// For a function of tensor trees, argnums name arguments (see above).
template <class F>
auto grad(F f, std::vector<int> argnums = {0}) {
  return detail::transformed(std::move(f), detail::make_grad<false>(std::move(argnums), false));
}

// f's result followed by the gradients grad() gives.
template <class F>
auto value_and_grad(F f, std::vector<int> argnums = {0}) {
  return detail::transformed(std::move(f), detail::make_grad<false>(std::move(argnums), true));
}

// has_aux: f returns (loss, aux); these return {gradients, aux} and {loss and gradients, aux}.
template <class F>
auto grad(F f, std::vector<int> argnums, HasAux) {
  return detail::transformed<true>(std::move(f),
                                   detail::make_grad<true>(std::move(argnums), false));
}
template <class F>
auto grad(F f, HasAux) {
  return grad(std::move(f), {0}, has_aux);
}
template <class F>
auto value_and_grad(F f, std::vector<int> argnums, HasAux) {
  return detail::transformed<true>(std::move(f), detail::make_grad<true>(std::move(argnums), true));
}
template <class F>
auto value_and_grad(F f, HasAux) {
  return value_and_grad(std::move(f), {0}, has_aux);
}

// Forward mode: f's results and their tangents along `tangents` (one per primal, of its type;
// integer inputs' tangents are ignored, integer results get zero tangents).
template <class F>
requires(!detail::TakesTrees<F>) std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(
    F f, const std::vector<Tensor>& primals, const std::vector<Tensor>& tangents) {
  return detail::jvp(detail::as_traced_fn(std::move(f)), primals, tangents);
}
// For a function of tensor trees: the primals and tangents are its arguments, in a tuple,
// kiln::jvp(loss, {params, x}, {params_tangent, x_tangent}); the tangents must have the
// primals' structure ("[frontend] jvp: ..." otherwise). The results are flat as above.
template <class F>
requires detail::TakesTrees<F> std::pair<std::vector<Tensor>, std::vector<Tensor>> jvp(
    F f, const detail::tree_parameters<F>& primals, const detail::tree_parameters<F>& tangents) {
  std::vector<Tensor> primal_leaves, tangent_leaves;
  const TreeDef arguments = flatten_tree(primals, primal_leaves);
  detail::check_same_structure(arguments, flatten_tree(tangents, tangent_leaves), "tangents",
                               "jvp");
  return detail::jvp(detail::as_traced_tree_fn(std::make_shared<F>(std::move(f)), arguments),
                     primal_leaves, tangent_leaves);
}

// Reverse mode: f's results and a pullback that maps one cotangent per result (of its type;
// integer results' cotangents are ignored) to one cotangent per primal (zeros for integers).
struct VjpResult {
  std::vector<Tensor> outputs;
  Transformed pullback;
};
VjpResult vjp_traced(const TracedFn& f, const std::vector<Tensor>& primals);
template <class F>
requires(!detail::TakesTrees<F>) VjpResult vjp(F f, const std::vector<Tensor>& primals) {
  return vjp_traced(detail::as_traced_fn(std::move(f)), primals);
}
// For a function of tensor trees: the primals are its arguments, in a tuple; the pullback maps
// one cotangent per result to one per leaf of the primals, in flattening order.
template <class F>
requires detail::TakesTrees<F> VjpResult vjp(F f, const detail::tree_parameters<F>& primals) {
  std::vector<Tensor> leaves;
  const TreeDef arguments = flatten_tree(primals, leaves);
  return vjp_traced(detail::as_traced_tree_fn(std::make_shared<F>(std::move(f)), arguments),
                    leaves);
}

// f mapped over a batch axis: in_axes gives each input's batch axis or std::nullopt (not
// batched; empty means axis 0 for every input), out_axes each result's (one entry: for all).
// Errors "[vmap] ..." name the input and the rule (axis out of range, sizes that disagree).
// For a function of tensor trees, in_axes has one entry per argument, for all its leaves.
template <class F>
auto vmap(F f, std::vector<std::optional<int>> in_axes = {}, std::vector<int> out_axes = {0}) {
  return detail::transformed(
      std::move(f), [in_axes = std::move(in_axes), out_axes = std::move(out_axes)](
                        TracedFn fn, const std::optional<TreeDef>& arguments) {
        return detail::vmap(std::move(fn),
                            arguments ? detail::leaf_in_axes(in_axes, *arguments) : in_axes,
                            out_axes);
      });
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
auto checkpoint(F f) {
  return detail::transformed(std::move(f), [](TracedFn fn, const std::optional<TreeDef>&) {
    return detail::checkpoint(std::move(fn));
  });
}

}  // namespace kiln
