// The integer bit ops (shifts, popcount, clz), is_finite, bitcast_convert and rng_bits on the
// reference interpreter: their corner cases per dtype width, Threefry-2x32's known answers, and
// their text forms and shape rules.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>

#include "ir/error.h"
#include "ir/function.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/scalar_semantics.h"
#include "tests/ir/interpreter_test_util.h"

namespace kiln::ir {
namespace {

using testing::ints;
using testing::make;
using testing::make_int;
using testing::run_op;

using V = std::vector<int64_t>;

TEST(BitOps, ShiftsReadTheAmountAsUnsignedAndSaturateAtTheWidth) {
  const HostArray x8 = make_int(DType::I8, {1, 1, 1, -128, -1, 5, 3});
  const HostArray n8 = make_int(DType::I8, {7, 8, -1, 1, 1, 0, 127});
  EXPECT_EQ(ints(run_op(OpKind::ShiftLeft, {x8, n8})), (V{-128, 0, 0, 0, -2, 5, 0}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightLogical, {x8, n8})), (V{0, 0, 0, 64, 127, 5, 0}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightArithmetic, {x8, n8})), (V{0, 0, 0, -64, -1, 5, 0}));
  // Past the width, the arithmetic shift leaves copies of the top bit: -1 for negatives.
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightArithmetic, {make_int(DType::I8, {-128, -128, 64}),
                                                       make_int(DType::I8, {7, 100, -3})})),
            (V{-1, -1, 0}));
  // On unsigned dtypes too: the pattern reads as signed.
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightArithmetic, {make_int(DType::U8, {0x80, 0x80, 0x7f}),
                                                       make_int(DType::U8, {1, 8, 200})})),
            (V{0xc0, 0xff, 0}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightArithmetic,
                        {make_int(DType::U32, {0x80000000u}), make_int(DType::U32, {31})})),
            (V{0xffffffffu}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightLogical,
                        {make_int(DType::U8, {255, 255}), make_int(DType::U8, {7, 8})})),
            (V{1, 0}));
  const int64_t min64 = std::numeric_limits<int64_t>::min();
  const HostArray x64 = make_int(DType::I64, {1, 1, min64, min64, -1});
  const HostArray n64 = make_int(DType::I64, {63, 64, 64, 63, -5});
  EXPECT_EQ(ints(run_op(OpKind::ShiftLeft, {x64, n64})), (V{min64, 0, 0, 0, 0}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightLogical, {x64, n64})), (V{0, 0, 0, 1, 0}));
  EXPECT_EQ(ints(run_op(OpKind::ShiftRightArithmetic, {x64, n64})), (V{0, 0, -1, -1, -1}));
  EXPECT_EQ(
      ints(run_op(OpKind::ShiftLeft, {make_int(DType::I16, {3}), make_int(DType::I16, {14})})),
      (V{-16384}));
}

TEST(BitOps, PopcountAndClzCountAtTheDtypesWidth) {
  EXPECT_EQ(ints(run_op(OpKind::Popcount, {make_int(DType::I8, {-1, 0, 5, -128})})),
            (V{8, 0, 2, 1}));
  EXPECT_EQ(ints(run_op(OpKind::Popcount, {make_int(DType::I64, {-1, 0x0f0f})})), (V{64, 8}));
  EXPECT_EQ(ints(run_op(OpKind::Popcount, {make_int(DType::U32, {0xffffffffu})})), (V{32}));
  EXPECT_EQ(ints(run_op(OpKind::Clz, {make_int(DType::I8, {1, 0, -1, 64})})), (V{7, 8, 0, 1}));
  EXPECT_EQ(ints(run_op(OpKind::Clz, {make_int(DType::I16, {1, 0})})), (V{15, 16}));
  EXPECT_EQ(ints(run_op(OpKind::Clz, {make_int(DType::I64, {1, 0, -1})})), (V{63, 64, 0}));
  EXPECT_EQ(ints(run_op(OpKind::Clz, {make_int(DType::U32, {0, 1u << 31})})), (V{32, 0}));
  EXPECT_EQ(ints(run_op(OpKind::Clz, {make_int(DType::U8, {0, 3})})), (V{8, 6}));
}

