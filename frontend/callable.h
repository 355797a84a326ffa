#pragma once
// How the frontend calls a user's function: the one place that decides which C++ callables
// trace, compile and the transforms accept, and how their results become one flat list.
//
// Arguments, in three forms:
//  - one `const std::vector<Tensor>&`: any number of inputs, the flat list itself;
//  - one Tensor per input. A generic lambda, [](auto x, auto y) { ... }, gets one Tensor per
//    input: its arity is found by trying to call it with 0 to kMaxGenericArity Tensors, never
//    with a vector, since instantiating its body with a vector would be a hard error (so a
//    variadic one, [](auto... xs), must compile for every count);
//  - tensor trees (frontend/tree.h), for a function whose parameters can be read off its type:
//    each parameter a Tensor, or a std::vector, std::array, std::tuple, std::pair or
//    std::map<std::string, ...> of trees, nested to any depth. compile and the transforms (but
//    custom_vjp) then return a callable taking the same parameters; each call flattens its
//    arguments into leaves and a TreeDef, and the function is traced on the leaves and called
//    on the trees rebuilt from them. Leaves are Tensors only: a parameter of a C++ number is
//    not an input. (A lone `const std::vector<Tensor>&` keeps its first meaning; both agree.)
//
// Results: a Tensor (or a C++ number), or a std::tuple, std::pair, std::array, std::vector or
// std::map<std::string, ...> of them, nested to any depth; they flatten depth first, in order
// (a map's in key order), into one result list.
//
// Anything else stops at a static_assert that says what is accepted, rather than at an error
// deep inside this header.

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/tensor.h"
#include "frontend/tree.h"

