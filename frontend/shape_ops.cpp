#include "frontend/shape_ops.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "frontend/ops.h"
#include "frontend/promotion.h"

namespace kiln {

namespace {

using detail::fail;
using detail::make;
using detail::normalize_axis;
using ir::OpKind;

void check_valid(const Tensor& x, std::string_view fn) {
  if (!x.valid()) fail(fn, "the operand is an empty (default-constructed) Tensor");
}

std::string ints_str(const std::vector<int>& v) {
  return ir::shape_str(std::vector<int64_t>(v.begin(), v.end()));
}

// Normalizes axes against `rank` and rejects repeats.
std::vector<int> normalize_axes(std::string_view fn, const std::vector<int>& axes, int rank) {
  std::vector<int> out;
  for (int a : axes) {
    int n = normalize_axis(fn, a, rank);
    if (std::find(out.begin(), out.end(), n) != out.end())
      fail(fn, "axes " + ints_str(axes) + " name axis " + std::to_string(n) + " twice");
    out.push_back(n);
  }
  return out;
}

// One axis of a Python slice, resolved against its size: the first index, how many, step.
struct Range {
  int64_t start;
  int64_t count;
  int64_t step;
};

int64_t clamp_bound(int64_t v, int64_t n, int64_t lo, int64_t hi) {
  if (v < 0) v += n;
  return std::clamp(v, lo, hi);
}

Range resolve(const Slice& s, int64_t n) {
  if (s.step == 0) fail("slice", "step cannot be zero");
  if (s.step == std::numeric_limits<int64_t>::min()) fail("slice", "step is out of range");
  if (s.step > 0) {
    int64_t start = s.start ? clamp_bound(*s.start, n, 0, n) : 0;
    int64_t stop = s.stop ? clamp_bound(*s.stop, n, 0, n) : n;
    int64_t count = stop > start ? (stop - start - 1) / s.step + 1 : 0;
    return {start, count, s.step};
  }
  // Walking backwards, -1 stands for "before index 0".
  int64_t start = s.start ? clamp_bound(*s.start, n, -1, n - 1) : n - 1;
  int64_t stop = s.stop ? clamp_bound(*s.stop, n, -1, n - 1) : -1;
  int64_t count = start > stop ? (start - stop - 1) / -s.step + 1 : 0;
  return {start, count, s.step};
}

// Indices into an axis of size n as an embedded table (i64 only where i32 cannot count n), for
// the gathers that movement the IR has no op for (backward steps, mirrored padding) becomes.
Tensor index_table(const std::vector<int64_t>& indices, int64_t n) {
  DType dtype = n > std::numeric_limits<int32_t>::max() ? DType::I64 : DType::I32;
  ir::HostArray table(ir::TensorType{dtype, {static_cast<int64_t>(indices.size())}});
  for (size_t i = 0; i < indices.size(); ++i)
    table.set_i64(static_cast<int64_t>(i), indices[i]);
  return detail::embedded(std::move(table));
}

Tensor index_table(int64_t first, int64_t count, int64_t step, int64_t n) {
  std::vector<int64_t> indices(static_cast<size_t>(count));
  for (int64_t i = 0; i < count; ++i)
    indices[i] = first + i * step;
  return index_table(indices, n);
}

// x rolled by `shift` along axis a: the last `shift` elements (mod n) move to the front.
Tensor roll_axis(const Tensor& x, int a, int64_t shift) {
  int64_t n = x.shape()[a];
  if (n == 0) return x;
  int64_t s = (shift % n + n) % n;
  if (s == 0) return x;
  return concatenate({slice(x, a, n - s, std::nullopt), slice(x, a, 0, n - s)}, a);
}

enum class PadMode { Constant, Edge, Reflect, Symmetric };

PadMode pad_mode(std::string_view mode) {
  if (mode == "constant") return PadMode::Constant;
  if (mode == "edge") return PadMode::Edge;
  if (mode == "reflect") return PadMode::Reflect;
  if (mode == "symmetric") return PadMode::Symmetric;
  fail("pad", "unknown mode \"" + std::string(mode) +
                  "\" (expected constant, edge, reflect or symmetric)");
}

// Which element of an axis of size n > 0 position i (negative before it, >= n after it) of
// the padded axis copies. The mirrored modes are periodic: reflect repeats every 2(n-1)
// elements, symmetric every 2n, so any width folds back into range in one step.
int64_t padded_source(PadMode mode, int64_t i, int64_t n) {
  if (mode == PadMode::Edge || (mode == PadMode::Reflect && n == 1))
    return std::clamp<int64_t>(i, 0, n - 1);
  int64_t period = mode == PadMode::Reflect ? 2 * (n - 1) : 2 * n;
  int64_t m = (i % period + period) % period;
  if (m < n) return m;
  return mode == PadMode::Reflect ? period - m : period - 1 - m;
}

}  // namespace

Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view fn) {
  size_t rank = std::max(a.size(), b.size());
  Shape out(rank);
  for (size_t i = 0; i < rank; ++i) {
    int64_t da = i < a.size() ? a[a.size() - 1 - i] : 1;
    int64_t db = i < b.size() ? b[b.size() - 1 - i] : 1;
    if (da != db && da != 1 && db != 1)
      fail(fn, "shapes " + ir::shape_str(a) + " and " + ir::shape_str(b) + " do not broadcast");
    out[rank - 1 - i] = da == 1 ? db : da;
  }
  return out;
}

