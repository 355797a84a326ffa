// The Vulkan backend's tiled matrix products (DispatchPlan::Strategy::Tiled, spirv_compiler.h):
// which kernels take the strategy, and what they compute: odd shapes on every side of the tile
// (m, n, k in {1, 3, 17, 65, 130}) on every dtype, batched, transposed and shared operands,
// bias + relu and bias + tanh-gelu epilogues on the register tile. Small integers make every
// sum exact, so the results are the interpreter's bit for bit; random floats are held to the
// chain every strategy computes (Fma in contraction order from -0), bit for bit too.

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <random>

#include "codegen/lower.h"
#include "codegen/spirv/spirv_compiler.h"
#include "compiler/vulkan_backend.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "passes/fusion.h"
#include "tests/vulkan/vulkan_compile_util.h"

namespace kiln::runtime {
namespace {

using codegen::spirv::DispatchPlan;
using ir::DType;
using testing::expect_vulkan_matches;

ir::Function parse(const std::string& text) {
  return std::move(ir::parse_module(text).functions.front());
}

ir::HostArray small_ints(const ir::TensorType& type, uint64_t seed) {
  std::mt19937_64 rng(seed);
  ir::HostArray a(type);
  for (int64_t i = 0; i < a.num_elements(); ++i)
    a.set_i64(i, static_cast<int64_t>(rng() % 7) - (ir::is_unsigned(type.dtype) ? 0 : 3));
  return a;
}

std::string shape(std::initializer_list<int64_t> dims) {
  std::string s = "[";
  for (int64_t d : dims)
    s += (s.size() > 1 ? "," : "") + std::to_string(d);
  return s + "]";
}

// A function returning one dot_general per (m, n, k), each [m,k] @ [k,n].
ir::Function products(const std::string& d, const std::vector<std::array<int64_t, 3>>& mnk) {
  std::vector<testing::DotCase> cases;
  for (const auto& [m, n, k] : mnk)
    cases.push_back(
        {shape({m, k}), shape({k, n}), "lhs_contract=[1], rhs_contract=[0]", shape({m, n})});
  return parse(testing::dots_kir(d, cases));
}

std::vector<DispatchPlan::Strategy> strategies(const ir::Function& f,
                                               const codegen::spirv::SpirvTarget& target) {
  std::vector<DispatchPlan::Strategy> out;
  for (const codegen::Kernel& k : codegen::lower(f, passes::plan_fusion(f)).kernels)
    out.push_back(codegen::spirv::plan_dispatch(k, target).strategy);
  return out;
}

const char* kBiasRelu =
    R"(func @layer(%x: f32[65,130], %w: f32[130,17], %b: f32[17]) -> f32[65,17] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[65,17]
  %1 = broadcast %b {shape=[65,17], dims=[1]} : f32[65,17]
  %2 = add %0, %1 : f32[65,17]
  %3 = constant {value=0.0} : f32[]
  %4 = broadcast %3 {shape=[65,17], dims=[]} : f32[65,17]
  %5 = max %2, %4 : f32[65,17]
  return %5
}
)";

