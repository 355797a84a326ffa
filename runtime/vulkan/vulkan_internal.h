#pragma once
// Inside runtime/vulkan only: Vulkan handles as move-only RAII values, the VkResult check, and
// the context's handles. Every handle kiln creates lives in one of these, so an exception on
// any path frees what was made before it.

#include <vulkan/vulkan.h>

#include <mutex>
#include <string>
#include <utility>

#include "runtime/vulkan/vulkan_context.h"

namespace kiln::runtime::vk {

const char* result_name(VkResult result);

// Throws kiln::Error "[vulkan] <call> failed: VK_ERROR_..." unless the call succeeded.
void check(VkResult result, const char* call);
#define KILN_VK_CHECK(call) ::kiln::runtime::vk::check((call), #call)

// A zeroed Vulkan struct of type `type` (brace initialization of only sType warns).
template <typename T>
T make(VkStructureType type) {
  T t{};
  t.sType = type;
  return t;
}

// Whether the process is exiting: set by an exit handler registered when the context is made,
// so it runs before the destructors of statics made earlier (a cache of executables). From then
// on nothing calls into the driver, which may have torn itself down already (lavapipe does);
// the handles are left to the process's end.
bool process_exiting();

// A handle a VkDevice owns, destroyed with Destroy(device, handle, nullptr).
template <typename T, auto Destroy>
class DeviceHandle {
 public:
  DeviceHandle() = default;
  DeviceHandle(VkDevice device, T handle) : device_(device), handle_(handle) {}
  DeviceHandle(DeviceHandle&& other) noexcept
      : device_(other.device_), handle_(std::exchange(other.handle_, VK_NULL_HANDLE)) {}
  DeviceHandle& operator=(DeviceHandle&& other) noexcept {
    if (this != &other) {
      reset();
      device_ = other.device_;
      handle_ = std::exchange(other.handle_, VK_NULL_HANDLE);
    }
    return *this;
  }
  DeviceHandle(const DeviceHandle&) = delete;
  DeviceHandle& operator=(const DeviceHandle&) = delete;
  ~DeviceHandle() { reset(); }

  T get() const { return handle_; }
  explicit operator bool() const { return handle_ != VK_NULL_HANDLE; }
  void reset() {
    if (handle_ != VK_NULL_HANDLE && !process_exiting()) Destroy(device_, handle_, nullptr);
    handle_ = VK_NULL_HANDLE;
  }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  T handle_ = VK_NULL_HANDLE;
};

using Buffer = DeviceHandle<VkBuffer, vkDestroyBuffer>;
using Memory = DeviceHandle<VkDeviceMemory, vkFreeMemory>;
using ShaderModule = DeviceHandle<VkShaderModule, vkDestroyShaderModule>;
using PipelineLayout = DeviceHandle<VkPipelineLayout, vkDestroyPipelineLayout>;
using Pipeline = DeviceHandle<VkPipeline, vkDestroyPipeline>;
using PipelineCache = DeviceHandle<VkPipelineCache, vkDestroyPipelineCache>;
using CommandPool = DeviceHandle<VkCommandPool, vkDestroyCommandPool>;
using Semaphore = DeviceHandle<VkSemaphore, vkDestroySemaphore>;
using QueryPool = DeviceHandle<VkQueryPool, vkDestroyQueryPool>;
using DescriptorSetLayout = DeviceHandle<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;
using DescriptorPool = DeviceHandle<VkDescriptorPool, vkDestroyDescriptorPool>;

// The instance and device themselves: destroyed last, in this order (members of Impl are
// destroyed in reverse declaration order).
struct InstanceHandle {
  VkInstance handle = VK_NULL_HANDLE;
  InstanceHandle() = default;
  InstanceHandle(const InstanceHandle&) = delete;
  InstanceHandle& operator=(const InstanceHandle&) = delete;
  ~InstanceHandle() {
    if (handle && !process_exiting()) vkDestroyInstance(handle, nullptr);
  }
};
struct DeviceOwner {
  VkDevice handle = VK_NULL_HANDLE;
  DeviceOwner() = default;
  DeviceOwner(const DeviceOwner&) = delete;
  DeviceOwner& operator=(const DeviceOwner&) = delete;
  ~DeviceOwner() {
    if (handle && !process_exiting()) {
      vkDeviceWaitIdle(handle);
      vkDestroyDevice(handle, nullptr);
    }
  }
};
struct Messenger {
  VkInstance instance = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT handle = VK_NULL_HANDLE;
  PFN_vkDestroyDebugUtilsMessengerEXT destroy = nullptr;
  Messenger() = default;
  Messenger(const Messenger&) = delete;
  Messenger& operator=(const Messenger&) = delete;
  ~Messenger() {
    if (handle && !process_exiting()) destroy(instance, handle, nullptr);
  }
};

}  // namespace kiln::runtime::vk

namespace kiln::runtime {

struct VulkanContext::Impl {
  vk::InstanceHandle instance;
  vk::Messenger messenger;
  VkPhysicalDevice physical = VK_NULL_HANDLE;
  vk::DeviceOwner device;
  VkQueue queue = VK_NULL_HANDLE;
  uint32_t queue_family = 0;
  VkPhysicalDeviceMemoryProperties memory = {};
  DeviceCapabilities caps;
  // Map device memory and copy with memcpy (unified memory); otherwise device-local memory and
  // staging copies recorded in each run's command buffer.
  bool map_device_memory = false;
  bool timestamps = false;  // the queue can write them: every run is timed on the GPU
  // vkQueueSubmit and the command pool need external synchronization.
  std::mutex queue_mutex;
  std::mutex pool_mutex;
  vk::CommandPool command_pool;
  // Declared after the device, so destroyed before it.
  vk::PipelineCache pipeline_cache;
};

}  // namespace kiln::runtime
