// vmap as a whole: the structure of what it builds (one batched dot_general, unbatched values
// computed once, no needless transposes), nested vmap, several results, calls, and every bad
// input as a "[vmap] ..." error.

#include "tests/passes/vmap_test_util.h"

namespace kiln::passes {
namespace {

using ir::OpKind;
using testing::count_ops;
using testing::expect_vmap_matches_loop;
using testing::parse_function;

constexpr std::string_view kMatmul = R"(func @matmul(%x: f32[3,4], %w: f32[4,5]) -> f32[3,5] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[3,5]
  return %0
})";

const ir::Node& only_node(const ir::Function& g, OpKind kind) {
  for (const ir::Node& node : g.nodes())
    if (node.op == kind) return node;
  throw std::runtime_error("no such node");
}

TEST(Vmap, BatchedMatmulIsOneDotGeneralWithABatchDim) {
  const ir::Function f = parse_function(kMatmul);
  const ir::Function g = expect_vmap_matches_loop(f, {0, 0}, {0}, 6);
  EXPECT_EQ(ir::print(g), R"(func @matmul_vmap(%x: f32[6,3,4], %w: f32[6,4,5]) -> f32[6,3,5] {
  %0 = dot_general %x, %w {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[6,3,5]
  return %0
}
)");
  EXPECT_EQ(count_ops(g, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 0);
}

TEST(Vmap, BatchOnlyInsideOperandsStaysInPlace) {
  const ir::Function f = parse_function(kMatmul);
  // Batched at different positions in the two operands: still one dot_general, no transposes.
  ir::Function g = expect_vmap_matches_loop(f, {2, 1}, {0}, 2);
  EXPECT_EQ(count_ops(g, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 0);
  EXPECT_EQ(only_node(g, OpKind::DotGeneral).attrs.get_ints("lhs_batch"),
            (std::vector<int64_t>{2}));
  EXPECT_EQ(only_node(g, OpKind::DotGeneral).attrs.get_ints("rhs_batch"),
            (std::vector<int64_t>{1}));
}

TEST(Vmap, OneBatchedOperandIsAFreeDimension) {
  const ir::Function f = parse_function(kMatmul);
  // x batched: the batch is an lhs free dim, first in the result; no transpose, no batch dims.
  ir::Function g = expect_vmap_matches_loop(f, {0, std::nullopt}, {0}, 4);
  EXPECT_EQ(count_ops(g, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 0);
  EXPECT_TRUE(only_node(g, OpKind::DotGeneral).attrs.get_ints("lhs_batch").empty());
  // w batched: the batch lands among the rhs free dims, result [3, B, 5]; out axis 1 keeps
  // it there, out axis 0 needs one transpose of the result.
  g = expect_vmap_matches_loop(f, {std::nullopt, 0}, {1}, 4);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 0);
  g = expect_vmap_matches_loop(f, {std::nullopt, -1}, {0}, 4);
  EXPECT_EQ(count_ops(g, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 1);
}

TEST(Vmap, UnbatchedValuesAreComputedOnce) {
  const ir::Function f = parse_function(R"(func @f(%x: f32[3], %w: f32[3]) -> f32[3] {
  %0 = exp %w : f32[3]
  %1 = mul %0, %0 : f32[3]
  %2 = add %x, %1 : f32[3]
  return %2
})");
  const ir::Function g = expect_vmap_matches_loop(f, {0, std::nullopt}, {0}, 5);
  EXPECT_EQ(g.type(g.params()[1]), (ir::TensorType{ir::DType::F32, {3}}));
  EXPECT_EQ(only_node(g, OpKind::Exp).type, (ir::TensorType{ir::DType::F32, {3}}));
  EXPECT_EQ(only_node(g, OpKind::Mul).type, (ir::TensorType{ir::DType::F32, {3}}));
  EXPECT_EQ(count_ops(g, OpKind::Broadcast), 1);  // mul's result meets the batched x once
}

TEST(Vmap, ElementwiseOnAgreeingBatchAxesNeedsNoTranspose) {
  const ir::Function f = parse_function(R"(func @f(%x: f32[2,3], %y: f32[2,3]) -> f32[2,3] {
  %0 = mul %x, %y : f32[2,3]
  %1 = sin %0 : f32[2,3]
  %2 = lt %x, %y : bool[2,3]
  %3 = select %2, %1, %0 : f32[2,3]
  return %3
})");
  ir::Function g = expect_vmap_matches_loop(f, {1, 1}, {1}, 3);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 0);
  // Disagreeing axes: the second operand moves to the first's axis, once.
  g = expect_vmap_matches_loop(f, {0, 2}, {0}, 3);
  EXPECT_EQ(count_ops(g, OpKind::Transpose), 1);
}