TEST(VulkanDotTiledPlan, ProductsAndEpiloguesAreTiledTheRestRows) {
  // A small device: the 128 invocations and 16 KiB of shared memory every Vulkan device has.
  codegen::spirv::SpirvTarget target = compiler::portable_spirv_target();
  target.max_workgroup_invocations = 128;
  using S = DispatchPlan::Strategy;
  EXPECT_EQ(strategies(products("f32", {{65, 130, 17}}), target), std::vector<S>{S::Tiled});
  EXPECT_EQ(strategies(parse(kBiasRelu), target), std::vector<S>{S::Tiled});
  // A Dot kernel whose later phase is a reduction over the product is not an epilogue.
  const ir::Function f = parse(kBiasRelu);
  codegen::Kernel k = codegen::lower(f, passes::plan_fusion(f)).kernels.at(0);
  ASSERT_EQ(codegen::spirv::plan_dispatch(k, target).strategy, S::Tiled);
  codegen::Phase reduce;
  reduce.kind = codegen::PhaseKind::Reduce;
  reduce.extents = {17};
  reduce.value = k.phases[0].dot_lhs;
  k.phases.insert(k.phases.begin() + 1, reduce);
  EXPECT_EQ(codegen::spirv::plan_dispatch(k, target).strategy, S::Rows);
  // Tiles fit the device: 128 invocations and 16 KiB of shared memory.
  const DispatchPlan plan = codegen::spirv::plan_dispatch(
      codegen::lower(f, passes::plan_fusion(f)).kernels.at(0), target);
  EXPECT_EQ(plan.workgroup_size, 128u);
  EXPECT_EQ(plan.workgroup_size, (plan.tile_m / plan.thread_m) * (plan.tile_n / plan.thread_n));
  EXPECT_LE((plan.tile_m + plan.tile_n) * plan.tile_k * 4, target.max_shared_memory_bytes);
  EXPECT_EQ(plan.workgroups,
            ((65 + plan.tile_m - 1) / plan.tile_m) * ((17 + plan.tile_n - 1) / plan.tile_n));
}

// Every side of the tile: m, n, k in {1, 3, 17, 65, 130}; all 125 on f32 and i32, a spread of
// them on every other dtype dot_general takes.
TEST(VulkanDotTiled, OddShapesOnEveryDtype) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const int64_t sizes[] = {1, 3, 17, 65, 130};
  std::vector<std::array<int64_t, 3>> all, some;
  for (int64_t m : sizes)
    for (int64_t n : sizes)
      for (int64_t k : sizes)
        all.push_back({m, n, k});
  some = {{130, 65, 17}, {3, 130, 65}, {17, 1, 130}, {65, 17, 3}, {1, 3, 1}, {130, 130, 130}};
  for (DType dtype : ir::kAllDTypes) {
    const std::string d(ir::dtype_name(dtype));
    ir::Function f;
    try {
      f = products(d, dtype == DType::F32 || dtype == DType::I32 ? all : some);
    } catch (const Error&) {
      continue;  // a dtype dot_general does not take
    }
    std::vector<ir::HostArray> args;
    for (size_t p = 0; p < f.params().size(); ++p)
      args.push_back(small_ints(f.param_types()[p], 10 + p));
    expect_vulkan_matches(f, args, 0, d);
  }
}

TEST(VulkanDotTiled, BatchedTransposedAndSharedOperands) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const testing::DotCase cases[] = {
      {"[130,65]", "[130,17]", "lhs_contract=[0], rhs_contract=[0]", "[65,17]"},
      {"[65,130]", "[17,130]", "lhs_contract=[1], rhs_contract=[1]", "[65,17]"},
      {"[17,65]", "[130,17]", "lhs_contract=[0], rhs_contract=[1]", "[65,130]"},
      {"[3,65,17]", "[3,17,130]",
       "lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]", "[3,65,130]"},
      {"[17,3,65]", "[130,3,17]",
       "lhs_batch=[1], rhs_batch=[1], lhs_contract=[0], rhs_contract=[2]", "[3,65,130]"},
      {"[3,65,17]", "[17,130]", "lhs_contract=[2], rhs_contract=[0]", "[3,65,130]"},
      {"[65,17]", "[3,17,130]", "lhs_contract=[1], rhs_contract=[1]", "[65,3,130]"},
  };
  for (const char* d : {"f32", "i32", "bf16", "f64"}) {
    const ir::Function f = parse(testing::dots_kir(d, cases));
    std::vector<ir::HostArray> args;
    for (size_t p = 0; p < f.params().size(); ++p)
      args.push_back(small_ints(f.param_types()[p], 50 + p));
    expect_vulkan_matches(f, args, 0, d);
  }
  // The same operand on both sides: x^T x.
  const ir::Function gram = parse(
      "func @gram(%x: f32[130,17]) -> f32[17,17] {\n"
      "  %0 = dot_general %x, %x {lhs_contract=[0], rhs_contract=[0]} : f32[17,17]\n"
      "  return %0\n}\n");
  expect_vulkan_matches(gram, {small_ints(gram.param_types()[0], 3)}, 0, "gram");
}

