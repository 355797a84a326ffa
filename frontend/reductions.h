#pragma once
// Reductions, each (x, axes, keepdims) as in numpy. Axes may be negative; the default is every
// axis. sum and prod accumulate small integers and bools in i32 (u8 in u32), as JAX does; mean, var
// and std of integers are f32, and of f16/bf16 accumulate in f32 and round back.

#include <concepts>
#include <initializer_list>
#include <optional>
#include <string_view>
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

namespace detail {
// The axes `fn` reduces over x: normalized, sorted, each once. Throws "[frontend] FN: axis 2 is
// out of range for f32[2,3]" (composites check their axes with it before building any op).
std::vector<int64_t> reduced_axes(std::string_view fn, const Tensor& x, const Axes& axes);
}  // namespace detail

Tensor sum(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor prod(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor max(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor min(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor mean(const Tensor& x, const Axes& axes = {}, bool keepdims = false);

// Variance and standard deviation. The third argument is keepdims, as for every reduction;
// ddof (delta degrees of freedom: divide by N - ddof, numpy's name) is named, never positional:
//   var(x, 1, true)              keepdims
//   var(x, 1, {.ddof = 1})       the unbiased estimate
//   var(x, {}, {.ddof = 1, .keepdims = true})
struct VarOptions {
  int ddof = 0;  // non-negative; N - ddof <= 0 divides by zero, as numpy does
  bool keepdims = false;
};
Tensor var(const Tensor& x, const Axes& axes = {}, VarOptions options = {});
Tensor std(const Tensor& x, const Axes& axes = {}, VarOptions options = {});

// var(x, axes, keepdims) and std(x, axes, keepdims) take a bool only: numpy and the old
// var(x, axes, ddof) put ddof third, so an integer there is refused rather than read as keepdims.
namespace detail {
template <class B>
VarOptions keepdims_only(B keepdims) {
  static_assert(std::same_as<B, bool>,
                "kiln::var, kiln::std: the third argument is keepdims (a bool); give ddof by "
                "name, var(x, axes, {.ddof = n})");
  return {.keepdims = keepdims};
}
}  // namespace detail
template <std::integral B>
Tensor var(const Tensor& x, const Axes& axes, B keepdims) {
  return var(x, axes, detail::keepdims_only(keepdims));
}
template <std::integral B>
Tensor std(const Tensor& x, const Axes& axes, B keepdims) {
  return std(x, axes, detail::keepdims_only(keepdims));
}

// i32 indices of the first extreme element along `axis` (the flattened input when nullopt).
Tensor argmax(const Tensor& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
Tensor argmin(const Tensor& x, std::optional<int> axis = std::nullopt, bool keepdims = false);
// Any/all nonzero.
Tensor any(const Tensor& x, const Axes& axes = {}, bool keepdims = false);
Tensor all(const Tensor& x, const Axes& axes = {}, bool keepdims = false);

// Inclusive scans along an axis as MLX's (the flattened tensor without one): from the end with
// `reverse`; `inclusive = false` shifts by one place, starting from the op's identity (0, 1,
// the lowest or highest value, -inf). Bool sums count in i32; logcumsumexp of integers runs in
// the default float type.
Tensor cumsum(const Tensor& x, std::optional<int> axis = std::nullopt, bool reverse = false,
              bool inclusive = true);
Tensor cumprod(const Tensor& x, std::optional<int> axis = std::nullopt, bool reverse = false,
               bool inclusive = true);
Tensor cummax(const Tensor& x, std::optional<int> axis = std::nullopt, bool reverse = false,
              bool inclusive = true);
Tensor cummin(const Tensor& x, std::optional<int> axis = std::nullopt, bool reverse = false,
              bool inclusive = true);
Tensor logcumsumexp(const Tensor& x, std::optional<int> axis = std::nullopt, bool reverse = false,
                    bool inclusive = true);

}  // namespace kiln
