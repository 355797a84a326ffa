// Error messages: "[frontend] FUNCTION: RULE", raised when the op is built (not at eval).

#include <gtest/gtest.h>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

TEST(Errors, NameTheFunctionAndTheRule) {
  Tensor x = zeros({2, 3});
  EXPECT_ERROR(negative(Tensor(true)),
               "[frontend] negative: neg expects an integer or float dtype, got bool");
  EXPECT_ERROR(argmax(zeros({0})), "[frontend] argmax: argmax needs a non-empty axis");
  EXPECT_ERROR(concatenate({}), "[frontend] concatenate: needs at least one tensor");
  EXPECT_ERROR(concatenate({Tensor(1), Tensor(2)}), "[frontend] concatenate: cannot join scalars");
  EXPECT_ERROR(stack({}), "[frontend] stack: needs at least one tensor");
  EXPECT_ERROR(take(zeros({0}), Tensor({0})), "[frontend] take: cannot take from empty axis 0");
  EXPECT_ERROR(x.slice(2, 0, 1), "[frontend] slice: axis 2 is out of range for rank 2");
  EXPECT_ERROR(where(Tensor({true, false}), x, 0.0),
               "[frontend] where: shapes [2] and [2,3] do not broadcast");
  EXPECT_ERROR(expand_dims(x, 3), "[frontend] expand_dims: axis 3 is out of range for rank 3");
  EXPECT_ERROR(x.shape(2), "[frontend] shape: axis 2 is out of range for rank 2");
  EXPECT_ERROR(mean(x, -3), "[frontend] mean: axis -3 is out of range for f32[2,3]");
  EXPECT_ERROR(slice(x, {0}, {1, 2}), "[frontend] slice: start, stop and step need one entry");
  EXPECT_ERROR(full({2}, Tensor()), "[frontend] full: the value is an empty");
}

TEST(Errors, RaisedAtBuildTimeNotAtEval) {
  // The failing op is reported where it is written, with no evaluation in between.
  Tensor a = zeros({2});
  EXPECT_ERROR(a + zeros({3}), "[frontend] add:");
  EXPECT_FALSE(a.has_data());
}

TEST(Errors, AreKilnErrors) {
  EXPECT_THROW(reshape(zeros({2}), {3}), Error);
  EXPECT_THROW(matmul(zeros({2}), zeros({3})), Error);
}

}  // namespace
}  // namespace kiln
