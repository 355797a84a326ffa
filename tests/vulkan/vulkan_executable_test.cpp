// The Vulkan runtime on hand-made plans: results, barriers, grids past 65535 workgroups,
// tensors past maxStorageBufferRange, concurrency, out-of-memory, refusals, plan files.

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <thread>

#include "ir/error.h"
#include "runtime/executable.h"
#include "tests/vulkan/vulkan_test_util.h"

namespace kiln::runtime {
namespace {

using testing::affine_plan;
using testing::affine_plan_kernel;
using testing::AffineKernel;
using testing::this_device_target;

ir::HostArray iota(int64_t n, float start = 0) {
  ir::HostArray a = ir::HostArray::uninitialized({ir::DType::F32, {n}});
  float* p = reinterpret_cast<float*>(a.data());
  for (int64_t i = 0; i < n; ++i)
    p[i] = start + static_cast<float>(i % 1000);
  return a;
}

const float* floats(const ir::HostArray& a) {
  return reinterpret_cast<const float*>(a.data());
}

TEST(VulkanRun, AffineKernel) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const int64_t n = 1000;  // not a multiple of the workgroup: the last group is guarded
  Executable e = Executable::load(affine_plan(n));
  EXPECT_EQ(e.num_kernels(), 1u);
  ir::HostArray x = iota(n);
  std::vector<ir::HostArray> out = e.run(std::span<const ir::HostArray>(&x, 1));
  ASSERT_EQ(out.size(), 1u);
  for (int64_t i = 0; i < n; ++i)
    ASSERT_EQ(floats(out[0])[i], floats(x)[i] * 2 + 1) << i;
  // run_raw: the caller's memory, and a second run of the same command buffer.
  std::vector<float> raw(n);
  const void* params[] = {x.data()};
  void* results[] = {raw.data()};
  e.run_raw(params, results);
  EXPECT_EQ(raw[n - 1], floats(x)[n - 1] * 2 + 1);
  // Every run is timed on the GPU where the queue writes timestamps (lavapipe's does).
  EXPECT_GE(e.last_gpu_ms(), 0);
}

// Step 2 reads what step 1 wrote in the arena: the barrier between them is what makes it right.
TEST(VulkanRun, TwoStepsThroughTheArena) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const uint64_t n = 1 << 16;
  Plan plan = affine_plan(n);
  plan.kernels.push_back(affine_plan_kernel("second", {n, n / 64, 64, 3, -1, true}));
  plan.arena_bytes = n * 4;
  plan.steps = {{0, {{Slot::Kind::Param, 0, n * 4}, {Slot::Kind::Arena, 0, n * 4}}},
                {1, {{Slot::Kind::Arena, 0, n * 4}, {Slot::Kind::Result, 0, n * 4}}}};
  Executable e = Executable::load(plan);
  ir::HostArray x = iota(static_cast<int64_t>(n));
  for (int round = 0; round < 3; ++round) {
    std::vector<ir::HostArray> out = e.run(std::span<const ir::HostArray>(&x, 1));
    for (uint64_t i = 0; i < n; ++i)
      ASSERT_EQ(floats(out[0])[i], (floats(x)[i] * 2 + 1) * 3 - 1) << i;
  }
}

// More workgroups than one dimension holds: a 2-D grid of which the kernel skips the groups
// past its total. Step 1 fills every element the grid covers, step 2 (the guarded kernel)
// overwrites only the first `total`; the rest must keep step 1's value.
TEST(VulkanRun, TwoDimensionalGridIsGuarded) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const uint64_t max_x = VulkanContext::instance().capabilities().max_workgroup_count[0];
  const uint64_t total = 2'000'000;
  const uint64_t y = (total + max_x - 1) / max_x;
  const uint64_t covered = max_x * y;  // groups dispatched, local size 1: one element each
  ASSERT_GT(covered, total);
  Plan plan;
  plan.name = "grid";
  plan.target = this_device_target();
  const ir::TensorType t{ir::DType::F32, {static_cast<int64_t>(covered)}};
  plan.params = {{"x", t}};
  plan.result_types = {t};
  plan.result_slots = {{Slot::Kind::Result, 0, 0}};
  PlanKernel fill = affine_plan_kernel("fill", {covered, covered, 1, 1, 7, false});
  PlanKernel guarded = affine_plan_kernel("guarded", {covered, total, 1, 2, 1, true});
  plan.kernels = {fill, guarded};
  const uint64_t bytes = covered * 4;
  plan.steps = {{0, {{Slot::Kind::Result, 0, bytes}}},
                {1, {{Slot::Kind::Param, 0, bytes}, {Slot::Kind::Result, 0, bytes}}}};
  Executable e = Executable::load(plan);
  ir::HostArray x = iota(static_cast<int64_t>(covered));
  std::vector<ir::HostArray> out = e.run(std::span<const ir::HostArray>(&x, 1));
  const float* r = floats(out[0]);
  for (uint64_t i = 0; i < covered; ++i)
    ASSERT_EQ(r[i], i < total ? floats(x)[i] * 2 + 1 : 7.0f) << i;
}

