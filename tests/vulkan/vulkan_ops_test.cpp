// The non-elementwise ops compiled for Vulkan, fused and unfused, against the interpreter:
// reductions over every axis set of small rank-1..3 shapes (rows of 0, 1 and past 256
// elements, so an invocation folds several, and NaN/inf/-0) on every dtype, dot_general on
// every dtype it takes (odd, batched, transposed, 300x300 @ 300x17), the index movement ops
// (take, scatter_add with duplicate indices, pad, concatenate, slice, iota, broadcast,
// transpose), and the grid limits: a flat kernel past 65535 x 256 elements and a row
// reduction past 65535 rows, both of which need the 2-D grid and its guard.
//
// Values are chosen so that every result is exact whatever order the device sums in
// (reductions of powers of two and of wrapping integers; small integers in dot products), so
// the comparisons are bit-exact, except the dot products of random floats, which are held to
// the standard bound of a k-term dot product (see DotWithinBound).

#include <gtest/gtest.h>

#include <cstdint>
#include <random>

#include "ir/error.h"
#include "ir/parser.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::ir {
static void PrintTo(DType d, std::ostream* os) {
  *os << dtype_name(d);
}
}  // namespace kiln::ir

namespace kiln::runtime {
namespace {

using ir::Attrs;
using ir::DType;
using ir::int_list;
using ir::OpKind;
using testing::expect_vulkan_matches;

ir::Function parse(const std::string& text) {
  return std::move(ir::parse_module(text).functions.front());
}

// Reduction data: floats are powers of two and zeros of both signs (sums and products of
// these are exact in any order at these sizes), with NaN, inf and -inf at a few places when
// `specials`; integers cycle through small values and the extremes (wrapping sums and products
// do not depend on the order); bools alternate irregularly.
ir::HostArray reduction_data(const ir::TensorType& type, uint64_t seed, bool specials) {
  static const double floats[] = {1, -1, 2, -2, 0.5, -0.5, 0.25, 4, -0.0, 0.0, 1, -1};
  static const int64_t ints[] = {1, -1, 3, -7, 0, 2, 100, -128, 127, INT32_MAX, INT64_MIN, 5};
  const double nan = std::nan(""), inf = std::numeric_limits<double>::infinity();
  std::mt19937_64 rng(seed);
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    const uint64_t r = rng();
    if (ir::is_float(type.dtype)) {
      double v = floats[r % 12];
      if (specials && r % 23 == 0) v = (r / 23) % 3 == 0 ? nan : (r / 23) % 3 == 1 ? inf : -inf;
      a.set_f64(i, v);
    } else if (type.dtype == DType::Bool) {
      a.set_i64(i, static_cast<int64_t>(r % 3 == 0));
    } else {
      a.set_i64(i, ints[r % 12]);
    }
  }
  return a;
}

// Every non-empty axis set of each shape, with sum, max, min and prod, and argmax/argmin over
// each axis: one function per dtype, each reduction a result of its own.
ir::Function every_reduction(DType d, const std::vector<std::vector<int64_t>>& shapes) {
  ir::Function f("reductions");
  std::vector<ir::Value> results;
  auto add = [&](OpKind op, ir::Value v, const Attrs& attrs) {
    try {
      results.push_back(f.add(op, {v}, attrs));
    } catch (const Error&) {
      // The op does not take this dtype (prod of bool, ...).
    }
  };
  for (size_t s = 0; s < shapes.size(); ++s) {
    const ir::Value x = f.add_param("x" + std::to_string(s), {d, shapes[s]});
    const int rank = static_cast<int>(shapes[s].size());
    for (int set = 1; set < (1 << rank); ++set) {
      std::vector<int64_t> axes;
      for (int a = 0; a < rank; ++a)
        if (set & (1 << a)) axes.push_back(a);
      for (OpKind op :
           {OpKind::ReduceSum, OpKind::ReduceMax, OpKind::ReduceMin, OpKind::ReduceProd})
        add(op, x, Attrs{{"axes", int_list(axes)}});
    }
    for (int64_t a = 0; a < rank; ++a)
      for (OpKind op : {OpKind::Argmax, OpKind::Argmin})
        if (shapes[s][static_cast<size_t>(a)] > 0) add(op, x, Attrs{{"axis", a}});
  }
  f.set_results(results);
  return f;
}

class VulkanReduce : public ::testing::TestWithParam<DType> {};

TEST_P(VulkanReduce, EveryAxisSetOfSmallShapes) {
  KILN_REQUIRE_VULKAN_DEVICE();
  // [700]: a row of 700 (past 256: several elements per invocation); [0] and [1]; [2, 600]
  // and [600, 3] long rows and long columns; rank 3 with a 1 in the middle.
  const std::vector<std::vector<int64_t>> shapes = {{700},     {0},       {1},        {7},
                                                    {3, 5},    {2, 600},  {600, 3},   {2, 3, 5},
                                                    {4, 1, 6}, {3, 0, 2}, {2, 300, 2}};
  const ir::Function f = every_reduction(GetParam(), shapes);
  ASSERT_GT(f.results().size(), 40u);
  for (bool specials : {false, true}) {
    if (specials && !ir::is_float(GetParam())) continue;
    std::vector<ir::HostArray> args;
    for (size_t s = 0; s < shapes.size(); ++s)
      args.push_back(reduction_data(f.type(f.params()[s]), 17 + s, specials));
    expect_vulkan_matches(f, args, 0, specials ? "with NaN and infinities" : "");
  }
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, VulkanReduce, ::testing::ValuesIn(ir::kAllDTypes),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(ir::dtype_name(info.param));
                         });