TEST(Vmap, SeveralResults) {
  const ir::Function f =
      parse_function(R"(func @f(%x: f32[2,3], %y: f32[3]) -> (f32[2,3], f32[3], f32[], i32[2]) {
  %0 = broadcast %y {shape=[2,3], dims=[1]} : f32[2,3]
  %1 = mul %x, %0 : f32[2,3]
  %2 = reduce_sum %x {axes=[0]} : f32[3]
  %3 = reduce_sum %y {axes=[0]} : f32[]
  %4 = argmin %x {axis=1} : i32[2]
  return %1, %2, %3, %4
})");
  expect_vmap_matches_loop(f, {0, std::nullopt}, {0, 1, 0, -1}, 3);
  expect_vmap_matches_loop(f, {-1, 0}, {-1, 0, 0, 1}, 2);
  expect_vmap_matches_loop(f, {1, std::nullopt}, {2, -1, -1, 0}, 4);
  // One out axis for every result, as JAX's int out_axes.
  expect_vmap_matches_loop(f, {0, 0}, {0}, 3);
  expect_vmap_matches_loop(f, {0, 0}, {-1}, 3);
  // The same value returned twice at different axes.
  const ir::Function twice = parse_function(R"(func @twice(%x: f32[2,3]) -> (f32[2,3], f32[2,3]) {
  %0 = neg %x : f32[2,3]
  return %0, %0
})");
  expect_vmap_matches_loop(twice, {1}, {0, 2}, 3);
}

TEST(Vmap, UnbatchedFunctionIsBroadcast) {
  const ir::Function f = parse_function(R"(func @f(%x: f32[2]) -> f32[2] {
  %0 = exp %x : f32[2]
  return %0
})");
  const ir::Function g = expect_vmap_matches_loop(f, {std::nullopt}, {1}, 4);
  EXPECT_EQ(g.type(g.results()[0]), (ir::TensorType{ir::DType::F32, {2, 4}}));
}

TEST(Vmap, NestedVmap) {
  const ir::Function f =
      parse_function(R"(func @f(%x: f32[3,4], %w: f32[4,2], %idx: i32[2]) -> (f32[3,2], f32[2,2]) {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[3,2]
  %1 = tanh %0 : f32[3,2]
  %2 = take %1, %idx {axis=0} : f32[2,2]
  return %1, %2
})");
  const ir::Function g = expect_vmap_matches_loop(f, {0, 1, std::nullopt}, {0, -1}, 3);
  // The inner vmap's batch axes move; the outer batches the indices too.
  const ir::Function h = expect_vmap_matches_loop(g, {1, 0, 0}, {0, 2}, 2);
  EXPECT_EQ(h.name(), "f_vmap_vmap");
  EXPECT_EQ(count_ops(h, OpKind::DotGeneral), 1);
  const ir::Node& dot = only_node(h, OpKind::DotGeneral);
  EXPECT_EQ(dot.attrs.get_ints("lhs_batch").size(), 2u);
  // And a matmul batched twice over both operands is one dot_general with two batch dims.
  const ir::Function m = parse_function(kMatmul);
  const ir::Function m1 = expect_vmap_matches_loop(m, {0, 0}, {0}, 3);
  const ir::Function m2 = expect_vmap_matches_loop(m1, {0, 0}, {0}, 2);
  EXPECT_EQ(count_ops(m2, OpKind::DotGeneral), 1);
  EXPECT_EQ(count_ops(m2, OpKind::Transpose), 0);
  EXPECT_EQ(only_node(m2, OpKind::DotGeneral).attrs.get_ints("lhs_batch"),
            (std::vector<int64_t>{0, 1}));
}

