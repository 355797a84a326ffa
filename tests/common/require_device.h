#pragma once
// How a test asks for the hardware it needs: a Vulkan device (the Vulkan tests, and the bundle
// tests that also run there), or an x86-64-v3 CPU (the bundle tests, whose code is for x86-64
// levels).

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "runtime/vulkan/vulkan_context.h"

// Skips a test without a Vulkan device, or fails it when KILN_REQUIRE_VULKAN=1 (CI), so that a
// missing driver install cannot pass as a green run.
#define KILN_REQUIRE_VULKAN_DEVICE()                                                 \
  do {                                                                               \
    if (!::kiln::runtime::vulkan_available()) {                                      \
      const char* require = std::getenv("KILN_REQUIRE_VULKAN");                      \
      if (require && std::string(require) == "1")                                    \
        FAIL() << "no Vulkan device and KILN_REQUIRE_VULKAN=1";                      \
      GTEST_SKIP() << "no Vulkan device (install mesa-vulkan-drivers for lavapipe)"; \
    }                                                                                \
  } while (false)

// Skips a test on a machine below x86-64-v3, which runs none of the bundles the tests compile.
#define KILN_REQUIRE_X86_64_V3()                                               \
  do {                                                                         \
    __builtin_cpu_init();                                                      \
    if (!__builtin_cpu_supports("x86-64-v3"))                                  \
      GTEST_SKIP() << "this machine cannot run x86-64-v3 code (the bundles')"; \
  } while (false)
