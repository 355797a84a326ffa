#include "runtime/vulkan/vulkan_context.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <mutex>
#include <sstream>

#include "ir/error.h"
#include "runtime/vulkan/vulkan_abi.h"
#include "runtime/vulkan/vulkan_internal.h"

namespace kiln::runtime {

namespace vk {

const char* result_name(VkResult result) {
  switch (result) {
#define KILN_VK_RESULT(name) \
  case name:                 \
    return #name;
    KILN_VK_RESULT(VK_SUCCESS)
    KILN_VK_RESULT(VK_NOT_READY)
    KILN_VK_RESULT(VK_TIMEOUT)
    KILN_VK_RESULT(VK_INCOMPLETE)
    KILN_VK_RESULT(VK_ERROR_OUT_OF_HOST_MEMORY)
    KILN_VK_RESULT(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    KILN_VK_RESULT(VK_ERROR_INITIALIZATION_FAILED)
    KILN_VK_RESULT(VK_ERROR_DEVICE_LOST)
    KILN_VK_RESULT(VK_ERROR_MEMORY_MAP_FAILED)
    KILN_VK_RESULT(VK_ERROR_LAYER_NOT_PRESENT)
    KILN_VK_RESULT(VK_ERROR_EXTENSION_NOT_PRESENT)
    KILN_VK_RESULT(VK_ERROR_FEATURE_NOT_PRESENT)
    KILN_VK_RESULT(VK_ERROR_INCOMPATIBLE_DRIVER)
    KILN_VK_RESULT(VK_ERROR_TOO_MANY_OBJECTS)
    KILN_VK_RESULT(VK_ERROR_FORMAT_NOT_SUPPORTED)
    KILN_VK_RESULT(VK_ERROR_FRAGMENTED_POOL)
    KILN_VK_RESULT(VK_ERROR_UNKNOWN)
    KILN_VK_RESULT(VK_ERROR_OUT_OF_POOL_MEMORY)
    KILN_VK_RESULT(VK_ERROR_INVALID_EXTERNAL_HANDLE)
    KILN_VK_RESULT(VK_ERROR_FRAGMENTATION)
    KILN_VK_RESULT(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS)
    KILN_VK_RESULT(VK_PIPELINE_COMPILE_REQUIRED)
    KILN_VK_RESULT(VK_ERROR_INVALID_SHADER_NV)
#undef KILN_VK_RESULT
    default:  // VkResult is Vulkan's open enum, not kiln's
      return "VK_ERROR_(unknown)";
  }
}

void check(VkResult result, const char* call) {
  if (result == VK_SUCCESS) return;
  std::string name(call);
  name = name.substr(0, name.find('('));
  throw Error("[vulkan] " + name + " failed: " + result_name(result) + " (" +
              std::to_string(static_cast<int>(result)) + ")");
}

}  // namespace vk

namespace {

constexpr const char* kNoDevice =
    "[vulkan] no Vulkan device found; install Mesa's lavapipe (apt install mesa-vulkan-drivers) "
    "or a GPU driver";
constexpr const char* kValidationLayer = "VK_LAYER_KHRONOS_validation";

std::atomic<uint64_t> g_validation_messages{0};

bool env_flag(const char* name) {
  const char* v = std::getenv(name);
  return v && std::strcmp(v, "1") == 0;
}

std::optional<std::string> env_value(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return std::nullopt;
  return std::string(v);
}

VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT,
    const VkDebugUtilsMessengerCallbackDataEXT* data, void*) {
  if (severity < VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) return VK_FALSE;
  std::string message = data && data->pMessage ? data->pMessage : "(no message)";
  std::replace(message.begin(), message.end(), '\n', ' ');
  std::replace(message.begin(), message.end(), '\r', ' ');
  // One write per line, so that lines from several threads never interleave.
  std::string line = "[vulkan-validation] " + message + "\n";
  std::fwrite(line.data(), 1, line.size(), stderr);
  g_validation_messages.fetch_add(1);
  return VK_FALSE;
}

VkDebugUtilsMessengerCreateInfoEXT messenger_info() {
  VkDebugUtilsMessengerCreateInfoEXT info = vk::make<VkDebugUtilsMessengerCreateInfoEXT>(
      VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT);
  info.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
  info.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                     VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
  info.pfnUserCallback = on_validation_message;
  return info;
}

bool has_layer(const char* name) {
  uint32_t n = 0;
  if (vkEnumerateInstanceLayerProperties(&n, nullptr) != VK_SUCCESS) return false;
  std::vector<VkLayerProperties> layers(n);
  if (vkEnumerateInstanceLayerProperties(&n, layers.data()) != VK_SUCCESS) return false;
  return std::any_of(layers.begin(), layers.end(), [&](const VkLayerProperties& l) {
    return std::strcmp(l.layerName, name) == 0;
  });
}

// An instance for Vulkan 1.3, with validation when KILN_VULKAN_VALIDATE=1. Returns false when
// there is no loader or driver (the caller reports "no Vulkan device").
bool create_instance(vk::InstanceHandle& instance, vk::Messenger* messenger) {
  uint32_t loader_version = 0;
  if (vkEnumerateInstanceVersion(&loader_version) != VK_SUCCESS ||
      loader_version < VK_API_VERSION_1_3)
    return false;
  const bool validate = messenger && env_flag("KILN_VULKAN_VALIDATE");
  VkApplicationInfo app = vk::make<VkApplicationInfo>(VK_STRUCTURE_TYPE_APPLICATION_INFO);
  app.pApplicationName = "kiln";
  app.pEngineName = "kiln";
  app.apiVersion = VK_API_VERSION_1_3;
  VkInstanceCreateInfo info =
      vk::make<VkInstanceCreateInfo>(VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO);
  info.pApplicationInfo = &app;
  const char* layers[] = {kValidationLayer};
  const char* extensions[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
  const VkValidationFeatureEnableEXT enables[] = {
      VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT};
  VkValidationFeaturesEXT features =
      vk::make<VkValidationFeaturesEXT>(VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT);
  VkDebugUtilsMessengerCreateInfoEXT debug = messenger_info();
  if (validate) {
    if (!has_layer(kValidationLayer))
      throw Error(
          "[vulkan] KILN_VULKAN_VALIDATE=1 needs VK_LAYER_KHRONOS_validation; install it "
          "(apt install vulkan-validationlayers)");
    info.enabledLayerCount = 1;
    info.ppEnabledLayerNames = layers;
    info.enabledExtensionCount = 1;
    info.ppEnabledExtensionNames = extensions;
    features.enabledValidationFeatureCount = 1;
    features.pEnabledValidationFeatures = enables;
    // Chained so that instance creation and destruction are reported too.
    features.pNext = &debug;
    info.pNext = &features;
  }
  const VkResult result = vkCreateInstance(&info, nullptr, &instance.handle);
  if (result == VK_ERROR_INCOMPATIBLE_DRIVER || result == VK_ERROR_INITIALIZATION_FAILED)
    return false;
  KILN_VK_CHECK(result);
  if (validate) {
    auto create = reinterpret_cast<PFN_vkCreateDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance.handle, "vkCreateDebugUtilsMessengerEXT"));
    messenger->destroy = reinterpret_cast<PFN_vkDestroyDebugUtilsMessengerEXT>(
        vkGetInstanceProcAddr(instance.handle, "vkDestroyDebugUtilsMessengerEXT"));
    if (!create || !messenger->destroy)
      throw Error("[vulkan] the validation layer does not provide VK_EXT_debug_utils");
    messenger->instance = instance.handle;
    KILN_VK_CHECK(create(instance.handle, &debug, nullptr, &messenger->handle));
  }
  return true;
}

const char* type_name(VkPhysicalDeviceType type) {
  switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU:
      return "discrete";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU:
      return "integrated";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU:
      return "virtual";
    case VK_PHYSICAL_DEVICE_TYPE_CPU:
      return "cpu";
    default:  // VK_PHYSICAL_DEVICE_TYPE_OTHER and future values
      return "other";
  }
}

