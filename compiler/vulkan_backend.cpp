#include "compiler/vulkan_backend.h"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <iostream>

#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::compiler {

namespace {

class VulkanBackend final : public KernelBackend {
 public:
  explicit VulkanBackend(codegen::spirv::SpirvTarget target) : target_(std::move(target)) {}

  std::string cache_description() const override {
    return "spirv codegen " + std::to_string(codegen::spirv::kSpirvCodegenVersion) + " abi " +
           std::to_string(runtime::kVulkanAbiVersion) + " " + target_.description;
  }

  std::vector<std::byte> compile_to_object(const codegen::Kernel& kernel,
                                           const std::string& symbol) override {
    std::vector<uint32_t> words = codegen::spirv::compile_kernel(kernel, target_, symbol).words;
    std::vector<std::byte> bytes(words.size() * 4);
    std::memcpy(bytes.data(), words.data(), bytes.size());
    return bytes;
  }

  bool accepts(std::span<const std::byte> object) const override {
    if (object.size() % 4 != 0) return false;
    std::vector<uint32_t> words(object.size() / 4);
    std::memcpy(words.data(), object.data(), object.size());
    return codegen::spirv::validate(words).empty();
  }

  const codegen::spirv::SpirvTarget& target() const { return target_; }

 private:
  codegen::spirv::SpirvTarget target_;
};

VulkanBackend& backend() {
  static VulkanBackend instance(spirv_target(runtime::VulkanContext::instance().capabilities()));
  return instance;
}

}  // namespace

codegen::spirv::SpirvTarget spirv_target(const runtime::DeviceCapabilities& device) {
  codegen::spirv::SpirvTarget t;
  t.device_name = device.name;
  t.description = device.description();
  t.max_workgroup_invocations = device.max_workgroup_invocations;
  t.max_shared_memory_bytes = device.max_shared_memory_bytes;
  t.float64 = device.float64;
  t.int64 = device.int64;
  t.int16 = device.int16;
  t.int8 = device.int8;
  t.storage8 = device.storage8;
  t.storage16 = device.storage16;
  t.signed_zero_inf_nan_preserve32 = device.signed_zero_inf_nan_preserve32;
  t.signed_zero_inf_nan_preserve64 = device.signed_zero_inf_nan_preserve64;
  t.descriptors = device.descriptor_limits();
  t.subgroup_shuffle =
      std::find(device.subgroup_operations.begin(), device.subgroup_operations.end(), "shuffle") !=
      device.subgroup_operations.end();
  return t;
}

codegen::spirv::SpirvTarget portable_spirv_target() {
  const runtime::VulkanProfile& p = runtime::kVulkanPortable;
  codegen::spirv::SpirvTarget t;
  t.device_name = "kiln's portable Vulkan profile";
  t.description = runtime::kVulkanPortableProfile;
  t.max_workgroup_invocations = p.workgroup_invocations;
  t.max_shared_memory_bytes = p.shared_memory_bytes;
  t.float64 = t.int64 = t.int16 = t.int8 = t.storage8 = t.storage16 = true;
  t.signed_zero_inf_nan_preserve32 = t.signed_zero_inf_nan_preserve64 = true;
  t.descriptors = p.descriptors;
  return t;
}

namespace {
// The caches made so far, for clear_vulkan_kernel_caches_in_memory.
std::atomic<KernelCache*> device_cache{nullptr}, portable_cache{nullptr};
}  // namespace

KernelCache& vulkan_kernel_cache() {
  static KernelCache cache(backend(), cache_config_from_env());
  device_cache.store(&cache);
  return cache;
}

const codegen::spirv::SpirvTarget& vulkan_target() {
  return backend().target();
}

KernelCache& portable_vulkan_kernel_cache() {
  static VulkanBackend portable(portable_spirv_target());
  static KernelCache cache(portable, cache_config_from_env());
  portable_cache.store(&cache);
  return cache;
}

void clear_vulkan_kernel_caches_in_memory() {
  for (const std::atomic<KernelCache*>* cache : {&device_cache, &portable_cache})
    if (KernelCache* c = cache->load()) c->clear_memory();
}

}  // namespace kiln::compiler
