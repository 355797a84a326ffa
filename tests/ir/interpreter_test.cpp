// Hand-written checks of the reference interpreter's trickier semantics; the numpy goldens
// (golden_test.cpp) cover every op on every dtype class.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <limits>
#include <random>

#include "ir/error.h"
#include "ir/function.h"
#include "ir/interpreter.h"
#include "tests/ir/interpreter_test_util.h"

namespace kiln::ir {
namespace {

using testing::doubles;
using testing::ints;
using testing::make;
using testing::make_int;
using testing::run_op;

constexpr double kInf = std::numeric_limits<double>::infinity();
const double kNaN = std::nan("");

bool is_negative_zero(double v) {
  return v == 0.0 && std::signbit(v);
}

// ---- arguments ----------------------------------------------------------------------------

TEST(InterpTest, ArgumentCountError) {
  Function f("fname");
  Value x = f.add_param("x", {DType::F32, {4}});
  Value w = f.add_param("w", {DType::F32, {4}});
  f.set_results({f.add(OpKind::Add, {x, w})});
  std::vector<HostArray> args(3, HostArray(TensorType{DType::F32, {4}}));
  try {
    interpret(f, args);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "[interp] @fname: expected 2 arguments, got 3");
  }
}

TEST(InterpTest, ArgumentTypeError) {
  Function f("fname");
  Value x = f.add_param("x", {DType::F32, {4}});
  Value w = f.add_param("w", {DType::F32, {4}});
  f.set_results({f.add(OpKind::Add, {x, w})});
  std::vector<HostArray> args{HostArray(TensorType{DType::F32, {4}}),
                              HostArray(TensorType{DType::F32, {3}})};
  try {
    interpret(f, args);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[interp] @fname: argument 1 (%w) has type f32[3] but the parameter is f32[4]");
  }
  args[1] = HostArray(TensorType{DType::F16, {4}});
  EXPECT_THROW(interpret(f, args), Error);
}

TEST(InterpTest, GraphWithSharedValuesAndSeveralResults) {
  // r0 = (x + x) * y, r1 = x, r2 = r0 again: operands read twice, a parameter as a result,
  // and a value that is freed only after its last reader.
  Function f("g");
  Value x = f.add_param("x", {DType::F32, {3}});
  Value y = f.add_param("y", {DType::F32, {3}});
  Value sum = f.add(OpKind::Add, {x, x});
  Value product = f.add(OpKind::Mul, {sum, y});
  f.add(OpKind::Exp, {y});  // dead
  f.set_results({product, x, product});
  std::vector<HostArray> args{make(DType::F32, {3}, {1, 2, 3}), make(DType::F32, {3}, {4, 5, 6})};
  auto out = interpret(f, args);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(doubles(out[0]), (std::vector<double>{8, 20, 36}));
  EXPECT_EQ(doubles(out[1]), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(out[2], out[0]);
}

// ---- elementwise semantics ----------------------------------------------------------------

TEST(InterpTest, IntegerDivisionAndRemainder) {
  auto a = make_int(DType::I32, {6}, {7, -7, 7, -7, 5, INT32_MIN});
  auto b = make_int(DType::I32, {6}, {2, 2, -2, -2, 0, -1});
  EXPECT_EQ(ints(run_op(OpKind::Div, {a, b})), (std::vector<int64_t>{3, -3, -3, 3, -1, INT32_MIN}));
  EXPECT_EQ(ints(run_op(OpKind::Rem, {a, b})), (std::vector<int64_t>{1, -1, 1, -1, 5, 0}));
  // i64 INT_MIN / -1 is undefined in C; here it wraps.
  auto a64 = make_int(DType::I64, {2}, {INT64_MIN, INT64_MIN});
  auto b64 = make_int(DType::I64, {2}, {-1, 0});
  EXPECT_EQ(ints(run_op(OpKind::Div, {a64, b64})), (std::vector<int64_t>{INT64_MIN, -1}));
  EXPECT_EQ(ints(run_op(OpKind::Rem, {a64, b64})), (std::vector<int64_t>{0, INT64_MIN}));
  // Unsigned division by zero sets all bits.
  auto u = make_int(DType::U32, {2}, {9, 4294967295});
  auto z = make_int(DType::U32, {2}, {0, 2});
  EXPECT_EQ(ints(run_op(OpKind::Div, {u, z})), (std::vector<int64_t>{4294967295, 2147483647}));
}

TEST(InterpTest, IntegerPowAndWrapping) {
  auto base = make_int(DType::I8, {7}, {2, 3, 1, -1, -1, 0, 5});
  auto exponent = make_int(DType::I8, {7}, {7, 5, -3, -3, -4, -1, -1});
  EXPECT_EQ(ints(run_op(OpKind::Pow, {base, exponent})),
            (std::vector<int64_t>{-128, -13, 1, -1, 1, 0, 0}));
  auto x = make_int(DType::I8, {3}, {-128, 127, 5});
  EXPECT_EQ(ints(run_op(OpKind::Abs, {x})), (std::vector<int64_t>{-128, 127, 5}));
  EXPECT_EQ(ints(run_op(OpKind::Neg, {x})), (std::vector<int64_t>{-128, -127, -5}));
  EXPECT_EQ(ints(run_op(OpKind::Add, {x, x})), (std::vector<int64_t>{0, -2, 10}));
  auto u = make_int(DType::U8, {3}, {0, 1, 200});
  EXPECT_EQ(ints(run_op(OpKind::Neg, {u})), (std::vector<int64_t>{0, 255, 56}));
  EXPECT_EQ(ints(run_op(OpKind::Sign, {u})), (std::vector<int64_t>{0, 1, 1}));
  EXPECT_EQ(ints(run_op(OpKind::Not, {u})), (std::vector<int64_t>{255, 254, 55}));
}

TEST(InterpTest, FloatSpecialValues) {
  auto x = make(DType::F32, {6}, {-0.0, 0.5, 1.5, 2.5, -2.5, kNaN});
  auto rounded = doubles(run_op(OpKind::Round, {x}));
  EXPECT_TRUE(is_negative_zero(rounded[0]));
  EXPECT_EQ(rounded[1], 0.0);
  EXPECT_EQ(rounded[2], 2.0);
  EXPECT_EQ(rounded[3], 2.0);
  EXPECT_EQ(rounded[4], -2.0);
  EXPECT_TRUE(std::isnan(rounded[5]));
  auto sign = doubles(run_op(OpKind::Sign, {x}));
  EXPECT_TRUE(is_negative_zero(sign[0]));
  EXPECT_TRUE(std::isnan(sign[5]));

  auto a = make(DType::F32, {4}, {-0.0, 0.0, kNaN, 1.0});
  auto b = make(DType::F32, {4}, {0.0, -0.0, 1.0, kNaN});
  auto max = doubles(run_op(OpKind::Max, {a, b}));
  auto min = doubles(run_op(OpKind::Min, {a, b}));
  EXPECT_FALSE(std::signbit(max[0]));
  EXPECT_FALSE(std::signbit(max[1]));
  EXPECT_TRUE(is_negative_zero(min[0]));
  EXPECT_TRUE(is_negative_zero(min[1]));
  EXPECT_TRUE(std::isnan(max[2]) && std::isnan(max[3]) && std::isnan(min[2]) && std::isnan(min[3]));

  auto ne = ints(run_op(OpKind::Ne, {a, b}));
  auto eq = ints(run_op(OpKind::Eq, {a, b}));
  EXPECT_EQ(ne, (std::vector<int64_t>{0, 0, 1, 1}));
  EXPECT_EQ(eq, (std::vector<int64_t>{1, 1, 0, 0}));
}

TEST(InterpTest, HalfPrecisionRoundsAfterEveryOp) {
  // In f16, 2048 + 1 is a tie that rounds to 2048, so two adds of 1 lose both; a reduction
  // accumulates wider and rounds once.
  Function f("h");
  Value x = f.add_param("x", {DType::F16, {}});
  Value one = f.add(OpKind::Constant, {}, {{"value", Attr(1.0)}}, TensorType{DType::F16, {}});
  f.set_results({f.add(OpKind::Add, {f.add(OpKind::Add, {x, one}), one})});
  std::vector<HostArray> args{make(DType::F16, {}, {2048})};
  EXPECT_EQ(interpret(f, args)[0].get_f64(0), 2048.0);
  auto v = make(DType::F16, {3}, {2048, 1, 1});
  EXPECT_EQ(run_op(OpKind::ReduceSum, {v}, {{"axes", int_list({0})}}).get_f64(0), 2050.0);
}

TEST(InterpTest, ConvertEdgeCases) {
  auto f = make(DType::F32, {7}, {kNaN, 1e10, -1e10, -0.9, 2.9, kInf, -kInf});
  EXPECT_EQ(ints(run_op(OpKind::Convert, {f}, {}, TensorType{DType::I32, {7}})),
            (std::vector<int64_t>{0, INT32_MAX, INT32_MIN, 0, 2, INT32_MAX, INT32_MIN}));
  auto g = make(DType::F64, {4}, {300.5, -1.0, 255.9, 1e300});
  EXPECT_EQ(ints(run_op(OpKind::Convert, {g}, {}, TensorType{DType::U8, {4}})),
            (std::vector<int64_t>{255, 0, 255, 255}));
  EXPECT_EQ(ints(run_op(OpKind::Convert, {f}, {}, TensorType{DType::Bool, {7}})),
            (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1}));
  // Integer to integer wraps.
  auto i = make_int(DType::I32, {3}, {256, -1, 300});
  EXPECT_EQ(ints(run_op(OpKind::Convert, {i}, {}, TensorType{DType::U8, {3}})),
            (std::vector<int64_t>{0, 255, 44}));
  // Rounds once: via double, 2^60 + 2^36 + 1 would first lose the 1 and then tie to even.
  auto big = make_int(DType::I64, {1}, {(int64_t{1} << 60) + (int64_t{1} << 36) + 1});
  EXPECT_EQ(run_op(OpKind::Convert, {big}, {}, TensorType{DType::F32, {1}}).get_f64(0),
            std::ldexp(1.0, 60) + std::ldexp(1.0, 37));
  // Likewise f64 -> f16 must not go through a round-to-nearest f32.
  auto d = make(DType::F64, {1}, {1.0 + std::ldexp(1.0, -11) + std::ldexp(1.0, -40)});
  EXPECT_EQ(run_op(OpKind::Convert, {d}, {}, TensorType{DType::F16, {1}}).get_f64(0),
            1.0 + std::ldexp(1.0, -10));
  auto b = make_int(DType::Bool, {2}, {1, 0});
  EXPECT_EQ(doubles(run_op(OpKind::Convert, {b}, {}, TensorType{DType::BF16, {2}})),
            (std::vector<double>{1.0, 0.0}));
}

// ---- index movement -----------------------------------------------------------------------

TEST(InterpTest, BroadcastDims) {
  auto row = make(DType::F32, {3}, {1, 2, 3});
  auto out =
      run_op(OpKind::Broadcast, {row}, {{"shape", int_list({2, 3})}, {"dims", int_list({1})}});
  EXPECT_EQ(doubles(out), (std::vector<double>{1, 2, 3, 1, 2, 3}));
  auto col = make(DType::F32, {2}, {1, 2});
  out = run_op(OpKind::Broadcast, {col}, {{"shape", int_list({2, 3})}, {"dims", int_list({0})}});
  EXPECT_EQ(doubles(out), (std::vector<double>{1, 1, 1, 2, 2, 2}));
  // Size-1 operand dims stretch; the result's middle dim is new.
  auto m = make_int(DType::I32, {2, 1}, {5, 6});
  out =
      run_op(OpKind::Broadcast, {m}, {{"shape", int_list({2, 2, 3})}, {"dims", int_list({0, 2})}});
  EXPECT_EQ(ints(out), (std::vector<int64_t>{5, 5, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6}));
}

TEST(InterpTest, PadInterior) {
  auto x = make_int(DType::I32, {3}, {1, 2, 3});
  auto zero = make_int(DType::I32, {}, {0});
  auto out = run_op(OpKind::Pad, {x, zero},
                    {{"low", int_list({1})}, {"high", int_list({2})}, {"interior", int_list({1})}});
  EXPECT_EQ(ints(out), (std::vector<int64_t>{0, 1, 0, 2, 0, 3, 0, 0}));
  auto m = make_int(DType::I32, {2, 2}, {1, 2, 3, 4});
  auto nine = make_int(DType::I32, {}, {9});
  out = run_op(
      OpKind::Pad, {m, nine},
      {{"low", int_list({0, 1})}, {"high", int_list({0, 0})}, {"interior", int_list({1, 0})}});
  EXPECT_EQ(out.shape(), (Shape{3, 3}));
  EXPECT_EQ(ints(out), (std::vector<int64_t>{9, 1, 2, 9, 9, 9, 9, 3, 4}));
}

TEST(InterpTest, SliceStride) {
  HostArray x = run_op(OpKind::Iota, {}, {{"axis", 1}}, TensorType{DType::I32, {2, 10}});
  auto out = run_op(
      OpKind::Slice, {x},
      {{"start", int_list({1, 1})}, {"limit", int_list({2, 9})}, {"stride", int_list({1, 3})}});
  EXPECT_EQ(ints(out), (std::vector<int64_t>{1, 4, 7}));
}

TEST(InterpTest, TransposeAndConcatenate) {
  auto x = make_int(DType::I16, {2, 3}, {1, 2, 3, 4, 5, 6});
  EXPECT_EQ(ints(run_op(OpKind::Transpose, {x}, {{"perm", int_list({1, 0})}})),
            (std::vector<int64_t>{1, 4, 2, 5, 3, 6}));
  auto y = make_int(DType::I16, {2, 1}, {7, 8});
  auto empty = make_int(DType::I16, {2, 0}, {});
  EXPECT_EQ(ints(run_op(OpKind::Concatenate, {x, empty, y}, {{"axis", 1}})),
            (std::vector<int64_t>{1, 2, 3, 7, 4, 5, 6, 8}));
}

TEST(InterpTest, TakeClampsIndices) {
  auto x = make(DType::F32, {2, 3}, {10, 11, 12, 20, 21, 22});
  auto idx = make_int(DType::I32, {4}, {-5, 0, 2, 99});
  auto out = run_op(OpKind::Take, {x, idx}, {{"axis", 1}});
  EXPECT_EQ(out.shape(), (Shape{2, 4}));
  EXPECT_EQ(doubles(out), (std::vector<double>{10, 10, 12, 12, 20, 20, 22, 22}));
  auto rows = make_int(DType::U8, {2, 1}, {1, 200});
  out = run_op(OpKind::Take, {x, rows}, {{"axis", 0}});
  EXPECT_EQ(out.shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(doubles(out), (std::vector<double>{20, 21, 22, 20, 21, 22}));
}

TEST(InterpTest, ScatterAddAccumulatesDuplicates) {
  auto x = make(DType::F32, {3, 2}, {0, 0, 0, 0, 0, 0});
  auto idx = make_int(DType::I64, {4}, {1, 1, -3, 7});
  auto upd = make(DType::F32, {4, 2}, {1, 2, 10, 20, 100, 200, 1000, 2000});
  auto out = run_op(OpKind::ScatterAdd, {x, idx, upd}, {{"axis", 0}});
  EXPECT_EQ(doubles(out), (std::vector<double>{100, 200, 11, 22, 1000, 2000}));
}

// ---- reductions ---------------------------------------------------------------------------

TEST(InterpTest, ArgmaxTiesAndNaN) {
  auto x = make(DType::F32, {3, 4}, {1, 3, 3, 2, 5, kNaN, 7, kNaN, -1, -1, -1, -1});
  EXPECT_EQ(ints(run_op(OpKind::Argmax, {x}, {{"axis", 1}})), (std::vector<int64_t>{1, 1, 0}));
  EXPECT_EQ(ints(run_op(OpKind::Argmin, {x}, {{"axis", 1}})), (std::vector<int64_t>{0, 1, 0}));
  auto out = run_op(OpKind::Argmax, {x}, {{"axis", 0}});
  EXPECT_EQ(out.dtype(), DType::I32);
  EXPECT_EQ(ints(out), (std::vector<int64_t>{1, 1, 1, 1}));  // a NaN in three columns
}

TEST(InterpTest, EmptyReductions) {
  auto axes = Attrs{{"axes", int_list({0})}};
  auto f = make(DType::F32, {0, 2}, {});
  EXPECT_EQ(doubles(run_op(OpKind::ReduceSum, {f}, axes)), (std::vector<double>{0, 0}));
  EXPECT_FALSE(std::signbit(run_op(OpKind::ReduceSum, {f}, axes).get_f64(0)));
  EXPECT_EQ(doubles(run_op(OpKind::ReduceProd, {f}, axes)), (std::vector<double>{1, 1}));
  EXPECT_EQ(doubles(run_op(OpKind::ReduceMax, {f}, axes)), (std::vector<double>{-kInf, -kInf}));
  EXPECT_EQ(doubles(run_op(OpKind::ReduceMin, {f}, axes)), (std::vector<double>{kInf, kInf}));
  auto i = make_int(DType::I8, {0}, {});
  EXPECT_EQ(run_op(OpKind::ReduceMax, {i}, axes).get_i64(0), -128);
  EXPECT_EQ(run_op(OpKind::ReduceMin, {i}, axes).get_i64(0), 127);
  auto u = make_int(DType::U32, {0}, {});
  EXPECT_EQ(run_op(OpKind::ReduceMin, {u}, axes).get_i64(0), 4294967295);
  auto b = make_int(DType::Bool, {0}, {});
  EXPECT_EQ(run_op(OpKind::ReduceMax, {b}, axes).get_i64(0), 0);
  EXPECT_EQ(run_op(OpKind::ReduceMin, {b}, axes).get_i64(0), 1);
}

TEST(InterpTest, ReduceSeveralAxes) {
  HostArray x = run_op(OpKind::Iota, {}, {{"axis", 2}}, TensorType{DType::I64, {2, 3, 4}});
  auto out = run_op(OpKind::ReduceSum, {x}, {{"axes", int_list({0, 2})}});
  EXPECT_EQ(ints(out), (std::vector<int64_t>{12, 12, 12}));
  auto m = make(DType::F64, {2, 2}, {1, kNaN, 3, 4});
  EXPECT_TRUE(std::isnan(run_op(OpKind::ReduceMax, {m}, {{"axes", int_list({0, 1})}}).get_f64(0)));
}

// ---- dot_general --------------------------------------------------------------------------

// lhs [2,3,4,5] and rhs [5,2,6,3]: batch lhs 0 / rhs 1, contracting lhs (1,3) with rhs (3,0).
// The result is [batch=2, lhs free=4, rhs free=6].
double naive_dot(const std::vector<double>& lhs, const std::vector<double>& rhs, int b, int i,
                 int j) {
  double acc = 0;
  for (int c = 0; c < 3; ++c)
    for (int k = 0; k < 5; ++k)
      acc += lhs[((b * 3 + c) * 4 + i) * 5 + k] * rhs[((k * 2 + b) * 6 + j) * 3 + c];
  return acc;
}

TEST(InterpTest, DotGeneralBatchAndSeveralContractingDims) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> dist(-8, 8);
  std::vector<double> l(2 * 3 * 4 * 5), r(5 * 2 * 6 * 3);
  for (double& v : l)
    v = dist(rng) / 4.0;
  for (double& v : r)
    v = dist(rng) / 4.0;
  Attrs attrs{{"lhs_batch", int_list({0})},
              {"rhs_batch", int_list({1})},
              {"lhs_contract", int_list({1, 3})},
              {"rhs_contract", int_list({3, 0})}};
  for (DType dtype : {DType::F32, DType::F64, DType::BF16}) {
    auto out = run_op(OpKind::DotGeneral,
                      {make(dtype, {2, 3, 4, 5}, l), make(dtype, {5, 2, 6, 3}, r)}, attrs);
    ASSERT_EQ(out.shape(), (Shape{2, 4, 6}));
    HostArray expected(out.type());
    for (int b = 0; b < 2; ++b)
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 6; ++j)
          expected.set_f64((b * 4 + i) * 6 + j, naive_dot(l, r, b, i, j));
    EXPECT_EQ(doubles(out), doubles(expected)) << dtype_name(dtype);
  }
  // Integers wrap.
  std::vector<int64_t> li(l.size()), ri(r.size());
  for (size_t i = 0; i < l.size(); ++i)
    li[i] = static_cast<int64_t>(l[i] * 40);
  for (size_t i = 0; i < r.size(); ++i)
    ri[i] = static_cast<int64_t>(r[i] * 40);
  auto out =
      run_op(OpKind::DotGeneral,
             {make_int(DType::I8, {2, 3, 4, 5}, li), make_int(DType::I8, {5, 2, 6, 3}, ri)}, attrs);
  const std::vector<double> ld(li.begin(), li.end()), rd(ri.begin(), ri.end());
  for (int b = 0; b < 2; ++b)
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j)
        EXPECT_EQ(out.get_i64((b * 4 + i) * 6 + j),
                  static_cast<int8_t>(static_cast<int64_t>(naive_dot(ld, rd, b, i, j))));
}

