#pragma once
// The contract between SPIR-V kernels (codegen/spirv) and the Vulkan runtime (runtime/vulkan),
// written once for both sides, as runtime/kernel_abi.h is for the CPU. Header only, free of
// Vulkan and SPIRV-Tools types.
//
// A kernel is one SPIR-V module (binary words, little endian) with one GLCompute entry point
// named PlanKernel::symbol and a fixed LocalSize (x, 1, 1). Kernel buffer i (in
// codegen::Kernel::buffers order, scratch buffers included) reaches it one of two ways, decided
// by bound_by_descriptor() on both sides:
//
//   descriptor: a storage buffer at set 0, binding i, offset a multiple of
//     kVulkanBufferAlignment, range the buffer's bytes. Preferred: software Vulkan (lavapipe)
//     loads through descriptors with vector loads but through addresses one lane at a time.
//   address: VK_KHR_buffer_device_address (core in Vulkan 1.2), for what a descriptor cannot
//     hold: a buffer past maxStorageBufferRange (W5's 256 MiB input on lavapipe), past the
//     binding limit, or a device whose offset alignment kiln's 64 bytes do not satisfy.
//
//   push constants, offset 0:  uint64_t buffer_table
//     the device address of an array of uint64_t device addresses, one per kernel buffer (0
//     for zero-byte buffers); each address is a multiple of kVulkanBufferAlignment. Kernels
//     read the entries of their address-bound buffers only.
//
//   workgroups: PlanKernel::workgroups in total. The runtime dispatches (x, y, 1) with
//     x = min(total, maxComputeWorkGroupCount[0]) and y = ceil(total / x) (refusing a plan
//     whose y exceeds maxComputeWorkGroupCount[1]); the kernel numbers its workgroup
//     g = WorkgroupId.y * NumWorkgroups.x + WorkgroupId.x and does nothing when g >= total
//     (the total is baked into the module). A plan with workgroups == 0 dispatches nothing.
//
// Every dispatch of an executable reads and writes memory the runtime owns for it; the runtime
// places a compute-to-compute memory barrier between two dispatches whose buffers overlap where
// one of them writes. Changing anything here changes kVulkanAbiVersion, which is part of every
// Vulkan kernel-cache key and every Vulkan plan's target.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kiln::runtime {

inline constexpr uint32_t kVulkanAbiVersion = 2;
inline constexpr uint32_t kVulkanPushConstantBytes = 8;
inline constexpr uint64_t kVulkanBufferAlignment = 64;
// The device limits that decide how a buffer is bound (DeviceCapabilities has them).
struct DescriptorLimits {
  uint64_t max_range = 0;         // maxStorageBufferRange
  uint32_t max_bindings = 0;      // storage buffers one compute stage may bind
  uint64_t offset_alignment = 0;  // minStorageBufferOffsetAlignment
};

inline bool bound_by_descriptor(size_t index, uint64_t bytes, const DescriptorLimits& limits) {
  return bytes > 0 && bytes <= limits.max_range && index < limits.max_bindings &&
         limits.offset_alignment > 0 && kVulkanBufferAlignment % limits.offset_alignment == 0;
}

// Plans for Vulkan carry a target that starts with this word, then either the description of
// the one device the code was generated for, or kVulkanPortableProfile; Executable::load sends
// them to the Vulkan runtime.
inline constexpr const char* kVulkanTargetPrefix = "vulkan";

// A Vulkan plan's target for code generated for `description` (a device's, or the portable
// profile's): the one spelling the compiler writes and the runtime checks.
inline std::string vulkan_plan_target(std::string_view description) {
  return std::string(kVulkanTargetPrefix) + " " + std::string(description);
}

// kiln's portable Vulkan profile: code generated for it (CompileOptions::portable) runs on any
// device that meets it, so a plan can be made where no device is (or for another machine's)
// and carried to a GPU with the runtime alone. What every desktop GPU and lavapipe offer.
struct VulkanProfile {
  uint32_t workgroup_invocations = 256;
  uint32_t shared_memory_bytes = 16384;
  DescriptorLimits descriptors{uint64_t{1} << 27, 8, kVulkanBufferAlignment};
  // dtype features (f64, i64, i16, i8, 8/16-bit storage) and SignedZeroInfNanPreserve for f32
  // and f64, all required.
};
inline constexpr VulkanProfile kVulkanPortable{};
inline constexpr const char* kVulkanPortableProfile = "portable-profile-1";

}  // namespace kiln::runtime