Tensor broadcast_to(const Tensor& x, const Shape& shape) {
  check_valid(x, "broadcast_to");
  if (x.shape() == shape) return x;
  int r = x.ndim(), rank = static_cast<int>(shape.size());
  bool ok = r <= rank;
  for (int i = 0; ok && i < r; ++i) {
    int64_t d = x.shape()[i];
    ok = d == 1 || d == shape[rank - r + i];
  }
  if (!ok)
    fail("broadcast_to", "cannot broadcast " + x.type().str() + " to " + ir::shape_str(shape));
  std::vector<int64_t> dims(r);
  std::iota(dims.begin(), dims.end(), rank - r);
  return make(OpKind::Broadcast, {x}, make_attrs(ir::BroadcastAttrs{shape, dims}), std::nullopt,
              "broadcast_to", x.is_weak());
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  check_valid(x, "reshape");
  int64_t known = 1;
  int inferred = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (inferred >= 0)
        fail("reshape", "only one dimension can be -1, got " + ir::shape_str(shape));
      inferred = static_cast<int>(i);
    } else if (shape[i] < 0) {
      fail("reshape", "dimensions must be non-negative or -1, got " + ir::shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  Shape out = shape;
  if (inferred >= 0) {
    if (known == 0 || x.size() % known != 0)
      fail("reshape", "cannot reshape " + x.type().str() + " into " + ir::shape_str(shape));
    out[inferred] = x.size() / known;
  } else if (known != x.size()) {
    fail("reshape", "cannot reshape " + x.type().str() + " (" + std::to_string(x.size()) +
                        " elements) into " + ir::shape_str(shape) + " (" + std::to_string(known) +
                        " elements)");
  }
  if (out == x.shape()) return x;
  return make(OpKind::Reshape, {x}, make_attrs(ir::ReshapeAttrs{out}), std::nullopt, "reshape",
              x.is_weak());
}

Tensor flatten(const Tensor& x) {
  check_valid(x, "flatten");
  return reshape(x, {-1});
}

Tensor transpose(const Tensor& x) {
  check_valid(x, "transpose");
  std::vector<int> axes(x.ndim());
  std::iota(axes.rbegin(), axes.rend(), 0);
  return transpose(x, axes);
}

Tensor transpose(const Tensor& x, const std::vector<int>& axes) {
  check_valid(x, "transpose");
  if (static_cast<int>(axes.size()) != x.ndim())
    fail("transpose", "axes " + ints_str(axes) + " must name each of the " +
                          std::to_string(x.ndim()) + " axes of " + x.type().str() + " once");
  std::vector<int> perm = normalize_axes("transpose", axes, x.ndim());
  std::vector<int64_t> perm64(perm.begin(), perm.end());
  bool identity = true;
  for (size_t i = 0; i < perm.size(); ++i)
    identity = identity && perm[i] == static_cast<int>(i);
  if (identity) return x;
  return make(OpKind::Transpose, {x}, make_attrs(ir::TransposeAttrs{perm64}), std::nullopt,
              "transpose", x.is_weak());
}

Tensor swapaxes(const Tensor& x, int a, int b) {
  check_valid(x, "swapaxes");
  std::vector<int> perm(x.ndim());
  std::iota(perm.begin(), perm.end(), 0);
  std::swap(perm[normalize_axis("swapaxes", a, x.ndim())],
            perm[normalize_axis("swapaxes", b, x.ndim())]);
  return transpose(x, perm);
}

Tensor expand_dims(const Tensor& x, int axis) {
  return expand_dims(x, std::vector<int>{axis});
}

Tensor expand_dims(const Tensor& x, const std::vector<int>& axes) {
  check_valid(x, "expand_dims");
  int rank = x.ndim() + static_cast<int>(axes.size());
  std::vector<int> at = normalize_axes("expand_dims", axes, rank);
  Shape shape;
  auto old = x.shape().begin();
  for (int i = 0; i < rank; ++i)
    shape.push_back(std::find(at.begin(), at.end(), i) != at.end() ? 1 : *old++);
  return reshape(x, shape);
}

Tensor squeeze(const Tensor& x) {
  check_valid(x, "squeeze");
  std::vector<int> axes;
  for (int i = 0; i < x.ndim(); ++i)
    if (x.shape()[i] == 1) axes.push_back(i);
  return squeeze(x, axes);
}

Tensor squeeze(const Tensor& x, const std::vector<int>& axes) {
  check_valid(x, "squeeze");
  std::vector<int> drop = normalize_axes("squeeze", axes, x.ndim());
  Shape shape;
  for (int i = 0; i < x.ndim(); ++i) {
    bool dropped = std::find(drop.begin(), drop.end(), i) != drop.end();
    if (dropped && x.shape()[i] != 1)
      fail("squeeze", "axis " + std::to_string(i) + " of " + x.type().str() + " has size " +
                          std::to_string(x.shape()[i]) + ", not 1");
    if (!dropped) shape.push_back(x.shape()[i]);
  }
  return reshape(x, shape);
}

Tensor slice(const Tensor& x, const std::vector<Slice>& slices) {
  check_valid(x, "slice");
  if (static_cast<int>(slices.size()) > x.ndim())
    fail("slice", std::to_string(slices.size()) + " slices for " + x.type().str());
  int rank = x.ndim();
  std::vector<int64_t> start(rank, 0), limit(x.shape()), stride(rank, 1);
  std::vector<std::pair<int, Range>> reversed;  // negative steps: gathered afterwards
  for (size_t i = 0; i < slices.size(); ++i) {
    Range r = resolve(slices[i], x.shape()[i]);
    if (r.step < 0 && r.count > 0) {
      reversed.emplace_back(static_cast<int>(i), r);
    } else if (r.count == 0) {
      start[i] = limit[i] = 0;
    } else {
      start[i] = r.start;
      limit[i] = r.start + (r.count - 1) * r.step + 1;
      stride[i] = r.step;
    }
  }
  Tensor out = x;
  if (start != std::vector<int64_t>(rank, 0) || limit != x.shape() ||
      stride != std::vector<int64_t>(rank, 1)) {
    out = make(OpKind::Slice, {x}, make_attrs(ir::SliceAttrs{start, limit, stride}), std::nullopt,
               "slice", x.is_weak());
  }
  // The IR slice has positive strides only; a backward walk is a gather of its indices.
  for (const auto& [axis, r] : reversed) {
    Tensor table = index_table(r.start, r.count, r.step, x.shape()[axis]);
    out = make(OpKind::Take, {out, table}, make_attrs(ir::TakeAttrs{axis}), std::nullopt, "slice",
               x.is_weak());
  }
  return out;
}

Tensor slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
             const std::vector<int64_t>& step) {
  if (start.size() != stop.size() || (!step.empty() && step.size() != start.size()))
    fail("slice", "start, stop and step need one entry per axis, got " +
                      std::to_string(start.size()) + ", " + std::to_string(stop.size()) + " and " +
                      std::to_string(step.size()));
  std::vector<Slice> slices;
  for (size_t i = 0; i < start.size(); ++i)
    slices.push_back({start[i], stop[i], step.empty() ? 1 : step[i]});
  return slice(x, slices);
}