// Ties and NaN: argmax/argmin give the first extremum, and a NaN wins (the interpreter's rule);
// max/min put -0 below +0.
TEST(VulkanReduceSpecials, TiesNaNAndSignedZeros) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f =
      parse(R"(func @f(%x: f32[4, 300]) -> (i32[4], i32[4], f32[4], f32[4], f32[4]) {
  %0 = argmax %x {axis=1} : i32[4]
  %1 = argmin %x {axis=1} : i32[4]
  %2 = reduce_max %x {axes=[1]} : f32[4]
  %3 = reduce_min %x {axes=[1]} : f32[4]
  %4 = reduce_sum %x {axes=[1]} : f32[4]
  return %0, %1, %2, %3, %4
})");
  ir::HostArray x(ir::TensorType{DType::F32, {4, 300}});
  const double nan = std::nan("");
  for (int64_t i = 0; i < 1200; ++i)
    x.set_f64(i, i % 2 ? -0.0 : 0.0);  // row 0: only zeros of both signs
  for (int64_t j = 0; j < 300; ++j)
    x.set_f64(300 + j, j % 7 == 3 ? 5 : 1);  // row 1: ties at 3, 10, ... (first: 3)
  x.set_f64(600 + 290, nan);                 // row 2: one NaN late in the row
  x.set_f64(600 + 291, nan);
  for (int64_t j = 0; j < 300; ++j)
    x.set_f64(900 + j, j == 0 || j == 299 ? -std::numeric_limits<double>::infinity() : 2);
  expect_vulkan_matches(f, {x});
}

// An outer count past 65535 for a row reduction: one workgroup per row needs the 2-D grid.
TEST(VulkanReduceGrid, MoreRowsThanOneGridDimension) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f = parse(R"(func @f(%x: f32[70000, 3]) -> (f32[70000], i32[70000]) {
  %0 = reduce_sum %x {axes=[1]} : f32[70000]
  %1 = argmax %x {axis=1} : i32[70000]
  return %0, %1
})");
  ir::HostArray x(ir::TensorType{DType::F32, {70000, 3}});
  for (int64_t i = 0; i < x.num_elements(); ++i)
    x.set_f64(i, static_cast<double>((i * 7919) % 1009) - 500);
  expect_vulkan_matches(f, {x});
}

