// cumsum, cumprod, cummax, cummin and logcumsumexp against numpy (np.cumsum, np.cumprod,
// np.maximum.accumulate, np.logaddexp.accumulate), reversed, exclusive, and differentiated.

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

using test::expect_values;

const Tensor kX({{1.0f, 2.0f, 3.0f}, {4.0f, 5.0f, 6.0f}});

TEST(Scans, AsNumpy) {
  expect_values(cumsum(kX, 1), {1, 3, 6, 4, 9, 15});
  expect_values(cumprod(kX, 0), {1, 2, 3, 4, 10, 18});
  expect_values(cumsum(kX), {1, 3, 6, 10, 15, 21});  // flattened without an axis
  expect_values(cummax(Tensor({1, 3, 2, 5, 4}), 0), {1, 3, 3, 5, 5});
  expect_values(cummin(Tensor({4, 3, 5, 1, 2}), 0), {4, 3, 3, 1, 1});
  expect_values(logcumsumexp(Tensor({0.0f, 1.0f, 2.0f}), 0),
                {0.0, 1.3132616875182228, 2.40760596444438}, 1e-6);
  expect_values(cumsum(Tensor({1, 2, 3}), 0, /*reverse=*/true), {6, 5, 3});
  EXPECT_EQ(cumsum(Tensor({true, true, false}), 0).dtype(), DType::I32);
}

TEST(Scans, ExclusiveStartsFromTheIdentity) {
  expect_values(cumsum(Tensor({1, 2, 3}), 0, false, /*inclusive=*/false), {0, 1, 3});
  expect_values(cumsum(Tensor({1, 2, 3}), 0, true, false), {5, 3, 0});
  expect_values(cumprod(Tensor({2.0f, 3.0f, 4.0f}), 0, false, false), {1, 2, 6});
  const std::vector<double> m =
      cummax(Tensor({2.0f, 3.0f, 1.0f}), 0, false, false).astype(DType::F64).to_vector<double>();
  EXPECT_EQ(m[0], -std::numeric_limits<double>::infinity());
  EXPECT_EQ(m[1], 2.0);
  EXPECT_THROW(cumsum(Tensor(1.0f), 0), Error);
  EXPECT_THROW(cumsum(kX, 2), Error);
}

TEST(Scans, Gradients) {
  // d/dx sum(cumsum(x)) counts the outputs each element reaches.
  const Tensor x = Tensor({1.0, 2.0, 3.0}, DType::F64);
  expect_values(grad([](const Tensor& v) { return sum(cumsum(v, 0)); })(x)[0], {3, 2, 1});
  expect_values(grad([](const Tensor& v) { return sum(cumsum(v, 0, true)); })(x)[0], {1, 2, 3});
  // cumprod: [x0, x0 x1, x0 x1 x2] -> d/dx0 = 1 + x1 + x1 x2 = 9, d/dx1 = x0 + x0 x2 = 4, 2.
  expect_values(grad([](const Tensor& v) { return sum(cumprod(v, 0)); })(x)[0], {9, 4, 2});
  // cummax of [1, 3, 2]: [1, 3, 3] -> the second element feeds two outputs.
  expect_values(grad([](const Tensor& v) { return sum(cummax(v, 0)); })(
                    Tensor({1.0, 3.0, 2.0}, DType::F64))[0],
                {1, 2, 0});
}

}  // namespace
}  // namespace kiln
