// A bundle made once with `kiln compile` and committed (tests/golden/bundles/v1.kbundle; its
// README says how): today's runtime must still open it and run it, so that a format change that
// breaks bundles already shipped fails here. Its results are checked against the interpreter
// running the IR the bundle carries, and against numbers computed outside kiln (numpy, float64),
// so that neither a changed reader nor a changed interpreter can pass it alone.

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

#include "tests/runtime/bundle_test_util.h"

namespace kiln::runtime::bundle {
namespace {

using namespace testing;

const std::string kGolden = std::string(KILN_GOLDEN_DIR) + "/bundles/v1.kbundle";

ir::HostArray f32(ir::Shape shape, const std::vector<double>& values) {
  ir::HostArray a(ir::TensorType{ir::DType::F32, std::move(shape)});
  for (size_t i = 0; i < values.size(); ++i)
    a.set_f64(static_cast<int64_t>(i), values[i]);
  return a;
}

// Runs `name` from the bundle on `args`, and the interpreter on the function's own IR from the
// bundle (with `weight` in front of the arguments' place where the bundle binds it); checks
// both against `expected`.
void expect_results(const Bundle& b, const std::string& name, std::vector<ir::HostArray> args,
                    const std::vector<double>& expected,
                    const std::optional<ir::HostArray>& weight = std::nullopt) {
  SCOPED_TRACE("@" + name);
  const BundleFunction* f = b.find(name);
  ASSERT_NE(f, nullptr);
  const std::vector<ir::HostArray> got = f->run(args);
  const ir::Module module = ir::parse_module(b.ir_text(f->info().ir_section), "golden @" + name);
  if (weight) args.push_back(*weight);  // %weight is the last parameter of @predict
  const std::vector<ir::HostArray> want = ir::interpret(module.functions.at(0), args);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_EQ(want.size(), 1u);
  EXPECT_EQ(codegen::testing::compare_compiled(want[0], got[0]), "");
  ASSERT_EQ(got[0].num_elements(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i)
    EXPECT_NEAR(got[0].get_f64(static_cast<int64_t>(i)), expected[i], 1e-5) << "element " << i;
}

TEST(GoldenBundle, V1StillOpensAndRuns) {
  // Made for x86-64-v2 and -v3: every x86-64 CI machine runs one of them.
  const Bundle b = Bundle::open_file(kGolden);
  EXPECT_EQ(b.container().major, 1);
  __builtin_cpu_init();
  EXPECT_EQ(b.target(), __builtin_cpu_supports("x86-64-v3") ? "x86-64-v3" : "x86-64-v2");
  const Manifest& m = b.manifest();
  ASSERT_EQ(m.functions.size(), 3u);
  EXPECT_EQ(m.functions[2].name, "loss_grad");
  EXPECT_EQ(m.functions[2].origin, "grad:loss");
  ASSERT_EQ(m.weights.size(), 1u);
  EXPECT_EQ(m.weights[0].name, "weight");
  EXPECT_EQ(b.find("predict")->params().size(), 1u) << "%weight is bound";

  const ir::HostArray weight = f32({3, 2}, {0.5, -1, 0.25, 2, -0.75, 0.125});
  expect_results(b, "predict", {f32({2, 3}, {1, 2, 3, -1, 0, 0.5})},
                 {-0.8482836399575129, 0.997660979469889, -0.703905603936621, 0.7866188121086976},
                 weight);
  const ir::HostArray x = f32({3}, {0.5, -1, 2});
  expect_results(b, "loss", {x}, {14.65565681080222});
  expect_results(b, "loss_grad", {x}, {2.648721270700128, -1.6321205588285577, 11.38905609893065});
}

TEST(GoldenBundle, V1PassesEveryCheckOnEveryTarget) {
  std::ifstream in(kGolden, std::ios::binary);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(text.size(), kHeaderBytes);
  verify_bundle(text_bytes(text), kGolden, {}, false);
}

}  // namespace
}  // namespace kiln::runtime::bundle
