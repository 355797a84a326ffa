#pragma once
// Index movement: broadcasting, reshapes, transposes, slicing, joining and gathering. Axes may
// be negative (counted from the end) everywhere. Identity requests return the input itself,
// so they add nothing to the graph.

#include <optional>
#include <string_view>
#include <vector>

#include "frontend/tensor.h"

namespace kiln {

// numpy broadcasting of two shapes; `fn` names the caller in the error.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view fn = "broadcast_shapes");
// One IR `broadcast` node (aligning trailing axes, stretching size-1 axes), or x itself.
Tensor broadcast_to(const Tensor& x, const Shape& shape);

// One entry may be -1: it takes what the others leave.
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor flatten(const Tensor& x);
Tensor transpose(const Tensor& x);  // reverses the axes
Tensor transpose(const Tensor& x, const std::vector<int>& axes);
Tensor swapaxes(const Tensor& x, int a, int b);
// New size-1 axes at the given positions of the result.
Tensor expand_dims(const Tensor& x, int axis);
Tensor expand_dims(const Tensor& x, const std::vector<int>& axes);
// Removes the given size-1 axes, or all of them.
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, const std::vector<int>& axes);

// Python's start:stop:step on one axis; missing bounds mean "from the start/to the end" in
// the direction of the step, negative bounds count from the end, out-of-range bounds clamp.
struct Slice {
  std::optional<int64_t> start;
  std::optional<int64_t> stop;
  int64_t step = 1;
};
// One Slice per leading axis (x[s0, s1, ...]); axes without one are kept whole.
Tensor slice(const Tensor& x, const std::vector<Slice>& slices);
// start/stop/step per axis, numpy-style (one entry per leading axis; step defaults to 1).
Tensor slice(const Tensor& x, const std::vector<int64_t>& start, const std::vector<int64_t>& stop,
             const std::vector<int64_t>& step = {});
Tensor slice(const Tensor& x, int axis, std::optional<int64_t> start, std::optional<int64_t> stop,
             int64_t step = 1);
// x[..., i, ...] on `axis`: the axis disappears. Negative i counts from the end.
Tensor index(const Tensor& x, int64_t i, int axis = 0);

// Operands are promoted to a common dtype.
Tensor concatenate(const std::vector<Tensor>& xs, int axis = 0);
Tensor stack(const std::vector<Tensor>& xs, int axis = 0);

// numpy take: gathers along `axis` (flattened input when nullopt). Negative indices count
// from the end.
Tensor take(const Tensor& x, const Tensor& indices, std::optional<int> axis = std::nullopt);

}  // namespace kiln
