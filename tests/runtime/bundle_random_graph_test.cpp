// The seeded random graphs of tests/codegen through ahead-of-time bundles: compiled together by
// compiler::write_bundle (one function per graph, one linked shared object), opened by the
// runtime alone and run against the interpreter, on the CPU and on Vulkan, with the tolerance
// random_graph_cpu_test.cpp and vulkan_random_graph_test.cpp use (compare_compiled). A mismatch
// prints the graph's .kir as its reproducer. A fifth of KILN_RANDOM_GRAPHS (default 150) graphs
// on the CPU and a tenth on Vulkan: the JIT tests cover the codegen itself, these the bundle's
// path through it.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/common/require_device.h"
#include "tests/runtime/bundle_test_util.h"

namespace kiln::runtime::bundle {
namespace {

using namespace testing;

std::vector<ir::Function> graphs(uint64_t count) {
  std::vector<ir::Function> out;
  for (uint64_t seed = 1; seed <= count; ++seed) {
    ir::Function& f = out.emplace_back(codegen::testing::GraphGenerator(seed).generate(12));
    f.set_name("random" + std::to_string(seed));
  }
  return out;
}

void expect_graphs_match(const std::string& target, uint64_t count) {
  const std::vector<ir::Function> functions = graphs(count);
  compiler::BundleSpec spec;
  for (const ir::Function& f : functions) {
    spec.source_kir += ir::print(f);
    spec.functions.push_back({f, f.name()});
  }
  spec.targets = {target};
  const Bundle b = Bundle::open_memory(
      compiler::write_bundle(spec),
      {.device = target == "vulkan" ? BundleOptions::Device::Vulkan : BundleOptions::Device::Cpu});
  EXPECT_EQ(b.target(), target);
  for (uint64_t seed = 1; seed <= count; ++seed) {
    const ir::Function& f = functions[seed - 1];
    const std::vector<ir::HostArray> args = codegen::testing::random_args(f, seed);
    const std::vector<ir::HostArray> want = ir::interpret(f, args);
    const std::vector<ir::HostArray> got = b.find(f.name())->run(args);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r)
      EXPECT_EQ(codegen::testing::compare_compiled(want[r], got[r]), "")
          << "seed " << seed << " through a " << target << " bundle, result " << r << ", in\n"
          << ir::print(f);
  }
}

TEST(RandomGraphBundles, MatchTheInterpreterOnCpu) {
  KILN_REQUIRE_X86_64_V3();
  expect_graphs_match(best_cpu_level(),
                      std::max<uint64_t>(1, codegen::testing::random_graph_count() / 5));
}

TEST(RandomGraphBundles, MatchTheInterpreterOnVulkan) {
  KILN_REQUIRE_VULKAN_DEVICE();
  expect_graphs_match("vulkan", std::max<uint64_t>(1, codegen::testing::random_graph_count() / 10));
}

}  // namespace
}  // namespace kiln::runtime::bundle
