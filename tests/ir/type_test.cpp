// Element counts and byte sizes never overflow silently: an empty shape is empty whatever its
// other dimensions, and a count past 64 bits is an error rather than undefined behaviour.

#include "ir/type.h"

#include <gtest/gtest.h>

#include "ir/error.h"

namespace kiln::ir {
namespace {

constexpr int64_t k2to32 = int64_t{1} << 32;
constexpr int64_t k2to40 = int64_t{1} << 40;

TEST(TensorType, AZeroDimensionEmptiesAnyShape) {
  TensorType empty{DType::F32, {k2to32, k2to32, 0}};
  EXPECT_EQ(empty.num_elements(), 0);
  EXPECT_EQ(empty.size_bytes(), 0u);
  EXPECT_EQ(checked_num_elements({0, k2to40, k2to40}), 0);
  // Strides of such a shape are never used to address an element; computing them is defined.
  EXPECT_EQ(row_major_strides({0, k2to40, 4}), (std::vector<int64_t>{k2to40 * 4, 4, 1}));
}

TEST(TensorType, CountsPast64BitsAreErrors) {
  TensorType huge{DType::F32, {k2to40, k2to40}};
  EXPECT_FALSE(checked_num_elements(huge.shape));
  EXPECT_FALSE(huge.checked_size_bytes());
  EXPECT_THROW(huge.size_bytes(), Error);
  try {
    huge.num_elements();
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[ir] f32[1099511627776,1099511627776] has more elements "
              "than a 64-bit count holds");
  }
  // The count fits, the bytes do not.
  TensorType wide{DType::F64, {int64_t{1} << 61}};
  EXPECT_EQ(wide.num_elements(), int64_t{1} << 61);
  EXPECT_FALSE(wide.checked_size_bytes());
  EXPECT_THROW(wide.size_bytes(), Error);
  EXPECT_FALSE(checked_num_elements({-1, 3}));
}

TEST(TensorType, OrdinarySizes) {
  TensorType t{DType::F16, {3, 5}};
  EXPECT_EQ(t.num_elements(), 15);
  EXPECT_EQ(t.size_bytes(), 30u);
  EXPECT_EQ(t.checked_size_bytes(), 30u);
  EXPECT_EQ(TensorType{}.num_elements(), 1);  // a scalar
  EXPECT_EQ(row_major_strides({2, 3, 4}), (std::vector<int64_t>{12, 4, 1}));
}

}  // namespace
}  // namespace kiln::ir