int type_rank(const std::string& type) {
  const char* order[] = {"discrete", "integrated", "virtual", "cpu"};
  for (int i = 0; i < 4; ++i)
    if (type == order[i]) return i;
  return 4;
}

// The feature structs kiln queries and enables, chained.
struct FeatureChain {
  VkPhysicalDeviceFeatures2 core =
      vk::make<VkPhysicalDeviceFeatures2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2);
  VkPhysicalDeviceVulkan11Features v11 = vk::make<VkPhysicalDeviceVulkan11Features>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_FEATURES);
  VkPhysicalDeviceVulkan12Features v12 = vk::make<VkPhysicalDeviceVulkan12Features>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES);
  VkPhysicalDeviceVulkan13Features v13 = vk::make<VkPhysicalDeviceVulkan13Features>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_FEATURES);
  FeatureChain() {
    core.pNext = &v11;
    v11.pNext = &v12;
    v12.pNext = &v13;
  }
  FeatureChain(const FeatureChain&) = delete;
  FeatureChain& operator=(const FeatureChain&) = delete;
};

DeviceCapabilities describe(VkPhysicalDevice device, uint32_t index, const FeatureChain* f) {
  DeviceCapabilities c;
  c.index = index;
  VkPhysicalDeviceProperties basic;
  vkGetPhysicalDeviceProperties(device, &basic);
  c.name = basic.deviceName;
  c.type = type_name(basic.deviceType);
  c.api_version = basic.apiVersion;
  c.driver_version = basic.driverVersion;
  c.vendor_id = basic.vendorID;
  c.device_id = basic.deviceID;
  const VkPhysicalDeviceLimits& l = basic.limits;
  c.max_shared_memory_bytes = l.maxComputeSharedMemorySize;
  c.max_workgroup_invocations = l.maxComputeWorkGroupInvocations;
  for (int i = 0; i < 3; ++i) {
    c.max_workgroup_size[i] = l.maxComputeWorkGroupSize[i];
    c.max_workgroup_count[i] = l.maxComputeWorkGroupCount[i];
  }
  c.max_storage_buffer_range = l.maxStorageBufferRange;
  c.max_storage_buffer_bindings =
      std::min(l.maxPerStageDescriptorStorageBuffers, l.maxDescriptorSetStorageBuffers);
  c.min_storage_buffer_offset_alignment = l.minStorageBufferOffsetAlignment;
  c.max_push_constants_bytes = l.maxPushConstantsSize;
  c.timestamp_period_ns = l.timestampPeriod;
  if (basic.apiVersion < VK_API_VERSION_1_3) {
    c.why_not = "Vulkan " + c.api_version_text() + " (kiln needs 1.3)";
    return c;
  }
  // Only a 1.3 device may be asked for the 1.1-1.3 property and feature structs.
  VkPhysicalDeviceProperties2 props =
      vk::make<VkPhysicalDeviceProperties2>(VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2);
  VkPhysicalDeviceVulkan11Properties p11 = vk::make<VkPhysicalDeviceVulkan11Properties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_1_PROPERTIES);
  VkPhysicalDeviceVulkan12Properties p12 = vk::make<VkPhysicalDeviceVulkan12Properties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_PROPERTIES);
  VkPhysicalDeviceVulkan13Properties p13 = vk::make<VkPhysicalDeviceVulkan13Properties>(
      VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_3_PROPERTIES);
  props.pNext = &p11;
  p11.pNext = &p12;
  p12.pNext = &p13;
  vkGetPhysicalDeviceProperties2(device, &props);
  c.driver_name = p12.driverName;
  c.driver_info = p12.driverInfo;
  c.subgroup_size = p11.subgroupSize;
  c.min_subgroup_size = p13.minSubgroupSize;
  c.max_subgroup_size = p13.maxSubgroupSize;
  c.max_memory_allocation_size = p11.maxMemoryAllocationSize;
  c.max_buffer_size = p13.maxBufferSize;
  c.signed_zero_inf_nan_preserve32 = p12.shaderSignedZeroInfNanPreserveFloat32;
  c.signed_zero_inf_nan_preserve64 = p12.shaderSignedZeroInfNanPreserveFloat64;
  const std::pair<VkSubgroupFeatureFlagBits, const char*> ops[] = {
      {VK_SUBGROUP_FEATURE_BASIC_BIT, "basic"},
      {VK_SUBGROUP_FEATURE_VOTE_BIT, "vote"},
      {VK_SUBGROUP_FEATURE_ARITHMETIC_BIT, "arithmetic"},
      {VK_SUBGROUP_FEATURE_BALLOT_BIT, "ballot"},
      {VK_SUBGROUP_FEATURE_SHUFFLE_BIT, "shuffle"},
      {VK_SUBGROUP_FEATURE_SHUFFLE_RELATIVE_BIT, "shuffle_relative"},
      {VK_SUBGROUP_FEATURE_CLUSTERED_BIT, "clustered"},
      {VK_SUBGROUP_FEATURE_QUAD_BIT, "quad"}};
  for (const auto& [bit, name] : ops)
    if (p11.subgroupSupportedOperations & bit) c.subgroup_operations.push_back(name);

  VkPhysicalDeviceMemoryProperties memory;
  vkGetPhysicalDeviceMemoryProperties(device, &memory);
  for (uint32_t h = 0; h < memory.memoryHeapCount; ++h)
    c.memory_heaps.push_back({memory.memoryHeaps[h].size, (memory.memoryHeaps[h].flags &
                                                           VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0});
  const VkMemoryPropertyFlags unified = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                        VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                        VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
  for (uint32_t t = 0; t < memory.memoryTypeCount; ++t)
    if ((memory.memoryTypes[t].propertyFlags & unified) == unified) c.unified_memory = true;

  uint32_t families = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &families, nullptr);
  std::vector<VkQueueFamilyProperties> family(families);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &families, family.data());
  bool compute = false;
  for (const VkQueueFamilyProperties& q : family)
    if (q.queueFlags & VK_QUEUE_COMPUTE_BIT) {
      compute = true;
      c.timestamps = c.timestamps || q.timestampValidBits > 0;
    }

  c.float64 = f->core.features.shaderFloat64;
  c.int64 = f->core.features.shaderInt64;
  c.int16 = f->core.features.shaderInt16;
  c.int8 = f->v12.shaderInt8;
  c.float16 = f->v12.shaderFloat16;
  c.storage8 = f->v12.storageBuffer8BitAccess;
  c.storage16 = f->v11.storageBuffer16BitAccess;
  c.vulkan_memory_model = f->v12.vulkanMemoryModel;
  c.subgroup_size_control = f->v13.subgroupSizeControl;
  c.synchronization2 = f->v13.synchronization2;
  c.buffer_device_address = f->v12.bufferDeviceAddress;
  c.timeline_semaphore = f->v12.timelineSemaphore;
  if (!c.buffer_device_address)
    c.why_not = "no bufferDeviceAddress";
  else if (!c.timeline_semaphore)
    c.why_not = "no timelineSemaphore";
  else if (!compute)
    c.why_not = "no compute queue";
  c.pickable = c.why_not.empty();
  return c;
}

