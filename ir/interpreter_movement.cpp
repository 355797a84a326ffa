// The interpreter's index-movement kernels: broadcast, reshape, transpose, slice, pad,
// concatenate, take and scatter_add. All but scatter_add copy element bytes unchanged, so NaN
// payloads and signed zeros pass through exactly.

#include <algorithm>
#include <cmath>
#include <cstring>

#include "ir/interpreter_kernels.h"

namespace kiln::ir::interp {

namespace {

void copy_element(HostArray& to, int64_t to_index, const HostArray& from, int64_t from_index) {
  const int64_t size = static_cast<int64_t>(dtype_size(from.dtype()));
  std::memcpy(to.data() + to_index * size, from.data() + from_index * size,
              static_cast<size_t>(size));
}

// Result element i is x's element at base + index . strides.
HostArray gather_strided(const HostArray& x, const TensorType& type,
                         std::span<const int64_t> strides, int64_t base) {
  HostArray out(type);
  for_each_strided(type.shape, strides, base,
                   [&](int64_t i, int64_t from) { copy_element(out, i, x, from); });
  return out;
}

// x's element i goes to out's element at base + index . strides.
void scatter_strided(const HostArray& x, HostArray& out, std::span<const int64_t> strides,
                     int64_t base) {
  for_each_strided(x.shape(), strides, base,
                   [&](int64_t i, int64_t to) { copy_element(out, to, x, i); });
}

// Views a shape as [outer, shape[axis], inner] around one axis.
struct AxisSplit {
  int64_t outer = 1, size = 1, inner = 1;
};

AxisSplit split_at(const Shape& shape, int64_t axis) {
  AxisSplit s;
  for (int64_t d = 0; d < static_cast<int64_t>(shape.size()); ++d) {
    if (d < axis) s.outer *= shape[d];
    if (d == axis) s.size = shape[d];
    if (d > axis) s.inner *= shape[d];
  }
  return s;
}

// Indices clamped into [0, size - 1]; the op rules guarantee size > 0.
std::vector<int64_t> clamped_indices(const HostArray& indices, int64_t size) {
  std::vector<int64_t> out = to_i64(indices);
  for (int64_t& i : out)
    i = std::clamp<int64_t>(i, 0, size - 1);
  return out;
}

}  // namespace

HostArray broadcast(const HostArray& x, const Shape& shape, const std::vector<int64_t>& dims) {
  const auto x_strides = row_major_strides(x.shape());
  // A size-1 operand dimension stretches: stride 0 repeats its one element.
  std::vector<int64_t> strides(shape.size(), 0);
  for (size_t i = 0; i < dims.size(); ++i)
    if (x.shape()[i] != 1) strides[dims[i]] = x_strides[i];
  return gather_strided(x, TensorType{x.dtype(), shape}, strides, 0);
}

HostArray reshape(const HostArray& x, const Shape& shape) {
  HostArray out(TensorType{x.dtype(), shape});
  std::copy(x.bytes().begin(), x.bytes().end(), out.bytes().begin());
  return out;
}

HostArray transpose(const HostArray& x, const std::vector<int64_t>& perm) {
  const auto x_strides = row_major_strides(x.shape());
  Shape shape;
  std::vector<int64_t> strides;
  for (int64_t p : perm) {
    shape.push_back(x.shape()[p]);
    strides.push_back(x_strides[p]);
  }
  return gather_strided(x, TensorType{x.dtype(), shape}, strides, 0);
}

HostArray slice(const HostArray& x, const std::vector<int64_t>& start,
                const std::vector<int64_t>& limit, const std::vector<int64_t>& stride) {
  const auto x_strides = row_major_strides(x.shape());
  Shape shape;
  std::vector<int64_t> strides;
  int64_t base = 0;
  for (size_t d = 0; d < start.size(); ++d) {
    shape.push_back((limit[d] - start[d] + stride[d] - 1) / stride[d]);
    strides.push_back(x_strides[d] * stride[d]);
    base += start[d] * x_strides[d];
  }
  return gather_strided(x, TensorType{x.dtype(), shape}, strides, base);
}

HostArray pad(const HostArray& x, const HostArray& value, const std::vector<int64_t>& low,
              const std::vector<int64_t>& high, const std::vector<int64_t>& interior) {
  Shape shape;
  for (size_t d = 0; d < low.size(); ++d) {
    const int64_t n = x.shape()[d];
    shape.push_back(low[d] + high[d] + n + (n > 0 ? (n - 1) * interior[d] : 0));
  }
  HostArray out(TensorType{x.dtype(), shape});
  for (int64_t i = 0; i < out.num_elements(); ++i)
    copy_element(out, i, value, 0);
  // Operand element at index j lands at low + j * (interior + 1) in each dimension.
  const auto out_strides = row_major_strides(shape);
  std::vector<int64_t> strides;
  int64_t base = 0;
  for (size_t d = 0; d < low.size(); ++d) {
    strides.push_back(out_strides[d] * (interior[d] + 1));
    base += low[d] * out_strides[d];
  }
  scatter_strided(x, out, strides, base);
  return out;
}

HostArray concatenate(std::span<const HostArray* const> parts, int64_t axis) {
  Shape shape = parts[0]->shape();
  shape[axis] = 0;
  for (const HostArray* part : parts)
    shape[axis] += part->shape()[axis];
  HostArray out(TensorType{parts[0]->dtype(), shape});
  const auto out_strides = row_major_strides(shape);
  int64_t offset = 0;  // where the next part starts along the axis
  for (const HostArray* part : parts) {
    scatter_strided(*part, out, out_strides, offset * out_strides[axis]);
    offset += part->shape()[axis];
  }
  return out;
}

HostArray take(const HostArray& x, const HostArray& indices, int64_t axis) {
  const AxisSplit in = split_at(x.shape(), axis);
  const std::vector<int64_t> index = clamped_indices(indices, in.size);
  const int64_t count = static_cast<int64_t>(index.size());
  Shape shape(x.shape().begin(), x.shape().begin() + axis);
  shape.insert(shape.end(), indices.shape().begin(), indices.shape().end());
  shape.insert(shape.end(), x.shape().begin() + axis + 1, x.shape().end());
  HostArray out(TensorType{x.dtype(), shape});
  // Result [outer, count, inner] row (o, j) is x's row (o, index[j]).
  for (int64_t o = 0; o < in.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      for (int64_t t = 0; t < in.inner; ++t)
        copy_element(out, (o * count + j) * in.inner + t, x,
                     (o * in.size + index[j]) * in.inner + t);
  return out;
}

namespace {
// Adds update row (o, j) into accumulator row (o, index[j]); duplicates add up in order.
template <typename T, typename Add>
void scatter_rows(std::vector<T>& acc, const std::vector<T>& updates,
                  const std::vector<int64_t>& index, const AxisSplit& in, Add add) {
  const int64_t count = static_cast<int64_t>(index.size());
  for (int64_t o = 0; o < in.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      for (int64_t t = 0; t < in.inner; ++t) {
        T& a = acc[(o * in.size + index[j]) * in.inner + t];
        a = add(a, updates[(o * count + j) * in.inner + t]);
      }
}
}  // namespace

// Floats accumulate in double and round once at the end, like reduce_sum: the oracle does not
// depend on the order in which duplicates arrive.
HostArray scatter_add(const HostArray& x, const HostArray& indices, const HostArray& updates,
                      int64_t axis) {
  const AxisSplit in = split_at(x.shape(), axis);
  const std::vector<int64_t> index = clamped_indices(indices, in.size);
  if (is_float(x.dtype())) {
    std::vector<double> acc = to_f64(x);
    scatter_rows(acc, to_f64(updates), index, in, [](double a, double b) { return a + b; });
    return from_f64(x.type(), acc);
  }
  std::vector<int64_t> acc = to_i64(x);
  scatter_rows(acc, to_i64(updates), index, in, wrap_add);
  return from_i64(x.type(), acc);
}

namespace {
// The flat position in x that element e of the indices addresses: e's own position with its
// coordinate along the axis replaced by the clamped index.
template <typename Fn>
void for_each_along_axis(const Shape& x_shape, const HostArray& indices, int64_t axis, Fn fn) {
  const AxisSplit in = split_at(x_shape, axis);
  const int64_t count = indices.shape()[axis];
  const std::vector<int64_t> index = clamped_indices(indices, in.size);
  for (int64_t o = 0; o < in.outer; ++o)
    for (int64_t j = 0; j < count; ++j)
      for (int64_t t = 0; t < in.inner; ++t) {
        const int64_t e = (o * count + j) * in.inner + t;
        fn(e, (o * in.size + index[e]) * in.inner + t);
      }
}
}  // namespace

HostArray take_along_axis(const HostArray& x, const HostArray& indices, int64_t axis) {
  HostArray out(TensorType{x.dtype(), indices.shape()});
  for_each_along_axis(x.shape(), indices, axis,
                      [&](int64_t e, int64_t from) { copy_element(out, e, x, from); });
  return out;
}

// Floats combine in double and round once at the end, as scatter_add.
HostArray scatter_along_axis(const HostArray& x, const HostArray& indices, const HostArray& updates,
                             int64_t axis, const std::string& mode) {
  auto run = [&](auto acc, auto upd, auto combine) {
    for_each_along_axis(x.shape(), indices, axis,
                        [&](int64_t e, int64_t to) { acc[to] = combine(acc[to], upd[e]); });
    return acc;
  };
  // The mode, read once rather than compared per element.
  enum class Mode { Add, Mul, Max, Min, Set };
  const Mode m = mode == "add"   ? Mode::Add
                 : mode == "mul" ? Mode::Mul
                 : mode == "max" ? Mode::Max
                 : mode == "min" ? Mode::Min
                                 : Mode::Set;
  auto pick = [m](auto add, auto mul, auto max, auto min) {
    return [=](auto a, auto b) {
      switch (m) {
        case Mode::Add:
          return add(a, b);
        case Mode::Mul:
          return mul(a, b);
        case Mode::Max:
          return max(a, b);
        case Mode::Min:
          return min(a, b);
        case Mode::Set:
          break;
      }
      return b;
    };
  };
  if (is_float(x.dtype())) {
    auto combine = pick([](double a, double b) { return a + b; },
                        [](double a, double b) { return a * b; }, max_f64, min_f64);
    return from_f64(x.type(), run(to_f64(x), to_f64(updates), combine));
  }
  auto combine = pick(
      wrap_add, wrap_mul, [](int64_t a, int64_t b) { return std::max(a, b); },
      [](int64_t a, int64_t b) { return std::min(a, b); });
  return from_i64(x.type(), run(to_i64(x), to_i64(updates), combine));
}

double log_add_exp(double a, double b) {
  if (a == b) return a + std::log(2.0);  // also both infinite: no inf - inf
  const double m = max_f64(a, b);        // NaN if either is
  return m + std::log1p(std::exp(-std::fabs(a - b)));
}

HostArray scan(const HostArray& x, OpKind op, int64_t axis, bool reverse) {
  const AxisSplit in = split_at(x.shape(), axis);
  auto run = [&](auto values, auto combine) {
    for (int64_t o = 0; o < in.outer; ++o)
      for (int64_t t = 0; t < in.inner; ++t)
        for (int64_t k = 1; k < in.size; ++k) {
          const int64_t i = reverse ? in.size - 1 - k : k, prev = reverse ? i + 1 : i - 1;
          auto& v = values[(o * in.size + i) * in.inner + t];
          v = combine(values[(o * in.size + prev) * in.inner + t], v);
        }
    return values;
  };
  if (is_float(x.dtype())) {
    std::vector<double> v = to_f64(x);
    switch (op) {
      case OpKind::CumSum:
        return from_f64(x.type(), run(v, [](double a, double b) { return a + b; }));
      case OpKind::CumProd:
        return from_f64(x.type(), run(v, [](double a, double b) { return a * b; }));
      case OpKind::CumMax:
        return from_f64(x.type(), run(v, max_f64));
      case OpKind::CumMin:
        return from_f64(x.type(), run(v, min_f64));
      default:
        return from_f64(x.type(), run(v, log_add_exp));
    }
  }
  std::vector<int64_t> v = to_i64(x);
  switch (op) {
    case OpKind::CumSum:
      return from_i64(x.type(), run(v, wrap_add));
    case OpKind::CumProd:
      return from_i64(x.type(), run(v, wrap_mul));
    case OpKind::CumMax:
      return from_i64(x.type(), run(v, [](int64_t a, int64_t b) { return std::max(a, b); }));
    default:
      return from_i64(x.type(), run(v, [](int64_t a, int64_t b) { return std::min(a, b); }));
  }
}

}  // namespace kiln::ir::interp
