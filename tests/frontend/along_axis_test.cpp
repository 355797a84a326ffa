// take_along_axis, put_along_axis and x.at(indices) updates against numpy (np.take_along_axis,
// np.put_along_axis, np.add.at and np.multiply.at), with negative indices, repeats and errors.

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

const Tensor kX({{10.0f, 30.0f, 20.0f}, {60.0f, 40.0f, 50.0f}});

TEST(AlongAxis, TakeAlongAxisAsNumpy) {
  const Tensor order({{0, 2, 1}, {1, 2, 0}});  // numpy's argsort of kX along axis 1
  expect_values(take_along_axis(kX, order, 1), {10, 20, 30, 40, 50, 60});
  expect_values(take_along_axis(kX, Tensor({{0}, {-1}}), 1), {10, 50});
  // Without an axis both are flattened.
  expect_values(take_along_axis(kX, Tensor({5, 0}), std::nullopt), {50, 10});
  try {
    take_along_axis(kX, Tensor({0, 1}), 1);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[frontend] take_along_axis: indices must have the operand's rank, got i32[2] "
                 "for f32[2,3]");
  }
  EXPECT_THROW(take_along_axis(kX, Tensor({{0.5f}, {1.0f}}), 1), Error);
}

TEST(AlongAxis, PutAlongAxisAsNumpy) {
  expect_values(put_along_axis(kX, Tensor({{2}, {0}}), 99.0f, 1), {10, 30, 99, 99, 40, 50});
  expect_values(
      put_along_axis(kX, Tensor({{2, 2}, {0, 0}}), Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), 1, "add"),
      {10, 30, 23, 67, 40, 50});
  // set: the later of two updates to one place wins.
  expect_values(
      put_along_axis(kX, Tensor({{1, 1}, {0, 0}}), Tensor({{1.0f, 2.0f}, {3.0f, 4.0f}}), 1),
      {10, 2, 20, 4, 40, 50});
  EXPECT_THROW(put_along_axis(kX, Tensor({{0}, {0}}), 1.0f, 1, "divide"), Error);
}

TEST(AlongAxis, AtUpdatesAsMlx) {
  expect_values(zeros({5}).at(Tensor({0, 2, 2, 4})).add(Tensor({1.0f, 2.0f, 3.0f, 4.0f})),
                {1, 0, 5, 0, 4});
  expect_values(ones({3, 2}).at(Tensor({1, -2})).multiply(Tensor({{2.0f, 3.0f}, {4.0f, 5.0f}})),
                {1, 1, 8, 15, 1, 1});
  expect_values(zeros({4}).at(Tensor({{3, 0}, {3, 1}})).set(7.0f), {7, 7, 0, 7});
  expect_values(Tensor({1.0f, 5.0f, 3.0f}).at(Tensor({0, 1})).maximum(Tensor({4.0f, 4.0f})),
                {4, 5, 3});
  expect_values(Tensor({1.0f, 5.0f, 3.0f}).at(Tensor({0, 1})).minimum(Tensor({4.0f, 4.0f})),
                {1, 4, 3});
  EXPECT_THROW(Tensor(2.0f).at(Tensor({0})).add(1.0f), Error);
}

TEST(AlongAxis, GradientsFlowThroughGatherAndScatter) {
  // d/dx sum(take_along_axis(x, i)) counts how often each element is taken.
  const Tensor x = Tensor({{1.0, 2.0, 3.0}}, DType::F64);
  const Tensor i({{2, 2, 0}});
  expect_values(grad([&](const Tensor& v) { return sum(take_along_axis(v, i, 1)); })(x)[0],
                {1, 0, 2});
  // put_along_axis with set: the overwritten element gets no gradient, the winning update does.
  const Tensor u = Tensor({{5.0, 7.0}}, DType::F64);
  auto f = [&](const Tensor& a, const Tensor& b) {
    return sum(put_along_axis(a, Tensor({{1, 1}}), b, 1) * Tensor({{1.0, 10.0, 100.0}}));
  };
  const std::vector<Tensor> g = grad(f, {0, 1})(x, u);
  expect_values(g[0], {1, 0, 100});
  expect_values(g[1], {0, 10});
}

}  // namespace
}  // namespace kiln
