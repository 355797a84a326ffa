// The interpreter's reductions: reduce_{sum,max,min,prod}, argmax/argmin and dot_general.
// Floats accumulate in double whatever their dtype and round once at the end; integers
// accumulate in int64 with wrapping arithmetic and wrap to the dtype once at the end (the
// same result as wrapping after every step).

#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/interpreter_kernels.h"

namespace kiln::ir::interp {

namespace {

// For each operand dimension: its stride in the result, or 0 if it is reduced away.
std::vector<int64_t> strides_into_result(const Shape& shape, const std::vector<int64_t>& axes,
                                         Shape& result_shape) {
  std::vector<bool> reduced(shape.size(), false);
  for (int64_t a : axes)
    reduced[a] = true;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d]) result_shape.push_back(shape[d]);
  const auto result_strides = row_major_strides(result_shape);
  std::vector<int64_t> strides(shape.size(), 0);
  size_t kept = 0;
  for (size_t d = 0; d < shape.size(); ++d)
    if (!reduced[d]) strides[d] = result_strides[kept++];
  return strides;
}

// Folds every operand element into its result element, starting each from `identity`.
template <typename T, typename Combine>
std::vector<T> fold(const std::vector<T>& values, const Shape& shape,
                    std::span<const int64_t> strides, int64_t result_size, T identity,
                    Combine combine) {
  std::vector<T> acc(static_cast<size_t>(result_size), identity);
  for_each_strided(shape, strides, 0,
                   [&](int64_t i, int64_t r) { acc[r] = combine(acc[r], values[i]); });
  return acc;
}

// The additive identity of IEEE floats is -0 (x + -0 is x for every x, -0 included), so a sum
// of -0s stays -0; a sum of nothing is +0.
double zero_for_sum(int64_t terms) {
  return terms > 0 ? -0.0 : 0.0;
}

HostArray reduce_float(const HostArray& x, std::span<const int64_t> strides, const TensorType& type,
                       Reduction kind) {
  const std::vector<double> v = to_f64(x);
  const int64_t n = type.num_elements();
  const int64_t terms = n > 0 ? x.num_elements() / n : 0;
  constexpr double inf = std::numeric_limits<double>::infinity();
  std::vector<double> acc;
  switch (kind) {
    case Reduction::Sum:
      acc = fold(v, x.shape(), strides, n, zero_for_sum(terms),
                 [](double a, double b) { return a + b; });
      break;
    case Reduction::Prod:
      acc = fold(v, x.shape(), strides, n, 1.0, [](double a, double b) { return a * b; });
      break;
    case Reduction::Max:
      acc = fold(v, x.shape(), strides, n, -inf, max_f64);
      break;
    case Reduction::Min:
      acc = fold(v, x.shape(), strides, n, inf, min_f64);
      break;
  }
  return from_f64(type, acc);
}

HostArray reduce_int(const HostArray& x, std::span<const int64_t> strides, const TensorType& type,
                     Reduction kind) {
  const std::vector<int64_t> v = to_i64(x);
  const int64_t n = type.num_elements();
  const auto [lowest, highest] = int_range(x.dtype());
  auto max = [](int64_t a, int64_t b) { return std::max(a, b); };
  auto min = [](int64_t a, int64_t b) { return std::min(a, b); };
  std::vector<int64_t> acc;
  switch (kind) {
    case Reduction::Sum:
      acc = fold(v, x.shape(), strides, n, int64_t{0}, wrap_add);
      break;
    case Reduction::Prod:
      acc = fold(v, x.shape(), strides, n, int64_t{1}, wrap_mul);
      break;
    case Reduction::Max:
      acc = fold(v, x.shape(), strides, n, lowest, max);
      break;
    case Reduction::Min:
      acc = fold(v, x.shape(), strides, n, highest, min);
      break;
  }
  return from_i64(type, acc);
}

bool is_nan(double v) {
  return std::isnan(v);
}
bool is_nan(int64_t) {
  return false;
}

// The index of the first extreme element of each run of `size` elements `inner` apart.
// NaN ranks above everything for argmax and below everything for argmin, so the first NaN
// wins either way (numpy's rule; it keeps argmax consistent with NaN-propagating max).
template <typename T>
std::vector<int64_t> arg_extreme_of(const std::vector<T>& v, int64_t outer, int64_t size,
                                    int64_t inner, bool is_max) {
  std::vector<int64_t> result(static_cast<size_t>(outer * inner));
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < inner; ++t) {
      auto at = [&](int64_t i) { return v[(o * size + i) * inner + t]; };
      int64_t best = 0;
      for (int64_t i = 1; i < size && !is_nan(at(best)); ++i) {
        const T candidate = at(i);
        if (is_nan(candidate) || (is_max ? candidate > at(best) : candidate < at(best))) best = i;
      }
      result[o * inner + t] = best;
    }
  return result;
}

