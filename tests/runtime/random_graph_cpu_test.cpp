// The seeded random graphs of tests/codegen, compiled by the CPU backend (fusion, lowering,
// LLVM, the runtime) fused and unfused, against the interpreter. A mismatch prints the graph's
// .kir as its reproducer.

#include <gtest/gtest.h>

#include <cstdlib>

#include "compiler/pipeline.h"
#include "ir/interpreter.h"
#include "ir/printer.h"
#include "tests/codegen/random_graph.h"

namespace kiln::runtime {
namespace {

// The JIT's transcendentals are within 4 ulp and its sums reassociate, so f32 results get a
// relative tolerance of a few thousand ulp of the larger magnitude (at least 1): enough for
// error carried through a dozen ops, far below any wrong-index or wrong-op mismatch.
std::string compare_compiled(const ir::HostArray& want, const ir::HostArray& got) {
  if (want.type() != got.type()) return "type " + got.type().str() + " != " + want.type().str();
  for (int64_t i = 0; i < want.num_elements(); ++i) {
    const double a = want.get_f64(i), b = got.get_f64(i);
    if ((std::isnan(a) && std::isnan(b)) || a == b) continue;
    const double tol = 2e-4 * std::max({1.0, std::fabs(a), std::fabs(b)});
    if (!ir::is_float(want.dtype()) || !(std::fabs(a - b) <= tol))
      return "element " + std::to_string(i) + ": got " + std::to_string(b) + ", want " +
             std::to_string(a);
  }
  return "";
}

TEST(RandomGraphsOnCpu, MatchTheInterpreterFusedAndUnfused) {
  // KILN_RANDOM_GRAPHS=N runs more graphs than CI's bounded count.
  const char* count = std::getenv("KILN_RANDOM_GRAPHS");
  const uint64_t graphs = count ? std::strtoull(count, nullptr, 10) : 150;
  for (uint64_t seed = 1; seed <= graphs; ++seed) {
    const ir::Function f = codegen::testing::GraphGenerator(seed).generate(12);
    const std::vector<ir::HostArray> args = codegen::testing::random_args(f, seed);
    const std::vector<ir::HostArray> want = ir::interpret(f, args);
    for (bool fuse : {true, false}) {
      const std::vector<ir::HostArray> got =
          compiler::compile(f, compiler::CompileOptions{.fuse = fuse}).run(args);
      ASSERT_EQ(got.size(), want.size());
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_EQ(compare_compiled(want[r], got[r]), "")
            << "seed " << seed << (fuse ? ", fused" : ", unfused") << ", result " << r << ", in\n"
            << ir::print(f);
    }
  }
}

}  // namespace
}  // namespace kiln::runtime