Tensor slice(const Tensor& x, int axis, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step) {
  check_valid(x, "slice");
  int a = normalize_axis("slice", axis, x.ndim());
  std::vector<Slice> slices(a + 1);
  slices[a] = {start, stop, step};
  return slice(x, slices);
}

Tensor index(const Tensor& x, int64_t i, int axis) {
  check_valid(x, "index");
  int a = normalize_axis("index", axis, x.ndim());
  int64_t n = x.shape()[a];
  if (i < -n || i >= n)
    fail("index", "index " + std::to_string(i) + " is out of range for axis " + std::to_string(a) +
                      " of " + x.type().str());
  if (i < 0) i += n;
  Tensor s = slice(x, a, i, i + 1);
  return squeeze(s, {a});
}

Tensor concatenate(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) fail("concatenate", "needs at least one tensor");
  for (const Tensor& x : xs)
    check_valid(x, "concatenate");
  const Tensor& first = xs[0];
  if (first.ndim() == 0) fail("concatenate", "cannot join scalars (" + first.type().str() + ")");
  int a = normalize_axis("concatenate", axis, first.ndim());
  Promoted type = result_type(xs);
  std::vector<Tensor> operands;
  for (const Tensor& x : xs) {
    bool agree = x.ndim() == first.ndim();
    for (int d = 0; agree && d < x.ndim(); ++d)
      agree = d == a || x.shape()[d] == first.shape()[d];
    if (!agree)
      fail("concatenate", "shapes must agree off axis " + std::to_string(a) + ", got " +
                              first.type().str() + " and " + x.type().str());
    operands.push_back(cast_operand(x, type.dtype, "concatenate"));
  }
  if (operands.size() == 1) return operands[0];
  return make(OpKind::Concatenate, operands, make_attrs(ir::ConcatenateAttrs{a}), std::nullopt,
              "concatenate", type.weak);
}