std::vector<DeviceCapabilities> describe_all(VkInstance instance,
                                             std::vector<VkPhysicalDevice>* handles) {
  uint32_t n = 0;
  KILN_VK_CHECK(vkEnumeratePhysicalDevices(instance, &n, nullptr));
  std::vector<VkPhysicalDevice> devices(n);
  KILN_VK_CHECK(vkEnumeratePhysicalDevices(instance, &n, devices.data()));
  devices.resize(n);
  std::vector<DeviceCapabilities> caps;
  for (uint32_t i = 0; i < n; ++i) {
    FeatureChain features;
    VkPhysicalDeviceProperties basic;
    vkGetPhysicalDeviceProperties(devices[i], &basic);
    if (basic.apiVersion >= VK_API_VERSION_1_3)
      vkGetPhysicalDeviceFeatures2(devices[i], &features.core);
    caps.push_back(describe(devices[i], i, &features));
  }
  if (handles) *handles = std::move(devices);
  return caps;
}

std::string lower(std::string s) {
  for (char& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// The queue family kiln submits to: a compute-only family (asynchronous compute on GPUs) if
// there is one, else the first with compute.
uint32_t compute_family(VkPhysicalDevice device, uint32_t* timestamp_bits) {
  uint32_t n = 0;
  vkGetPhysicalDeviceQueueFamilyProperties(device, &n, nullptr);
  std::vector<VkQueueFamilyProperties> family(n);
  vkGetPhysicalDeviceQueueFamilyProperties(device, &n, family.data());
  uint32_t best = UINT32_MAX;
  for (uint32_t i = 0; i < n; ++i) {
    if (!(family[i].queueFlags & VK_QUEUE_COMPUTE_BIT)) continue;
    const bool compute_only = !(family[i].queueFlags & VK_QUEUE_GRAPHICS_BIT);
    if (best == UINT32_MAX || (compute_only && (family[best].queueFlags & VK_QUEUE_GRAPHICS_BIT)))
      best = i;
  }
  assert(best != UINT32_MAX && "a pickable device has a compute queue");
  *timestamp_bits = family[best].timestampValidBits;
  return best;
}

}  // namespace

std::string DeviceCapabilities::api_version_text() const {
  return std::to_string(VK_API_VERSION_MAJOR(api_version)) + "." +
         std::to_string(VK_API_VERSION_MINOR(api_version)) + "." +
         std::to_string(VK_API_VERSION_PATCH(api_version));
}

std::string DeviceCapabilities::description() const {
  std::ostringstream s;
  s << name << " driver=" << driver_version << " id=" << std::hex << vendor_id << ":" << device_id
    << std::dec << " subgroup=" << subgroup_size << "/" << min_subgroup_size << "-"
    << max_subgroup_size << " ops=";
  for (size_t i = 0; i < subgroup_operations.size(); ++i)
    s << (i ? "," : "") << subgroup_operations[i];
  s << " types=";
  const std::pair<bool, const char*> types[] = {{float64, "f64"},
                                                {int64, "i64"},
                                                {int16, "i16"},
                                                {int8, "i8"},
                                                {float16, "f16"},
                                                {storage8, "s8"},
                                                {storage16, "s16"},
                                                {signed_zero_inf_nan_preserve32, "szinp32"},
                                                {signed_zero_inf_nan_preserve64, "szinp64"}};
  bool first = true;
  for (const auto& [has, label] : types)
    if (has) {
      s << (first ? "" : ",") << label;
      first = false;
    }
  s << " shared=" << max_shared_memory_bytes << " invocations=" << max_workgroup_invocations
    << " wgsize=" << max_workgroup_size[0] << "," << max_workgroup_size[1] << ","
    << max_workgroup_size[2] << " wgcount=" << max_workgroup_count[0] << ","
    << max_workgroup_count[1] << "," << max_workgroup_count[2]
    << " range=" << max_storage_buffer_range << " bindings=" << max_storage_buffer_bindings
    << " align=" << min_storage_buffer_offset_alignment << " abi=" << kVulkanAbiVersion;
  return s.str();
}

std::vector<std::string> portable_profile_gaps(const DeviceCapabilities& d) {
  const VulkanProfile& p = kVulkanPortable;
  std::vector<std::string> gaps;
  auto need = [&gaps](bool ok, const std::string& what) {
    if (!ok) gaps.push_back(what);
  };
  need(d.max_workgroup_invocations >= p.workgroup_invocations,
       std::to_string(p.workgroup_invocations) + " invocations per workgroup");
  need(d.max_shared_memory_bytes >= p.shared_memory_bytes,
       std::to_string(p.shared_memory_bytes) + " bytes of shared memory");
  need(d.max_storage_buffer_range >= p.descriptors.max_range,
       "storage buffers of " + std::to_string(p.descriptors.max_range) + " bytes");
  need(d.max_storage_buffer_bindings >= p.descriptors.max_bindings,
       std::to_string(p.descriptors.max_bindings) + " storage buffers per stage");
  need(d.min_storage_buffer_offset_alignment > 0 &&
           p.descriptors.offset_alignment % d.min_storage_buffer_offset_alignment == 0,
       "storage buffer offsets aligned to " + std::to_string(p.descriptors.offset_alignment));
  need(d.float64, "shaderFloat64");
  need(d.int64, "shaderInt64");
  need(d.int16, "shaderInt16");
  need(d.int8, "shaderInt8");
  need(d.storage8, "storageBuffer8BitAccess");
  need(d.storage16, "storageBuffer16BitAccess");
  need(d.signed_zero_inf_nan_preserve32 && d.signed_zero_inf_nan_preserve64,
       "shaderSignedZeroInfNanPreserveFloat32/64");
  return gaps;
}

size_t select_vulkan_device(const std::vector<DeviceCapabilities>& devices,
                            const std::optional<std::string>& env) {
  if (env) {
    auto listing = [&] {
      std::string list;
      for (size_t i = 0; i < devices.size(); ++i)
        list += (i ? ", " : "") + std::to_string(i) + " " + devices[i].name;
      return list.empty() ? std::string("none") : list;
    };
    std::optional<size_t> match;
    const bool numeric = !env->empty() && std::all_of(env->begin(), env->end(), ::isdigit);
    if (numeric) {
      const unsigned long long i = std::strtoull(env->c_str(), nullptr, 10);
      if (i < devices.size()) match = static_cast<size_t>(i);
    } else {
      for (size_t i = 0; i < devices.size() && !match; ++i)
        if (lower(devices[i].name).find(lower(*env)) != std::string::npos) match = i;
    }
    if (!match)
      throw Error("[vulkan] KILN_VULKAN_DEVICE=" + *env +
                  ": no device matches; devices: " + listing());
    if (!devices[*match].pickable)
      throw Error("[vulkan] KILN_VULKAN_DEVICE=" + *env + ": device " + std::to_string(*match) +
                  " " + devices[*match].name + " cannot be used: " + devices[*match].why_not);
    return *match;
  }
  std::optional<size_t> best;
  for (size_t i = 0; i < devices.size(); ++i)
    if (devices[i].pickable &&
        (!best || type_rank(devices[i].type) < type_rank(devices[*best].type)))
      best = i;
  if (!best) {
    std::string message = kNoDevice;
    for (const DeviceCapabilities& d : devices)
      message += "; " + d.name + ": " + d.why_not;
    throw Error(message);
  }
  return *best;
}

std::vector<DeviceCapabilities> list_vulkan_devices() {
  // The process's instance where there is a context: an instance made and destroyed here would
  // have the loader unload the drivers, and lavapipe's leftovers would then be unattributable
  // (the sanitizer build reports them). Without a usable device, a short-lived instance.
  std::shared_ptr<VulkanContext> context;
  try {
    context = VulkanContext::shared();
  } catch (const Error&) {
  }
  vk::InstanceHandle own;
  VkInstance instance = context ? context->impl().instance.handle : VK_NULL_HANDLE;
  if (!instance) {
    if (!create_instance(own, nullptr)) return {};
    instance = own.handle;
  }
  std::vector<DeviceCapabilities> devices = describe_all(instance, nullptr);
  if (std::any_of(devices.begin(), devices.end(), [](auto& d) { return d.pickable; }))
    devices[select_vulkan_device(devices, env_value("KILN_VULKAN_DEVICE"))].selected = true;
  return devices;
}

VulkanContext::VulkanContext() : impl_(std::make_unique<Impl>()) {
  Impl& c = *impl_;
  if (!create_instance(c.instance, &c.messenger)) throw Error(kNoDevice);
  std::vector<VkPhysicalDevice> handles;
  std::vector<DeviceCapabilities> devices = describe_all(c.instance.handle, &handles);
  const size_t chosen = select_vulkan_device(devices, env_value("KILN_VULKAN_DEVICE"));
  c.physical = handles[chosen];
  c.caps = devices[chosen];
  c.caps.selected = true;

  // Enable exactly the optional features the device has (the capabilities record which).
  FeatureChain has;
  vkGetPhysicalDeviceFeatures2(c.physical, &has.core);
  FeatureChain on;
  on.core.features.shaderFloat64 = has.core.features.shaderFloat64;
  on.core.features.shaderInt64 = has.core.features.shaderInt64;
  on.core.features.shaderInt16 = has.core.features.shaderInt16;
  on.v11.storageBuffer16BitAccess = has.v11.storageBuffer16BitAccess;
  on.v12.bufferDeviceAddress = VK_TRUE;
  on.v12.timelineSemaphore = VK_TRUE;
  on.v12.shaderInt8 = has.v12.shaderInt8;
  on.v12.shaderFloat16 = has.v12.shaderFloat16;
  on.v12.storageBuffer8BitAccess = has.v12.storageBuffer8BitAccess;
  on.v12.vulkanMemoryModel = has.v12.vulkanMemoryModel;
  on.v12.vulkanMemoryModelDeviceScope = has.v12.vulkanMemoryModelDeviceScope;
  on.v13.subgroupSizeControl = has.v13.subgroupSizeControl;
  on.v13.computeFullSubgroups = has.v13.computeFullSubgroups;
  on.v13.synchronization2 = has.v13.synchronization2;
  on.v13.maintenance4 = has.v13.maintenance4;

  uint32_t timestamp_bits = 0;
  c.queue_family = compute_family(c.physical, &timestamp_bits);
  const float priority = 1.0f;
  VkDeviceQueueCreateInfo queue =
      vk::make<VkDeviceQueueCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO);
  queue.queueFamilyIndex = c.queue_family;
  queue.queueCount = 1;
  queue.pQueuePriorities = &priority;
  VkDeviceCreateInfo info = vk::make<VkDeviceCreateInfo>(VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO);
  info.pNext = &on.core;
  info.queueCreateInfoCount = 1;
  info.pQueueCreateInfos = &queue;
  KILN_VK_CHECK(vkCreateDevice(c.physical, &info, nullptr, &c.device.handle));
  vkGetDeviceQueue(c.device.handle, c.queue_family, 0, &c.queue);
  vkGetPhysicalDeviceMemoryProperties(c.physical, &c.memory);
  // Mapping device memory is the fast path only where it is the host's own memory (lavapipe,
  // integrated GPUs); a discrete GPU's mappable memory is reached over PCIe, where reading
  // results back uncached is slow, so it gets staging copies.
  c.map_device_memory =
      c.caps.unified_memory && c.caps.type != "discrete" && !env_flag("KILN_VULKAN_STAGING");
  c.timestamps = timestamp_bits > 0;  // two per run: their cost is not measurable

  VkCommandPoolCreateInfo pool =
      vk::make<VkCommandPoolCreateInfo>(VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO);
  pool.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
  pool.queueFamilyIndex = c.queue_family;
  VkCommandPool pool_handle = VK_NULL_HANDLE;
  KILN_VK_CHECK(vkCreateCommandPool(c.device.handle, &pool, nullptr, &pool_handle));
  c.command_pool = vk::CommandPool(c.device.handle, pool_handle);
  VkPipelineCacheCreateInfo cache =
      vk::make<VkPipelineCacheCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO);
  VkPipelineCache cache_handle = VK_NULL_HANDLE;
  KILN_VK_CHECK(vkCreatePipelineCache(c.device.handle, &cache, nullptr, &cache_handle));
  c.pipeline_cache = vk::PipelineCache(c.device.handle, cache_handle);
}

