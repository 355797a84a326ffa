#pragma once
// Reductions with numpy's axes/keepdims. Axes may be negative; the default is every axis.
// sum and prod accumulate small integers and bools in i32 (u8 in u32), as JAX does; mean,
// var and std of integers are f32, and of f16/bf16 accumulate in f32 and round back.

#include <initializer_list>
#include <optional>
#include <vector>

#include "frontend/tensor.h"

namespace kiln {

// Which axes to reduce: all (the default), one, or a list: sum(x), sum(x, 1), sum(x, {0, -1}).
class Axes {
 public:
  Axes() = default;
  Axes(int axis) : axes_(std::vector<int>{axis}) {}  // NOLINT: implicit by design
  Axes(std::initializer_list<int> axes) : axes_(std::vector<int>(axes)) {}
  Axes(std::vector<int> axes) : axes_(std::move(axes)) {}  // NOLINT

  bool all() const { return !axes_.has_value(); }
  const std::vector<int>& list() const { return *axes_; }

 private:
  std::optional<std::vector<int>> axes_;
};

Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor prod(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
// Variance with `ddof` delta degrees of freedom (divides by N - ddof).
Tensor var(const Tensor& x, const Axes& axes = {}, int ddof = 0, bool keepdims = false);
Tensor std(const Tensor& x, const Axes& axes = {}, int ddof = 0, bool keepdims = false);
// i32 indices of the first extreme element along `axis` (the flattened input when nullopt).
Tensor argmax(const Tensor& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
// Any/all nonzero.
Tensor any(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor all(const Tensor& x, const Axes& axes = {}, bool keepdims = false);

}  // namespace kiln
