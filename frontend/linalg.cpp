#include "frontend/linalg.h"

#include <numeric>

#include "frontend/ops.h"
#include "frontend/promotion.h"
#include "frontend/shape_ops.h"

namespace kiln {

namespace {

using detail::fail;

std::vector<int64_t> range(int64_t n) {
  std::vector<int64_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), 0);
  return v;
}

Tensor dot_general(const Tensor& a, const Tensor& b, std::vector<int64_t> batch,
                   int64_t lhs_contract, int64_t rhs_contract) {
  ir::DotGeneralAttrs dims{batch, batch, {lhs_contract}, {rhs_contract}};
  return detail::make(ir::OpKind::DotGeneral, {a, b}, make_attrs(std::move(dims)), std::nullopt,
                      "matmul");
}

std::string pair_str(const Tensor& a, const Tensor& b) {
  return a.type().str() + " and " + b.type().str();
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid())
    fail("matmul", "an operand is an empty (default-constructed) Tensor");
  int ra = a.ndim(), rb = b.ndim();
  if (ra == 0 || rb == 0) fail("matmul", "operands must have rank >= 1, got " + pair_str(a, b));
  int64_t ka = a.shape(-1), kb = rb == 1 ? b.shape(0) : b.shape(-2);
  if (ka != kb) fail("matmul", "contraction dims differ: " + pair_str(a, b));
  DType dtype = result_type(std::vector<Tensor>{a, b}).dtype;
  Tensor x = cast_operand(a, dtype, "matmul"), y = cast_operand(b, dtype, "matmul");
  // The dot_general result lists lhs free axes, then rhs free axes: with a vector or a
  // matrix on one side that is already numpy's order, and no operand needs copying.
  if (rb == 1) return dot_general(x, y, {}, ra - 1, 0);
  if (ra == 1) return dot_general(x, y, {}, 0, rb - 2);
  if (rb == 2) return dot_general(x, y, {}, ra - 1, 0);
  Shape batch_a(a.shape().begin(), a.shape().end() - 2);
  Shape batch_b(b.shape().begin(), b.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(batch_a, batch_b, "matmul");
  } catch (const Error&) {
    fail("matmul", "batch dims do not broadcast: " + pair_str(a, b));
  }
  Shape shape_a = batch, shape_b = batch;
  shape_a.insert(shape_a.end(), a.shape().end() - 2, a.shape().end());
  shape_b.insert(shape_b.end(), b.shape().end() - 2, b.shape().end());
  int64_t nb = static_cast<int64_t>(batch.size());
  return dot_general(broadcast_to(x, shape_a), broadcast_to(y, shape_b), range(nb), nb + 1, nb);
}

Tensor outer(const Tensor& a, const Tensor& b) {
  if (!a.valid() || !b.valid())
    fail("outer", "an operand is an empty (default-constructed) Tensor");
  return multiply(reshape(a, {-1, 1}), reshape(b, {1, -1}));
}

}  // namespace kiln
