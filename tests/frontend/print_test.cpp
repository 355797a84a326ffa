// Printing tensors: numpy's layout (array2string with separator ", "), summarised past the
// threshold, rows wrapped at the line width, and the print options. The integer cases are
// numpy's own output, character for character.

#include <gtest/gtest.h>

#include <limits>
#include <sstream>

#include "tests/frontend/test_util.h"

namespace kiln {
namespace {

std::string printed(const Tensor& t) {
  std::ostringstream out;
  out << t;
  return out.str();
}

TEST(Print, SmallTensorsOfEachRank) {
  EXPECT_EQ(printed(Tensor(7)), "7");
  EXPECT_EQ(printed(Tensor({3, -12, 5})), "[  3, -12,   5]");
  EXPECT_EQ(printed(Tensor({{1, 2}, {3, 40}})), "[[ 1,  2],\n [ 3, 40]]");
  EXPECT_EQ(printed(arange(8).reshape({2, 2, 2})),
            "[[[0, 1],\n  [2, 3]],\n\n [[4, 5],\n  [6, 7]]]");
  EXPECT_EQ(printed(zeros({2, 0})), "[]");
}

TEST(Print, EachDtype) {
  EXPECT_EQ(printed(Tensor({true, false})), "[ true, false]");
  EXPECT_EQ(printed(Tensor({0.5f, 1.0f})), "[0.5, 1.0]");
  EXPECT_EQ(printed(Tensor({0.1, 2.0}, DType::F64)), "[0.1, 2.0]");
  EXPECT_EQ(printed(Tensor({0.1f, 2.0f}, DType::F16)), "[0.099976, 2.000000]");
  EXPECT_EQ(printed(Tensor({1.5f, -2.0f}, DType::BF16)), "[ 1.5, -2.0]");
  EXPECT_EQ(printed(Tensor({int64_t{1} << 40, int64_t{-1}})), "[1099511627776,            -1]");
  EXPECT_EQ(printed(astype(Tensor({0, 255}), DType::U8)), "[  0, 255]");
  const float inf = std::numeric_limits<float>::infinity();
  EXPECT_EQ(printed(Tensor({1.25f, inf, -inf})), "[1.25,  inf, -inf]");
  EXPECT_EQ(printed(Tensor({1e-9f, 1.0f})), "[1e-09,     1]");  // %g when fixed would hide it
}

TEST(Print, LongRowsWrapAtTheLineWidth) {
  EXPECT_EQ(printed(arange(40)),
            "[ 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15, 16, 17,\n"
            " 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35,\n"
            " 36, 37, 38, 39]");
  ScopedPrintOptions narrow({.linewidth = 14});
  EXPECT_EQ(printed(arange(12).reshape({3, 4}) * 7),
            "[[ 0,  7, 14,\n  21],\n [28, 35, 42,\n  49],\n [56, 63, 70,\n  77]]");
}

TEST(Print, LargeTensorsAreSummarised) {
  // At the threshold every element prints (numpy's text is 5066 characters).
  EXPECT_EQ(printed(arange(1000)).size(), 5066u);
  EXPECT_EQ(printed(arange(1000)).find("..."), std::string::npos);
  EXPECT_EQ(printed(arange(2000)), "[   0,    1,    2, ..., 1997, 1998, 1999]");
  EXPECT_EQ(printed(arange(10000).reshape({100, 100})),
            "[[   0,    1,    2, ...,   97,   98,   99],\n"
            " [ 100,  101,  102, ...,  197,  198,  199],\n"
            " [ 200,  201,  202, ...,  297,  298,  299],\n"
            " ...,\n"
            " [9700, 9701, 9702, ..., 9797, 9798, 9799],\n"
            " [9800, 9801, 9802, ..., 9897, 9898, 9899],\n"
            " [9900, 9901, 9902, ..., 9997, 9998, 9999]]");
  // Only the shown elements are formatted, so the width comes from them.
  EXPECT_EQ(printed(arange(10000) / 4.0),
            "[   0.00,    0.25,    0.50, ..., 2499.25, 2499.50, 2499.75]");
  // 100k values print as a few lines, not 700 KB.
  EXPECT_LT(printed(zeros({100000})).size(), 100u);
}

TEST(Print, OptionsSetThresholdEdgeItemsAndPrecision) {
  const PrintOptions defaults = get_printoptions();
  EXPECT_EQ(defaults.precision, 6);
  EXPECT_EQ(defaults.threshold, 1000);
  EXPECT_EQ(defaults.edgeitems, 3);
  EXPECT_EQ(defaults.linewidth, 75);
  {
    ScopedPrintOptions few({.threshold = 5, .edgeitems = 1});
    EXPECT_EQ(get_printoptions().threshold, 5);
    EXPECT_EQ(printed(arange(24).reshape({2, 3, 4})),
              "[[[ 0, ...,  3],\n  ...,\n  [ 8, ..., 11]],\n\n"
              " [[12, ..., 15],\n  ...,\n  [20, ..., 23]]]");
    // Axes no longer than 2 * edgeitems are never cut.
    EXPECT_EQ(printed(arange(36).reshape({2, 2, 3, 3})),
              "[[[[ 0, ...,  2],\n   ...,\n   [ 6, ...,  8]],\n\n"
              "  [[ 9, ..., 11],\n   ...,\n   [15, ..., 17]]],\n\n\n"
              " [[[18, ..., 20],\n   ...,\n   [24, ..., 26]],\n\n"
              "  [[27, ..., 29],\n   ...,\n   [33, ..., 35]]]]");
  }
  EXPECT_EQ(get_printoptions().threshold, 1000);  // restored
  Tensor thirds = Tensor({1.0f, 2.0f}) / 3;
  EXPECT_EQ(printed(thirds), "[0.333333, 0.666667]");
  {
    ScopedPrintOptions two({.precision = 2});
    EXPECT_EQ(printed(thirds), "[0.33, 0.67]");
  }
  EXPECT_EQ(to_string(thirds, 3), "[0.333, 0.667]");
  EXPECT_EQ(to_string(thirds, PrintOptions{.precision = 1}), "[0.3, 0.7]");
}

TEST(Print, BadOptionsAreRefused) {
  EXPECT_ERROR(set_printoptions({.precision = -1}),
               "[frontend] set_printoptions: precision -1 is not in [0, 100]");
  EXPECT_ERROR(set_printoptions({.threshold = -2}),
               "[frontend] set_printoptions: threshold -2 is negative");
  EXPECT_ERROR(set_printoptions({.edgeitems = 0}),
               "[frontend] set_printoptions: edgeitems 0 is below 1");
  EXPECT_ERROR(to_string(arange(3), PrintOptions{.linewidth = 0}),
               "[frontend] to_string: linewidth 0 is below 1");
  EXPECT_EQ(get_printoptions().precision, 6);  // unchanged
}

}  // namespace
}  // namespace kiln
