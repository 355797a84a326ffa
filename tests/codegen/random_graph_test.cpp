// A seeded random-graph generator: DAGs of elementwise ops, reductions, broadcasts, index
// movement and dots over small random shapes, each checked fused and unfused against the
// interpreter. A mismatch prints the graph's .kir as its reproducer.

#include <gtest/gtest.h>

#include <cstdlib>
#include <random>

#include "ir/error.h"
#include "tests/codegen/random_graph.h"

namespace kiln::codegen {
namespace {

using testing::GraphGenerator;

TEST(RandomGraphs, MatchTheInterpreterFusedAndUnfused) {
  size_t fused = 0, unfused = 0, reductions_fused = 0;
  // KILN_RANDOM_GRAPHS=N runs more graphs than CI's bounded count.
  const char* count = std::getenv("KILN_RANDOM_GRAPHS");
  const uint64_t graphs = count ? std::strtoull(count, nullptr, 10) : 150;
  for (uint64_t seed = 1; seed <= graphs; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const ir::Function f = GraphGenerator(seed).generate(12);
    testing::expect_matches_interpreter(f, seed);
    const passes::FusionPlan plan = passes::plan_fusion(f);
    fused += plan.groups.size();
    unfused += passes::plan_fusion(f, {.fuse = false}).groups.size();
    for (const passes::FusionGroup& g : plan.groups)
      reductions_fused += g.kind == passes::KernelKind::Reduction && g.members.size() > 1;
  }
  // The graphs exercise fusion: far fewer kernels fused, and reductions with producers.
  EXPECT_LT(fused * 2, unfused);
  EXPECT_GT(reductions_fused, 20u);
}

}  // namespace
}  // namespace kiln::codegen