Tensor stack(const std::vector<Tensor>& xs, int axis) {
  if (xs.empty()) fail("stack", "needs at least one tensor");
  for (const Tensor& x : xs)
    check_valid(x, "stack");
  int a = normalize_axis("stack", axis, xs[0].ndim() + 1);
  std::vector<Tensor> expanded;
  for (const Tensor& x : xs) {
    if (x.shape() != xs[0].shape())
      fail("stack",
           "tensors must have one shape, got " + xs[0].type().str() + " and " + x.type().str());
    expanded.push_back(expand_dims(x, a));
  }
  return concatenate(expanded, a);
}

namespace {
// Indices into an axis of size n, negative ones counting from the end (numpy's rule).
Tensor wrapped_indices(const Tensor& indices, int64_t n) {
  Tensor idx = indices;
  if (!ir::is_signed_int(idx.dtype())) return idx;
  if (ir::dtype_size(idx.dtype()) < 4) idx = astype(idx, DType::I32);
  // Known non-negative indices (literals, index tables) need no wrap-around.
  bool known_nonnegative = false;
  if (const auto& data = idx.node()->data) {
    known_nonnegative = true;
    for (int64_t i = 0; i < data->num_elements() && known_nonnegative; ++i)
      known_nonnegative = data->get_i64(i) >= 0;
  }
  return known_nonnegative ? idx : where(idx < 0, idx + n, idx);
}

void check_indices(const Tensor& indices, std::string_view fn) {
  check_valid(indices, fn);
  if (!ir::is_integer(indices.dtype()))
    fail(fn, "indices must be integers, got " + indices.type().str());
}

// x, the indices broadcast against it (all but the axis) and the axis, for the along-axis
// functions; without an axis both are flattened, as numpy does.
struct AlongAxis {
  Tensor x, indices;
  int axis;
};

AlongAxis along_axis(const Tensor& x, const Tensor& indices, std::optional<int> axis,
                     std::string_view fn) {
  check_valid(x, fn);
  check_indices(indices, fn);
  AlongAxis a{axis ? x : flatten(x), axis ? indices : flatten(indices), 0};
  if (a.indices.ndim() != a.x.ndim())
    fail(fn, "indices must have the operand's rank, got " + indices.type().str() + " for " +
                 x.type().str());
  a.axis = normalize_axis(fn, axis.value_or(0), a.x.ndim());
  const int64_t n = a.x.shape()[a.axis];
  if (n == 0 && a.indices.size() > 0)
    fail(fn, "cannot index the empty axis " + std::to_string(a.axis) + " of " + x.type().str());
  Shape shape = a.x.shape();
  shape[a.axis] = a.indices.shape()[a.axis];
  a.indices = wrapped_indices(broadcast_to(a.indices, shape), n);
  return a;
}
}  // namespace

