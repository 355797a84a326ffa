// numpy's array functions made of existing frontend ops: flip, roll, tile, repeat, pad, diff,
// einsum, tensordot, inner, kron, diagonal, diag, trace, tri, tril, triu, linspace, meshgrid,
// logaddexp, isclose, allclose, nan_to_num. Expected values were computed with numpy (pad's
// wide reflections by the periodic rule of numpy >= 2.1, see shape_ops.h).

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using ir::OpKind;
using test::expect_values;

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 0, 1, 2, ... in the given shape, as f32 data.
Tensor counting(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(ir::TensorType{DType::F32, shape}.num_elements()));
  std::iota(v.begin(), v.end(), 0.0f);
  return Tensor(v, shape);
}

// Like expect_values, where infinities must match exactly and NaN must be NaN.
void expect_special(const Tensor& t, const std::vector<double>& want, double tol = 1e-6) {
  std::vector<double> got = test::values(t);
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isnan(want[i]))
      EXPECT_TRUE(std::isnan(got[i])) << "element " << i << " is " << got[i];
    else if (std::isinf(want[i]))
      EXPECT_EQ(got[i], want[i]) << "element " << i;
    else
      EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
  }
}

void expect_bools(const Tensor& t, const std::vector<bool>& want) {
  EXPECT_EQ(t.dtype(), DType::Bool);
  std::vector<bool> got = t.to_vector<bool>();
  EXPECT_EQ(got, want);
}

TEST(NumpySurface, Flip) {
  Tensor x = counting({2, 3});
  expect_values(flip(x), {5, 4, 3, 2, 1, 0});
  expect_values(flip(x, 1), {2, 1, 0, 5, 4, 3});
  expect_values(flip(x, {-2}), {3, 4, 5, 0, 1, 2});
  EXPECT_TRUE(flip(x, std::vector<int>{}).same_node(x));
  EXPECT_EQ(flip(zeros({0, 2})).shape(), (Shape{0, 2}));
  EXPECT_ERROR(flip(x, 2), "[frontend] flip: axis 2 is out of range for rank 2");
  EXPECT_ERROR(flip(x, {0, -2}), "[frontend] flip: axes [0,-2] name axis 0 twice");
}

TEST(NumpySurface, Roll) {
  Tensor x = counting({2, 3});
  expect_values(roll(x, 1), {5, 0, 1, 2, 3, 4});  // flattened, then reshaped
  EXPECT_EQ(roll(x, 1).shape(), (Shape{2, 3}));
  expect_values(roll(x, -1, 1), {1, 2, 0, 4, 5, 3});
  expect_values(roll(x, 7, 1), {2, 0, 1, 5, 3, 4});
  expect_values(roll(x, {1, 2}, {0, 1}), {4, 5, 3, 1, 2, 0});
  expect_values(roll(x, {1, 1}, {1, 1}), {1, 2, 0, 4, 5, 3});  // an axis twice: shifts add
  EXPECT_TRUE(roll(x, 3, 1).same_node(x));
  EXPECT_EQ(roll(zeros({0, 3}), 2, 0).shape(), (Shape{0, 3}));
  expect_values(roll(Tensor(4.0f), 3), {4});
  EXPECT_ERROR(roll(x, 1, 2), "[frontend] roll: axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(roll(x, {1, 2, 3}, {0, 1}),
               "[frontend] roll: shifts [1,2,3] and axes [0,1] must have one length");
}