// More elements than 65535 workgroups of 256 invocations: the flat kernel's 2-D grid, whose
// groups past the end must write nothing (the output is exactly its size; a stray write would
// land past it, so the check is on the values and on validation staying quiet).
TEST(VulkanOpsGrid, FlatKernelPastOneGridDimension) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const int64_t n = 17'000'000;
  ASSERT_GT(n, int64_t{65535} * 256);
  const ir::Function f = parse(
      "func @f(%x: i8[17000000], %y: i8[17000000]) -> i8[17000000] {\n"
      "  %0 = add %x, %y : i8[17000000]\n  return %0\n}\n");
  ir::HostArray x(f.param_types()[0]), y(f.param_types()[1]);
  auto* px = reinterpret_cast<int8_t*>(x.data());
  auto* py = reinterpret_cast<int8_t*>(y.data());
  for (int64_t i = 0; i < n; ++i) {
    px[i] = static_cast<int8_t>(i % 251);
    py[i] = static_cast<int8_t>(i / 65536);
  }
  for (bool fuse : {true, false}) {
    const ir::HostArray got = testing::run_on_vulkan(f, {x, y}, fuse)[0];
    const auto* pg = reinterpret_cast<const int8_t*>(got.data());
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(pg[i], static_cast<int8_t>(px[i] + py[i])) << "element " << i;
  }
}

// ---- dot_general

// Small integers as every dtype: products and sums exact in any order (under f16's 2048).
ir::HostArray small_ints(const ir::TensorType& type, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i)
    a.set_i64(i, static_cast<int64_t>(rng() % 7) - (ir::is_unsigned(type.dtype) ? 0 : 3));
  return a;
}

// Unbatched, each operand transposed, batched (also transposed), vector operands, k = 1 and
// k = 0, 1x1, and a batch read by a shared rhs.
const testing::DotCase kDots[] = {
    {"[3,5]", "[5,7]", "lhs_contract=[1], rhs_contract=[0]", "[3,7]"},
    {"[5,3]", "[5,7]", "lhs_contract=[0], rhs_contract=[0]", "[3,7]"},
    {"[3,5]", "[7,5]", "lhs_contract=[1], rhs_contract=[1]", "[3,7]"},
    {"[5,3]", "[7,5]", "lhs_contract=[0], rhs_contract=[1]", "[3,7]"},
    {"[2,3,5]", "[2,5,4]", "lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]",
     "[2,3,4]"},
    {"[5,2,3]", "[4,2,5]", "lhs_batch=[1], rhs_batch=[1], lhs_contract=[0], rhs_contract=[2]",
     "[2,3,4]"},
    {"[2,3,5]", "[5,4]", "lhs_contract=[2], rhs_contract=[0]", "[2,3,4]"},
    {"[5,3]", "[3]", "lhs_contract=[1], rhs_contract=[0]", "[5]"},
    {"[9]", "[9]", "lhs_contract=[0], rhs_contract=[0]", "[]"},
    {"[4,1]", "[1,6]", "lhs_contract=[1], rhs_contract=[0]", "[4,6]"},
    {"[1,1]", "[1,1]", "lhs_contract=[1], rhs_contract=[0]", "[1,1]"},
    {"[3,0]", "[0,4]", "lhs_contract=[1], rhs_contract=[0]", "[3,4]"},
    {"[1,17]", "[17,1]", "lhs_contract=[1], rhs_contract=[0]", "[1,1]"},
    {"[2,3,4,5]", "[3,2,5,6]",
     "lhs_batch=[0,1], rhs_batch=[1,0], lhs_contract=[3], rhs_contract=[2]", "[2,3,4,6]"},
};

class VulkanDot : public ::testing::TestWithParam<DType> {};

TEST_P(VulkanDot, EveryLayoutMatchesTheInterpreter) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const std::string d(ir::dtype_name(GetParam()));
  ir::Function f;
  try {
    f = parse(testing::dots_kir(d, kDots));
  } catch (const Error& e) {
    GTEST_SKIP() << "dot_general does not take " << d << ": " << e.what();
  }
  std::vector<ir::HostArray> args;
  for (size_t p = 0; p < f.params().size(); ++p)
    args.push_back(small_ints(f.param_types()[p], 100 + p));
  expect_vulkan_matches(f, args, 0, d);
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, VulkanDot, ::testing::ValuesIn(ir::kAllDTypes),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(ir::dtype_name(info.param));
                         });