// Random floats: the register tile holds the chain fma(x[i,k], w[k,j], acc) for k = 0..K-1
// from -0, as the Rows strategy computes it, which the epilogue then adds the bias to and
// clamps, each rounded once.
TEST(VulkanDotTiled, FloatChainAndReluEpilogueBitForBit) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f = parse(kBiasRelu);
  std::vector<ir::HostArray> args;
  std::mt19937_64 rng(11);
  for (const ir::TensorType& t : f.param_types()) {
    ir::HostArray& a = args.emplace_back(t);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, static_cast<float>(std::uniform_real_distribution<double>(-1, 1)(rng)));
  }
  // Vulkan does not promise that Fma is fused (lavapipe's is not): the device computes one of
  // the two chains, the same one for every element, whatever the strategy.
  const int64_t m = 65, n = 17, k = 130;
  for (bool fuse : {true, false}) {
    const ir::HostArray got = testing::run_on_vulkan(f, args, fuse)[0];
    int failures[2] = {0, 0};
    for (int fused_fma : {0, 1})
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          float acc = -0.0f;
          for (int64_t kk = 0; kk < k; ++kk) {
            const float a = static_cast<float>(args[0].get_f64(i * k + kk));
            const float b = static_cast<float>(args[1].get_f64(kk * n + j));
            volatile float product = a * b;  // rounded, not contracted into an fma
            acc = fused_fma ? std::fma(a, b, acc) : product + acc;
          }
          float want = acc + static_cast<float>(args[2].get_f64(j));
          want = want > 0 ? want : 0.0f;
          const float g = static_cast<float>(got.get_f64(i * n + j));
          failures[fused_fma] += std::bit_cast<uint32_t>(g) != std::bit_cast<uint32_t>(want);
        }
    EXPECT_TRUE(failures[0] == 0 || failures[1] == 0)
        << (fuse ? "fused" : "unfused") << ": " << failures[0] << " elements differ from the "
        << "unfused chain, " << failures[1] << " from the fused one";
  }
}

// A tanh-gelu epilogue (the W4 layer), on products that are exact: within the math's ulps.
TEST(VulkanDotTiled, GeluEpilogueMatchesTheInterpreter) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const ir::Function f =
      parse(R"(func @layer(%x: f32[33,65], %w: f32[65,130], %b: f32[130]) -> f32[33,130] {
  %0 = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[33,130]
  %1 = broadcast %b {shape=[33,130], dims=[1]} : f32[33,130]
  %h = add %0, %1 : f32[33,130]
  %c3 = constant {value=0.044715} : f32[]
  %c3b = broadcast %c3 {shape=[33,130], dims=[]} : f32[33,130]
  %hh = mul %h, %h : f32[33,130]
  %hhh = mul %hh, %h : f32[33,130]
  %t = mul %c3b, %hhh : f32[33,130]
  %u = add %h, %t : f32[33,130]
  %k = constant {value=1.5957691216057308} : f32[]
  %kb = broadcast %k {shape=[33,130], dims=[]} : f32[33,130]
  %v = mul %kb, %u : f32[33,130]
  %lo = constant {value=-80.0} : f32[]
  %lob = broadcast %lo {shape=[33,130], dims=[]} : f32[33,130]
  %vc = max %v, %lob : f32[33,130]
  %s = logistic %vc : f32[33,130]
  %g = mul %h, %s : f32[33,130]
  return %g
}
)");
  EXPECT_EQ(strategies(f, compiler::vulkan_target()).front(), DispatchPlan::Strategy::Tiled);
  std::vector<ir::HostArray> args;
  for (size_t p = 0; p < f.params().size(); ++p) {
    args.push_back(small_ints(f.param_types()[p], 70 + p));
    for (int64_t i = 0; i < args.back().num_elements(); ++i)
      args.back().set_f64(i, args.back().get_f64(i) / 8);  // keep gelu off its flat tails
  }
  expect_vulkan_matches(f, args, 4, "gelu");
}

}  // namespace
}  // namespace kiln::runtime
