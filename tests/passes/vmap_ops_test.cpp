// vmap of every op: small functions per op, batched along many in_axes/out_axes combinations
// (first, last, middle, unbatched, mixed), each checked against the per-element loop on the
// interpreter. programs_for is a switch over OpKind with no default, so a new op does not
// compile here until it has batching tests.

#include <set>

#include "tests/passes/vmap_test_util.h"

namespace kiln::passes {
namespace {

using ir::OpKind;
using testing::expect_vmap_matches_loop;
using testing::parse_function;

std::string unary(std::string_view op, std::string_view type) {
  return "func @" + std::string(op) + "(%x: " + std::string(type) + ") -> " + std::string(type) +
         " {\n  %0 = " + std::string(op) + " %x : " + std::string(type) + "\n  return %0\n}";
}

std::string binary(std::string_view op, std::string_view type, std::string_view result) {
  return "func @" + std::string(op) + "(%x: " + std::string(type) + ", %y: " + std::string(type) +
         ") -> " + std::string(result) + " {\n  %0 = " + std::string(op) +
         " %x, %y : " + std::string(result) + "\n  return %0\n}";
}

// Small functions that exercise the op; every parameter is batched or not by the configs.
std::vector<std::string> programs_for(OpKind kind) {
  const std::string name(ir::op_name(kind));
  switch (kind) {
    case OpKind::Parameter:
      return {};
    case OpKind::Neg:
    case OpKind::Abs:
    case OpKind::Sign:
      return {unary(name, "f32[2,3]"), unary(name, "i32[4]")};
    case OpKind::Exp:
    case OpKind::Log:
    case OpKind::Log1p:
    case OpKind::Expm1:
    case OpKind::Sqrt:
    case OpKind::Rsqrt:
    case OpKind::Sin:
    case OpKind::Cos:
    case OpKind::Tanh:
    case OpKind::Logistic:
    case OpKind::Erf:
    case OpKind::Tan:
    case OpKind::Asin:
    case OpKind::Acos:
    case OpKind::Atan:
    case OpKind::Sinh:
    case OpKind::Cosh:
    case OpKind::Asinh:
    case OpKind::Acosh:
    case OpKind::Atanh:
    case OpKind::ErfInv:
    case OpKind::Lgamma:
    case OpKind::Digamma:
    case OpKind::Floor:
    case OpKind::Ceil:
    case OpKind::Round:
      return {unary(name, "f32[2,3]")};
    case OpKind::Not:
      return {unary(name, "i32[2,3]"), unary(name, "bool[3]")};
    case OpKind::Popcount:
    case OpKind::Clz:
      return {unary(name, "i32[2,3]"), unary(name, "u8[4]")};
    case OpKind::ShiftLeft:
    case OpKind::ShiftRightLogical:
    case OpKind::ShiftRightArithmetic:
      return {binary(name, "i32[2,3]", "i32[2,3]"), binary(name, "u8[4]", "u8[4]")};
    case OpKind::IsFinite:
      return {R"(func @is_finite(%x: f32[2,3]) -> bool[2,3] {
  %0 = is_finite %x : bool[2,3]
  return %0
})"};
    case OpKind::BitcastConvert:
      return {R"(func @bitcast_convert(%x: f32[2,3]) -> i32[2,3] {
  %0 = bitcast_convert %x : i32[2,3]
  return %0
})"};
    case OpKind::RngBits:
      // A batched key gives one row of bits per key; an unbatched one meets batched values.
      return {R"(func @rng_bits(%key: u32[2], %x: u32[3,4]) -> (u32[3,4], u32[5]) {
  %0 = rng_bits %key {shape=[3,4]} : u32[3,4]
  %1 = xor %0, %x : u32[3,4]
  %2 = rng_bits %key {shape=[5]} : u32[5]
  return %1, %2
})",
              R"(func @rng_bits_keys(%keys: u32[3,2]) -> u32[3,2,2] {
  %0 = rng_bits %keys {shape=[2,2]} : u32[3,2,2]
  return %0
})"};
    case OpKind::StopGradient:
      return {unary(name, "f32[2,3]"), unary(name, "i8[]")};
    case OpKind::Add:
    case OpKind::Sub:
    case OpKind::Mul:
    case OpKind::Div:
    case OpKind::Rem:
    case OpKind::Pow:
    case OpKind::Max:
    case OpKind::Min:
      return {binary(name, "f32[2,3]", "f32[2,3]"), binary(name, "i32[3,1,2]", "i32[3,1,2]")};
    case OpKind::And:
    case OpKind::Or:
    case OpKind::Xor:
      return {binary(name, "i32[2,3]", "i32[2,3]"), binary(name, "bool[4]", "bool[4]")};
    case OpKind::Atan2:
      return {binary(name, "f32[2,3]", "f32[2,3]"), binary(name, "f64[4]", "f64[4]")};
    case OpKind::Eq:
    case OpKind::Ne:
    case OpKind::Lt:
    case OpKind::Le:
    case OpKind::Gt:
    case OpKind::Ge:
      return {binary(name, "f32[2,3]", "bool[2,3]"), binary(name, "i16[3]", "bool[3]")};
    case OpKind::Select:
      return {R"(func @select(%p: bool[2,3], %x: f32[2,3], %y: f32[2,3]) -> f32[2,3] {
  %0 = select %p, %x, %y : f32[2,3]
  return %0
})",
              R"(func @select_scalar(%p: bool[], %x: i32[], %y: i32[]) -> i32[] {
  %0 = select %p, %x, %y : i32[]
  return %0
})"};
    case OpKind::Convert:
      return {R"(func @convert(%x: f32[2,3]) -> i32[2,3] {
  %0 = convert %x : i32[2,3]
  return %0
})",
              R"(func @convert_f16(%x: i32[4]) -> f16[4] {
  %0 = convert %x : f16[4]
  return %0
})"};
    case OpKind::Constant:
      // The constant is unbatched and meets a batched operand; a constant result is broadcast.
      return {R"(func @constant(%x: f32[3]) -> (f32[3], f32[2,2]) {
  %0 = constant {value=[1.0, -2.0, 0.5]} : f32[3]
  %1 = add %x, %0 : f32[3]
  %2 = constant {value=[[1.0, 2.0], [3.0, 4.0]]} : f32[2,2]
  return %1, %2
})"};
    case OpKind::Iota:
      return {R"(func @iota(%x: i32[2,3]) -> (i32[2,3], i32[3]) {
  %0 = iota {axis=1} : i32[2,3]
  %1 = mul %x, %0 : i32[2,3]
  %2 = iota {axis=0} : i32[3]
  return %1, %2
})"};
    case OpKind::Broadcast:
      return {R"(func @broadcast(%x: f32[3]) -> f32[2,3,4] {
  %0 = broadcast %x {shape=[2,3,4], dims=[1]} : f32[2,3,4]
  return %0
})",
              R"(func @broadcast_stretch(%x: f32[2,1]) -> f32[2,4,3] {
  %0 = broadcast %x {shape=[2,4,3], dims=[0,1]} : f32[2,4,3]
  return %0
})",
              R"(func @broadcast_scalar(%x: i32[]) -> i32[2,3] {
  %0 = broadcast %x {shape=[2,3], dims=[]} : i32[2,3]
  return %0
})"};
    case OpKind::Reshape:
      return {R"(func @reshape(%x: f32[2,3,4]) -> f32[6,4] {
  %0 = reshape %x {shape=[6,4]} : f32[6,4]
  return %0
})",
              R"(func @reshape_scalar(%x: f32[1,1]) -> f32[] {
  %0 = reshape %x {shape=[]} : f32[]
  return %0
})"};
    case OpKind::Transpose:
      return {R"(func @transpose(%x: f32[2,3,4]) -> f32[4,2,3] {
  %0 = transpose %x {perm=[2,0,1]} : f32[4,2,3]
  return %0
})"};
    case OpKind::Slice:
      return {R"(func @slice(%x: f32[5,6]) -> f32[2,2] {
  %0 = slice %x {start=[1,0], limit=[5,6], stride=[2,3]} : f32[2,2]
  return %0
})"};
    case OpKind::Pad:
      // The padding value is batched in some configs (the select rule) and not in others.
      return {R"(func @pad(%x: f32[2,3], %v: f32[]) -> f32[4,7] {
  %0 = pad %x, %v {low=[1,0], high=[0,2], interior=[1,1]} : f32[4,7]
  return %0
})",
              R"(func @pad_bool(%x: bool[2], %v: bool[]) -> bool[5] {
  %0 = pad %x, %v {low=[2], high=[1], interior=[0]} : bool[5]
  return %0
})"};
    case OpKind::Concatenate:
      return {R"(func @concatenate(%a: f32[2,3], %b: f32[2,1], %c: f32[2,2]) -> f32[2,6] {
  %0 = concatenate %a, %b, %c {axis=1} : f32[2,6]
  return %0
})",
              R"(func @concatenate0(%a: i32[1], %b: i32[2]) -> i32[3] {
  %0 = concatenate %a, %b {axis=0} : i32[3]
  return %0
})"};
    case OpKind::ReduceSum:
    case OpKind::ReduceMax:
    case OpKind::ReduceMin:
    case OpKind::ReduceProd:
      return {"func @" + name + "(%x: f32[2,3,4]) -> f32[3] {\n  %0 = " + name +
                  " %x {axes=[0,2]} : f32[3]\n  return %0\n}",
              "func @" + name + "_all(%x: i32[2,3]) -> i32[] {\n  %0 = " + name +
                  " %x {axes=[1,0]} : i32[]\n  return %0\n}",
              "func @" + name + "_none(%x: f32[3]) -> f32[3] {\n  %0 = " + name +
                  " %x {axes=[]} : f32[3]\n  return %0\n}"};
    case OpKind::Argmax:
    case OpKind::Argmin:
      return {"func @" + name + "(%x: f32[3,4]) -> i32[3] {\n  %0 = " + name +
                  " %x {axis=1} : i32[3]\n  return %0\n}",
              "func @" + name + "0(%x: i32[2,3,4]) -> i32[3,4] {\n  %0 = " + name +
                  " %x {axis=0} : i32[3,4]\n  return %0\n}"};
    case OpKind::DotGeneral:
      return {R"(func @matmul(%x: f32[2,3], %w: f32[3,4]) -> f32[2,4] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[2,4]
  return %0
})",
              R"(func @bmm(%x: f32[2,3,4], %w: f32[2,4,5]) -> f32[2,3,5] {
  %0 = dot_general %x, %w {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[2,3,5]
  return %0
})",
              R"(func @bmm_odd(%x: i32[4,2,3], %w: i32[3,5,2]) -> i32[2,4,5] {
  %0 = dot_general %x, %w {lhs_batch=[1], rhs_batch=[2], lhs_contract=[2], rhs_contract=[0]} : i32[2,4,5]
  return %0
})",
              R"(func @vdot(%x: f32[3], %y: f32[3]) -> f32[] {
  %0 = dot_general %x, %y {lhs_contract=[0], rhs_contract=[0]} : f32[]
  return %0
})",
              R"(func @outer(%x: f32[2], %y: f32[3]) -> f32[2,3] {
  %0 = dot_general %x, %y {lhs_contract=[], rhs_contract=[]} : f32[2,3]
  return %0
})"};
    case OpKind::Take:
      return {R"(func @take(%x: f32[4,3], %idx: i32[2]) -> f32[2,3] {
  %0 = take %x, %idx {axis=0} : f32[2,3]
  return %0
})",
              R"(func @take_mid(%x: f32[2,5,3], %idx: i32[2,2]) -> f32[2,2,2,3] {
  %0 = take %x, %idx {axis=1} : f32[2,2,2,3]
  return %0
})",
              R"(func @take_u8(%x: i32[2,4], %idx: u8[3]) -> i32[2,3] {
  %0 = take %x, %idx {axis=1} : i32[2,3]
  return %0
})",
              R"(func @take_scalar(%x: f32[4,2], %idx: i64[]) -> f32[2] {
  %0 = take %x, %idx {axis=0} : f32[2]
  return %0
})",
              R"(func @take_i8(%x: f32[5], %idx: i8[2]) -> f32[2] {
  %0 = take %x, %idx {axis=0} : f32[2]
  return %0
})"};
    case OpKind::CumSum:
    case OpKind::CumProd:
    case OpKind::CumMax:
    case OpKind::CumMin:
    case OpKind::CumLogSumExp:
      return {"func @" + name + "(%x: f32[3,4]) -> (f32[3,4], f32[3,4]) {\n  %0 = " + name +
              " %x {axis=1} : f32[3,4]\n  %1 = " + name +
              " %x {axis=0, reverse=true} : f32[3,4]\n  return %0, %1\n}"};
    case OpKind::TakeAlongAxis:
      return {R"(func @take_along_axis(%x: f32[3,4], %i: i32[3,2]) -> f32[3,2] {
  %0 = take_along_axis %x, %i {axis=1} : f32[3,2]
  return %0
})"};
    case OpKind::ScatterAlongAxis:
      return {
          R"(func @scatter_along_axis(%x: f32[3,4], %i: i32[2,4], %u: f32[2,4]) -> (f32[3,4], f32[3,4]) {
  %0 = scatter_along_axis %x, %i, %u {axis=0} : f32[3,4]
  %1 = scatter_along_axis %x, %i, %u {axis=0, mode="set"} : f32[3,4]
  return %0, %1
})",
          R"(func @scatter_along_axis_max(%x: i32[2,3], %i: i32[2,2], %u: i32[2,2]) -> i32[2,3] {
  %0 = scatter_along_axis %x, %i, %u {axis=1, mode="max"} : i32[2,3]
  return %0
})"};
    case OpKind::ScatterAdd:
      return {R"(func @scatter_add(%x: f32[4,3], %idx: i32[5], %u: f32[5,3]) -> f32[4,3] {
  %0 = scatter_add %x, %idx, %u {axis=0} : f32[4,3]
  return %0
})",
              R"(func @scatter_mid(%x: f32[2,4,3], %idx: i32[2,2], %u: f32[2,2,2,3]) -> f32[2,4,3] {
  %0 = scatter_add %x, %idx, %u {axis=1} : f32[2,4,3]
  return %0
})",
              R"(func @scatter_int(%x: i32[3,4], %idx: u32[3], %u: i32[3,3]) -> i32[3,4] {
  %0 = scatter_add %x, %idx, %u {axis=1} : i32[3,4]
  return %0
})",
              R"(func @scatter_i8(%x: f32[6], %idx: i8[4], %u: f32[4]) -> f32[6] {
  %0 = scatter_add %x, %idx, %u {axis=0} : f32[6]
  return %0
})"};
    case OpKind::Call:
      return {};  // vmap_test.cpp: an error on batched operands, computed once otherwise
  }
  return {};
}