TEST(Vmap, TakeWithBatchedIndicesIsOneTake) {
  const ir::Function f = parse_function(R"(func @f(%x: f32[5,3], %idx: i32[4]) -> f32[4,3] {
  %0 = take %x, %idx {axis=0} : f32[4,3]
  return %0
})");
  const ir::Function g = expect_vmap_matches_loop(f, {0, 0}, {0}, 3, 4);
  EXPECT_EQ(count_ops(g, OpKind::Take), 1);
  EXPECT_EQ(only_node(g, OpKind::Take).operands.size(), 2u);
  // The merged axis holds B*N rows.
  EXPECT_EQ(g.type(only_node(g, OpKind::Take).operands[0]),
            (ir::TensorType{ir::DType::F32, {15, 3}}));
  // Indices whose dtype cannot hold B*N - 1 widen to i64.
  const ir::Function narrow = parse_function(R"(func @f(%x: f32[100], %idx: i8[2]) -> f32[2] {
  %0 = take %x, %idx {axis=0} : f32[2]
  return %0
})");
  const ir::Function n = expect_vmap_matches_loop(narrow, {0, 0}, {0}, 3);
  EXPECT_EQ(g.type(only_node(g, OpKind::Take).operands[1]).dtype, ir::DType::I32);
  EXPECT_EQ(n.type(only_node(n, OpKind::Take).operands[1]).dtype, ir::DType::I64);
}

TEST(Vmap, ScatterAddWithBatchedIndicesIsOneScatter) {
  const ir::Function f =
      parse_function(R"(func @f(%x: f32[4,2], %idx: i32[6], %u: f32[6,2]) -> f32[4,2] {
  %0 = scatter_add %x, %idx, %u {axis=0} : f32[4,2]
  return %0
})");
  for (std::optional<int> x_axis :
       {std::optional<int>(0), std::optional<int>(), std::optional<int>(2)})
    for (std::optional<int> u_axis : {std::optional<int>(1), std::optional<int>()}) {
      const ir::Function g = expect_vmap_matches_loop(f, {x_axis, 0, u_axis}, {1}, 3, 4);
      EXPECT_EQ(count_ops(g, OpKind::ScatterAdd), 1);
    }
}

TEST(Vmap, PadWithBatchedValueSelects) {
  const ir::Function f = parse_function(R"(func @f(%x: f32[3], %v: f32[]) -> f32[6] {
  %0 = pad %x, %v {low=[1], high=[0], interior=[1]} : f32[6]
  return %0
})");
  ir::Function g = expect_vmap_matches_loop(f, {std::nullopt, 0}, {0}, 4);
  EXPECT_EQ(count_ops(g, OpKind::Select), 1);
  g = expect_vmap_matches_loop(f, {0, std::nullopt}, {0}, 4);
  EXPECT_EQ(count_ops(g, OpKind::Select), 0);
}

// ---- calls ------------------------------------------------------------------------------

constexpr std::string_view kCalls = R"(func @main(%x: f32[3], %y: f32[3]) -> f32[3] {
  %0 = call @sq(%y) : f32[3]
  %1 = add %x, %0 : f32[3]
  return %1
}

func @sq(%a: f32[3]) -> f32[3] {
  %0 = mul %a, %a : f32[3]
  return %0
})";

