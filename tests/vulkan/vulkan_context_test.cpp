// The Vulkan context: device choice, the no-device error, capabilities, validation. Choices
// that depend on the environment run in a child process (the context is created once per
// process): this binary again, with the variables set and VulkanChild.* selected.

#include <gtest/gtest.h>

#include <unistd.h>

#include <array>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "ir/error.h"
#include "tests/vulkan/vulkan_test_util.h"

namespace kiln::runtime {
namespace {

// Every test process fails if the validation layer (KILN_VULKAN_VALIDATE=1) reported anything.
class ValidationClean : public ::testing::Environment {
 public:
  void TearDown() override {
    EXPECT_EQ(validation_message_count(), 0u) << "validation messages on stderr";
  }
};
const auto* const kValidationClean = ::testing::AddGlobalTestEnvironment(new ValidationClean);

DeviceCapabilities fake(std::string name, std::string type, bool pickable = true) {
  DeviceCapabilities d;
  d.name = std::move(name);
  d.type = std::move(type);
  d.pickable = pickable;
  if (!pickable) d.why_not = "Vulkan 1.1.0 (kiln needs 1.3)";
  return d;
}

TEST(VulkanSelect, PrefersDiscreteThenIntegratedThenCpu) {
  std::vector<DeviceCapabilities> devices = {fake("llvmpipe", "cpu"), fake("iGPU", "integrated"),
                                             fake("Old GPU", "discrete", false),
                                             fake("NVIDIA H100", "discrete")};
  EXPECT_EQ(select_vulkan_device(devices, std::nullopt), 3u);
  devices.pop_back();
  EXPECT_EQ(select_vulkan_device(devices, std::nullopt), 1u);
  devices.erase(devices.begin() + 1);
  EXPECT_EQ(select_vulkan_device(devices, std::nullopt), 0u);
}

TEST(VulkanSelect, ByIndexOrNameAndUnmatchedIsAnError) {
  const std::vector<DeviceCapabilities> devices = {fake("llvmpipe (LLVM 15)", "cpu"),
                                                   fake("NVIDIA H100", "discrete")};
  EXPECT_EQ(select_vulkan_device(devices, "0"), 0u);
  EXPECT_EQ(select_vulkan_device(devices, "h100"), 1u);
  EXPECT_EQ(select_vulkan_device(devices, "LLVMPIPE"), 0u);
  try {
    select_vulkan_device(devices, "radeon");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "[vulkan] KILN_VULKAN_DEVICE=radeon: no device matches; devices: 0 llvmpipe "
                 "(LLVM 15), 1 NVIDIA H100");
  }
  EXPECT_THROW(select_vulkan_device(devices, "2"), Error);
}

TEST(VulkanSelect, NoPickableDevice) {
  try {
    select_vulkan_device({fake("Old GPU", "discrete", false)}, std::nullopt);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("apt install mesa-vulkan-drivers"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("Old GPU: Vulkan 1.1.0"), std::string::npos);
  }
}

TEST(VulkanContext, Capabilities) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const DeviceCapabilities& c = VulkanContext::instance().capabilities();
  EXPECT_TRUE(c.selected);
  EXPECT_TRUE(c.buffer_device_address);
  EXPECT_GE(c.api_version, (1u << 22 | 3u << 12));
  EXPECT_GT(c.subgroup_size, 0u);
  EXPECT_GE(c.max_workgroup_count[0], 65535u);
  EXPECT_FALSE(c.memory_heaps.empty());
  const std::string d = c.description();
  EXPECT_EQ(d.find('\n'), std::string::npos);
  EXPECT_NE(d.find(c.name), std::string::npos);
  EXPECT_NE(d.find("abi=" + std::to_string(kVulkanAbiVersion)), std::string::npos);
  const std::vector<DeviceCapabilities> all = list_vulkan_devices();
  ASSERT_GT(all.size(), c.index);
  EXPECT_TRUE(all[c.index].selected);
  EXPECT_EQ(all[c.index].description(), d);
}

// Runs this test binary's VulkanChild.Context with `env` added; its output and status.
std::pair<int, std::string> run_child(const std::string& env) {
  const std::string command = env + " KILN_VULKAN_CHILD=1 /proc/" + std::to_string(::getpid()) +
                              "/exe --gtest_filter=VulkanChild.Context 2>&1";
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return {-1, "popen failed"};
  std::array<char, 4096> chunk;
  while (size_t got = std::fread(chunk.data(), 1, chunk.size(), pipe))
    output.append(chunk.data(), got);
  return {::pclose(pipe), output};
}

// In a child: prints what the process's context makes of the environment.
TEST(VulkanChild, Context) {
  if (!std::getenv("KILN_VULKAN_CHILD")) GTEST_SKIP() << "run by the tests below";
  try {
    std::printf("DEVICE: %s\n", VulkanContext::instance().capabilities().name.c_str());
  } catch (const Error& e) {
    std::printf("ERROR: %s\n", e.what());
  }
  std::printf("AVAILABLE: %d\n", vulkan_available() ? 1 : 0);
}

TEST(VulkanContext, DeviceChosenByEnvironment) {
  KILN_REQUIRE_VULKAN_DEVICE();
  const DeviceCapabilities& c = VulkanContext::instance().capabilities();
  auto [status, by_index] = run_child("KILN_VULKAN_DEVICE=" + std::to_string(c.index));
  EXPECT_EQ(status, 0) << by_index;
  EXPECT_NE(by_index.find("DEVICE: " + c.name), std::string::npos) << by_index;
  std::string part = c.name.substr(0, 4);
  for (char& ch : part)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  auto [status2, by_name] = run_child("KILN_VULKAN_DEVICE='" + part + "'");
  EXPECT_NE(by_name.find("DEVICE: " + c.name), std::string::npos) << by_name;
  auto [status3, unmatched] = run_child("KILN_VULKAN_DEVICE=no-such-device");
  EXPECT_NE(unmatched.find("ERROR: [vulkan] KILN_VULKAN_DEVICE=no-such-device: no device "
                           "matches; devices: 0 "),
            std::string::npos)
      << unmatched;
  EXPECT_NE(unmatched.find("AVAILABLE: 0"), std::string::npos);
}

// (The loader itself reports "no drivers" under validation, so the child runs without it.)
TEST(VulkanContext, NoDriverSaysHowToInstallLavapipe) {
  auto [status, output] = run_child(
      "VK_DRIVER_FILES=/nonexistent VK_ICD_FILENAMES=/nonexistent KILN_VULKAN_VALIDATE=0");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("ERROR: [vulkan] no Vulkan device found; install Mesa's lavapipe (apt "
                        "install mesa-vulkan-drivers)"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("AVAILABLE: 0"), std::string::npos);
}

}  // namespace
}  // namespace kiln::runtime
