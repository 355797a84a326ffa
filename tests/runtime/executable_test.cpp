// Executable against the reference interpreter: every conformance program, fused and unfused,
// on seeded random inputs; plus argument checks, special result shapes and concurrency.

#include "compiler/pipeline.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "compiler/kernel_cache.h"
#include "ir/interpreter.h"
#include "ir/parser.h"
#include "ir/printer.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

namespace fs = std::filesystem;

ir::HostArray random_array(const ir::TensorType& type, uint64_t seed) {
  ir::HostArray a(type);
  std::mt19937_64 rng(seed);
  for (int64_t i = 0; i < a.num_elements(); ++i) {
    if (ir::is_float(type.dtype))
      a.set_f64(i, std::uniform_real_distribution<double>(-1.0, 1.0)(rng));
    else if (ir::is_signed_int(type.dtype))
      a.set_i64(i, std::uniform_int_distribution<int64_t>(-8, 8)(rng));
    else if (ir::is_unsigned(type.dtype))
      a.set_i64(i, std::uniform_int_distribution<int64_t>(0, 16)(rng));
    else
      a.set_i64(i, static_cast<int64_t>(rng() & 1));
  }
  return a;
}

std::vector<ir::HostArray> random_args(const ir::Function& f, uint64_t seed) {
  std::vector<ir::HostArray> args;
  for (const ir::TensorType& t : f.param_types())
    args.push_back(random_array(t, seed + args.size()));
  return args;
}

// Approximated functions and reassociated sums get looser bounds than plain arithmetic.
bool approximates(const ir::Function& f) {
  for (const ir::Node& n : f.nodes())
    switch (n.op) {
      case ir::OpKind::Exp:
      case ir::OpKind::Log:
      case ir::OpKind::Log1p:
      case ir::OpKind::Expm1:
      case ir::OpKind::Tanh:
      case ir::OpKind::Logistic:
      case ir::OpKind::Erf:
      case ir::OpKind::Sin:
      case ir::OpKind::Cos:
      case ir::OpKind::Pow:
      case ir::OpKind::Rsqrt:
      case ir::OpKind::ReduceSum:
      case ir::OpKind::ReduceProd:
      case ir::OpKind::DotGeneral:
        return true;
      default:
        break;
    }
  return false;
}

struct Tolerance {
  double rel, abs;
};

Tolerance tolerance(ir::DType dtype, bool loose) {
  switch (dtype) {
    case ir::DType::F64:
      return loose ? Tolerance{1e-9, 1e-12} : Tolerance{1e-15, 0};
    case ir::DType::F32:
      return loose ? Tolerance{1e-4, 1e-5} : Tolerance{1e-5, 1e-6};
    case ir::DType::F16:
      return loose ? Tolerance{1e-2, 2e-3} : Tolerance{2e-3, 1e-3};
    case ir::DType::BF16:
      return loose ? Tolerance{4e-2, 1e-2} : Tolerance{1.6e-2, 1e-2};
    default:
      return {0, 0};
  }
}

// Empty when equal within tolerance; else the first mismatch.
std::string compare(const ir::HostArray& got, const ir::HostArray& want, bool loose) {
  if (got.type() != want.type())
    return "type " + got.type().str() + ", expected " + want.type().str();
  const Tolerance tol = tolerance(want.dtype(), loose);
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    bool ok;
    if (ir::is_float(want.dtype())) {
      double g = got.get_f64(i), w = want.get_f64(i);
      ok = (std::isnan(g) && std::isnan(w)) || g == w ||
           (std::isfinite(w) && std::abs(g - w) <= tol.abs + tol.rel * std::abs(w));
    } else {
      ok = got.get_i64(i) == want.get_i64(i);
    }
    if (!ok) {
      std::ostringstream s;
      s << "element " << i << ": got " << got.get_f64(i) << ", expected " << want.get_f64(i);
      return s.str();
    }
  }
  return {};
}