// The dimensions of a rank-`rank` operand that are in neither list, in order.
std::vector<int64_t> free_dims(int rank, const std::vector<int64_t>& batch,
                               const std::vector<int64_t>& contract) {
  std::vector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d)
    if (std::find(batch.begin(), batch.end(), d) == batch.end() &&
        std::find(contract.begin(), contract.end(), d) == contract.end())
      out.push_back(d);
  return out;
}

int64_t product_of(const Shape& shape, const std::vector<int64_t>& dims) {
  int64_t n = 1;
  for (int64_t d : dims)
    n *= shape[d];
  return n;
}

// out[b, m, n] = sum over k of lhs[b, m, k] * rhs[b, n, k], summed in k order.
template <typename T, typename MulAdd>
std::vector<T> batched_matmul(const std::vector<T>& lhs, const std::vector<T>& rhs, int64_t b,
                              int64_t m, int64_t n, int64_t k, T zero, MulAdd mul_add) {
  std::vector<T> out(static_cast<size_t>(b * m * n), zero);
  for (int64_t bi = 0; bi < b; ++bi)
    for (int64_t mi = 0; mi < m; ++mi)
      for (int64_t ni = 0; ni < n; ++ni) {
        const T* l = lhs.data() + (bi * m + mi) * k;
        const T* r = rhs.data() + (bi * n + ni) * k;
        T acc = zero;
        for (int64_t ki = 0; ki < k; ++ki)
          acc = mul_add(acc, l[ki], r[ki]);
        out[(bi * m + mi) * n + ni] = acc;
      }
  return out;
}

}  // namespace

HostArray reduce(const HostArray& x, const std::vector<int64_t>& axes, Reduction kind) {
  Shape shape;
  const std::vector<int64_t> strides = strides_into_result(x.shape(), axes, shape);
  const TensorType type{x.dtype(), shape};
  return is_float(x.dtype()) ? reduce_float(x, strides, type, kind)
                             : reduce_int(x, strides, type, kind);
}

HostArray arg_extreme(const HostArray& x, int64_t axis, bool is_max) {
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d)
    outer *= x.shape()[d];
  for (int64_t d = axis + 1; d < static_cast<int64_t>(x.shape().size()); ++d)
    inner *= x.shape()[d];
  const int64_t size = x.shape()[axis];
  Shape shape = x.shape();
  shape.erase(shape.begin() + axis);
  const std::vector<int64_t> result = is_float(x.dtype())
                                          ? arg_extreme_of(to_f64(x), outer, size, inner, is_max)
                                          : arg_extreme_of(to_i64(x), outer, size, inner, is_max);
  return from_i64(TensorType{DType::I32, shape}, result);
}

// Moves each operand to [batch..., free..., contracting...] so that the contraction is a
// batched matrix product over contiguous rows; the result's [batch, lhs free, rhs free]
// order is then the row-major order of that product.
HostArray dot_general(const HostArray& lhs, const HostArray& rhs,
                      const std::vector<int64_t>& lhs_batch, const std::vector<int64_t>& rhs_batch,
                      const std::vector<int64_t>& lhs_contract,
                      const std::vector<int64_t>& rhs_contract) {
  const auto lhs_free = free_dims(lhs.type().rank(), lhs_batch, lhs_contract);
  const auto rhs_free = free_dims(rhs.type().rank(), rhs_batch, rhs_contract);
  auto order = [](std::vector<int64_t> batch, const std::vector<int64_t>& free,
                  const std::vector<int64_t>& contract) {
    batch.insert(batch.end(), free.begin(), free.end());
    batch.insert(batch.end(), contract.begin(), contract.end());
    return batch;
  };
  const HostArray l = transpose(lhs, order(lhs_batch, lhs_free, lhs_contract));
  const HostArray r = transpose(rhs, order(rhs_batch, rhs_free, rhs_contract));
  const int64_t b = product_of(lhs.shape(), lhs_batch);
  const int64_t m = product_of(lhs.shape(), lhs_free);
  const int64_t n = product_of(rhs.shape(), rhs_free);
  const int64_t k = product_of(lhs.shape(), lhs_contract);

  Shape shape;
  for (int64_t d : lhs_batch)
    shape.push_back(lhs.shape()[d]);
  for (int64_t d : lhs_free)
    shape.push_back(lhs.shape()[d]);
  for (int64_t d : rhs_free)
    shape.push_back(rhs.shape()[d]);
  const TensorType type{lhs.dtype(), shape};

  if (is_float(lhs.dtype())) {
    // Two statements, so no compiler contracts them into an FMA (Clang's default
    // -ffp-contract=on fuses within one expression): the oracle rounds the product.
    auto mul_add = [](double acc, double x, double y) {
      const double product = x * y;
      return acc + product;
    };
    return from_f64(type,
                    batched_matmul(to_f64(l), to_f64(r), b, m, n, k, zero_for_sum(k), mul_add));
  }
  auto mul_add = [](int64_t acc, int64_t x, int64_t y) { return wrap_add(acc, wrap_mul(x, y)); };
  return from_i64(type, batched_matmul(to_i64(l), to_i64(r), b, m, n, k, int64_t{0}, mul_add));
}

}  // namespace kiln::ir::interp