struct Config {
  std::vector<std::optional<int>> in_axes;
  std::vector<int> out_axes;
  int64_t batch;
};

// Batch axes first, last, second, mixed positions, some parameters unbatched, none batched;
// out axes cycle through first, last and second.
std::vector<Config> configs_for(const ir::Function& f) {
  using Pattern = std::optional<int> (*)(int i, int batched_rank);
  const Pattern patterns[] = {
      [](int, int) -> std::optional<int> { return 0; },
      [](int, int) -> std::optional<int> { return -1; },
      [](int, int r) -> std::optional<int> { return r > 1 ? 1 : 0; },
      [](int i, int r) -> std::optional<int> { return (2 * i + 1) % r; },
      [](int i, int) -> std::optional<int> {
        if (i % 2) return std::nullopt;
        return 0;
      },
      [](int i, int r) -> std::optional<int> {
        if (i % 2 == 0) return std::nullopt;
        return r - 1;
      },
      [](int, int) -> std::optional<int> { return std::nullopt; },
  };
  std::vector<Config> configs;
  int c = 0;
  for (Pattern pattern : patterns) {
    Config config;
    for (size_t i = 0; i < f.params().size(); ++i)
      config.in_axes.push_back(pattern(static_cast<int>(i), f.type(f.params()[i]).rank() + 1));
    for (size_t j = 0; j < f.results().size(); ++j) {
      const int r = f.type(f.results()[j]).rank() + 1;
      const int choice = (c + static_cast<int>(j)) % 3;
      config.out_axes.push_back(choice == 0 ? 0 : choice == 1 ? -1 : (r > 1 ? 1 : 0));
    }
    config.batch = c % 2 ? 2 : 3;
    configs.push_back(std::move(config));
    ++c;
  }
  return configs;
}

