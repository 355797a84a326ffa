#include "ir/attr.h"

#include <gtest/gtest.h>

#include <cmath>

#include "ir/function.h"
#include "ir/printer.h"

namespace kiln::ir {
namespace {

TEST(Attr, FloatsCompareByBitsWithAllNaNsAlike) {
  EXPECT_FALSE(Attr(0.0) == Attr(-0.0));
  EXPECT_TRUE(Attr(std::nan("")) == Attr(-std::nan("1")));
  EXPECT_EQ(hash_attr(Attr(std::nan(""))), hash_attr(Attr(-std::nan("1"))));
  EXPECT_TRUE(Attr(AttrList{1.5, 2}) == Attr(AttrList{1.5, 2}));
  EXPECT_FALSE(Attr(AttrList{0.0}) == Attr(AttrList{-0.0}));
  EXPECT_FALSE(Attr(int64_t{1}) == Attr(1.0)) << "an int and a float attribute differ";
}

TEST(Attr, HashConsingKeepsSignedZeroConstantsApart) {
  Function f("zeros");
  TensorType scalar{DType::F32, {}};
  Value plus = f.add(OpKind::Constant, {}, {{"value", 0.0}}, scalar);
  Value minus = f.add(OpKind::Constant, {}, {{"value", -0.0}}, scalar);
  Value nan1 = f.add(OpKind::Constant, {}, {{"value", std::nan("")}}, scalar);
  Value nan2 = f.add(OpKind::Constant, {}, {{"value", std::nan("")}}, scalar);
  EXPECT_NE(plus, minus);
  EXPECT_EQ(nan1, nan2);
  f.set_results({minus});
  EXPECT_NE(print(f).find("value=-0.0"), std::string::npos) << print(f);
}

TEST(Attr, PrintsEveryKind) {
  EXPECT_EQ(attr_str(Attr(AttrList{int64_t{32}, int64_t{128}})), "[32,128]");
  EXPECT_EQ(attr_str(Attr(2.0)), "2.0");
  EXPECT_EQ(attr_str(Attr(1e-30)), "1e-30");
  EXPECT_EQ(attr_str(Attr(-INFINITY)), "-inf");
  EXPECT_EQ(attr_str(Attr(DType::BF16)), "bf16");
  EXPECT_EQ(attr_str(Attr("a\"b")), "\"a\\\"b\"");
  EXPECT_EQ(attr_str(Attr(false)), "false");
}

}  // namespace
}  // namespace kiln::ir