VulkanContext::~VulkanContext() = default;

namespace vk {
namespace {
std::atomic<bool> exiting{false};
}  // namespace
bool process_exiting() {
  return exiting.load(std::memory_order_relaxed);
}
}  // namespace vk

std::shared_ptr<VulkanContext> VulkanContext::shared() {
  // Created once; a failure is remembered, so every later call reports it again at no cost.
  // Executables hold a reference too, so one that outlives this static (a static of its own)
  // still finds its device.
  static std::mutex mutex;
  static std::shared_ptr<VulkanContext> context;
  static std::string failure;
  std::lock_guard lock(mutex);
  if (context) return context;
  if (!failure.empty()) throw Error(failure);
  try {
    context.reset(new VulkanContext());
    std::atexit([] { vk::exiting.store(true); });
  } catch (const Error& e) {
    failure = e.what();
    throw;
  }
  return context;
}

VulkanContext& VulkanContext::instance() {
  return *shared();
}

const DeviceCapabilities& VulkanContext::capabilities() const {
  return impl_->caps;
}

bool vulkan_available() {
  try {
    VulkanContext::instance();
    return true;
  } catch (const Error&) {
    return false;
  }
}

uint64_t validation_message_count() {
  return g_validation_messages.load();
}

}  // namespace kiln::runtime