// Every combination of batch positions (or none) over the parameters, out axes cycling.
std::vector<Config> all_positions(const ir::Function& f) {
  std::vector<Config> configs;
  std::vector<int> choice(f.params().size(), -1);  // -1: unbatched
  for (int c = 0;; ++c) {
    Config config;
    for (int a : choice)
      config.in_axes.push_back(a < 0 ? std::nullopt : std::optional<int>(a));
    for (size_t j = 0; j < f.results().size(); ++j) {
      const int r = f.type(f.results()[j]).rank() + 1;
      config.out_axes.push_back(static_cast<int>((c + j) % r));
    }
    config.batch = 2;
    configs.push_back(std::move(config));
    size_t i = 0;  // the next combination, like an odometer
    for (; i < choice.size(); ++i) {
      if (++choice[i] <= f.type(f.params()[i]).rank()) break;
      choice[i] = -1;
    }
    if (i == choice.size()) return configs;
  }
}

TEST(VmapOps, EveryOpHasBatchingTests) {
  for (OpKind kind : ir::all_ops())
    if (kind != OpKind::Call) {
      EXPECT_FALSE(programs_for(kind).empty()) << ir::op_name(kind);
    }
}

TEST(VmapOps, EveryOpMatchesTheLoop) {
  for (OpKind kind : ir::all_ops()) {
    SCOPED_TRACE(std::string(ir::op_name(kind)));
    for (const std::string& text : programs_for(kind)) {
      const ir::Function f = parse_function(text);
      ASSERT_TRUE(std::any_of(f.nodes().begin(), f.nodes().end(),
                              [&](const ir::Node& n) { return n.op == kind; }));
      for (const Config& config : configs_for(f))
        expect_vmap_matches_loop(f, config.in_axes, config.out_axes, config.batch);
    }
  }
}