TEST(NumpySurface, Tile) {
  expect_values(tile(Tensor({1, 2}), {2, 2}), {1, 2, 1, 2, 1, 2, 1, 2});
  EXPECT_EQ(tile(Tensor({1, 2}), {2, 2}).shape(), (Shape{2, 4}));
  Tensor x = counting({2, 3});
  Tensor t = tile(x, {2});
  EXPECT_EQ(t.shape(), (Shape{2, 6}));
  expect_values(t, {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  EXPECT_EQ(tile(x, {2, 1, 1}).shape(), (Shape{2, 2, 3}));
  EXPECT_EQ(tile(x, {0, 2}).shape(), (Shape{0, 6}));
  EXPECT_TRUE(tile(x, {1, 1}).same_node(x));
  EXPECT_EQ(tile(x, {1, 1, 1}).shape(), (Shape{1, 2, 3}));
  EXPECT_ERROR(tile(x, {2, -1}), "[frontend] tile: reps [2,-1] must be non-negative");
}

TEST(NumpySurface, Repeat) {
  Tensor x = counting({2, 3});
  expect_values(repeat(x, 2), {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  EXPECT_EQ(repeat(x, 2).shape(), (Shape{12}));
  Tensor r = repeat(x, 2, 1);
  EXPECT_EQ(r.shape(), (Shape{2, 6}));
  expect_values(r, {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5});
  expect_values(repeat(x, 2, 0), {0, 1, 2, 0, 1, 2, 3, 4, 5, 3, 4, 5});
  EXPECT_EQ(repeat(x, 0, 0).shape(), (Shape{0, 3}));
  EXPECT_TRUE(repeat(x, 1, -1).same_node(x));
  EXPECT_ERROR(repeat(x, -1), "[frontend] repeat: repeats must be non-negative, got -1");
  EXPECT_ERROR(repeat(x, 2, 2), "[frontend] repeat: axis 2 is out of range for f32[2,3]");
}

TEST(NumpySurface, PadConstant) {
  Tensor x = counting({2, 3});
  Tensor p = pad(x, {{1, 0}, {0, 2}}, "constant", 7);
  EXPECT_EQ(p.shape(), (Shape{3, 5}));
  expect_values(p, {7, 7, 7, 7, 7, 0, 1, 2, 7, 7, 3, 4, 5, 7, 7});
  EXPECT_EQ(pad(x, {{1, 1}}).shape(), (Shape{4, 5}));  // one pair for every axis
  // The value takes x's dtype, truncated as numpy casts it.
  Tensor ints = pad(Tensor({0, 1, 2}), {{1, 1}}, "constant", 1.5);
  EXPECT_EQ(ints.dtype(), DType::I32);
  expect_values(ints, {1, 0, 1, 2, 1});
  EXPECT_TRUE(pad(x, {{0, 0}, {0, 0}}).same_node(x));
  EXPECT_EQ(pad(zeros({0, 2}), {{1, 0}, {0, 0}}).shape(), (Shape{1, 2}));
}

TEST(NumpySurface, PadCopyingModes) {
  Tensor a = {1.0f, 2.0f, 3.0f};
  Tensor x = counting({2, 3});
  expect_values(pad(a, {{2, 3}}, "edge"), {1, 1, 1, 2, 3, 3, 3, 3});
  expect_values(pad(a, {{2, 3}}, "reflect"), {3, 2, 1, 2, 3, 2, 1, 2});
  expect_values(pad(a, {{2, 3}}, "symmetric"), {2, 1, 1, 2, 3, 3, 2, 1});
  // Corners: each axis pads the previous axes' result, as numpy does.
  expect_values(pad(x, {{1, 0}, {2, 1}}, "edge"),
                {0, 0, 0, 1, 2, 2, 0, 0, 0, 1, 2, 2, 3, 3, 3, 4, 5, 5});
  expect_values(pad(x, {{1, 0}, {2, 1}}, "reflect"),
                {5, 4, 3, 4, 5, 4, 2, 1, 0, 1, 2, 1, 5, 4, 3, 4, 5, 4});
  expect_values(pad(x, {{1, 0}, {2, 1}}, "symmetric"),
                {1, 0, 0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 4, 3, 3, 4, 5, 5});
  // Widths past the axis keep mirroring.
  expect_values(pad(a, {{7, 7}}, "reflect"), {2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2});
  expect_values(pad(a, {{1, 8}}, "reflect"), {2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3});
  expect_values(pad(a, {{5, 6}}, "symmetric"), {2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3});
  // Reflecting a single element repeats it (numpy's legacy rule).
  expect_values(pad(Tensor({5}), {{3, 3}}, "reflect"), {5, 5, 5, 5, 5, 5, 5});
  // Unpadded empty axes are fine, and so is padding the other axes of an empty tensor.
  EXPECT_EQ(pad(zeros({0, 2}), {{0, 0}, {1, 1}}, "edge").shape(), (Shape{0, 4}));
}

TEST(NumpySurface, PadErrors) {
  Tensor x = counting({2, 3});
  EXPECT_ERROR(pad(x, {{1, 1}, {1, 1}, {1, 1}}),
               "[frontend] pad: pad_width has 3 pairs for f32[2,3]: it needs one (before, after) "
               "pair per axis, or one for all");
  EXPECT_ERROR(pad(x, {{1, -1}}),
               "[frontend] pad: pad_width (1, -1) for axis 0 must be non-negative");
  EXPECT_ERROR(pad(x, {{1, 1}}, "wrap"),
               "[frontend] pad: unknown mode \"wrap\" (expected constant, edge, reflect or "
               "symmetric)");
  EXPECT_ERROR(pad(zeros({0, 2}), {{1, 0}, {0, 0}}, "reflect"),
               "[frontend] pad: cannot pad empty axis 0 of f32[0,2] in mode reflect");
  EXPECT_ERROR(pad(x, {{1, 1}}, "constant", Tensor({1, 2})),
               "[frontend] pad: constant_value must be a scalar, got i32[2]");
}

TEST(NumpySurface, Diff) {
  Tensor y = {1.0f, 4.0f, 9.0f, 16.0f};
  expect_values(diff(y), {3, 5, 7});
  expect_values(diff(y, 2), {2, 2});
  EXPECT_EQ(diff(y, 9).shape(), (Shape{0}));
  EXPECT_TRUE(diff(y, 0).same_node(y));
  expect_values(diff(counting({2, 3}), 1, 0), {3, 3, 3});
  expect_bools(diff(Tensor({true, false, false, true})), {true, false, true});
  EXPECT_ERROR(diff(y, -1), "[frontend] diff: n must be non-negative, got -1");
  EXPECT_ERROR(diff(Tensor(1.0f)), "[frontend] diff: x must have at least one axis, got f32[]");
  EXPECT_ERROR(diff(y, 1, 1), "[frontend] diff: axis 1 is out of range for f32[4]");
}

TEST(NumpySurface, Einsum) {
  Tensor a = counting({2, 3}), b = counting({3, 4}), c = counting({3, 3});
  const std::vector<double> ab = {20, 23, 26, 29, 56, 68, 80, 92};
  expect_values(einsum("ij,jk->ik", {a, b}), ab);
  expect_values(einsum("ij,jk", {a, b}), ab);  // implicit output: i, k
  expect_values(einsum("ii->i", {c}), {0, 4, 8});
  expect_values(einsum("ii", {c}), {12});
  expect_values(einsum("ij->", {a}), {15});
  expect_values(einsum("ij->j", {a}), {3, 5, 7});
  expect_values(einsum("ji", {a}), {0, 3, 1, 4, 2, 5});  // implicit: alphabetical, a transpose
  EXPECT_EQ(einsum("aB", {a}).shape(), (Shape{3, 2}));   // capitals sort first, as numpy
  expect_values(einsum("i,j->ij", {Tensor({1.0f, 2.0f, 3.0f}), Tensor({1.0f, 2.0f})}),
                {1, 2, 2, 4, 3, 6});
  expect_values(einsum("i, i", {Tensor({1.0f, 2.0f, 3.0f}), Tensor({1.0f, 2.0f, 3.0f})}), {14});
  expect_values(einsum("ij,ij->i", {a, a}), {5, 50});
  expect_values(einsum("ij,kj->ik", {a, a}), {5, 14, 14, 50});
  expect_values(einsum("ab,cd->", {a, a}), {225});
  expect_values(einsum("iij->j", {counting({3, 3, 2})}), {24, 27});
  expect_values(einsum("ij,jk,kl->il", {a, b, ones({4, 2})}), {98, 98, 296, 296});
  Tensor t = counting({2, 3, 4});
  Tensor lhs = slice(t, {0, 0, 0}, {2, 2, 3}), rhs = slice(t, {0, 0, 0}, {2, 3, 4});
  expect_values(einsum("bij,bjk->bik", {lhs, rhs}),
                {20, 23, 26, 29, 68, 83, 98, 113, 632, 671, 710, 749, 824, 875, 926, 977});
  expect_values(einsum("ij,jk->ki", {a, b}), {20, 56, 23, 68, 26, 80, 29, 92});
  // Shared indices that stay are batch axes; without a contracted one it is a multiply.
  expect_values(einsum("ij,ij->ij", {a, a}), {0, 1, 4, 9, 16, 25});
  expect_values(einsum("ij,ji->", {a, transpose(a)}), {55});
  expect_values(einsum("bi,bj->bij", {a, slice(a, 1, 0, 2)}),
                {0, 0, 0, 1, 0, 2, 9, 12, 12, 16, 15, 20});
  EXPECT_TRUE(einsum("ij->ij", {a}).same_node(a));
  // Operands promote; bool products are logical, as in numpy.
  EXPECT_EQ(einsum("i,i", {Tensor({1, 2}), Tensor({0.5f, 1.0f})}).dtype(), DType::F32);
  Tensor flags = Tensor({true, false, true});
  expect_bools(einsum("i,i", {flags, flags}), {true});
  expect_bools(einsum("i->", {Tensor({false, false})}), {false});
}

TEST(NumpySurface, EinsumIsOneDotGeneralPerContraction) {
  ir::Function f = kiln::trace(
      [](Tensor x, Tensor y) {
        return einsum("bij,bjk->bik", {x, y});
      },
      {test::ty(DType::F32, {5, 2, 3}), test::ty(DType::F32, {5, 3, 4})});
  EXPECT_EQ(test::count_op(f, OpKind::DotGeneral), 1);
  EXPECT_EQ(f.result_types()[0], test::ty(DType::F32, {5, 2, 4}));
}

TEST(NumpySurface, EinsumErrors) {
  Tensor a = counting({2, 3}), b = counting({3, 4});
  EXPECT_ERROR(einsum("ij,jk->ik", {a}),
               "[frontend] einsum: subscripts \"ij,jk->ik\" name 2 operands, got 1");
  EXPECT_ERROR(einsum("ijk,jk", {a, b}),
               "[frontend] einsum: subscripts \"ijk,jk\" give operand 0 (f32[2,3]) 3 indices, "
               "one per axis needed");
  EXPECT_ERROR(einsum("ij,ik->jk", {a, b}),
               "[frontend] einsum: index 'i' has size 2 in operand 0 (f32[2,3]) and 3 in "
               "operand 1 (f32[3,4])");
  EXPECT_ERROR(einsum("ij->iz", {a}),
               "[frontend] einsum: subscripts \"ij->iz\": output index 'z' is in no operand");
  EXPECT_ERROR(einsum("ij->ii", {a}),
               "[frontend] einsum: subscripts \"ij->ii\": output index 'i' appears twice");
  EXPECT_ERROR(einsum("i1", {a}), "[frontend] einsum: subscripts \"i1\": '1' is not a letter");
  EXPECT_ERROR(einsum("...i->i", {a}), "ellipsis (...) is not supported");
  EXPECT_ERROR(einsum("ii", {a}), "[frontend] einsum: index 'i' has size 2 in operand 0");
  EXPECT_ERROR(einsum("", {}), "[frontend] einsum: needs at least one operand");
}

TEST(NumpySurface, Tensordot) {
  Tensor a = counting({2, 3}), b = counting({3, 4}), t = counting({2, 3, 4});
  expect_values(tensordot(t, counting({3, 4})), {506, 1298});
  expect_values(tensordot(a, b, 1), {20, 23, 26, 29, 56, 68, 80, 92});
  expect_values(tensordot(Tensor({1.0f, 2.0f, 3.0f}), Tensor({1.0f, 2.0f}), 0), {1, 2, 2, 4, 3, 6});
  Tensor pairs = tensordot(t, counting({3, 2}), {{1, 0}, {0, 1}});
  EXPECT_EQ(pairs.shape(), (Shape{4}));
  expect_values(pairs, {200, 215, 230, 245});
  EXPECT_ERROR(tensordot(a, b, 3),
               "[frontend] tensordot: axes 3 must be between 0 and the "
               "smaller rank of f32[2,3] and f32[3,4]");
  EXPECT_ERROR(tensordot(a, b, {{1}, {1}}),
               "[frontend] tensordot: axis 1 of f32[2,3] and axis 1 of f32[3,4] differ in size");
  EXPECT_ERROR(tensordot(a, b, {{1, 0}, {0}}),
               "[frontend] tensordot: axes name 2 axes of a and 1 of b");
  EXPECT_ERROR(tensordot(a, b, {{2}, {0}}),
               "[frontend] tensordot: axis 2 is out of range for f32[2,3]");
  EXPECT_ERROR(tensordot(t, t, {{0, 0}, {0, 1}}),
               "[frontend] tensordot: an axis is contracted twice");
}

TEST(NumpySurface, InnerAndKron) {
  Tensor a = counting({2, 3});
  expect_values(inner(a, a), {5, 14, 14, 50});
  expect_values(inner(Tensor({1.0f, 2.0f, 3.0f}), Tensor({1.0f, 2.0f, 3.0f})), {14});
  expect_values(inner(Tensor(2.0f), a), {0, 2, 4, 6, 8, 10});
  EXPECT_ERROR(inner(a, counting({3, 2})),
               "[frontend] inner: axis 1 of f32[2,3] and axis 1 of f32[3,2] differ in size");
  Tensor k = kron(Tensor({{1, 2}, {3, 4}}), Tensor({{0, 1}, {1, 0}}));
  EXPECT_EQ(k.shape(), (Shape{4, 4}));
  EXPECT_EQ(k.dtype(), DType::I32);
  expect_values(k, {0, 1, 0, 2, 1, 0, 2, 0, 0, 3, 0, 4, 3, 0, 4, 0});
  Tensor mixed = kron(Tensor({1, 10}), Tensor({{1, 2}, {3, 4}}));
  EXPECT_EQ(mixed.shape(), (Shape{2, 4}));
  expect_values(mixed, {1, 2, 10, 20, 3, 4, 30, 40});
}

TEST(NumpySurface, DiagonalDiagTrace) {
  Tensor v = {1.0f, 2.0f, 3.0f};
  Tensor b = counting({3, 4}), c = counting({3, 3}), t = counting({2, 3, 4});
  EXPECT_EQ(diag(v, 1).shape(), (Shape{4, 4}));
  expect_values(diag(v, 1), {0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0});
  expect_values(diag(v, -1), {0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0});
  expect_values(diag(v), {1, 0, 0, 0, 2, 0, 0, 0, 3});
  expect_values(diag(Tensor({7})), {7});
  EXPECT_EQ(diag(zeros({0}), 2).shape(), (Shape{2, 2}));
  expect_values(diag(b), {0, 5, 10});
  expect_values(diag(b, 1), {1, 6, 11});
  expect_values(diag(b, -1), {4, 9});
  EXPECT_EQ(diag(b, 5).shape(), (Shape{0}));
  Tensor d = diagonal(t, 1, 2, 1);
  EXPECT_EQ(d.shape(), (Shape{2, 2}));
  expect_values(d, {4, 9, 16, 21});
  expect_values(trace(c), {12});
  expect_values(trace(b, 1), {18});
  expect_values(trace(t), {16, 18, 20, 22});
  expect_values(trace(t, 0, 1, 2), {15, 51});
  expect_values(trace(t, -1, 2, 1), {18, 54});
  EXPECT_ERROR(diag(t), "[frontend] diag: x must be 1-D or 2-D, got f32[2,3,4]");
  EXPECT_ERROR(trace(v), "[frontend] trace: x must have at least two axes, got f32[3]");
  EXPECT_ERROR(trace(c, 0, 1, -1),
               "[frontend] trace: axis1 and axis2 name one axis (1) of f32[3,3]");
  EXPECT_ERROR(diagonal(c, 0, 0, 2), "[frontend] diagonal: axis 2 is out of range for f32[3,3]");
}

TEST(NumpySurface, Triangles) {
  Tensor m = tri(3, 4, 1);
  EXPECT_EQ(m.shape(), (Shape{3, 4}));
  EXPECT_EQ(m.dtype(), DType::F32);
  expect_values(m, {1, 1, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1});
  expect_values(tri(3, std::nullopt, -1, DType::I32), {0, 0, 0, 1, 0, 0, 1, 1, 0});
  Tensor b = counting({3, 4});
  expect_values(tril(b), {0, 0, 0, 0, 4, 5, 0, 0, 8, 9, 10, 0});
  expect_values(tril(b, -1), {0, 0, 0, 0, 4, 0, 0, 0, 8, 9, 0, 0});
  expect_values(triu(b), {0, 1, 2, 3, 0, 5, 6, 7, 0, 0, 10, 11});
  expect_values(triu(b, 1), {0, 1, 2, 3, 0, 0, 6, 7, 0, 0, 0, 11});
  Tensor stack = slice(counting({2, 3, 4}), {0, 0, 0}, {2, 3, 3});
  expect_values(tril(stack), {0, 0, 0, 4, 5, 0, 8, 9, 10, 12, 0, 0, 16, 17, 0, 20, 21, 22});
  EXPECT_EQ(tril(Tensor({true, true}).reshape({1, 2})).dtype(), DType::Bool);
  EXPECT_ERROR(tril(Tensor({1, 2})), "[frontend] tril: x must have at least two axes, got i32[2]");
  EXPECT_ERROR(tri(-1), "[frontend] tri: shape [-1,-1] has a negative dimension");
}

TEST(NumpySurface, Linspace) {
  expect_values(linspace(0, 1, 5), {0, 0.25, 0.5, 0.75, 1});
  expect_values(linspace(0, 1, 5, false), {0, 0.2, 0.4, 0.6, 0.8});
  expect_values(linspace(1, 0, 3), {1, 0.5, 0});
  expect_values(linspace(2, 3, 1), {2});
  EXPECT_EQ(linspace(0, 1, 0).shape(), (Shape{0}));
  Tensor ints = linspace(-1, 4, 4, true, DType::I32);  // floors -1, 0.67, 2.33, 4
  EXPECT_EQ(ints.dtype(), DType::I32);
  expect_values(ints, {-1, 0, 2, 4});
  // numpy's values rounded to f32; the compiled f32 arithmetic may differ in the last place.
  Tensor fine = linspace(0, 0.3, 7);
  EXPECT_EQ(fine.dtype(), DType::F32);
  expect_values(fine,
                {0.0, 0.05000000074505806, 0.10000000149011612, 0.15000000596046448,
                 0.20000000298023224, 0.25, 0.30000001192092896},
                1e-7);
  EXPECT_EQ(linspace(0, 1, 3, true, DType::F64).dtype(), DType::F64);
  EXPECT_ERROR(linspace(0, 1, -1), "[frontend] linspace: num must be non-negative, got -1");
  EXPECT_ERROR(linspace(0, kInf, 3), "[frontend] linspace: start and stop must be finite");
}

TEST(NumpySurface, Meshgrid) {
  Tensor x = {1, 2, 3}, y = {4, 5};
  std::vector<Tensor> xy = meshgrid({x, y});
  ASSERT_EQ(xy.size(), 2u);
  EXPECT_EQ(xy[0].shape(), (Shape{2, 3}));
  expect_values(xy[0], {1, 2, 3, 1, 2, 3});
  expect_values(xy[1], {4, 4, 4, 5, 5, 5});
  std::vector<Tensor> ij = meshgrid({x, y}, "ij");
  EXPECT_EQ(ij[0].shape(), (Shape{3, 2}));
  expect_values(ij[0], {1, 1, 2, 2, 3, 3});
  expect_values(ij[1], {4, 5, 4, 5, 4, 5});
  std::vector<Tensor> three = meshgrid({x, y, Tensor({7, 8})});
  EXPECT_EQ(three[2].shape(), (Shape{2, 3, 2}));
  expect_values(three[2], {7, 8, 7, 8, 7, 8, 7, 8, 7, 8, 7, 8});
  EXPECT_EQ(meshgrid({counting({2, 2})})[0].shape(), (Shape{4}));  // inputs are flattened
  EXPECT_TRUE(meshgrid({}).empty());
  EXPECT_ERROR(meshgrid({x}, "xyz"),
               "[frontend] meshgrid: indexing must be \"xy\" or \"ij\", got \"xyz\"");
}

TEST(NumpySurface, ComposeWithTransforms) {
  // A gather's gradient scatters: each element collects the weights of its mirrored copies.
  Tensor w = counting({8});
  auto padded = [&](Tensor x) { return sum(w * pad(x, {{2, 3}}, "reflect")); };
  expect_values(grad(padded)(Tensor({1.0f, 2.0f, 3.0f}))[0], {8, 16, 4});
  Tensor b = counting({3, 4});
  auto product = [&](Tensor a) { return sum(einsum("ij,jk->ik", {a, b})); };
  expect_values(grad(product)(counting({2, 3}))[0], {6, 22, 38, 6, 22, 38});
  // d/da logaddexp(a, b) = sigmoid(a - b), a half at a tie (max alone would give 1 or 0).
  auto lse = [](Tensor a) { return sum(logaddexp(a, Tensor({0.0f, 2.0f, 0.0f}))); };
  expect_values(grad(lse)(Tensor({0.0f, 1.0f, -1000.0f}))[0], {0.5, 0.2689414213699951, 0});
  expect_values(vmap([](Tensor m) { return trace(m); })(counting({2, 3, 3}))[0], {12, 39});
  auto moved = compile([](Tensor x) { return roll(flip(x, 0), 1, 1); });
  expect_values(moved(counting({2, 3}))[0], {5, 3, 4, 2, 0, 1});
}

TEST(NumpySurface, Logaddexp) {
  Tensor a = Tensor({0.0, 1.0, -kInf, kInf, -kInf, kNaN, 1000.0, -1000.0, 3.0}, DType::F32);
  Tensor b = Tensor({0.0, 2.0, -kInf, kInf, 5.0, 1.0, 1000.0, -1001.0, -kInf}, DType::F32);
  Tensor r = logaddexp(a, b);
  EXPECT_EQ(r.dtype(), DType::F32);
  expect_special(r,
                 {0.6931471824645996, 2.3132617473602295, -kInf, kInf, 5.0, kNaN,
                  1000.6931762695312, -999.686767578125, 3.0},
                 1e-4);
  expect_special(logaddexp(Tensor({kNaN}, DType::F32), Tensor({kInf}, DType::F32)), {kNaN});
  EXPECT_EQ(logaddexp(Tensor({1, 2}), 0).dtype(), DType::F32);  // integers compute in f32
  EXPECT_EQ(logaddexp(Tensor({1.0}, DType::F16), 0.5).dtype(), DType::F16);
  EXPECT_ERROR(logaddexp(zeros({2}), zeros({3})),
               "[frontend] logaddexp: shapes [2] and [3] do not broadcast");
}

TEST(NumpySurface, IscloseAndAllclose) {
  Tensor a = Tensor({1.0, 1.0, kInf, kInf, kNaN, kNaN, 1e-9, 100.0}, DType::F64);
  Tensor b = Tensor({1.0 + 1e-6, 1.1, kInf, -kInf, kNaN, 1.0, 0.0, 100.001}, DType::F64);
  expect_bools(isclose(a, b), {true, false, true, false, false, false, true, true});
  Tensor n = Tensor({kNaN, 1.0}, DType::F64);
  expect_bools(isclose(n, n), {false, true});
  expect_bools(isclose(n, n, 1e-5, 1e-8, true), {true, true});
  expect_bools(isclose(Tensor({1, 2}), Tensor({1, 3})), {true, false});
  expect_bools(isclose(Tensor({1.0f, 2.0f}), 2.0f), {false, true});  // broadcasts
  Tensor all_close = allclose(Tensor({1.0f, 2.0f}), Tensor({1.0f, 2.000001f}));
  EXPECT_EQ(all_close.dtype(), DType::Bool);
  EXPECT_EQ(all_close.shape(), (Shape{}));
  EXPECT_TRUE(all_close.item<bool>());
  EXPECT_FALSE(allclose(Tensor({1.0f, 2.0f}), Tensor({1.0f, 2.1f})).item<bool>());
  EXPECT_TRUE(allclose(Tensor({1.0f, 2.0f}), Tensor({1.0f, 2.1f}), 0.1).item<bool>());
  EXPECT_FALSE(allclose(n, n).item<bool>());
  EXPECT_TRUE(allclose(n, n, 1e-5, 1e-8, true).item<bool>());
  EXPECT_ERROR(isclose(zeros({2}), zeros({3})),
               "[frontend] isclose: shapes [2] and [3] do not broadcast");
  EXPECT_ERROR(allclose(zeros({2}), zeros({3})),
               "[frontend] allclose: shapes [2] and [3] do not broadcast");
}

TEST(NumpySurface, NanToNum) {
  Tensor x = Tensor({kNaN, kInf, -kInf, 1.5}, DType::F32);
  const double f32_max = std::numeric_limits<float>::max();
  expect_special(nan_to_num(x), {0, f32_max, -f32_max, 1.5});
  expect_special(nan_to_num(Tensor({kNaN, kInf, -kInf, 1.5}, DType::F64), -1, 9, -9),
                 {-1, 9, -9, 1.5});
  expect_special(nan_to_num(Tensor({kInf, -kInf}, DType::F16)), {65504, -65504});
  expect_special(nan_to_num(Tensor({kInf}, DType::F64)), {std::numeric_limits<double>::max()});
  Tensor ints = Tensor({1, 2});
  EXPECT_TRUE(nan_to_num(ints).same_node(ints));
}

}  // namespace
}  // namespace kiln
