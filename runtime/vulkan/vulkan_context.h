#pragma once
// The process's Vulkan device: one instance, one logical device, one compute queue, created on
// first use (VulkanContext::instance()) and kept until exit. This header names no Vulkan type,
// so code that only asks what the device can do (tools, the compiler choosing tile sizes)
// needs no Vulkan headers; runtime/vulkan/vulkan_internal.h holds the handles.
//
// Environment:
//   KILN_VULKAN_DEVICE     index (vkEnumeratePhysicalDevices order) or a case-insensitive
//                          substring of the device name; otherwise discrete > integrated >
//                          virtual > CPU > other, the first on ties
//   KILN_VULKAN_VALIDATE=1 VK_LAYER_KHRONOS_validation with synchronization validation; every
//                          warning and error is one "[vulkan-validation] ..." line on stderr
//                          and counts in validation_message_count()
//   KILN_VULKAN_STAGING=1  device-local memory and staging copies even where the device has
//                          host-visible device memory (tests the discrete-GPU path anywhere)

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::runtime {

struct MemoryHeapInfo {
  uint64_t size = 0;
  bool device_local = false;
};

// What a Vulkan device can do, as plain data.
struct DeviceCapabilities {
  uint32_t index = 0;  // in vkEnumeratePhysicalDevices order
  std::string name;
  std::string type;          // "discrete", "integrated", "virtual", "cpu" or "other"
  uint32_t api_version = 0;  // VK_MAKE_API_VERSION packing
  uint32_t driver_version = 0;
  std::string driver_name;
  std::string driver_info;
  uint32_t vendor_id = 0;
  uint32_t device_id = 0;

  uint32_t subgroup_size = 0;  // the default one
  uint32_t min_subgroup_size = 0;
  uint32_t max_subgroup_size = 0;
  // Of basic, vote, arithmetic, ballot, shuffle, shuffle_relative, clustered, quad.
  std::vector<std::string> subgroup_operations;

  uint32_t max_shared_memory_bytes = 0;  // maxComputeSharedMemorySize
  uint32_t max_workgroup_invocations = 0;
  std::array<uint32_t, 3> max_workgroup_size = {};
  std::array<uint32_t, 3> max_workgroup_count = {};
  uint64_t max_storage_buffer_range = 0;
  uint32_t max_storage_buffer_bindings = 0;  // per compute stage and per set, the smaller
  uint64_t min_storage_buffer_offset_alignment = 0;
  uint64_t max_buffer_size = 0;  // maintenance4; 0 when unknown
  uint64_t max_memory_allocation_size = 0;
  uint32_t max_push_constants_bytes = 0;
  std::vector<MemoryHeapInfo> memory_heaps;
  bool unified_memory = false;  // a memory type is DEVICE_LOCAL | HOST_VISIBLE | HOST_COHERENT
  double timestamp_period_ns = 0;
  bool timestamps = false;  // the compute queue writes timestamps

  // The dtype features kiln enables wherever the device has them.
  bool float64 = false;
  bool int64 = false;
  bool int16 = false;
  bool int8 = false;
  bool float16 = false;
  bool storage8 = false;   // storageBuffer8BitAccess
  bool storage16 = false;  // storageBuffer16BitAccess
  // Float controls: whether a shader may ask that signed zeros, infinities and NaNs be kept.
  bool signed_zero_inf_nan_preserve32 = false;
  bool signed_zero_inf_nan_preserve64 = false;
  bool vulkan_memory_model = false;
  bool subgroup_size_control = false;
  bool synchronization2 = false;
  bool buffer_device_address = false;
  bool timeline_semaphore = false;

  bool pickable = false;  // kiln can run on it
  std::string why_not;    // when not pickable
  bool selected = false;  // the device kiln uses (list_vulkan_devices)

  // One stable line of exactly the facts code generation depends on (name, driver version,
  // ids, subgroup sizes, dtype features, workgroup and shared-memory limits, the ABI
  // version). It follows "vulkan " in a plan's target and is part of kernel-cache keys.
  std::string description() const;
  std::string api_version_text() const;  // "1.3.230"
  DescriptorLimits descriptor_limits() const {
    return {max_storage_buffer_range, max_storage_buffer_bindings,
            min_storage_buffer_offset_alignment};
  }
};

// What `device` lacks of kiln's portable profile (vulkan_abi.h), one phrase each; empty when it
// meets it.
std::vector<std::string> portable_profile_gaps(const DeviceCapabilities& device);

// Every physical device, each marked pickable or not (with the reason) and the one kiln would
// pick `selected`. Empty without a Vulkan loader or driver. Throws kiln::Error for a
// KILN_VULKAN_DEVICE that matches no device.
std::vector<DeviceCapabilities> list_vulkan_devices();

// The device `env` (KILN_VULKAN_DEVICE's value, or nullopt) picks among `devices`: its index
// in `devices`. Throws kiln::Error "[vulkan] KILN_VULKAN_DEVICE=...: no device matches;
// devices: 0 NAME, 1 NAME" for an unmatched value, or "[vulkan] no Vulkan device ..." when
// none is pickable.
size_t select_vulkan_device(const std::vector<DeviceCapabilities>& devices,
                            const std::optional<std::string>& env);

// Whether a Vulkan device can be used (creates the context on first call; never throws).
bool vulkan_available();

// Validation-layer warnings and errors reported so far in this process.
uint64_t validation_message_count();

class VulkanContext {
 public:
  // The process's context, created on first call (thread-safe). Throws kiln::Error
  // "[vulkan] no Vulkan device found; ..." (saying how to install lavapipe) when there is no
  // loader, driver or pickable device; the failure is remembered and thrown again.
  static VulkanContext& instance();
  // The same, shared: what an executable keeps so that the device outlives it.
  static std::shared_ptr<VulkanContext> shared();

  const DeviceCapabilities& capabilities() const;

  // The handles, for runtime/vulkan (vulkan_internal.h defines it).
  struct Impl;
  Impl& impl() const { return *impl_; }

  VulkanContext(const VulkanContext&) = delete;
  VulkanContext& operator=(const VulkanContext&) = delete;
  ~VulkanContext();

 private:
  VulkanContext();
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::runtime
