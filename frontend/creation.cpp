#include "frontend/creation.h"

#include <cmath>

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
