// Plans as plain data: saved and loaded back they run the same; corrupt, truncated or foreign
// plans are refused with one clear error; a plan for another imports version or CPU is refused
// before any code is mapped.

#include "runtime/plan.h"

#include <gtest/gtest.h>

#include <random>

#include "compiler/pipeline.h"
#include "ir/error.h"
#include "ir/parser.h"
#include "runtime/executable.h"
#include "tests/common/workloads_kir.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

std::vector<ir::HostArray> random_args(const Plan& plan, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<ir::HostArray> args;
  for (const PlanParam& p : plan.params) {
    ir::HostArray& a = args.emplace_back(p.type);
    for (int64_t i = 0; i < a.num_elements(); ++i)
      a.set_f64(i, std::uniform_real_distribution<double>(-1, 1)(rng));
  }
  return args;
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Plan, SavedAndLoadedBackRunsTheSame) {
  for (const char* text : kiln::testing::workloads::kAll) {
    const Plan plan = compiler::compile_plan(testing::parse_function(text));
    const std::vector<std::byte> bytes = save_plan(plan);
    const Plan loaded = load_plan(bytes, "test.kplan");
    EXPECT_EQ(loaded, plan);
    EXPECT_EQ(save_plan(loaded), bytes);
    const std::vector<ir::HostArray> args = random_args(plan, 11);
    const std::vector<ir::HostArray> want = Executable::load(plan).run(args);
    const std::vector<ir::HostArray> got = Executable::load(loaded).run(args);
    ASSERT_EQ(got.size(), want.size());
    for (size_t r = 0; r < want.size(); ++r)
      EXPECT_EQ(got[r], want[r]) << plan.name << " result " << r;
  }
}

TEST(Plan, DamagedFilesAreRefusedNeverHalfRead) {
  const std::vector<std::byte> bytes =
      save_plan(compiler::compile_plan(testing::parse_function(kiln::testing::workloads::kW4)));
  std::mt19937_64 rng(1);
  int refused = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<std::byte> damaged = bytes;
    if (trial % 4 == 0) {
      damaged.resize(rng() % bytes.size());
    } else {
      for (int flips = 0; flips < 1 + trial % 3; ++flips)
        damaged[rng() % damaged.size()] ^= std::byte(1 + rng() % 255);
    }
    const std::string error = error_of([&] { load_plan(damaged, "w4.kplan"); });
    ASSERT_EQ(error.rfind("[plan] w4.kplan: ", 0), 0u) << "trial " << trial << ": " << error;
    ++refused;
  }
  EXPECT_EQ(refused, 400);
  EXPECT_NE(error_of([&] { load_plan({}, "empty.kplan"); }).find("ends early"), std::string::npos);
}

// The checksum stops random damage; these plans are well-formed files that lie, as a
// hand-edited or hostile plan could, and the structural checks catch them.
TEST(Plan, InconsistentPlansAreRefused) {
  const Plan good = compiler::compile_plan(testing::parse_function(kiln::testing::workloads::kW2));
  auto refused = [&](const std::function<void(Plan&)>& edit, const std::string& rule) {
    Plan bad = good;
    edit(bad);
    const std::string error = error_of([&] { load_plan(save_plan(bad), "bad.kplan"); });
    EXPECT_NE(error.find(rule), std::string::npos) << error;
  };
  refused([](Plan& p) { p.steps[0].kernel = 7; }, "a step names a missing kernel");
  refused(
      [](Plan& p) {
        p.steps[0].slots[0] = {Slot::Kind::Param, 3, p.steps[0].slots[0].bytes};
      },
      "missing parameter");
  refused([](Plan& p) { p.steps[0].slots[0].bytes = 1 << 30; }, "its kernel needs");
  refused(
      [](Plan& p) {
        p.kernels[0].buffer_bytes[0] = 1 << 30;
        p.steps[0].slots[0].bytes = 1 << 30;
      },
      "size differs");
  refused([](Plan& p) { p.steps[0].slots.pop_back(); }, "buffers to a kernel of");
  refused(
      [](Plan& p) {
        p.arena_bytes = 0;
        p.steps[0].slots[0] = {Slot::Kind::Arena, 64, p.steps[0].slots[0].bytes};
      },
      "outside the arena");
  refused([](Plan& p) { p.steps[0].grain = 0; }, "out of range");
  refused(
      [](Plan& p) {
        p.result_slots[0] = {Slot::Kind::Param, 0, 0};
      },
      "uses a result that is read from elsewhere");
  refused([](Plan& p) { p.kernels[0].buffer_written[0] = 1; }, "a parameter that was not donated");
  // A result copied from elsewhere must be a value of its own type, or run_raw would copy past
  // the end of a smaller one.
  refused(
      [](Plan& p) {
        p.steps.clear();
        p.result_types[0] = ir::TensorType{ir::DType::F32, {1 << 20}};
        p.result_slots[0] = {Slot::Kind::Param, 0, 0};
      },
      "result 0 is f32[1048576] but is read from a f32[64,128]");
  refused(
      [](Plan& p) {
        p.steps.clear();
        p.result_slots[0] = {Slot::Kind::Arena, 0, 0};
      },
      "result 0 is read from the arena");
  refused([](Plan& p) { p.arena_bytes = p.peak_bytes + 64; }, "the peak is smaller than the arena");
}

TEST(Plan, AnotherImportsVersionOrCpuIsRefusedBeforeLoading) {
  Plan plan = compiler::compile_plan(testing::parse_function(kiln::testing::workloads::kW1));
  Plan old = plan;
  old.imports_version = kKernelImportsVersion - 1;
  EXPECT_NE(error_of([&] { Executable::load(old); }).find("kernel imports version"),
            std::string::npos);
  Plan arm = plan;
  arm.target = "aarch64-unknown-linux-gnu neoverse-n1 +neon";
  EXPECT_NE(error_of([&] { Executable::load(arm); }).find("this machine runs x86_64 code"),
            std::string::npos);
  // A feature this runtime can test and that no x86 CPU of today has all of at once.
  Plan future = plan;
  future.target = "x86_64-pc-linux-gnu future +avx512fp16,+avx512vbmi2,+avx512bf16,+gfni";
  const std::vector<std::string> missing = missing_cpu_features(future.target);
  if (!missing.empty()) {
    EXPECT_NE(error_of([&] { Executable::load(future); }).find("lacks: " + missing.front()),
              std::string::npos);
  }
  EXPECT_TRUE(missing_cpu_features(plan.target).empty()) << plan.target;
}

}  // namespace
}  // namespace kiln::runtime