namespace kiln {

using TracedFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

namespace detail {

// ---- Results ----

template <class T>
struct TensorTree : std::bool_constant<std::is_convertible_v<const T&, Tensor>> {};
template <class T, class A>
struct TensorTree<std::vector<T, A>> : std::bool_constant<!Number<T> && TensorTree<T>::value> {};
template <class T, size_t N>
struct TensorTree<std::array<T, N>> : std::bool_constant<!Number<T> && TensorTree<T>::value> {};
template <class... T>
struct TensorTree<std::tuple<T...>>
    : std::bool_constant<(TensorTree<std::remove_cvref_t<T>>::value && ...)> {};
template <class A, class B>
struct TensorTree<std::pair<A, B>> : std::bool_constant<TensorTree<std::remove_cvref_t<A>>::value &&
                                                        TensorTree<std::remove_cvref_t<B>>::value> {
};
template <class T>
struct TensorTree<std::map<std::string, T>>
    : std::bool_constant<!Number<T> && TensorTree<T>::value> {};

template <class R>
inline constexpr bool is_tensor_tree = TensorTree<std::remove_cvref_t<R>>::value;

// has_aux's results: a pair (or 2-tuple) of one loss tensor and anything that flattens.
template <class R>
struct LossAndAux : std::false_type {};
template <class L, class A>
struct LossAndAux<std::pair<L, A>>
    : std::bool_constant<std::is_convertible_v<const std::remove_cvref_t<L>&, Tensor> &&
                         TensorTree<std::remove_cvref_t<A>>::value> {};
template <class L, class A>
struct LossAndAux<std::tuple<L, A>> : LossAndAux<std::pair<L, A>> {};

template <class T>
void flatten_into(const T& value, std::vector<Tensor>& out) {
  if constexpr (std::is_convertible_v<const T&, Tensor>) {
    out.push_back(value);
  } else if constexpr (IsStringMap<T>::value) {
    for (const auto& [key, part] : value)
      flatten_into(part, out);
  } else if constexpr (requires { std::tuple_size<T>::value; }) {
    std::apply([&](const auto&... part) { (flatten_into(part, out), ...); }, value);
  } else {
    for (const auto& part : value)
      flatten_into(part, out);
  }
}

// The function's result as a flat list; with has_aux, the loss first and then the aux.
template <bool kHasAux, class R>
std::vector<Tensor> as_results(const R& r) {
  static_assert(is_tensor_tree<R>,
                "kiln: the function must return a Tensor, or a std::tuple, std::pair, "
                "std::array, std::vector or std::map<std::string, ...> of Tensors");
  static_assert(!kHasAux || LossAndAux<std::remove_cvref_t<R>>::value,
                "kiln: with has_aux the function must return a std::pair (loss, aux): one "
                "Tensor, then a Tensor or a tuple, pair, array, vector or map of Tensors");
  std::vector<Tensor> out;
  flatten_into(r, out);
  return out;
}

// ---- Arguments ----

inline constexpr size_t kMaxGenericArity = 16;

// A callable whose parameters can be read off its type: a function, a function pointer, or
// an object with one call operator that is not a template.
template <class F>
concept PlainSignature =
    std::is_function_v<std::remove_pointer_t<std::remove_cvref_t<F>>> || requires {
  &std::remove_cvref_t<F>::operator();
};

// The parameter types of a plain signature, as declared, in a std::tuple.
template <class F>
struct parameters_of : parameters_of<decltype(&std::remove_cvref_t<F>::operator())> {};
template <class R, class... A>
struct parameters_of<R(A...)> {
  using type = std::tuple<A...>;
};
template <class R, class... A>
struct parameters_of<R(A...) noexcept> : parameters_of<R(A...)> {};
template <class R, class... A>
struct parameters_of<R (*)(A...)> : parameters_of<R(A...)> {};
template <class R, class... A>
struct parameters_of<R (*)(A...) noexcept> : parameters_of<R(A...)> {};
template <class C, class R, class... A>
struct parameters_of<R (C::*)(A...)> : parameters_of<R(A...)> {};
template <class C, class R, class... A>
struct parameters_of<R (C::*)(A...) const> : parameters_of<R(A...)> {};
template <class C, class R, class... A>
struct parameters_of<R (C::*)(A...) noexcept> : parameters_of<R(A...)> {};
template <class C, class R, class... A>
struct parameters_of<R (C::*)(A...) const noexcept> : parameters_of<R(A...)> {};

// The number of parameters of a plain signature.
template <class F>
struct arity
    : std::integral_constant<
          size_t, std::tuple_size_v<typename parameters_of<std::remove_cvref_t<F>>::type>> {};

// ---- Tensor trees as arguments ----

// The types a parameter may have to take a tensor tree (frontend/tree.h). Leaves are Tensors
// only, so that every leaf is an input of the traced function.
template <class T>
struct InputTree : std::is_same<T, Tensor> {};
template <class T, class A>
struct InputTree<std::vector<T, A>> : InputTree<T> {};
template <class T, size_t N>
struct InputTree<std::array<T, N>> : InputTree<T> {};
template <class... T>
struct InputTree<std::tuple<T...>> : std::bool_constant<(InputTree<T>::value && ...)> {};
template <class A, class B>
struct InputTree<std::pair<A, B>> : std::bool_constant<InputTree<A>::value && InputTree<B>::value> {
};
template <class T>
struct InputTree<std::map<std::string, T>> : InputTree<T> {};

// Whether a plain signature's parameters are all tensor trees and one is more than a Tensor
// (all Tensors is the one-Tensor-per-input form).
template <class Params>
struct TreeParameters : std::false_type {};
template <class... P>
struct TreeParameters<std::tuple<P...>>
    : std::bool_constant<(InputTree<std::remove_cvref_t<P>>::value && ...) &&
                         !(std::is_same_v<std::remove_cvref_t<P>, Tensor> && ...)> {};

// kiln's own function objects that overload their call operator for a vector and for Tensors
// say so with this member (Transformed, Compiled), and are called with the vector.
template <class F>
concept VectorCallable = requires {
  typename std::remove_cvref_t<F>::takes_tensor_vector;
};

// F takes tensor trees: compile and the transforms make a callable of the same parameters.
// A lone `const std::vector<Tensor>&` stays the flat list of inputs (both readings agree).
template <class F>
concept TakesTrees = PlainSignature<F> && !VectorCallable<F> &&
                     TreeParameters<typename parameters_of<std::remove_cvref_t<F>>::type>::value &&
                     !std::is_invocable_v<F&, const std::vector<Tensor>&>;

// F's parameters without references and const: the trees its callers pass.
template <class Params>
struct decayed_parameters;
template <class... P>
struct decayed_parameters<std::tuple<P...>> {
  using type = std::tuple<std::remove_cvref_t<P>...>;
};
template <class F>
using tree_parameters =
    typename decayed_parameters<typename parameters_of<std::remove_cvref_t<F>>::type>::type;

// The arguments' leaves, appended to `leaves`, and their structure: a tuple of one tree per
// argument.
template <class... P>
TreeDef flatten_arguments(std::vector<Tensor>& leaves, const P&... args) {
  // A braced list evaluates in order, so the leaves are appended argument by argument.
  return TreeDef::tuple(std::vector<TreeDef>{flatten_tree(args, leaves)...});
}

template <size_t>
using TensorArg = const Tensor&;

template <class F, size_t N>
constexpr bool invocable_with_tensors() {
  return []<size_t... I>(std::index_sequence<I...>) {
    return std::is_invocable_v<F&, TensorArg<I>...>;
  }
  (std::make_index_sequence<N>{});
}

template <class F>
constexpr bool takes_vector() {
  if constexpr (VectorCallable<F>)
    return true;
  else if constexpr (PlainSignature<F>)
    return std::is_invocable_v<F&, const std::vector<Tensor>&>;
  else
    return false;  // a generic lambda is never tried with a vector
}

// The arities at which a generic callable takes Tensors.
template <class F>
constexpr std::array<bool, kMaxGenericArity + 1> tensor_arities() {
  return []<size_t... N>(std::index_sequence<N...>) {
    return std::array<bool, kMaxGenericArity + 1>{invocable_with_tensors<F, N>()...};
  }
  (std::make_index_sequence<kMaxGenericArity + 1>{});
}

template <class F>
constexpr bool takes_tensors_at_some_arity() {
  for (bool a : tensor_arities<F>())
    if (a) return true;
  return false;
}

// The one number of inputs F takes, or nullopt when it takes any number (a vector, or a
// variadic generic lambda).
template <class F>
constexpr std::optional<size_t> fixed_arity() {
  if constexpr (takes_vector<F>()) {
    return std::nullopt;
  } else if constexpr (PlainSignature<F>) {
    return arity<std::remove_cvref_t<F>>::value;
  } else {
    std::optional<size_t> found;
    const auto arities = tensor_arities<F>();
    for (size_t n = 0; n < arities.size(); ++n) {
      if (!arities[n]) continue;
      if (found) return std::nullopt;
      found = n;
    }
    return found;
  }
}

void check_arity(size_t expected, size_t got);
[[noreturn]] void fail_generic_arity(size_t got);

template <bool kHasAux, class F, size_t... I>
std::vector<Tensor> call_spread(F& fn, const std::vector<Tensor>& in, std::index_sequence<I...>) {
  return as_results<kHasAux>(fn(in[I]...));
}

// F's call with in.size() Tensors, for the arities it takes.
template <bool kHasAux, class F, size_t... N>
std::vector<Tensor> call_generic(F& fn, const std::vector<Tensor>& in, std::index_sequence<N...>) {
  std::optional<std::vector<Tensor>> out;
  auto try_arity = [&]<size_t K>(std::integral_constant<size_t, K>) {
    if constexpr (invocable_with_tensors<F, K>())
      if (in.size() == K) out = call_spread<kHasAux>(fn, in, std::make_index_sequence<K>{});
  };
  (try_arity(std::integral_constant<size_t, N>{}), ...);
  if (!out) fail_generic_arity(in.size());
  return std::move(*out);
}

// Calls fn on the inputs as its signature asks and flattens what it returns.
template <bool kHasAux = false, class F>
std::vector<Tensor> call_traced(F& fn, const std::vector<Tensor>& in) {
  if constexpr (takes_vector<F>()) {
    return as_results<kHasAux>(fn(in));
  } else if constexpr (PlainSignature<F>) {
    constexpr size_t n = arity<std::remove_cvref_t<F>>::value;
    static_assert(invocable_with_tensors<F, n>(),
                  "kiln: each parameter must be a Tensor (const Tensor&, auto), or for compile "
                  "and the transforms but custom_vjp a std::vector, std::array, std::tuple, "
                  "std::pair or std::map<std::string, ...> of them nested, or the one parameter "
                  "a const std::vector<Tensor>&");
    check_arity(n, in.size());
    return call_spread<kHasAux>(fn, in, std::make_index_sequence<n>{});
  } else {
    static_assert(takes_tensors_at_some_arity<F>(),
                  "kiln: a generic function must be callable with Tensors, one per input (at "
                  "most 16)");
    constexpr std::optional<size_t> n = fixed_arity<F>();
    if constexpr (n.has_value()) check_arity(*n, in.size());
    return call_generic<kHasAux>(fn, in, std::make_index_sequence<kMaxGenericArity + 1>{});
  }
}

// Any function the frontend accepts, as a TracedFn owning a copy of it.
template <bool kHasAux = false, class F>
TracedFn as_traced_fn(F fn) {
  return [fn = std::move(fn)](const std::vector<Tensor>& in) mutable {
    return call_traced<kHasAux>(fn, in);
  };
}

// F, which takes tensor trees, as a TracedFn over the leaves of arguments of structure
// `arguments` (from flatten_arguments): the trees are rebuilt from the traced leaves and
// passed to F. F is shared, not copied, between the structures it is traced for.
template <bool kHasAux = false, class F>
TracedFn as_traced_tree_fn(std::shared_ptr<F> fn, TreeDef arguments) {
  return [fn = std::move(fn), arguments = std::move(arguments)](const std::vector<Tensor>& in) {
    check_arity(arguments.num_leaves(), in.size());
    size_t next = 0;
    return as_results<kHasAux>(
        std::apply(*fn, unflatten_from<tree_parameters<F>>(arguments, in, next)));
  };
}

}  // namespace detail

}  // namespace kiln
