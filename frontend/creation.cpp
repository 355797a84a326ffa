#include "frontend/creation.h"

#include <cmath>
#include <cstdlib>
#include <limits>

#include "frontend/ops.h"
#include "frontend/shape_ops.h"

namespace kiln {

namespace {

Tensor iota(const Shape& shape, int axis, DType dtype, std::string_view fn) {
  return detail::make(ir::OpKind::Iota, {}, make_attrs(ir::IotaAttrs{axis}),
                      ir::TensorType{dtype, shape}, fn);
}

void check_shape(const Shape& shape, std::string_view fn) {
  for (int64_t d : shape)
    if (d < 0) detail::fail(fn, "shape " + ir::shape_str(shape) + " has a negative dimension");
}

// True where column <= row + k, for a matrix of the given shape (or the last two axes of a
// batch of them, which broadcasting extends the mask to).
Tensor lower_mask(const Shape& shape, int64_t k, std::string_view fn) {
  DType index = DType::I32;
  for (int64_t d : shape)
    if (d + std::abs(k) > std::numeric_limits<int32_t>::max()) index = DType::I64;
  Tensor rows = iota(shape, 0, index, fn);
  Tensor cols = iota(shape, 1, index, fn);
  return cols <= rows + Tensor::scalar(k, index);
}

void check_matrices(const Tensor& x, std::string_view fn) {
  if (!x.valid()) detail::fail(fn, "x is an empty (default-constructed) Tensor");
  if (x.ndim() < 2) detail::fail(fn, "x must have at least two axes, got " + x.type().str());
}

}  // namespace

Tensor full(const Shape& shape, const Tensor& value, std::optional<DType> dtype) {
  if (!value.valid()) detail::fail("full", "the value is an empty (default-constructed) Tensor");
  check_shape(shape, "full");
  return broadcast_to(astype(value, dtype.value_or(value.dtype())), shape);
}

Tensor zeros(const Shape& shape, DType dtype) {
  return full(shape, Tensor::scalar(int64_t{0}, dtype));
}

Tensor ones(const Shape& shape, DType dtype) {
  return full(shape, Tensor::scalar(int64_t{1}, dtype));
}

Tensor full_like(const Tensor& x, const Tensor& value) {
  return full(x.shape(), value, x.dtype());
}
Tensor zeros_like(const Tensor& x) {
  return zeros(x.shape(), x.dtype());
}
Tensor ones_like(const Tensor& x) {
  return ones(x.shape(), x.dtype());
}

Tensor eye(int64_t n, std::optional<int64_t> m, int64_t k, DType dtype) {
  Shape shape{n, m.value_or(n)};
  check_shape(shape, "eye");
  Tensor rows = iota(shape, 0, DType::I32, "eye");
  Tensor cols = iota(shape, 1, DType::I32, "eye");
  return astype(cols == rows + k, dtype);
}

Tensor tri(int64_t n, std::optional<int64_t> m, int64_t k, DType dtype) {
  Shape shape{n, m.value_or(n)};
  check_shape(shape, "tri");
  return astype(lower_mask(shape, k, "tri"), dtype);
}

Tensor tril(const Tensor& x, int64_t k) {
  check_matrices(x, "tril");
  Shape last(x.shape().end() - 2, x.shape().end());
  return where(lower_mask(last, k, "tril"), x, zeros_like(x));
}

Tensor triu(const Tensor& x, int64_t k) {
  check_matrices(x, "triu");
  Shape last(x.shape().end() - 2, x.shape().end());
  return where(lower_mask(last, k - 1, "triu"), zeros_like(x), x);
}

Tensor linspace(double start, double stop, int64_t num, bool endpoint, DType dtype) {
  if (num < 0) detail::fail("linspace", "num must be non-negative, got " + std::to_string(num));
  if (!std::isfinite(start) || !std::isfinite(stop))
    detail::fail("linspace", "start and stop must be finite");
  DType compute = dtype == DType::F64 ? DType::F64 : DType::F32;
  Tensor y = full({num}, Tensor::scalar(start, compute));
  if (num > 1) {
    const int64_t div = endpoint ? num - 1 : num;
    const double delta = stop - start, step = delta / div;
    Tensor i = iota({num}, 0, compute, "linspace");
    // numpy's order of operations; a step that underflows to 0 scales after dividing instead.
    Tensor offsets = step == 0 ? i / Tensor::scalar(div, compute) * Tensor::scalar(delta, compute)
                               : i * Tensor::scalar(step, compute);
    y = offsets + Tensor::scalar(start, compute);
    if (endpoint) y = where(i == num - 1, Tensor::scalar(stop, compute), y);
  }
  if (ir::is_integer(dtype)) y = floor(y);
  return astype(y, dtype);
}

std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, std::string_view indexing) {
  if (indexing != "xy" && indexing != "ij")
    detail::fail("meshgrid",
                 "indexing must be \"xy\" or \"ij\", got \"" + std::string(indexing) + "\"");
  for (const Tensor& x : xs)
    if (!x.valid()) detail::fail("meshgrid", "an input is an empty (default-constructed) Tensor");
  const size_t n = xs.size();
  // Grid axis g holds input g, except that "xy" puts input 0 on axis 1 and input 1 on axis 0.
  auto axis_of = [&](size_t g) { return indexing == "xy" && n >= 2 && g < 2 ? 1 - g : g; };
  Shape grid(n);
  for (size_t g = 0; g < n; ++g)
    grid[axis_of(g)] = xs[g].size();
  std::vector<Tensor> out;
  for (size_t g = 0; g < n; ++g) {
    Shape along(n, 1);
    along[axis_of(g)] = -1;
    out.push_back(broadcast_to(reshape(xs[g], along), grid));
  }
  return out;
}

Tensor arange(double start, double stop, double step, DType dtype) {
  if (step == 0) detail::fail("arange", "step cannot be zero");
  double span = std::ceil((stop - start) / step);
  if (!std::isfinite(span)) detail::fail("arange", "bounds must be finite");
  auto count = static_cast<int64_t>(std::max(0.0, span));
  Tensor out = iota({count}, 0, dtype, "arange");
  // Strong scalars of the requested dtype, so an integer range stays integer.
  if (step != 1) out = out * Tensor::scalar(step, dtype);
  if (start != 0) out = out + Tensor::scalar(start, dtype);
  return out;
}

}  // namespace kiln
