// rng_bits compiled for the CPU: lowering expands Threefry into u32 adds, xors and rotations,
// which must give the interpreter's bits exactly, fused with what consumes them (one kernel
// for bits -> uniform floats) and unfused, with one key or a batch of keys.

#include <gtest/gtest.h>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/parser.h"

namespace kiln::runtime {
namespace {

ir::HostArray u32s(ir::Shape shape, const std::vector<uint32_t>& values) {
  ir::HostArray a(ir::TensorType{ir::DType::U32, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    a.set_i64(static_cast<int64_t>(i), values[i]);
  return a;
}

void expect_exact(const char* text, const std::vector<ir::HostArray>& args, size_t fused_kernels) {
  const ir::Function f = std::move(ir::parse_module(text).functions.front());
  const std::vector<ir::HostArray> want = ir::interpret(f, args);
  for (bool fuse : {true, false}) {
    const Executable exe = compiler::compile(f, {.fuse = fuse});
    if (fuse) {
      EXPECT_EQ(exe.num_kernels(), fused_kernels);
    }
    const std::vector<ir::HostArray> got = exe.run(args);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < got.size(); ++r)
      EXPECT_TRUE(got[r] == want[r]) << (fuse ? "fused" : "unfused") << ", result " << r;
  }
}

TEST(RngBitsCpu, BitsAndUniformFloatsMatchTheInterpreterInOneKernel) {
  // The bits, and floats in [0, 1) from their top 23 bits, as kiln::random::uniform makes them.
  const char* text = R"(
func @uniform(%key: u32[2]) -> f32[37,1000] {
  %bits = rng_bits %key {shape=[37,1000]} : u32[37,1000]
  %c9 = constant {value=9} : u32[]
  %nine = broadcast %c9 {shape=[37,1000], dims=[]} : u32[37,1000]
  %mant = shift_right_logical %bits, %nine : u32[37,1000]
  %cone = constant {value=1065353216} : u32[]
  %one_bits = broadcast %cone {shape=[37,1000], dims=[]} : u32[37,1000]
  %or = or %mant, %one_bits : u32[37,1000]
  %f = bitcast_convert %or : f32[37,1000]
  %c1 = constant {value=1.0} : f32[]
  %one = broadcast %c1 {shape=[37,1000], dims=[]} : f32[37,1000]
  %u = sub %f, %one : f32[37,1000]
  return %u
}
)";
  expect_exact(text, {u32s({2}, {0x13198a2e, 0x03707344})}, 1);
}

TEST(RngBitsCpu, ABatchOfKeysCountsFromZeroInEachRow) {
  const char* text = R"(
func @bits(%keys: u32[3,2]) -> u32[3,5,7] {
  %0 = rng_bits %keys {shape=[5,7]} : u32[3,5,7]
  return %0
}
)";
  expect_exact(text, {u32s({3, 2}, {0, 0, 0xffffffff, 0xffffffff, 1, 2})}, 1);
}

}  // namespace
}  // namespace kiln::runtime