TEST(InterpTest, DotGeneralEmptyContraction) {
  auto a = make(DType::F32, {2, 0}, {});
  auto b = make(DType::F32, {0, 3}, {});
  auto out = run_op(OpKind::DotGeneral, {a, b},
                    {{"lhs_contract", int_list({1})}, {"rhs_contract", int_list({0})}});
  EXPECT_EQ(doubles(out), (std::vector<double>(6, 0.0)));
}

// ---- zero-size shapes ---------------------------------------------------------------------

TEST(InterpTest, ZeroSizeShapes) {
  auto e = make(DType::F32, {0, 3}, {});
  EXPECT_EQ(run_op(OpKind::Add, {e, e}).shape(), (Shape{0, 3}));
  EXPECT_EQ(run_op(OpKind::Transpose, {e}, {{"perm", int_list({1, 0})}}).shape(), (Shape{3, 0}));
  EXPECT_EQ(run_op(OpKind::Reshape, {e}, {{"shape", int_list({3, 0, 5})}}).shape(),
            (Shape{3, 0, 5}));
  auto s = make(DType::F32, {}, {2});
  EXPECT_EQ(run_op(OpKind::Broadcast, {s}, {{"shape", int_list({0})}, {"dims", int_list({})}})
                .num_elements(),
            0);
  auto sum = run_op(OpKind::ReduceSum, {e}, {{"axes", int_list({1})}});
  EXPECT_EQ(sum.shape(), (Shape{0}));
  auto x = make(DType::F32, {3}, {1, 2, 3});
  auto sliced = run_op(OpKind::Slice, {x}, {{"start", int_list({2})}, {"limit", int_list({2})}});
  EXPECT_EQ(sliced.shape(), (Shape{0}));
  auto none = make_int(DType::I32, {0}, {});
  EXPECT_EQ(run_op(OpKind::Take, {x, none}, {{"axis", 0}}).shape(), (Shape{0}));
  EXPECT_EQ(run_op(OpKind::Iota, {}, {{"axis", 0}}, TensorType{DType::I32, {0, 4}}).num_elements(),
            0);
}

TEST(InterpTest, ConstantsAndIota) {
  auto c = run_op(OpKind::Constant, {},
                  {{"value", Attr(AttrList{Attr(AttrList{1.5, -0.0}), Attr(AttrList{kNaN, 0.1})})}},
                  TensorType{DType::BF16, {2, 2}});
  auto v = doubles(c);
  EXPECT_EQ(v[0], 1.5);
  EXPECT_TRUE(is_negative_zero(v[1]));
  EXPECT_TRUE(std::isnan(v[2]));
  EXPECT_EQ(v[3], 0.10009765625);  // 0.1 to nearest bf16
  auto fill =
      run_op(OpKind::Constant, {}, {{"value", Attr(int64_t{-3})}}, TensorType{DType::I8, {2}});
  EXPECT_EQ(ints(fill), (std::vector<int64_t>{-3, -3}));
  auto iota = run_op(OpKind::Iota, {}, {{"axis", 0}}, TensorType{DType::F16, {3, 2}});
  EXPECT_EQ(doubles(iota), (std::vector<double>{0, 0, 1, 1, 2, 2}));
}

}  // namespace
}  // namespace kiln::ir
