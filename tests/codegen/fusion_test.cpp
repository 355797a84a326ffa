// Kernel counts of the fusion plan, and the plan's printed form.

#include <gtest/gtest.h>

#include "ir/parser.h"
#include "passes/fusion.h"
#include "tests/codegen/codegen_test_util.h"

namespace kiln::codegen {
namespace {

using passes::FusionOptions;
using passes::KernelKind;
using passes::plan_fusion;
using testing::parse_one;

// W1: y = gelu_tanh(x*a + b) * logistic(x), a and b scalars.
constexpr const char* kW1 = R"(
func @w1(%x: f32[4096,4096], %a: f32[], %b: f32[]) -> f32[4096,4096] {
  %ab = broadcast %a {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %bb = broadcast %b {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %xa = mul %x, %ab : f32[4096,4096]
  %h = add %xa, %bb : f32[4096,4096]
  %h2 = mul %h, %h : f32[4096,4096]
  %h3 = mul %h2, %h : f32[4096,4096]
  %k0 = constant {value=0.044715} : f32[]
  %k = broadcast %k0 {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %t0 = mul %h3, %k : f32[4096,4096]
  %t1 = add %h, %t0 : f32[4096,4096]
  %c0 = constant {value=0.7978845608} : f32[]
  %c = broadcast %c0 {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %t2 = mul %t1, %c : f32[4096,4096]
  %t3 = tanh %t2 : f32[4096,4096]
  %one0 = constant {value=1.0} : f32[]
  %one = broadcast %one0 {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %t4 = add %t3, %one : f32[4096,4096]
  %half0 = constant {value=0.5} : f32[]
  %half = broadcast %half0 {shape=[4096,4096], dims=[]} : f32[4096,4096]
  %t5 = mul %h, %half : f32[4096,4096]
  %g = mul %t5, %t4 : f32[4096,4096]
  %l = logistic %x : f32[4096,4096]
  %y = mul %g, %l : f32[4096,4096]
  return %y
}
)";

// The frontend's softmax: keepdims reductions are a reshape to [64,1] and a broadcast back.
constexpr const char* kSoftmax = R"(
func @softmax(%x: f32[64,128]) -> f32[64,128] {
  %m = reduce_max %x {axes=[1]} : f32[64]
  %mr = reshape %m {shape=[64,1]} : f32[64,1]
  %mb = broadcast %mr {shape=[64,128], dims=[0,1]} : f32[64,128]
  %d = sub %x, %mb : f32[64,128]
  %e = exp %d : f32[64,128]
  %s = reduce_sum %e {axes=[1]} : f32[64]
  %sr = reshape %s {shape=[64,1]} : f32[64,1]
  %sb = broadcast %sr {shape=[64,128], dims=[0,1]} : f32[64,128]
  %y = div %e, %sb : f32[64,128]
  return %y
}
)";

constexpr const char* kLayerNorm = R"(
func @layernorm(%x: f32[64,1024]) -> f32[64,1024] {
  %s = reduce_sum %x {axes=[1]} : f32[64]
  %n0 = constant {value=1024.0} : f32[]
  %n = broadcast %n0 {shape=[64], dims=[]} : f32[64]
  %mean = div %s, %n : f32[64]
  %mb = broadcast %mean {shape=[64,1024], dims=[0]} : f32[64,1024]
  %c = sub %x, %mb : f32[64,1024]
  %sq = mul %c, %c : f32[64,1024]
  %ss = reduce_sum %sq {axes=[1]} : f32[64]
  %var = div %ss, %n : f32[64]
  %eps0 = constant {value=1e-5} : f32[]
  %eps = broadcast %eps0 {shape=[64], dims=[]} : f32[64]
  %ve = add %var, %eps : f32[64]
  %r = rsqrt %ve : f32[64]
  %rb = broadcast %r {shape=[64,1024], dims=[0]} : f32[64,1024]
  %y = mul %c, %rb : f32[64,1024]
  return %y
}
)";

// gelu(x @ w + b) with the erf form of gelu.
constexpr const char* kMlpLayer = R"(
func @layer(%x: f32[256,1024], %w: f32[1024,4096], %b: f32[4096]) -> f32[256,4096] {
  %p = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[256,4096]
  %bb = broadcast %b {shape=[256,4096], dims=[1]} : f32[256,4096]
  %h = add %p, %bb : f32[256,4096]
  %r0 = constant {value=0.7071067811865476} : f32[]
  %r = broadcast %r0 {shape=[256,4096], dims=[]} : f32[256,4096]
  %hs = mul %h, %r : f32[256,4096]
  %e = erf %hs : f32[256,4096]
  %one0 = constant {value=1.0} : f32[]
  %one = broadcast %one0 {shape=[256,4096], dims=[]} : f32[256,4096]
  %e1 = add %e, %one : f32[256,4096]
  %half0 = constant {value=0.5} : f32[]
  %half = broadcast %half0 {shape=[256,4096], dims=[]} : f32[256,4096]
  %hh = mul %h, %half : f32[256,4096]
  %y = mul %hh, %e1 : f32[256,4096]
  return %y
}
)";

constexpr const char* kMlp2 = R"(
func @mlp(%x: f32[256,1024], %w1: f32[1024,4096], %b1: f32[4096], %w2: f32[4096,1024], %b2: f32[1024]) -> f32[256,1024] {
  %p = dot_general %x, %w1 {lhs_contract=[1], rhs_contract=[0]} : f32[256,4096]
  %bb = broadcast %b1 {shape=[256,4096], dims=[1]} : f32[256,4096]
  %h = add %p, %bb : f32[256,4096]
  %g = tanh %h : f32[256,4096]
  %q = dot_general %g, %w2 {lhs_contract=[1], rhs_contract=[0]} : f32[256,1024]
  %cb = broadcast %b2 {shape=[256,1024], dims=[1]} : f32[256,1024]
  %y = add %q, %cb : f32[256,1024]
  return %y
}
)";

constexpr const char* kSum = R"(
func @sum(%x: f32[8192,8192]) -> f32[] {
  %s = reduce_sum %x {axes=[0,1]} : f32[]
  return %s
}
)";

size_t kernels(const char* text, FusionOptions options = {}) {
  return plan_fusion(parse_one(text), options).groups.size();
}

TEST(FusionCounts, W1IsOneKernel) {
  EXPECT_EQ(kernels(kW1), 1u);
}

TEST(FusionCounts, SoftmaxIsOneReductionKernel) {
  const auto plan = plan_fusion(parse_one(kSoftmax));
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(plan.groups[0].kind, KernelKind::Reduction);
}

TEST(FusionCounts, LayerNormIsOneKernel) {
  EXPECT_EQ(kernels(kLayerNorm), 1u);
}

TEST(FusionCounts, MlpLayerIsOneDotKernel) {
  const auto plan = plan_fusion(parse_one(kMlpLayer));
  ASSERT_EQ(plan.groups.size(), 1u);
  EXPECT_EQ(plan.groups[0].kind, KernelKind::Dot);
}

TEST(FusionCounts, TwoLayerMlpIsOneKernelPerLayer) {
  const auto plan = plan_fusion(parse_one(kMlp2));
  ASSERT_EQ(plan.groups.size(), 2u);
  EXPECT_EQ(plan.groups[0].kind, KernelKind::Dot);
  EXPECT_EQ(plan.groups[1].kind, KernelKind::Dot);
}

TEST(FusionCounts, SumOfAllElementsIsOneKernel) {
  EXPECT_EQ(kernels(kSum), 1u);
}

TEST(FusionCounts, UnfusedIsOneKernelPerOp) {
  // Constants and broadcasts of scalar constants inline; every other op is a kernel.
  EXPECT_EQ(kernels(kW1, {.fuse = false}), 15u);
  EXPECT_EQ(kernels(kSoftmax, {.fuse = false}), 9u);
  EXPECT_EQ(kernels(kMlpLayer, {.fuse = false}), 8u);
  EXPECT_EQ(kernels(kSum, {.fuse = false}), 1u);
}

TEST(FusionCounts, ColumnReductionWithConsumerIsOneKernel) {
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[32,16]) -> f32[32,16] {
  %m = reduce_max %x {axes=[0]} : f32[16]
  %mb = broadcast %m {shape=[32,16], dims=[1]} : f32[32,16]
  %y = sub %x, %mb : f32[32,16]
  return %y
}
)"),
            1u);
}