// 256 MiB, twice lavapipe's maxStorageBufferRange: device addresses have no range limit.
TEST(VulkanRun, TensorLargerThanAStorageBufferRange) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const uint64_t n = uint64_t{64} << 20;
  Executable e = Executable::load(affine_plan(n, 1, 5));
  ir::HostArray x = iota(static_cast<int64_t>(n));
  std::vector<ir::HostArray> out = e.run(std::span<const ir::HostArray>(&x, 1));
  for (uint64_t i = 0; i < n; i += 4099)
    ASSERT_EQ(floats(out[0])[i], floats(x)[i] + 5) << i;
  EXPECT_EQ(floats(out[0])[n - 1], floats(x)[n - 1] + 5);
}

TEST(VulkanRun, ConcurrentRunsTakeTurns) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const int64_t n = 4096;
  Executable e = Executable::load(affine_plan(n));
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int r = 0; r < 20; ++r) {
        ir::HostArray x = iota(n, static_cast<float>(t * 100 + r));
        std::vector<ir::HostArray> out = e.run(std::span<const ir::HostArray>(&x, 1));
        for (int64_t i = 0; i < n; ++i)
          if (floats(out[0])[i] != floats(x)[i] * 2 + 1) ++wrong;
      }
    });
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST(VulkanRun, ArenaLargerThanTheHeapIsAnError) {
  KILN_REQUIRE_VULKAN_DEVICE();
  Plan plan = affine_plan(256);
  plan.arena_bytes = uint64_t{1} << 50;
  try {
    Executable::load(plan);
    FAIL() << "loaded a plan larger than the device";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[vulkan] @affine: out of device memory allocating " +
                                         std::to_string(plan.arena_bytes) + " bytes from heap"),
              std::string::npos)
        << e.what();
  }
  // Nothing leaked and the device still works.
  Executable e = Executable::load(affine_plan(256));
  ir::HostArray x = iota(256);
  EXPECT_EQ(floats(e.run(std::span<const ir::HostArray>(&x, 1))[0])[255], floats(x)[255] * 2 + 1);
}

TEST(VulkanRun, PlanForAnotherDeviceIsRefused) {
  KILN_REQUIRE_VULKAN_DEVICE();
  Plan plan = affine_plan(16);
  plan.target = "vulkan Imaginary GPU driver=1";
  try {
    Executable::load(plan);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "[runtime] @affine: compiled for Vulkan device 'Imaginary GPU driver=1', "
                  "this device is '" +
                  VulkanContext::instance().capabilities().description() + "'"),
              std::string::npos)
        << e.what();
  }
}

TEST(VulkanRun, KernelThatIsNotSpirvIsRefused) {
  KILN_REQUIRE_VULKAN_DEVICE();
  Plan plan = affine_plan(16);
  plan.kernels[0].object.assign(24, std::byte{0x42});
  EXPECT_THROW(
      {
        try {
          Executable::load(plan);
        } catch (const Error& e) {
          EXPECT_NE(std::string(e.what()).find("is not a SPIR-V module"), std::string::npos);
          throw;
        }
      },
      Error);
}

TEST(VulkanRun, ZeroWorkgroupsAndZeroBytes) {
  KILN_REQUIRE_VULKAN_DEVICE();
  Plan plan = affine_plan(0);
  ASSERT_EQ(plan.kernels[0].workgroups, 0u);
  Executable e = Executable::load(plan);
  ir::HostArray x = iota(0);
  EXPECT_EQ(e.run(std::span<const ir::HostArray>(&x, 1))[0].size_bytes(), 0u);
}

TEST(VulkanPlan, RoundTripKeepsWorkgroups) {
  Plan plan;
  plan.name = "p";
  plan.target = "vulkan some device";
  plan.kernels.push_back({"k", "main", {std::byte{1}}, 10, {40}, {1}, 123456789});
  plan.result_types = {{ir::DType::F32, {10}}};
  plan.result_slots = {{Slot::Kind::Result, 0, 0}};
  plan.steps = {{0, {{Slot::Kind::Result, 0, 40}}}};
  const Plan back = load_plan(save_plan(plan), "p.plan");
  EXPECT_EQ(back.kernels[0].workgroups, 123456789u);
  EXPECT_EQ(back, plan);
  // A CPU plan has no workgroups: a file saying otherwise is corrupt.
  plan.target = "x86_64 znver3 +avx2";
  EXPECT_THROW(load_plan(save_plan(plan), "p.plan"), Error);
}

}  // namespace
}  // namespace kiln::runtime