TEST(Vmap, CallOnBatchedValuesIsAnError) {
  const ir::Module m = ir::parse_module(kCalls);
  try {
    vmap(m.functions[0], std::vector<std::optional<int>>{0, 0}, std::vector<int>{0}, 2);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[vmap] call @sq: inline calls before batching (a call on batched values has no "
                 "batching rule)");
  }
}

TEST(Vmap, CallOnUnbatchedValuesIsComputedOnce) {
  ir::Module m = ir::parse_module(kCalls);
  const ir::Function g = vmap(m.functions[0], std::vector<std::optional<int>>{0, std::nullopt},
                              std::vector<int>{0}, 2);
  EXPECT_EQ(count_ops(g, OpKind::Call), 1);
  EXPECT_EQ(only_node(g, OpKind::Call).type, (ir::TensorType{ir::DType::F32, {3}}));
  m.functions.push_back(g);
  ir::verify(m);
}

// ---- errors -----------------------------------------------------------------------------

template <typename Fn>
void expect_error(Fn&& fn, const std::string& message) {
  try {
    fn();
    ADD_FAILURE() << "expected the error: " << message;
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), message);
  }
}

using Axes = std::vector<std::optional<int>>;
using Outs = std::vector<int>;

TEST(VmapErrors, AxisCounts) {
  const ir::Function f = parse_function(kMatmul);
  expect_error([&] { vmap(f, Axes{0}, Outs{0}, 2); },
               "[vmap] @matmul: in_axes has 1 entries but the function has 2 parameters");
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{0, 1}, 2);
      },
      "[vmap] @matmul: out_axes has 2 entries but the function has 1 results (give one "
      "per result, or one for all)");
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{}, 2);
      },
      "[vmap] @matmul: out_axes has 0 entries but the function has 1 results (give one "
      "per result, or one for all)");
}

TEST(VmapErrors, AxesOutOfRange) {
  const ir::Function f = parse_function(kMatmul);
  expect_error(
      [&] {
        vmap(f, Axes{0, 3}, Outs{0}, 2);
      },
      "[vmap] @matmul: in_axes[1] = 3 is out of range for parameter %w of type f32[4,5] "
      "(batched rank 3: axes [-3, 2])");
  expect_error(
      [&] {
        vmap(f, Axes{-4, 0}, Outs{0}, 2);
      },
      "[vmap] @matmul: in_axes[0] = -4 is out of range for parameter %x of type f32[3,4] "
      "(batched rank 3: axes [-3, 2])");
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{3}, 2);
      },
      "[vmap] @matmul: out_axes = 3 is out of range for result 0 of type f32[3,5] "
      "(batched rank 3: axes [-3, 2])");
  const ir::Function two = parse_function(R"(func @two(%x: f32[]) -> (f32[], f32[2]) {
  %0 = broadcast %x {shape=[2], dims=[]} : f32[2]
  return %x, %0
})");
  expect_error(
      [&] {
        vmap(two, Axes{0}, Outs{0, -3}, 2);
      },
      "[vmap] @two: out_axes[1] = -3 is out of range for result 1 of type f32[2] "
      "(batched rank 2: axes [-2, 1])");
  expect_error(
      [&] {
        vmap(two, Axes{1}, Outs{0, 0}, 2);
      },
      "[vmap] @two: in_axes[0] = 1 is out of range for parameter %x of type f32[] "
      "(batched rank 1: axes [-1, 0])");
}

TEST(VmapErrors, BatchSize) {
  const ir::Function f = parse_function(kMatmul);
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{0});
      },
      "[vmap] @matmul: batch_size is required: the parameter types carry no batch axis "
      "(unbatched_signature reads it from argument types)");
  expect_error(
      [&] {
        vmap(f, Axes{std::nullopt, std::nullopt}, Outs{0});
      },
      "[vmap] @matmul: batch_size is required: the parameter types carry no batch axis "
      "(unbatched_signature reads it from argument types)");
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{0}, 0);
      },
      "[vmap] @matmul: batch_size must be positive, got 0");
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{0}, -2);
      },
      "[vmap] @matmul: batch_size must be positive, got -2");
}