void expect_matches_interpreter(const ir::Function& f, bool fuse, uint64_t seed = 1) {
  std::vector<ir::HostArray> args = random_args(f, seed);
  std::vector<ir::HostArray> want = ir::interpret(f, args);
  Executable exe = compiler::compile(f, {.fuse = fuse});
  std::vector<ir::HostArray> got = exe.run(args);
  ASSERT_EQ(got.size(), want.size());
  for (size_t r = 0; r < want.size(); ++r) {
    std::string mismatch = compare(got[r], want[r], approximates(f));
    EXPECT_EQ(mismatch, "") << "@" << f.name() << (fuse ? " fused" : " unfused") << ", result " << r
                            << ":\n"
                            << ir::print(f);
  }
}

std::vector<fs::path> conformance_programs() {
  std::vector<fs::path> files;
  for (const auto& e :
       fs::directory_iterator(fs::path(KILN_SOURCE_DIR) / "tests/conformance/programs"))
    if (e.path().extension() == ".kir") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

class ConformancePrograms : public ::testing::TestWithParam<bool> {};

TEST_P(ConformancePrograms, MatchTheInterpreter) {
  const bool fuse = GetParam();
  for (const fs::path& file : conformance_programs()) {
    SCOPED_TRACE(file.filename().string());
    ir::Module module = ir::parse_file(file);
    for (const ir::Function& f : module.functions)
      expect_matches_interpreter(f, fuse);
  }
}

INSTANTIATE_TEST_SUITE_P(Executable, ConformancePrograms, ::testing::Bool(),
                         [](const auto& info) { return info.param ? "Fused" : "Unfused"; });

ir::Function parse_one(std::string_view text) {
  return std::move(ir::parse_module(text).functions.front());
}

TEST(Executable, ChecksArguments) {
  ir::Function f = parse_one(R"(func @f(%x: f32[3], %y: f32[3]) -> f32[3] {
    %0 = add %x, %y : f32[3]
    return %0
  })");
  Executable exe = compiler::compile(f);
  std::vector<ir::HostArray> one = {ir::HostArray({ir::DType::F32, {3}})};
  try {
    exe.run(one);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), "[runtime] @f: expected 2 arguments, got 1");
  }
  std::vector<ir::HostArray> wrong = {ir::HostArray({ir::DType::F32, {3}}),
                                      ir::HostArray({ir::DType::F32, {4}})};
  try {
    exe.run(wrong);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "[runtime] @f: argument 1 (%y) has type f32[4] but the parameter is f32[3]");
  }
}

TEST(Executable, ParametersConstantsAndRepeatedResults) {
  ir::Function f = parse_one(R"(func @f(%x: f32[5]) -> (f32[5], f32[5], f32[5], f32[2], f32[5]) {
    %0 = exp %x : f32[5]
    %1 = constant {value=[1.0, 2.0]} : f32[2]
    return %0, %x, %0, %1, %x
  })");
  expect_matches_interpreter(f, true);
  expect_matches_interpreter(f, false);
}

TEST(Executable, ZeroSizedValues) {
  ir::Function f = parse_one(R"(func @f(%x: f32[0, 3]) -> (f32[0, 3], f32[3]) {
    %0 = neg %x : f32[0, 3]
    %1 = reduce_sum %x {axes=[0]} : f32[3]
    return %0, %1
  })");
  expect_matches_interpreter(f, true);
  expect_matches_interpreter(f, false);
}

TEST(Executable, RunRawWritesCallerBuffers) {
  ir::Function f = parse_one(R"(func @f(%x: f32[64]) -> f32[64] {
    %0 = mul %x, %x : f32[64]
    return %0
  })");
  Executable exe = compiler::compile(f);
  alignas(64) float x[64], y[64];
  for (int i = 0; i < 64; ++i)
    x[i] = static_cast<float>(i);
  const void* params[] = {x};
  void* results[] = {y};
  exe.run_raw(params, results);
  for (int i = 0; i < 64; ++i)
    EXPECT_EQ(y[i], static_cast<float>(i * i));
}