// Random floats in [-1, 1): the device sums each output's k products in contraction order with
// fused multiply-adds in the accumulator (f32 for f16/bf16), the interpreter in f64 rounded
// once. Both are within the classic bound k * u * sum |a_i b_i| of the exact product (u the
// accumulator's unit roundoff), so they differ by at most twice that, plus one ulp of the
// result dtype for the final rounding of f16/bf16 and f32. sum |a_i b_i| is the interpreter's
// product of |a| and |b|.
void expect_dot_within_bound(const std::string& dtype, const std::string& lhs,
                             const std::string& rhs, const std::string& attrs,
                             const std::string& result, int64_t k) {
  const ir::Function f = parse("func @dot(%a: " + dtype + lhs + ", %b: " + dtype + rhs + ") -> " +
                               dtype + result + " {\n  %0 = dot_general %a, %b {" + attrs +
                               "} : " + dtype + result + "\n  return %0\n}\n");
  std::vector<ir::HostArray> args, magnitudes;
  std::mt19937_64 rng(7);
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(-1, 1)(rng));
    ir::HostArray& m = magnitudes.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      m.set_f64(i, std::fabs(a.get_f64(i)));
  }
  const ir::HostArray want = ir::interpret(f, args)[0];
  const ir::HostArray bound = ir::interpret(f, magnitudes)[0];
  const DType d = want.dtype();
  const double u = d == DType::F64 ? 0x1p-53 : 0x1p-24;
  for (bool fuse : {true, false}) {
    const ir::HostArray got = testing::run_on_vulkan(f, args, fuse)[0];
    int failures = 0;
    for (int64_t i = 0; i < want.num_elements() && failures < 3; ++i) {
      const double w = want.get_f64(i), g = got.get_f64(i);
      const double tol = 2 * static_cast<double>(k) * u * bound.get_f64(i) +
                         (d == DType::F64 ? 0 : codegen::testing::ulp_of(d, w));
      if (!(std::fabs(g - w) <= tol)) {
        ++failures;
        ADD_FAILURE() << dtype << lhs << " x " << rhs << (fuse ? " fused" : " unfused")
                      << ", element " << i << ": got " << g << ", want " << w << " (bound " << tol
                      << ")";
      }
    }
  }
}

TEST(VulkanDotRounding, RandomFloatsWithinTheDotProductBound) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (const char* d : {"f16", "bf16", "f32", "f64"}) {
    expect_dot_within_bound(d, "[3,5]", "[5,7]", "lhs_contract=[1], rhs_contract=[0]", "[3,7]", 5);
    expect_dot_within_bound(d, "[2,33,31]", "[2,29,31]",
                            "lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[2]",
                            "[2,33,29]", 31);
  }
  expect_dot_within_bound("f32", "[300,300]", "[300,17]", "lhs_contract=[1], rhs_contract=[0]",
                          "[300,17]", 300);
  expect_dot_within_bound("f32", "[300,300]", "[17,300]", "lhs_contract=[0], rhs_contract=[1]",
                          "[300,17]", 300);
}

// The same 300x300 @ 300x17 on small integers: exact, so bit for bit.
TEST(VulkanDotRounding, LargeProductOfSmallIntegersIsExact) {
  KILN_REQUIRE_VULKAN_DEVICE();
  for (const char* d : {"f32", "i32"}) {
    const std::string t = d;
    const ir::Function f =
        parse("func @dot(%a: " + t + "[300,300], %b: " + t + "[300,17]) -> " + t +
              "[300,17] {\n  %0 = dot_general %a, %b {lhs_contract=[1], rhs_contract=[0]} : " + t +
              "[300,17]\n  return %0\n}\n");
    expect_vulkan_matches(f, {small_ints(f.param_types()[0], 1), small_ints(f.param_types()[1], 2)},
                          0, d);
  }
}

// ---- index movement, on a float, a narrow integer and a 64-bit dtype

class VulkanMovement : public ::testing::TestWithParam<DType> {};