TEST(VmapErrors, MergedIndexAxisTooLarge) {
  // A zero dimension lets a shape's other dimensions be huge; B*N rows would wrap int64.
  ir::Function f("huge");
  const ir::Value x = f.add_param("x", {ir::DType::F32, {0, int64_t{1} << 62}});
  const ir::Value idx = f.add_param("idx", {ir::DType::I32, {1}});
  f.set_results({f.add(OpKind::Take, {x, idx}, {{"axis", int64_t{1}}})});
  expect_error(
      [&] {
        vmap(f, Axes{0, 0}, Outs{0}, 4);
      },
      "[vmap] take/scatter_add with batched indices: 4611686018427387904 rows batched 4 "
      "times are too many to index");
}

// ---- reading the batch size from argument types -------------------------------------------

ir::TensorType f32(ir::Shape shape) {
  return {ir::DType::F32, std::move(shape)};
}

TEST(VmapSignature, ReadsTheBatchSize) {
  const std::vector<ir::TensorType> args = {f32({3, 5}), f32({4}), f32({2, 5})};
  UnbatchedSignature s = unbatched_signature(args, Axes{1, std::nullopt, -1});
  EXPECT_EQ(s.batch_size, 5);
  EXPECT_EQ(s.param_types, (std::vector<ir::TensorType>{f32({3}), f32({4}), f32({2})}));
  s = unbatched_signature(args, Axes{std::nullopt, std::nullopt, std::nullopt}, 7);
  EXPECT_EQ(s.batch_size, 7);
  EXPECT_EQ(s.param_types, args);
  s = unbatched_signature(args, Axes{1, std::nullopt, 1}, 5);
  EXPECT_EQ(s.batch_size, 5);
  // What it returns is what vmap needs.
  const ir::Function f = parse_function(kMatmul);
  s = unbatched_signature(std::vector<ir::TensorType>{f32({3, 4, 2}), f32({4, 5})},
                          Axes{2, std::nullopt});
  EXPECT_EQ(s.param_types, f.param_types());
  const ir::Function g = vmap(f, Axes{2, std::nullopt}, Outs{0}, s.batch_size);
  EXPECT_EQ(g.param_types(), (std::vector<ir::TensorType>{f32({3, 4, 2}), f32({4, 5})}));
}

TEST(VmapSignature, Errors) {
  const std::vector<ir::TensorType> args = {f32({3, 5}), f32({4}), f32({})};
  expect_error([&] { unbatched_signature(args, Axes{0}); },
               "[vmap] in_axes has 1 entries but there are 3 arguments");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{2, std::nullopt, std::nullopt});
      },
      "[vmap] in_axes[0] = 2 is out of range for argument 0 of type f32[3,5] (axes "
      "[-2, 1])");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{std::nullopt, std::nullopt, 0});
      },
      "[vmap] in_axes[2] = 0 is out of range for argument 2 of type f32[] (axes none: a "
      "scalar)");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{0, 0, std::nullopt});
      },
      "[vmap] batch sizes disagree: argument 0 has 3 but argument 1 of type f32[4] has 4 "
      "at axis 0");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{0, std::nullopt, std::nullopt}, 4);
      },
      "[vmap] argument 0 of type f32[3,5] has batch size 3 at axis 0 but batch_size is 4");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{std::nullopt, std::nullopt, std::nullopt});
      },
      "[vmap] no argument is batched and no batch_size is given");
  expect_error(
      [&] {
        unbatched_signature(args, Axes{std::nullopt, std::nullopt, std::nullopt}, 0);
      },
      "[vmap] batch_size must be positive, got 0");
  expect_error(
      [&] {
        unbatched_signature(std::vector<ir::TensorType>{f32({0, 2})}, Axes{0});
      },
      "[vmap] argument 0 of type f32[0,2] has batch size 0 at axis 0; the batch size must be "
      "positive");
}

}  // namespace
}  // namespace kiln::passes