Tensor take(const Tensor& x, const Tensor& indices, std::optional<int> axis) {
  check_valid(x, "take");
  check_indices(indices, "take");
  Tensor source = axis ? x : flatten(x);
  int a = axis ? normalize_axis("take", *axis, x.ndim()) : 0;
  int64_t n = source.shape()[a];
  if (n == 0)
    fail("take", "cannot take from empty axis " + std::to_string(a) + " of " + x.type().str());
  return make(OpKind::Take, {source, wrapped_indices(indices, n)}, make_attrs(ir::TakeAttrs{a}),
              std::nullopt, "take", x.is_weak());
}

Tensor take_along_axis(const Tensor& x, const Tensor& indices, std::optional<int> axis) {
  const AlongAxis a = along_axis(x, indices, axis, "take_along_axis");
  return make(OpKind::TakeAlongAxis, {a.x, a.indices}, make_attrs(ir::AlongAxisAttrs{a.axis}),
              std::nullopt, "take_along_axis", x.is_weak());
}

Tensor put_along_axis(const Tensor& x, const Tensor& indices, const Tensor& values,
                      std::optional<int> axis, std::string_view mode) {
  const AlongAxis a = along_axis(x, indices, axis, "put_along_axis");
  check_valid(values, "put_along_axis");
  if (mode != "add" && mode != "mul" && mode != "max" && mode != "min" && mode != "set")
    fail("put_along_axis",
         "mode must be add, mul, max, min or set, got \"" + std::string(mode) + "\"");
  const Tensor v = broadcast_to(astype(values, a.x.dtype()), a.indices.shape());
  Tensor out = make(OpKind::ScatterAlongAxis, {a.x, a.indices, v},
                    make_attrs(ir::ScatterAlongAxisAttrs{a.axis, std::string(mode)}), std::nullopt,
                    "put_along_axis");
  return axis ? out : reshape(out, x.shape());
}