TEST(BitOps, IsFiniteIsFalseForInfinitiesAndNaN) {
  const double inf = std::numeric_limits<double>::infinity();
  for (DType d : {DType::F16, DType::BF16, DType::F32, DType::F64}) {
    const HostArray r = run_op(OpKind::IsFinite, {make(d, {0.0, -0.0, inf, -inf, NAN, 1.5})});
    EXPECT_EQ(r.dtype(), DType::Bool);
    EXPECT_EQ(ints(r), (V{1, 1, 0, 0, 0, 1})) << dtype_name(d);
  }
  EXPECT_EQ(ints(run_op(OpKind::IsFinite, {make(DType::F16, {65504})})), (V{1}));
  EXPECT_THROW(run_op(OpKind::IsFinite, {make_int(DType::I32, {1})}), TypeError);
}

TEST(BitOps, BitcastConvertKeepsTheBits) {
  auto bitcast = [](const HostArray& x, DType to) {
    return run_op(OpKind::BitcastConvert, {x}, {}, TensorType{to, x.shape()});
  };
  EXPECT_EQ(ints(bitcast(make(DType::F32, {1.0, -2.0}), DType::I32)),
            (V{0x3f800000, std::bit_cast<int32_t>(0xc0000000u)}));
  EXPECT_EQ(ints(bitcast(make(DType::F32, {1.0}), DType::U32)), (V{0x3f800000}));
  EXPECT_EQ(bitcast(make_int(DType::I32, {0x40490fdb}), DType::F32).get_f64(0),
            static_cast<double>(3.14159274101257324f));
  EXPECT_EQ(ints(bitcast(make(DType::F16, {1.0, -0.0}), DType::I16)), (V{0x3c00, -32768}));
  EXPECT_EQ(ints(bitcast(make(DType::BF16, {1.0}), DType::I16)), (V{0x3f80}));
  EXPECT_EQ(bitcast(make_int(DType::I16, {0x3f80}), DType::BF16).get_f64(0), 1.0);
  EXPECT_EQ(bitcast(make_int(DType::I16, {0x3c00}), DType::F16).get_f64(0), 1.0);
  EXPECT_EQ(ints(bitcast(make(DType::F64, {-0.0}), DType::I64)),
            (V{std::numeric_limits<int64_t>::min()}));
  EXPECT_EQ(ints(bitcast(make_int(DType::U8, {255, 128}), DType::I8)), (V{-1, -128}));
  // f16 <-> bf16 reinterpret too: 0x3c00 read as bf16 is 2^(120 - 127).
  EXPECT_EQ(bitcast(make(DType::F16, {1.0}), DType::BF16).get_f64(0), 0.0078125);
  try {
    bitcast(make(DType::F32, {1.0}), DType::I16);
    FAIL() << "expected an error";
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "bitcast_convert needs dtypes of one bit width, got f32 and i16");
  }
  EXPECT_THROW(bitcast(make_int(DType::Bool, {1}), DType::I8), TypeError);
}

// Random123's known-answer tests for threefry2x32_20 (kat_vectors), which JAX's
// threefry_2x32 reproduces.
TEST(RngBits, ThreefryKnownAnswers) {
  using scalar::threefry2x32;
  EXPECT_EQ(threefry2x32(0, 0, 0, 0), std::make_pair(0x6b200159u, 0x99ba4efeu));
  EXPECT_EQ(threefry2x32(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu),
            std::make_pair(0x1cb996fcu, 0xbb002be7u));
  EXPECT_EQ(threefry2x32(0x13198a2eu, 0x03707344u, 0x243f6a88u, 0x85a308d3u),
            std::make_pair(0xc4923a9cu, 0x483df7a0u));
  // Element i counts (high, low) = (i >> 32, i & 0xffffffff).
  EXPECT_EQ(scalar::rng_bits_element(0, 0, 0), 0x6b200159u ^ 0x99ba4efeu);
  const uint64_t last = 0xffffffffffffffffu;
  const auto [a, b] = threefry2x32(7, 9, 0xffffffffu, 0xffffffffu);
  EXPECT_EQ(scalar::rng_bits_element(7, 9, last), a ^ b);
}

