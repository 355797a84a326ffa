// Differential tests: fusion + lowering + the scalar kernel evaluator against the reference
// interpreter, fused and unfused, for every op and for composites.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "ir/parser.h"
#include "tests/codegen/codegen_test_util.h"

namespace kiln::codegen {
namespace {

using testing::expect_matches_interpreter;
using testing::parse_one;

// One function per op family; each runs on seeded random inputs.
const char* const kOpPrograms[] = {
    // unary float ops on each float dtype
    R"(func @f(%x: f32[3,5], %h: f16[7], %b: bf16[7], %d: f64[4]) -> (f32[3,5], f16[7], bf16[7], f64[4], f32[3,5], f32[3,5]) {
  %0 = exp %x : f32[3,5]
  %1 = log1p %h : f16[7]
  %2 = tanh %b : bf16[7]
  %3 = erf %d : f64[4]
  %a = abs %x : f32[3,5]
  %4 = sqrt %a : f32[3,5]
  %5 = logistic %x : f32[3,5]
  return %0, %1, %2, %3, %4, %5
})",
    R"(func @f(%x: f32[9]) -> (f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9], f32[9]) {
  %0 = neg %x : f32[9]
  %1 = sign %x : f32[9]
  %2 = log %x : f32[9]
  %3 = expm1 %x : f32[9]
  %4 = rsqrt %x : f32[9]
  %5 = sin %x : f32[9]
  %6 = cos %x : f32[9]
  %7 = floor %x : f32[9]
  %8 = ceil %x : f32[9]
  %9 = round %x : f32[9]
  %10 = abs %x : f32[9]
  %11 = sqrt %x : f32[9]
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11
})",
    // integer unary and bitwise
    R"(func @f(%x: i8[6], %y: u8[6], %z: i32[6], %p: bool[6]) -> (i8[6], u8[6], i32[6], bool[6], i32[6], i8[6]) {
  %0 = neg %x : i8[6]
  %1 = not %y : u8[6]
  %2 = abs %z : i32[6]
  %3 = not %p : bool[6]
  %4 = sign %z : i32[6]
  %5 = abs %x : i8[6]
  return %0, %1, %2, %3, %4, %5
})",
    // binary ops, floats and ints
    R"(func @f(%a: f32[4,3], %b: f32[4,3]) -> (f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3], f32[4,3]) {
  %0 = add %a, %b : f32[4,3]
  %1 = sub %a, %b : f32[4,3]
  %2 = mul %a, %b : f32[4,3]
  %3 = div %a, %b : f32[4,3]
  %4 = rem %a, %b : f32[4,3]
  %5 = pow %a, %b : f32[4,3]
  %6 = max %a, %b : f32[4,3]
  %7 = min %a, %b : f32[4,3]
  return %0, %1, %2, %3, %4, %5, %6, %7
})",
    R"(func @f(%a: i32[5,2], %b: i32[5,2], %c: u32[4], %d: u32[4], %e: i16[4], %g: i16[4]) -> (i32[5,2], i32[5,2], i32[5,2], i32[5,2], i32[5,2], i32[5,2], u32[4], u32[4], i16[4], i16[4], i16[4], i16[4]) {
  %0 = add %a, %b : i32[5,2]
  %1 = mul %a, %b : i32[5,2]
  %2 = div %a, %b : i32[5,2]
  %3 = rem %a, %b : i32[5,2]
  %4 = pow %a, %b : i32[5,2]
  %5 = max %a, %b : i32[5,2]
  %6 = sub %c, %d : u32[4]
  %7 = div %c, %d : u32[4]
  %8 = and %e, %g : i16[4]
  %9 = or %e, %g : i16[4]
  %10 = xor %e, %g : i16[4]
  %11 = min %e, %g : i16[4]
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11
})",
    // comparisons and select
    R"(func @f(%a: f32[6], %b: f32[6], %i: i64[6], %j: i64[6], %p: bool[6], %q: bool[6]) -> (bool[6], bool[6], bool[6], bool[6], bool[6], bool[6], f32[6], bool[6], bool[6]) {
  %0 = eq %a, %b : bool[6]
  %1 = ne %i, %j : bool[6]
  %2 = lt %a, %b : bool[6]
  %3 = le %i, %j : bool[6]
  %4 = gt %a, %b : bool[6]
  %5 = ge %i, %j : bool[6]
  %6 = select %2, %a, %b : f32[6]
  %7 = and %p, %q : bool[6]
  %8 = xor %p, %q : bool[6]
  return %0, %1, %2, %3, %4, %5, %6, %7, %8
})",
    // convert between every class
    R"(func @f(%x: f32[8], %i: i32[8], %b: bool[8], %h: f16[8]) -> (i32[8], u8[8], f16[8], bf16[8], f64[8], bool[8], f32[8], i8[8], f32[8], f32[8]) {
  %c = constant {value=100.0} : f32[8]
  %x100 = mul %x, %c : f32[8]
  %0 = convert %x100 : i32[8]
  %1 = convert %x100 : u8[8]
  %2 = convert %x : f16[8]
  %3 = convert %i : bf16[8]
  %4 = convert %i : f64[8]
  %5 = convert %x : bool[8]
  %6 = convert %b : f32[8]
  %7 = convert %i : i8[8]
  %8 = convert %h : f32[8]
  %9 = convert %i : f32[8]
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9
})",
    // constants and iota
    R"(func @f(%x: f32[2,3]) -> (f32[2,3], i32[2,3], f32[2,3], f32[3,4], bool[2], i64[20]) {
  %c = constant {value=[[1.0, 2.5, -3.0], [4.0, 0.5, 6.0]]} : f32[2,3]
  %0 = add %x, %c : f32[2,3]
  %1 = iota {axis=1} : i32[2,3]
  %2 = iota {axis=0} : f32[2,3]
  %3 = constant {value=[[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0], [9.0, 10.0, 11.0, 12.0]]} : f32[3,4]
  %4 = constant {value=[true, false]} : bool[2]
  %5 = constant {value=[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]} : i64[20]
  return %0, %1, %2, %3, %4, %5
})",
    // broadcast, reshape, transpose, slice
    R"(func @f(%x: f32[3,1,4], %y: i32[2,3,4]) -> (f32[2,3,5,4], f32[4,3], i32[4,2,3], i32[1,2,2], f32[12], i32[6,4]) {
  %0 = broadcast %x {shape=[2,3,5,4], dims=[1,2,3]} : f32[2,3,5,4]
  %1 = reshape %x {shape=[4,3]} : f32[4,3]
  %2 = transpose %y {perm=[2,0,1]} : i32[4,2,3]
  %3 = slice %y {start=[1,0,1], limit=[2,3,4], stride=[1,2,2]} : i32[1,2,2]
  %4 = reshape %x {shape=[12]} : f32[12]
  %5 = reshape %y {shape=[6,4]} : i32[6,4]
  return %0, %1, %2, %3, %4, %5
})",
    // pad and concatenate
    R"(func @f(%x: f32[3,4], %v: f32[], %a: i32[2,3], %b: i32[1,3], %c: i32[4,3]) -> (f32[6,9], f32[3,4], i32[7,3], f32[4,4]) {
  %0 = pad %x, %v {low=[1,2], high=[2,0], interior=[0,1]} : f32[6,9]
  %1 = pad %x, %v {low=[0,0], high=[0,0]} : f32[3,4]
  %2 = concatenate %a, %b, %c {axis=0} : i32[7,3]
  %3 = pad %x, %v {low=[0,0], high=[1,0]} : f32[4,4]
  return %0, %1, %2, %3
})",
    // reductions over every kind of axis set, argmax/argmin
    R"(func @f(%x: f32[4,5,6], %i: i32[3,7], %b: bf16[5,9]) -> (f32[4,6], f32[5], f32[], i32[3], i32[7], i32[4,6], i32[5,6], bf16[5], f32[4,5], i32[3]) {
  %0 = reduce_sum %x {axes=[1]} : f32[4,6]
  %1 = reduce_max %x {axes=[0,2]} : f32[5]
  %2 = reduce_sum %x {axes=[0,1,2]} : f32[]
  %3 = reduce_min %i {axes=[1]} : i32[3]
  %4 = reduce_prod %i {axes=[0]} : i32[7]
  %5 = argmax %x {axis=1} : i32[4,6]
  %6 = argmin %x {axis=0} : i32[5,6]
  %7 = reduce_sum %b {axes=[1]} : bf16[5]
  %8 = reduce_prod %x {axes=[2]} : f32[4,5]
  %9 = argmax %i {axis=1} : i32[3]
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9
})",
    // dot_general layouts: plain, transposed, batched, multi-contract, non-canonical
    R"(func @f(%a: f32[4,6], %b: f32[6,5], %c: f32[6,4], %d: f32[5,6], %e: f32[3,4,6], %g: f32[3,6,2], %h: f32[2,3,4], %k: f32[4,5,3]) -> (f32[4,5], f32[4,5], f32[3,4,2], f32[2,5], f32[4,5], f32[6,6]) {
  %0 = dot_general %a, %b {lhs_contract=[1], rhs_contract=[0]} : f32[4,5]
  %1 = dot_general %c, %d {lhs_contract=[0], rhs_contract=[1]} : f32[4,5]
  %2 = dot_general %e, %g {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[3,4,2]
  %3 = dot_general %h, %k {lhs_contract=[1, 2], rhs_contract=[2, 0]} : f32[2,5]
  %4 = dot_general %a, %d {lhs_contract=[1], rhs_contract=[1]} : f32[4,5]
  %5 = dot_general %c, %a {lhs_contract=[1], rhs_contract=[0]} : f32[6,6]
  return %0, %1, %2, %3, %4, %5
})",
    R"(func @f(%a: i32[3,4], %b: i32[4,2], %c: f16[4,8], %d: f16[8,3], %e: f64[2,3,4], %g: f64[3,4,5]) -> (i32[3,2], f16[4,3], f64[3,2,5]) {
  %0 = dot_general %a, %b {lhs_contract=[1], rhs_contract=[0]} : i32[3,2]
  %1 = dot_general %c, %d {lhs_contract=[1], rhs_contract=[0]} : f16[4,3]
  %2 = dot_general %e, %g {lhs_batch=[1], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f64[3,2,5]
  return %0, %1, %2
})",
    // take and scatter_add
    R"(func @f(%x: f32[5,3], %i: i32[4], %j: i64[2,2], %u: f32[5,4], %w: i32[2,2,3]) -> (f32[4,3], f32[5,2,2], f32[5,3], i32[5,3]) {
  %0 = take %x, %i {axis=0} : f32[4,3]
  %1 = take %x, %j {axis=1} : f32[5,2,2]
  %2 = scatter_add %x, %i, %u {axis=1} : f32[5,3]
  %xi = convert %x : i32[5,3]
  %3 = scatter_add %xi, %j, %w {axis=0} : i32[5,3]
  return %0, %1, %2, %3
})",
};