TEST(Executable, UnfusedChainsShareMemory) {
  // Unfused, each op is a kernel with its own intermediate; a chain needs at most two live
  // at a time (or one, updated in place).
  ir::Function f = parse_one(R"(func @f(%x: f32[1024]) -> f32[1024] {
    %0 = neg %x : f32[1024]
    %1 = abs %0 : f32[1024]
    %2 = neg %1 : f32[1024]
    %3 = abs %2 : f32[1024]
    %4 = neg %3 : f32[1024]
    return %4
  })");
  Executable exe = compiler::compile(f, {.fuse = false});
  EXPECT_EQ(exe.num_kernels(), 5u);
  EXPECT_LE(exe.arena_bytes(), 2u * 4096u);
  EXPECT_EQ(exe.peak_bytes(), exe.arena_bytes() + 4096u);
  expect_matches_interpreter(f, false);
}

// Long float sums are blocked (codegen/cpu/emitter_reduce.cpp): equal values, whose roundings all
// lean one way, stay within a few ulp of the exact sum (130 ulp for 65,536 x 0.1f before),
// also as rows of a 2-D reduction.
TEST(Executable, LongFloatSumsStayNearTheExactSum) {
  for (const char* text : {R"(func @f(%x: f32[65536]) -> f32[] {
    %0 = reduce_sum %x {axes=[0]} : f32[]
    return %0
  })",
                           R"(func @f(%x: f32[3, 65536]) -> f32[3] {
    %0 = reduce_sum %x {axes=[1]} : f32[3]
    return %0
  })"}) {
    ir::Function f = parse_one(text);
    Executable exe = compiler::compile(f);
    for (float value : {0.1f, 1.1f, 0.3333f, -7.77f}) {
      ir::HostArray x(f.type(f.params()[0]));
      for (int64_t i = 0; i < x.num_elements(); ++i)
        x.set_f64(i, value);
      const ir::HostArray sums = exe.run(std::span<const ir::HostArray>(&x, 1))[0];
      const double exact = 65536.0 * static_cast<double>(value);
      const double ulp = std::ldexp(1.0, std::ilogb(exact) - 23);
      for (int64_t r = 0; r < sums.num_elements(); ++r)
        EXPECT_LE(std::abs(sums.get_f64(r) - exact) / ulp, 16.0) << text << " of " << value;
    }
  }
}

// Float products accumulate in f64, as in the interpreter, whole or split into rows: tiny
// factors whose f32 product would underflow to 0 before a -inf give -inf, not NaN.
TEST(Executable, FloatProductsMatchTheInterpreterPastF32Range) {
  for (const char* text : {R"(func @f(%x: f32[4194304]) -> f32[] {
    %0 = reduce_prod %x {axes=[0]} : f32[]
    return %0
  })",
                           R"(func @f(%x: f32[4, 4096]) -> f32[4] {
    %0 = reduce_prod %x {axes=[1]} : f32[4]
    return %0
  })"}) {
    ir::Function f = parse_one(text);
    Executable exe = compiler::compile(f);
    ir::HostArray x(f.type(f.params()[0]));
    // Per row of 4096 (and in the whole of the first): two factors 1e-30, then a -inf.
    const int64_t row = x.num_elements() > 4 * 4096 ? x.num_elements() : 4096;
    for (int64_t i = 0; i < x.num_elements(); ++i)
      x.set_f64(i, i % row < 2 ? 1e-30 : (i % row == row - 1 ? -INFINITY : 1.0));
    const ir::HostArray got = exe.run(std::span<const ir::HostArray>(&x, 1))[0];
    std::vector<ir::HostArray> args{x};
    const ir::HostArray want = ir::interpret(f, args)[0];
    for (int64_t r = 0; r < got.num_elements(); ++r) {
      EXPECT_EQ(got.get_f64(r), -INFINITY) << text;
      EXPECT_EQ(got.get_f64(r), want.get_f64(r)) << text;
    }
  }
}