Tensor IndexedUpdate::update(const Tensor& values, std::string_view mode) const {
  const std::string fn = "at(...)." + std::string(mode == "mul"   ? "multiply"
                                                  : mode == "max" ? "maximum"
                                                  : mode == "min" ? "minimum"
                                                                  : mode);
  check_valid(x_, fn);
  check_indices(indices_, fn);
  if (x_.ndim() == 0) fail(fn, "needs an operand with an axis to index, got a scalar");
  // Each index picks a slice along axis 0; as an along-axis scatter, the index is repeated
  // over the slice and the values fill it.
  const int64_t m = indices_.size();
  Shape slices = x_.shape();
  slices[0] = m;
  Shape index_shape(slices.size(), 1);
  index_shape[0] = m;
  Shape value_shape = indices_.shape();
  value_shape.insert(value_shape.end(), x_.shape().begin() + 1, x_.shape().end());
  const Tensor idx = broadcast_to(reshape(indices_, index_shape), slices);
  const Tensor v = reshape(broadcast_to(astype(values, x_.dtype()), value_shape), slices);
  return put_along_axis(x_, idx, v, 0, mode);
}

IndexedUpdate Tensor::at(const Tensor& indices) const {
  return IndexedUpdate(*this, indices);
}

Tensor flip(const Tensor& x) {
  check_valid(x, "flip");
  std::vector<int> axes(x.ndim());
  std::iota(axes.begin(), axes.end(), 0);
  return flip(x, axes);
}

Tensor flip(const Tensor& x, int axis) {
  return flip(x, std::vector<int>{axis});
}

Tensor flip(const Tensor& x, const std::vector<int>& axes) {
  check_valid(x, "flip");
  std::vector<Slice> slices(x.ndim());
  for (int a : normalize_axes("flip", axes, x.ndim()))
    slices[a].step = -1;
  return slice(x, slices);
}

Tensor roll(const Tensor& x, int64_t shift, std::optional<int> axis) {
  check_valid(x, "roll");
  if (axis) return roll(x, std::vector<int64_t>{shift}, std::vector<int>{*axis});
  return reshape(roll_axis(flatten(x), 0, shift), x.shape());
}

Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int>& axes) {
  check_valid(x, "roll");
  // numpy broadcasts one shift over several axes, or one axis over several shifts.
  size_t count = std::max(shifts.size(), axes.size());
  if (shifts.empty() || (shifts.size() != axes.size() && shifts.size() != 1 && axes.size() != 1))
    fail("roll", "shifts " + ir::shape_str(shifts) + " and axes " + ints_str(axes) +
                     " must have one length, or one of them a single entry");
  std::vector<int64_t> total(x.ndim(), 0);
  for (size_t i = 0; i < count && !axes.empty(); ++i) {
    int a = normalize_axis("roll", axes[axes.size() == 1 ? 0 : i], x.type());
    total[a] += shifts[shifts.size() == 1 ? 0 : i];
  }
  Tensor out = x;
  for (int a = 0; a < x.ndim(); ++a)
    out = roll_axis(out, a, total[a]);
  return out;
}

Tensor tile(const Tensor& x, const std::vector<int64_t>& reps) {
  check_valid(x, "tile");
  for (int64_t r : reps)
    if (r < 0) fail("tile", "reps " + ir::shape_str(reps) + " must be non-negative");
  size_t rank = std::max(reps.size(), static_cast<size_t>(x.ndim()));
  Shape shape(rank - x.ndim(), 1), times(rank - reps.size(), 1);
  shape.insert(shape.end(), x.shape().begin(), x.shape().end());
  times.insert(times.end(), reps.begin(), reps.end());
  if (times == Shape(rank, 1)) return reshape(x, shape);
  // Each axis d of x becomes the pair (times[d], d): broadcast along the new outer axis of
  // every pair, then merge the pairs, so one broadcast makes every copy.
  Shape paired, tiled, out;
  for (size_t d = 0; d < rank; ++d) {
    paired.insert(paired.end(), {1, shape[d]});
    tiled.insert(tiled.end(), {times[d], shape[d]});
    out.push_back(times[d] * shape[d]);
  }
  return reshape(broadcast_to(reshape(x, paired), tiled), out);
}

