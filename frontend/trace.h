#pragma once
// trace: runs a C++ function on symbolic Tensors and returns the ir::Function it computes.
// Parameters are the inputs (named x0, x1, ... unless names are given); tensors with data that
// the function captures (weights, tables) become `constant` nodes.
//
//   ir::Function f = kiln::trace([](const std::vector<Tensor>& in) { return in[0] * 2.0; },
//                                {{DType::F32, {3}}});
//   ir::Function g = kiln::trace([](Tensor x, Tensor y) { return x + y; }, {t, t});

#include <cstddef>
#include <functional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "frontend/tensor.h"
#include "ir/function.h"

namespace kiln {

using TracedFn = std::function<std::vector<Tensor>(const std::vector<Tensor>&)>;

// The core: every other overload forwards here. Throws kiln::Error "[frontend] trace: ..."
// when the names do not match the types or the function returns nothing.
ir::Function trace_vector(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                          const std::vector<std::string>& names = {},
                          const std::string& function_name = "main");

// trace_vector's function first, then the functions its calls reach (custom_vjp and
// checkpoint make calls); trace_vector returns the function with those calls inlined.
ir::Module trace_module(const TracedFn& fn, const std::vector<ir::TensorType>& input_types,
                        const std::vector<std::string>& names = {},
                        const std::string& function_name = "main");

namespace detail {

template <class R>
std::vector<Tensor> as_results(R&& r) {
  if constexpr (std::is_convertible_v<R, Tensor>)
    return {Tensor(std::forward<R>(r))};
  else
    return std::vector<Tensor>(std::forward<R>(r));
}

// The number of parameters of a non-generic callable (function, lambda, functor).
template <class F>
struct arity : arity<decltype(&std::remove_cvref_t<F>::operator())> {};
template <class R, class... A>
struct arity<R (*)(A...)> : std::integral_constant<size_t, sizeof...(A)> {};
template <class R, class... A>
struct arity<R(A...)> : std::integral_constant<size_t, sizeof...(A)> {};
template <class C, class R, class... A>
struct arity<R (C::*)(A...) const> : std::integral_constant<size_t, sizeof...(A)> {};
template <class C, class R, class... A>
struct arity<R (C::*)(A...)> : std::integral_constant<size_t, sizeof...(A)> {};

template <class F, size_t... I>
std::vector<Tensor> call_spread(F& fn, const std::vector<Tensor>& in, std::index_sequence<I...>) {
  return as_results(fn(in[I]...));
}

void check_arity(size_t expected, size_t got);

}  // namespace detail

// fn takes `const std::vector<Tensor>&` (or a vector by value), or one Tensor per input;
// it returns a Tensor or a std::vector<Tensor>.
template <class F>
ir::Function trace(F&& fn, const std::vector<ir::TensorType>& input_types,
                   const std::vector<std::string>& names = {},
                   const std::string& function_name = "main") {
  if constexpr (std::is_invocable_v<F&, const std::vector<Tensor>&>) {
    return trace_vector([&](const std::vector<Tensor>& in) { return detail::as_results(fn(in)); },
                        input_types, names, function_name);
  } else {
    constexpr size_t n = detail::arity<std::remove_reference_t<F>>::value;
    detail::check_arity(n, input_types.size());
    return trace_vector(
        [&](const std::vector<Tensor>& in) {
          return detail::call_spread(fn, in, std::make_index_sequence<n>{});
        },
        input_types, names, function_name);
  }
}

}  // namespace kiln