// Values from an independent Python implementation of the same definition.
TEST(RngBits, ElementsAreThreefryOfTheRowMajorIndex) {
  const HostArray key = make_int(DType::U32, {0x13198a2e, 0x03707344});
  const HostArray bits = run_op(OpKind::RngBits, {key}, make_attrs(RngBitsAttrs{{2, 3}}));
  EXPECT_EQ(bits.type(), (TensorType{DType::U32, {2, 3}}));
  EXPECT_EQ(ints(bits), (V{2416971891, 3421809153, 1892174999, 2075171332, 299407124, 3106772290}));
  // A leading batch of keys: each row counts from 0 under its own key.
  HostArray keys(TensorType{DType::U32, {2, 2}});
  for (int i = 0; i < 4; ++i)
    keys.set_i64(i, V{0, 42, 1, 2}[static_cast<size_t>(i)]);
  const HostArray batched = run_op(OpKind::RngBits, {keys}, make_attrs(RngBitsAttrs{{3}}));
  EXPECT_EQ(batched.type(), (TensorType{DType::U32, {2, 3}}));
  EXPECT_EQ(ints(batched),
            (V{2098992034, 2919706841, 2646866425, 2932776407, 1811914268, 2110255537}));
}

TEST(RngBits, ShapeRuleAndTextForm) {
  const char* text =
      "func @f(%k: u32[2]) -> u32[4,5] {\n"
      "  %0 = rng_bits %k {shape=[4,5]} : u32[4,5]\n"
      "  return %0\n"
      "}\n";
  const Module m = parse_module(text);
  EXPECT_EQ(print(m), text);
  Function f("bad");
  Value k = f.add_param("k", {DType::I32, {2}});
  try {
    f.add(OpKind::RngBits, {k}, make_attrs(RngBitsAttrs{{3}}));
    FAIL() << "expected an error";
  } catch (const TypeError& e) {
    EXPECT_STREQ(e.what(), "rng_bits expects a key of type u32[2] (or u32[..., 2]), got i32[2]");
  }
  Value k3 = f.add_param("k3", {DType::U32, {3}});
  EXPECT_THROW(f.add(OpKind::RngBits, {k3}, make_attrs(RngBitsAttrs{{3}})), TypeError);
  Value k2 = f.add_param("k2", {DType::U32, {2}});
  EXPECT_THROW(f.add(OpKind::RngBits, {k2}, make_attrs(RngBitsAttrs{{-1}})), TypeError);
}

TEST(BitOps, TextFormsRoundTrip) {
  const char* text =
      "func @f(%a: i16[3], %b: i16[3], %x: f32[3]) -> (i16[3], i16[3], i16[3], i16[3], i16[3], "
      "bool[3], i32[3]) {\n"
      "  %0 = shift_left %a, %b : i16[3]\n"
      "  %1 = shift_right_logical %a, %b : i16[3]\n"
      "  %2 = shift_right_arithmetic %a, %b : i16[3]\n"
      "  %3 = popcount %a : i16[3]\n"
      "  %4 = clz %a : i16[3]\n"
      "  %5 = is_finite %x : bool[3]\n"
      "  %6 = bitcast_convert %x : i32[3]\n"
      "  return %0, %1, %2, %3, %4, %5, %6\n"
      "}\n";
  EXPECT_EQ(print(parse_module(text)), text);
}

}  // namespace
}  // namespace kiln::ir