Tensor repeat(const Tensor& x, int64_t repeats, std::optional<int> axis) {
  check_valid(x, "repeat");
  if (repeats < 0) fail("repeat", "repeats must be non-negative, got " + std::to_string(repeats));
  Tensor source = axis ? x : flatten(x);
  int a = axis ? normalize_axis("repeat", *axis, x.type()) : 0;
  if (repeats == 1) return source;
  // A new size-1 axis after `a`, broadcast to `repeats` and merged into `a`: each element is
  // followed by its copies (tile puts the new axis before instead, repeating whole blocks).
  Shape paired = source.shape(), out = source.shape();
  paired.insert(paired.begin() + a + 1, 1);
  Shape repeated = paired;
  repeated[a + 1] = repeats;
  out[a] *= repeats;
  return reshape(broadcast_to(reshape(source, paired), repeated), out);
}

Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pad_width,
           std::string_view mode, const Tensor& constant_value) {
  check_valid(x, "pad");
  if (!constant_value.valid())
    fail("pad", "constant_value is an empty (default-constructed) Tensor");
  const int rank = x.ndim();
  if (static_cast<int>(pad_width.size()) != rank && pad_width.size() != 1)
    fail("pad", "pad_width has " + std::to_string(pad_width.size()) + " pairs for " +
                    x.type().str() +
                    ": it needs one (before, after) pair per axis, or one for all");
  std::vector<int64_t> low(rank), high(rank);
  for (int d = 0; d < rank; ++d) {
    auto [before, after] = pad_width[pad_width.size() == 1 ? 0 : d];
    if (before < 0 || after < 0)
      fail("pad", "pad_width (" + std::to_string(before) + ", " + std::to_string(after) +
                      ") for axis " + std::to_string(d) + " must be non-negative");
    low[d] = before;
    high[d] = after;
  }
  PadMode how = pad_mode(mode);
  if (how == PadMode::Constant) {
    if (constant_value.ndim() != 0)
      fail("pad", "constant_value must be a scalar, got " + constant_value.type().str());
    if (low == std::vector<int64_t>(rank, 0) && high == low) return x;
    ir::PadAttrs amounts{low, high, std::vector<int64_t>(rank, 0)};
    return make(OpKind::Pad, {x, astype(constant_value, x.dtype())}, make_attrs(std::move(amounts)),
                std::nullopt, "pad", x.is_weak());
  }
  // The other modes copy elements of x: one gather per padded axis, whose host-made table
  // maps each output position to its source. Later axes gather from the earlier ones'
  // results, so corners come out as numpy's axis-by-axis padding makes them.
  Tensor out = x;
  for (int d = 0; d < rank; ++d) {
    if (low[d] == 0 && high[d] == 0) continue;
    int64_t n = x.shape()[d];
    if (n == 0)
      fail("pad", "cannot pad empty axis " + std::to_string(d) + " of " + x.type().str() +
                      " in mode " + std::string(mode) +
                      " (only constant mode widens an empty axis)");
    std::vector<int64_t> sources;
    for (int64_t i = -low[d]; i < n + high[d]; ++i)
      sources.push_back(padded_source(how, i, n));
    out = make(OpKind::Take, {out, index_table(sources, n)}, make_attrs(ir::TakeAttrs{d}),
               std::nullopt, "pad", x.is_weak());
  }
  return out;
}

Tensor diff(const Tensor& x, int n, int axis) {
  check_valid(x, "diff");
  if (x.ndim() == 0) fail("diff", "x must have at least one axis, got " + x.type().str());
  if (n < 0) fail("diff", "n must be non-negative, got " + std::to_string(n));
  int a = normalize_axis("diff", axis, x.type());
  Tensor out = x;
  // Once the axis is empty, further differences leave it so.
  for (int i = 0; i < n && out.shape()[a] > 0; ++i) {
    Tensor next = slice(out, a, 1, std::nullopt), prev = slice(out, a, 0, -1);
    out = x.dtype() == DType::Bool ? not_equal(next, prev) : subtract(next, prev);
  }
  return out;
}

}  // namespace kiln
