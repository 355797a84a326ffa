#include "frontend/reductions.h"

#include <algorithm>
#include <limits>

#include "frontend/creation.h"
#include "frontend/ops.h"
#include "frontend/promotion.h"
#include "frontend/shape_ops.h"
#include "ir/scalar_semantics.h"

namespace kiln {

namespace {

using detail::fail;
using detail::make;
using ir::OpKind;

void check_valid(const Tensor& x, std::string_view fn) {
  if (!x.valid()) fail(fn, "the operand is an empty (default-constructed) Tensor");
}

Shape kept_shape(const Tensor& x, const std::vector<int64_t>& axes) {
  Shape shape = x.shape();
  for (int64_t a : axes)
    shape[a] = 1;
  return shape;
}

int64_t count_of(const Tensor& x, const std::vector<int64_t>& axes) {
  int64_t n = 1;
  for (int64_t a : axes)
    n *= x.shape()[a];
  return n;
}

Tensor reduce(OpKind op, const Tensor& x, const Axes& axes, bool keepdims, std::string_view fn) {
  check_valid(x, fn);
  std::vector<int64_t> ax = detail::reduced_axes(fn, x, axes);
  if (ax.empty()) return x;
  Tensor out = make(op, {x}, make_attrs(ir::ReduceAttrs{ax}), std::nullopt, fn, x.is_weak());
  return keepdims ? reshape(out, kept_shape(x, ax)) : out;
}

// sum and prod widen small integers so that counting bools or bytes does not wrap.
Tensor widened(const Tensor& x) {
  switch (x.dtype()) {
    case DType::Bool:
    case DType::I8:
    case DType::I16:
      return astype(x, DType::I32);
    case DType::U8:
      return astype(x, DType::U32);
    default:
      return x;
  }
}

// Statistics compute in f32 for integers and half floats.
DType accumulation_type(DType d) {
  return (ir::is_float(d) && ir::dtype_size(d) >= 4) ? d : DType::F32;
}
DType statistic_type(DType d) {
  return ir::is_float(d) ? d : DType::F32;
}

Tensor extreme(OpKind op, const Tensor& x, const Axes& axes, bool keepdims, std::string_view fn) {
  check_valid(x, fn);
  for (int64_t a : detail::reduced_axes(fn, x, axes))
    if (x.shape()[a] == 0)
      fail(fn, "cannot reduce empty axis " + std::to_string(a) + " of " + x.type().str() +
                   " (the reduction has no identity)");
  return reduce(op, x, axes, keepdims, fn);
}

Tensor arg_extreme(OpKind op, const Tensor& x, std::optional<int> axis, bool keepdims,
                   std::string_view fn) {
  check_valid(x, fn);
  Tensor source = axis ? x : flatten(x);
  int a = axis ? detail::normalize_axis(fn, *axis, x.ndim()) : 0;
  Tensor out = make(op, {source}, make_attrs(ir::ArgReduceAttrs{a}), std::nullopt, fn);
  if (!keepdims) return out;
  return axis ? expand_dims(out, a) : reshape(out, Shape(x.ndim(), 1));
}

}  // namespace

namespace detail {

std::vector<int64_t> reduced_axes(std::string_view fn, const Tensor& x, const Axes& axes) {
  check_valid(x, fn);
  std::vector<int64_t> out;
  if (axes.all()) {
    for (int i = 0; i < x.ndim(); ++i)
      out.push_back(i);
    return out;
  }
  for (int a : axes.list()) {
    int n = normalize_axis(fn, a, x.type());
    if (std::find(out.begin(), out.end(), n) != out.end())
      fail(fn, "axis " + std::to_string(n) + " is named twice");
    out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace detail

Tensor sum(const Tensor& x, const Axes& axes, bool keepdims) {
  check_valid(x, "sum");
  return reduce(OpKind::ReduceSum, widened(x), axes, keepdims, "sum");
}

Tensor prod(const Tensor& x, const Axes& axes, bool keepdims) {
  check_valid(x, "prod");
  return reduce(OpKind::ReduceProd, widened(x), axes, keepdims, "prod");
}

Tensor max(const Tensor& x, const Axes& axes, bool keepdims) {
  return extreme(OpKind::ReduceMax, x, axes, keepdims, "max");
}

Tensor min(const Tensor& x, const Axes& axes, bool keepdims) {
  return extreme(OpKind::ReduceMin, x, axes, keepdims, "min");
}

Tensor mean(const Tensor& x, const Axes& axes, bool keepdims) {
  check_valid(x, "mean");
  int64_t n = count_of(x, detail::reduced_axes("mean", x, axes));
  Tensor total = sum(astype(x, accumulation_type(x.dtype())), axes, keepdims);
  return astype(total / static_cast<double>(n), statistic_type(x.dtype()));
}

namespace {

Tensor variance(const Tensor& x, const Axes& axes, VarOptions options, std::string_view fn) {
  check_valid(x, fn);
  if (options.ddof < 0) fail(fn, "ddof " + std::to_string(options.ddof) + " is negative");
  int64_t n = count_of(x, detail::reduced_axes(fn, x, axes));
  Tensor xf = astype(x, accumulation_type(x.dtype()));
  Tensor centered = xf - mean(xf, axes, true);
  Tensor total = sum(centered * centered, axes, options.keepdims);
  // numpy's max(N - ddof, 0): too few elements give inf or nan, not a negative variance.
  const int64_t divisor = std::max<int64_t>(n - options.ddof, 0);
  return astype(total / static_cast<double>(divisor), statistic_type(x.dtype()));
}

}  // namespace

Tensor var(const Tensor& x, const Axes& axes, VarOptions options) {
  return variance(x, axes, options, "var");
}

Tensor std(const Tensor& x, const Axes& axes, VarOptions options) {
  return sqrt(variance(x, axes, options, "std"));
}

Tensor argmax(const Tensor& x, std::optional<int> axis, bool keepdims) {
  return arg_extreme(OpKind::Argmax, x, axis, keepdims, "argmax");
}

Tensor argmin(const Tensor& x, std::optional<int> axis, bool keepdims) {
  return arg_extreme(OpKind::Argmin, x, axis, keepdims, "argmin");
}

namespace {
// An inclusive scan along `axis` (the flattened tensor without one); exclusive ones shift it by
// one place, starting from the op's identity.
Tensor scan(OpKind op, const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive,
            std::string_view fn) {
  if (!x.valid()) fail(fn, "an operand is an empty (default-constructed) Tensor");
  Tensor source = axis ? x : flatten(x);
  if (op == OpKind::CumLogSumExp && !ir::is_float(source.dtype()))
    source = astype(source, kDefaultFloat);
  if (op == OpKind::CumSum && source.dtype() == DType::Bool) source = astype(source, DType::I32);
  if (source.ndim() == 0) fail(fn, "needs an axis to scan, got a scalar");
  const int a = detail::normalize_axis(fn, axis.value_or(0), source.type());
  Tensor result = make(op, {source}, make_attrs(ir::ScanAttrs{a, reverse}), std::nullopt, fn);
  if (inclusive) return result;
  const int64_t n = source.shape()[a];
  if (n == 0) return result;
  const DType d = result.dtype();
  const double inf = std::numeric_limits<double>::infinity();
  Tensor identity;
  switch (op) {
    case OpKind::CumSum:
      identity = zeros({}, d);
      break;
    case OpKind::CumProd:
      identity = ones({}, d);
      break;
    case OpKind::CumMax:
      identity = ir::is_float(d) ? full({}, -inf, d)
                                 : full({}, static_cast<double>(ir::scalar::int_range(d).first), d);
      break;
    case OpKind::CumMin:
      identity = ir::is_float(d)
                     ? full({}, inf, d)
                     : full({}, static_cast<double>(ir::scalar::int_range(d).second), d);
      break;
    default:
      identity = full({}, -inf, d);
      break;
  }
  Shape one = result.shape();
  one[a] = 1;
  const Tensor edge = broadcast_to(identity, one);
  const Tensor kept = reverse ? slice(result, a, 1, std::nullopt) : slice(result, a, 0, n - 1);
  return reverse ? concatenate({kept, edge}, a) : concatenate({edge, kept}, a);
}
}  // namespace

Tensor cumsum(const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive) {
  return scan(OpKind::CumSum, x, axis, reverse, inclusive, "cumsum");
}
Tensor cumprod(const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive) {
  return scan(OpKind::CumProd, x, axis, reverse, inclusive, "cumprod");
}
Tensor cummax(const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive) {
  return scan(OpKind::CumMax, x, axis, reverse, inclusive, "cummax");
}
Tensor cummin(const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive) {
  return scan(OpKind::CumMin, x, axis, reverse, inclusive, "cummin");
}
Tensor logcumsumexp(const Tensor& x, std::optional<int> axis, bool reverse, bool inclusive) {
  return scan(OpKind::CumLogSumExp, x, axis, reverse, inclusive, "logcumsumexp");
}

Tensor any(const Tensor& x, const Axes& axes, bool keepdims) {
  detail::reduced_axes("any", x, axes);
  // A count rather than reduce_max: an empty reduction is then simply false.
  return sum(astype(x != 0, DType::I32), axes, keepdims) > 0;
}

Tensor all(const Tensor& x, const Axes& axes, bool keepdims) {
  detail::reduced_axes("all", x, axes);
  return logical_not(any(logical_not(x), axes, keepdims));
}

}  // namespace kiln
