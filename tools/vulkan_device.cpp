#include "tools/vulkan_device.h"

#include "ir/error.h"
#include "runtime/vulkan/vulkan_context.h"

namespace kiln::tools {

void require_vulkan(const std::string& component) {
  try {
    runtime::VulkanContext::instance();
  } catch (const Error& e) {
    std::string why = e.what();
    if (why.rfind("[vulkan] ", 0) == 0) why = why.substr(9);
    throw Error("[" + component + "] --device vulkan: " + why);
  }
}

std::string device_label(const std::string& device) {
  if (device != "vulkan") return device;
  return "vulkan (" + runtime::VulkanContext::instance().capabilities().name + ")";
}

}  // namespace kiln::tools