TEST_P(VulkanMovement, TakeScatterPadConcatSliceIotaBroadcastTranspose) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const std::string d(ir::dtype_name(GetParam()));
  auto T = [&](const std::string& shape) { return d + shape; };
  const std::string text =
      "func @movement(%x: " + T("[5,6]") + ", %y: " + T("[3,6]") + ", %s: " + T("[]") +
      ", %idx: i32[7], %idx2: i64[2,3], %upd: " + T("[7,6]") + ", %z: " + T("[2,3,4]") + ") -> (" +
      T("[7,6]") + ", " + T("[5,2,3]") + ", " + T("[5,6]") + ", " + T("[13,13]") + ", " +
      T("[8,6]") + ", " + T("[5,12]") + ", " + T("[2,3]") + ", " + T("[4,6]") + ", " +
      T("[5,6,2]") + ", " + T("[4,2,3]") + ", i32[4,3], " + T("[3,5]") + ", " + T("[6,5]") +
      ") {\n"
      "  %take = take %x, %idx {axis=0} : " +
      T("[7,6]") +
      "\n"
      "  %take2 = take %x, %idx2 {axis=1} : " +
      T("[5,2,3]") +
      "\n"
      "  %scat = scatter_add %x, %idx, %upd {axis=0} : " +
      T("[5,6]") +
      "\n"
      "  %pad = pad %x, %s {low=[1,0], high=[3,2], interior=[1,1]} : " +
      T("[13,13]") +
      "\n"
      "  %cat = concatenate %x, %y {axis=0} : " +
      T("[8,6]") +
      "\n"
      "  %cat2 = concatenate %x, %x {axis=1} : " +
      T("[5,12]") +
      "\n"
      "  %sl = slice %x {start=[1,0], limit=[5,6], stride=[3,2]} : " +
      T("[2,3]") +
      "\n"
      "  %io = iota {axis=1} : " +
      T("[4,6]") +
      "\n"
      "  %bc = broadcast %x {shape=[5,6,2], dims=[0,1]} : " +
      T("[5,6,2]") +
      "\n"
      "  %tr = transpose %z {perm=[2,0,1]} : " +
      T("[4,2,3]") +
      "\n"
      "  %io2 = iota {axis=0} : i32[4,3]\n"
      "  %xt = transpose %x {perm=[1,0]} : " +
      T("[6,5]") +
      "\n"
      "  %sl2 = slice %xt {start=[0,0], limit=[6,5], stride=[2,1]} : " +
      T("[3,5]") +
      "\n"
      "  return %take, %take2, %scat, %pad, %cat, %cat2, %sl, %io, %bc, %tr, %io2, %sl2, %xt\n"
      "}\n";
  const ir::Function f = parse(text);
  std::vector<ir::HostArray> args;
  std::mt19937_64 rng(3);
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_i64(i, static_cast<int64_t>(rng() % 9) - 2);  // indices -2..6: some clamp
  }
  // Duplicate indices for scatter_add, so the same row takes several updates.
  for (int64_t i = 0; i < 7; ++i)
    args[3].set_i64(i, std::vector<int64_t>{1, 3, 1, 1, -5, 9, 3}[static_cast<size_t>(i)]);
  expect_vulkan_matches(f, args, 0, d);
}

INSTANTIATE_TEST_SUITE_P(SomeDtypes, VulkanMovement,
                         ::testing::Values(DType::F32, DType::F16, DType::I8, DType::I64,
                                           DType::U32, DType::F64),
                         [](const ::testing::TestParamInfo<DType>& info) {
                           return std::string(ir::dtype_name(info.param));
                         });

// scatter_add of many positive floats of mixed magnitudes into few rows: the device's
// sequential phase rounds each f32 addition, the interpreter accumulates more precisely and
// rounds once, so they differ by up to about 400 additions' rounding (400 ulp of the sum; a
// lost or doubled update is off by far more).
TEST(VulkanMovementOrder, ScatterAddAddsInUpdateOrder) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f =
      parse(R"(func @f(%x: f32[3, 2], %idx: i32[400], %upd: f32[400, 2]) -> f32[3,2] {
  %0 = scatter_add %x, %idx, %upd {axis=0} : f32[3,2]
  return %0
})");
  ir::HostArray x(f.param_types()[0]), idx(f.param_types()[1]), upd(f.param_types()[2]);
  std::mt19937_64 rng(11);
  for (int64_t i = 0; i < 400; ++i)
    idx.set_i64(i, static_cast<int64_t>(rng() % 3));
  for (int64_t i = 0; i < 800; ++i)
    upd.set_f64(
        i, std::ldexp(static_cast<double>(rng() % 1000) + 1, static_cast<int>(rng() % 40) - 20));
  expect_vulkan_matches(f, {x, idx, upd}, 400);
}

}  // namespace
}  // namespace kiln::runtime
