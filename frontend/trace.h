#pragma once
// trace: runs a C++ function on symbolic Tensors and returns the ir::Function it computes.
// Parameters are the inputs (named x0, x1, ... unless names are given); tensors with data that
// the function captures (weights, tables) become `constant` nodes.
//
//   ir::Function f = kiln::trace([](const std::vector<Tensor>& in) { return in[0] * 2.0; },
//                                {{DType::F32, {3}}});
//   ir::Function g = kiln::trace([](Tensor x, Tensor y) { return x + y; }, {t, t});
//   ir::Function h = kiln::trace([](auto x) { return std::pair(x * 2, x + 1); }, {t});

#include <string>
#include <type_traits>
#include <vector>

#include "frontend/callable.h"
#include "frontend/tensor.h"
#include "ir/function.h"

namespace kiln {

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

// fn takes `const std::vector<Tensor>&` (or a vector by value), or one Tensor per input (a
// generic lambda too); it returns a Tensor, or a tuple, pair, array or vector of Tensors, which
// become the results in order (frontend/callable.h).
template <class F>
ir::Function trace(F&& fn, const std::vector<ir::TensorType>& input_types,
                   const std::vector<std::string>& names = {},
                   const std::string& function_name = "main") {
  return trace_vector(
      [&](const std::vector<Tensor>& in) {
        return detail::call_traced<false, std::remove_reference_t<F>>(fn, in);
      },
      input_types, names, function_name);
}

}  // namespace kiln
