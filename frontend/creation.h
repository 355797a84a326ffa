#pragma once
// Tensors made from nothing. They stay lazy: `full` is a scalar `constant` broadcast to the
// shape and `arange`/`eye` are built from `iota`, so a trace holds a few nodes, not the values.

#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "frontend/tensor.h"

namespace kiln {

// `value` fixes the dtype unless one is given: a C++ double gives f32, an int i32, a bool
// bool, a Tensor its own dtype. The result is strongly typed.
Tensor full(const Shape& shape, const Tensor& value, std::optional<DType> dtype = std::nullopt);
Tensor zeros(const Shape& shape, DType dtype = DType::F32);
Tensor ones(const Shape& shape, DType dtype = DType::F32);
Tensor full_like(const Tensor& x, const Tensor& value);
Tensor zeros_like(const Tensor& x);
Tensor ones_like(const Tensor& x);

// Identity-like matrix with ones on diagonal k (above the main one for k > 0).
Tensor eye(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
           DType dtype = DType::F32);

// Lower-triangle mask: ones where column <= row + k (numpy tri).
Tensor tri(int64_t n, std::optional<int64_t> m = std::nullopt, int64_t k = 0,
           DType dtype = DType::F32);
// x with the elements above diagonal k (tril) or below it (triu) of its last two axes zeroed;
// x needs at least two axes.
Tensor tril(const Tensor& x, int64_t k = 0);
Tensor triu(const Tensor& x, int64_t k = 0);

// `num` evenly spaced values from start to stop, stop included unless endpoint is false, as
// numpy computes them (start + i * step, the last one exactly stop). Integer dtypes take the
// floor of those values, as numpy does. Computed in f32 (f64 for f64) from an iota.
Tensor linspace(double start, double stop, int64_t num, bool endpoint = true,
                DType dtype = DType::F32);

// numpy meshgrid: coordinate grids of the (flattened) inputs, each broadcast to the grid's
// shape. indexing "xy" (Cartesian, the default) swaps the first two grid axes, so that for
// inputs of sizes m and n the grids are n x m; "ij" (matrix indexing) keeps them m x n.
std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, std::string_view indexing = "xy");

// [start, stop) in steps of `step`, numpy-style. Without a dtype: i32 when every bound is an
// integer, else f32.
Tensor arange(double start, double stop, double step, DType dtype);

template <Number A>
Tensor arange(A stop) {
  return arange(0.0, static_cast<double>(stop), 1.0,
                std::is_integral_v<A> ? DType::I32 : DType::F32);
}
template <Number A>
Tensor arange(A stop, DType dtype) {
  return arange(0.0, static_cast<double>(stop), 1.0, dtype);
}
template <Number A, Number B, Number C = int>
Tensor arange(A start, B stop, C step = 1) {
  bool ints = std::is_integral_v<A> && std::is_integral_v<B> && std::is_integral_v<C>;
  return arange(static_cast<double>(start), static_cast<double>(stop), static_cast<double>(step),
                ints ? DType::I32 : DType::F32);
}

}  // namespace kiln
