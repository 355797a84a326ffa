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

TEST(RandomGraphsOnCpu, MatchTheInterpreterFusedAndUnfused) {
  const uint64_t graphs = codegen::testing::random_graph_count();
  for (uint64_t seed = 1; seed <= graphs; ++seed) {
    const ir::Function f = codegen::testing::GraphGenerator(seed).generate(12);
    const std::vector<ir::HostArray> args = codegen::testing::random_args(f, seed);
    const std::vector<ir::HostArray> want = ir::interpret(f, args);
    for (bool fuse : {true, false}) {
      const std::vector<ir::HostArray> got =
          compiler::compile(f, compiler::CompileOptions{.fuse = fuse}).run(args);
      ASSERT_EQ(got.size(), want.size());
      for (size_t r = 0; r < want.size(); ++r)
        EXPECT_EQ(codegen::testing::compare_compiled(want[r], got[r]), "")
            << "seed " << seed << (fuse ? ", fused" : ", unfused") << ", result " << r << ", in\n"
            << ir::print(f);
    }
  }
}

}  // namespace
}  // namespace kiln::runtime