TEST(LowerDifferential, EveryOp) {
  uint64_t seed = 1;
  for (const char* text : kOpPrograms)
    expect_matches_interpreter(parse_one(text), seed++);
}

// Composites: chains that fuse across op families.
const char* const kComposites[] = {
    // softmax and layernorm, the frontend's keepdims form
    R"(func @softmax(%x: f32[6,10]) -> f32[6,10] {
  %m = reduce_max %x {axes=[1]} : f32[6]
  %mr = reshape %m {shape=[6,1]} : f32[6,1]
  %mb = broadcast %mr {shape=[6,10], dims=[0,1]} : f32[6,10]
  %d = sub %x, %mb : f32[6,10]
  %e = exp %d : f32[6,10]
  %s = reduce_sum %e {axes=[1]} : f32[6]
  %sr = reshape %s {shape=[6,1]} : f32[6,1]
  %sb = broadcast %sr {shape=[6,10], dims=[0,1]} : f32[6,10]
  %y = div %e, %sb : f32[6,10]
  return %y
})",
    R"(func @colsoftmax(%x: f32[7,3]) -> (f32[7,3], f32[3]) {
  %m = reduce_max %x {axes=[0]} : f32[3]
  %mb = broadcast %m {shape=[7,3], dims=[1]} : f32[7,3]
  %d = sub %x, %mb : f32[7,3]
  %e = exp %d : f32[7,3]
  %s = reduce_sum %e {axes=[0]} : f32[3]
  %sb = broadcast %s {shape=[7,3], dims=[1]} : f32[7,3]
  %y = div %e, %sb : f32[7,3]
  %l = log %s : f32[3]
  return %y, %l
})",
    R"(func @attention_row(%q: f32[2,5,4], %k: f32[2,5,4], %v: f32[2,5,4]) -> f32[2,5,4] {
  %s = dot_general %q, %k {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[2]} : f32[2,5,5]
  %m = reduce_max %s {axes=[2]} : f32[2,5]
  %mb = broadcast %m {shape=[2,5,5], dims=[0,1]} : f32[2,5,5]
  %d = sub %s, %mb : f32[2,5,5]
  %e = exp %d : f32[2,5,5]
  %z = reduce_sum %e {axes=[2]} : f32[2,5]
  %zb = broadcast %z {shape=[2,5,5], dims=[0,1]} : f32[2,5,5]
  %p = div %e, %zb : f32[2,5,5]
  %o = dot_general %p, %v {lhs_batch=[0], rhs_batch=[0], lhs_contract=[2], rhs_contract=[1]} : f32[2,5,4]
  %r = add %o, %q : f32[2,5,4]
  return %r
})",
    R"(func @movement(%x: f32[8,6], %i: i32[5], %v: f32[]) -> (f32[5,12], f32[10,6]) {
  %t = transpose %x {perm=[1,0]} : f32[6,8]
  %s = slice %t {start=[0,1], limit=[6,7], stride=[1,2]} : f32[6,3]
  %p = pad %s, %v {low=[1,0], high=[0,1], interior=[0,1]} : f32[7,6]
  %g = take %p, %i {axis=0} : f32[5,6]
  %c = concatenate %g, %g {axis=1} : f32[5,12]
  %e = exp %c : f32[5,12]
  %r = reshape %e {shape=[10,6]} : f32[10,6]
  %n = neg %r : f32[10,6]
  return %e, %n
})",
    R"(func @stats(%x: f32[4,6]) -> (f32[4], i32[4], f32[4,6]) {
  %s = reduce_sum %x {axes=[1]} : f32[4]
  %a = argmax %x {axis=1} : i32[4]
  %sb = broadcast %s {shape=[4,6], dims=[0]} : f32[4,6]
  %y = mul %x, %sb : f32[4,6]
  return %s, %a, %y
})",
    R"(func @shared(%x: f32[16]) -> (f32[16], f32[16]) {
  %a = exp %x : f32[16]
  %b = tanh %a : f32[16]
  %e = log %b : f32[16]
  %y = neg %e : f32[16]
  %z = abs %e : f32[16]
  return %y, %z
})",
    R"(func @bcast_exp(%x: f32[64,8], %w: f32[8]) -> f32[64,8] {
  %e = exp %w : f32[8]
  %eb = broadcast %e {shape=[64,8], dims=[1]} : f32[64,8]
  %y = mul %x, %eb : f32[64,8]
  return %y
})",
    R"(func @long(%x: f32[65536]) -> f32[65536] {
  %y = exp %x : f32[65536]
  return %y
})",
};

TEST(LowerDifferential, Composites) {
  uint64_t seed = 100;
  for (const char* text : kComposites)
    expect_matches_interpreter(parse_one(text), seed++);
}

TEST(LowerDifferential, ConformancePrograms) {
  const std::filesystem::path dir =
      std::filesystem::path(KILN_SOURCE_DIR) / "tests" / "conformance" / "programs";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir))
    if (entry.path().extension() == ".kir") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  EXPECT_GE(files.size(), 36u);
  uint64_t seed = 1000;
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const ir::Module module = ir::parse_file(path);
    for (const ir::Function& f : module.functions)
      expect_matches_interpreter(f, seed++);
  }
}

}  // namespace
}  // namespace kiln::codegen