TEST(Executable, RunsConcurrently) {
  ir::Function f = parse_one(R"(func @f(%x: f32[4096]) -> f32[] {
    %0 = mul %x, %x : f32[4096]
    %1 = reduce_sum %0 {axes=[0]} : f32[]
    return %1
  })");
  Executable exe = compiler::compile(f);
  std::vector<ir::HostArray> args = random_args(f, 7);
  const double want = ir::interpret(f, args)[0].get_f64(0);
  std::vector<std::thread> threads;
  std::vector<double> got(4);
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i)
        got[t] = exe.run(args)[0].get_f64(0);
    });
  for (auto& t : threads)
    t.join();
  for (double g : got)
    EXPECT_NEAR(g, want, 1e-3 * std::abs(want));
}

// max/min against a constant compile to one compare where the constant allows it; the bits
// (signed zeros, NaN) must still be the interpreter's, whichever side the constant is on.
TEST(Executable, MaxMinAgainstConstantsKeepSignedZerosAndNaN) {
  const double specials[] = {0.0, -0.0, 1.5, -80.0, -100.0, NAN, INFINITY, -INFINITY, 3.0};
  for (const char* dtype : {"f32", "f64"}) {
    for (const char* c : {"0.0", "-0.0", "-80.0", "1.5", "nan", "inf"}) {
      SCOPED_TRACE(std::string(dtype) + " constant " + c);
      const std::string t = std::string(dtype) + "[9]";
      ir::Function f = parse_one("func @f(%x: " + t + ") -> (" + t + ", " + t + ", " + t + ", " +
                                 t + ") {\n  %c = constant {value=" + c + "} : " + dtype +
                                 "[]\n  %b = broadcast %c {shape=[9], dims=[]} : " + t +
                                 "\n  %0 = max %x, %b : " + t + "\n  %1 = max %b, %x : " + t +
                                 "\n  %2 = min %x, %b : " + t + "\n  %3 = min %b, %x : " + t +
                                 "\n  return %0, %1, %2, %3\n}\n");
      ir::HostArray x(f.type(f.params()[0]));
      for (int64_t i = 0; i < 9; ++i)
        x.set_f64(i, specials[i]);
      std::vector<ir::HostArray> args = {x};
      std::vector<ir::HostArray> want = ir::interpret(f, args);
      std::vector<ir::HostArray> got = compiler::compile(f).run(args);
      for (size_t r = 0; r < want.size(); ++r)
        for (int64_t i = 0; i < 9; ++i) {
          const double g = got[r].get_f64(i), w = want[r].get_f64(i);
          EXPECT_TRUE((std::isnan(g) && std::isnan(w)) ||
                      (g == w && std::signbit(g) == std::signbit(w)))
              << "result " << r << " at x = " << specials[i] << ": got " << g << ", want " << w;
        }
    }
  }
}

TEST(Executable, LongChainsCompileAndMatchTheInterpreter) {
  // 50,000 chained ops: lowering once recursed per op (a stack overflow) and LLVM took minutes
  // over a kernel that long; kernels now have a bounded size and equal ones compile once.
  // x <- exp(-x) keeps the values finite; the plain exp chain reaches inf, as it should.
  const std::vector<std::vector<ir::OpKind>> chains = {{ir::OpKind::Exp},
                                                       {ir::OpKind::Neg, ir::OpKind::Exp}};
  for (const std::vector<ir::OpKind>& ops : chains) {
    ir::Function f("chain");
    ir::Value v = f.add_param("x", ir::TensorType{ir::DType::F32, {16}});
    for (size_t i = 0; i < 50000; ++i)
      v = f.add(ops[i % ops.size()], {v});
    f.set_results({v});
    expect_matches_interpreter(f, /*fuse=*/true);
  }
}

}  // namespace
}  // namespace kiln::runtime
