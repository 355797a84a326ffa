#pragma once
// What the commands that take --device vulkan share: the check that a device exists, made
// before any input is read, and how a device is named in their output.

#include <string>

namespace kiln::tools {

// Throws kiln::Error "[COMPONENT] --device vulkan: ..." when no Vulkan device can be used,
// saying how to install lavapipe.
void require_vulkan(const std::string& component);

// "cpu", or "vulkan (DEVICE NAME)".
std::string device_label(const std::string& device);

}  // namespace kiln::tools
