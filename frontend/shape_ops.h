#pragma once
// Index movement: broadcasting, reshapes, transposes, slicing, joining and gathering, and the
// numpy functions made of them (flip, roll, tile, repeat, pad, diff). Axes may be negative
// (counted from the end) everywhere. Identity requests return the input itself, so they add
// nothing to the graph.

#include <optional>
#include <string_view>
#include <utility>
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

// numpy flip: the order of the given axes reversed (every axis when none are named).
Tensor flip(const Tensor& x);
Tensor flip(const Tensor& x, int axis);
Tensor flip(const Tensor& x, const std::vector<int>& axes);

// numpy roll: elements shifted by `shift` along `axis`, those pushed past the end coming back
// at the start. Without an axis the flattened tensor rolls and gets its shape back. Several
// axes take one shift each, or one shift for all; an axis named twice rolls by the sum.
Tensor roll(const Tensor& x, int64_t shift, std::optional<int> axis = std::nullopt);
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int>& axes);

// numpy tile: x repeated reps[i] times along axis i. Shorter reps are padded with leading 1s,
// and a lower-rank x with leading size-1 axes, so the result has the larger rank.
Tensor tile(const Tensor& x, const std::vector<int64_t>& reps);
// numpy repeat: each element `repeats` times in a row along `axis` (of the flattened tensor
// when nullopt): repeat([1, 2], 2) is [1, 1, 2, 2].
Tensor repeat(const Tensor& x, int64_t repeats, std::optional<int> axis = std::nullopt);

// numpy pad: pad_width holds a (before, after) pair per axis, or one pair for every axis.
// Modes: "constant" (constant_value, cast to x's dtype as numpy does), "edge" (the edge
// element repeated), "reflect" (mirrored about the edge element, which is not repeated:
// [1, 2, 3] -> 3 2 | 1 2 3 | 2 1) and "symmetric" (mirrored including it: 2 1 | 1 2 3 | 3 2).
// Widths past the axis length keep mirroring, as numpy >= 2.1 does (older numpy loses values
// there, numpy issue 25926); reflect on a size-1 axis repeats its element, as numpy does.
// Only constant mode may widen an empty axis.
Tensor pad(const Tensor& x, const std::vector<std::pair<int64_t, int64_t>>& pad_width,
           std::string_view mode = "constant", const Tensor& constant_value = 0);

// numpy diff: the n-th forward difference x[i+1] - x[i] along `axis`, which shrinks by n (to
// no elements, if n reaches its size). Bools differ by not_equal, as in numpy.
Tensor diff(const Tensor& x, int n = 1, int axis = -1);

// numpy's take_along_axis: indices of x's rank (size-1 dims broadcast, except along the
// axis), clamped into range, negative ones counting from the end; without an axis, x and the
// indices are flattened.
Tensor take_along_axis(const Tensor& x, const Tensor& indices, std::optional<int> axis);
// The other direction, returning a new tensor (numpy's writes in place): values (broadcast to
// the indices' shape) written at those positions, combined by mode: "set" (the later one in
// the indices' row-major order wins), "add", "mul", "max" or "min" (NaN propagating).
Tensor put_along_axis(const Tensor& x, const Tensor& indices, const Tensor& values,
                      std::optional<int> axis, std::string_view mode = "set");

// x.at(indices).add(v), as MLX's array.at: the slices of x along axis 0 that the indices name
// (any shape; negative ones from the end) updated by the values, broadcast to
// indices.shape + x.shape[1:]; duplicates combine in order.
class IndexedUpdate {
 public:
  IndexedUpdate(Tensor x, Tensor indices) : x_(std::move(x)), indices_(std::move(indices)) {}
  Tensor add(const Tensor& values) const { return update(values, "add"); }
  Tensor set(const Tensor& values) const { return update(values, "set"); }
  Tensor multiply(const Tensor& values) const { return update(values, "mul"); }
  Tensor maximum(const Tensor& values) const { return update(values, "max"); }
  Tensor minimum(const Tensor& values) const { return update(values, "min"); }

 private:
  Tensor update(const Tensor& values, std::string_view mode) const;
  Tensor x_, indices_;
};

}  // namespace kiln