TEST(VmapOps, EveryBatchPositionMatchesTheLoop) {
  for (OpKind kind : ir::all_ops()) {
    SCOPED_TRACE(std::string(ir::op_name(kind)));
    for (const std::string& text : programs_for(kind)) {
      const ir::Function f = parse_function(text);
      for (const Config& config : all_positions(f))
        expect_vmap_matches_loop(f, config.in_axes, config.out_axes, config.batch, 1);
    }
  }
}

// The batched ops chain: the batch axis travels through elementwise ops, reductions and a
// dot_general without transposes in between.
TEST(VmapOps, ChainsMatchTheLoop) {
  const ir::Function f =
      parse_function(R"(func @layer(%x: f32[2,3], %w: f32[3,4], %b: f32[4]) -> (f32[2,4], i32[2]) {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[2,4]
  %1 = broadcast %b {shape=[2,4], dims=[1]} : f32[2,4]
  %2 = add %0, %1 : f32[2,4]
  %3 = tanh %2 : f32[2,4]
  %4 = reduce_max %3 {axes=[1]} : f32[2]
  %5 = broadcast %4 {shape=[2,4], dims=[0]} : f32[2,4]
  %6 = sub %3, %5 : f32[2,4]
  %7 = exp %6 : f32[2,4]
  %8 = argmax %7 {axis=1} : i32[2]
  return %7, %8
})");
  for (const Config& config : configs_for(f))
    expect_vmap_matches_loop(f, config.in_axes, config.out_axes, config.batch);
  // All three batched along their first axis, results batched first: no transposes at all.
  ir::Function g = expect_vmap_matches_loop(f, {0, 0, 0}, {0}, 3);
  EXPECT_EQ(testing::count_ops(g, OpKind::Transpose), 0) << ir::print(g);
}

}  // namespace
}  // namespace kiln::passes