TEST(FusionCounts, ReductionReadElsewhereIsStored) {
  // The broadcast of the row maxima is transposed: not the reduction's outer point.
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[16,16]) -> f32[16,16] {
  %m = reduce_max %x {axes=[1]} : f32[16]
  %mb = broadcast %m {shape=[16,16], dims=[0]} : f32[16,16]
  %t = transpose %mb {perm=[1,0]} : f32[16,16]
  %y = sub %x, %t : f32[16,16]
  return %y
}
)"),
            2u);
}

TEST(FusionCounts, IndexMovementFusesWithoutCopies) {
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[8,6], %i: i32[5], %v: f32[]) -> f32[5,12] {
  %t = transpose %x {perm=[1,0]} : f32[6,8]
  %s = slice %t {start=[0,1], limit=[6,7], stride=[1,2]} : f32[6,3]
  %p = pad %s, %v {low=[1,0], high=[0,1], interior=[0,1]} : f32[7,6]
  %g = take %p, %i {axis=0} : f32[5,6]
  %c = concatenate %g, %g {axis=1} : f32[5,12]
  %e = exp %c : f32[5,12]
  return %e
}
)"),
            1u);
}

TEST(FusionCounts, ExpensiveValueReadByTwoKernelsIsStored) {
  // %e costs more than the recompute limit and both results read it.
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[64]) -> (f32[64], f32[64]) {
  %a = exp %x : f32[64]
  %b = tanh %a : f32[64]
  %e = log %b : f32[64]
  %y = neg %e : f32[64]
  %z = abs %e : f32[64]
  return %y, %z
}
)"),
            3u);
  // A cheap one is recomputed in each.
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[64]) -> (f32[64], f32[64]) {
  %e = mul %x, %x : f32[64]
  %y = neg %e : f32[64]
  %z = abs %e : f32[64]
  return %y, %z
}
)"),
            2u);
}

TEST(FusionCounts, ExpensiveBroadcastOperandIsStored) {
  EXPECT_EQ(kernels(R"(
func @f(%x: f32[256,64], %w: f32[64]) -> f32[256,64] {
  %e = exp %w : f32[64]
  %eb = broadcast %e {shape=[256,64], dims=[1]} : f32[256,64]
  %y = mul %x, %eb : f32[256,64]
  return %y
}
)"),
            2u);
}

TEST(PrintWithFusion, MarksEachKernelAndStillParses) {
  const ir::Function f = parse_one(kMlp2);
  const std::string text = passes::print_with_fusion(f, plan_fusion(f));
  EXPECT_NE(text.find("// kernel 0 (dot): inputs %x, %w1, %b1; outputs %3"), std::string::npos)
      << text;
  EXPECT_NE(text.find("// kernel 1 (dot): inputs %w2, %b2, %3; outputs %6"), std::string::npos)
      << text;
  EXPECT_EQ(ir::print(ir::parse_module(text).functions.front()), ir::print(f));
}

}  // namespace
}  // namespace kiln::codegen
