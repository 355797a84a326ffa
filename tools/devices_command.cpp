// `kiln devices`: what kiln can run on. The host CPU that code is generated for, then every
// Vulkan device with the facts code generation and the runtime depend on, the one kiln picks
// marked `*` and any reason a device cannot be picked.

#include <iostream>
#include <string>

#include "codegen/cpu/cpu_compiler.h"
#include "ir/error.h"
#include "runtime/vulkan/vulkan_context.h"
#include "tools/commands.h"

namespace kiln::tools {

namespace {

std::string mib(uint64_t bytes) {
  return std::to_string(bytes >> 20) + " MiB";
}

void print_device(const runtime::DeviceCapabilities& d) {
  std::cout << (d.selected ? "* " : "  ") << d.index << ": " << d.name << " (" << d.type << ")\n";
  std::cout << "    api " << d.api_version_text() << ", driver " << d.driver_name << " "
            << d.driver_info << " (" << d.driver_version << "), id " << std::hex << d.vendor_id
            << ":" << d.device_id << std::dec << "\n";
  if (!d.pickable) {
    std::cout << "    cannot be used: " << d.why_not << "\n";
    return;
  }
  std::cout << "    subgroup " << d.subgroup_size << " (" << d.min_subgroup_size << "-"
            << d.max_subgroup_size << "):";
  for (const std::string& op : d.subgroup_operations)
    std::cout << " " << op;
  std::cout << "\n    shared memory " << d.max_shared_memory_bytes << " bytes, workgroup "
            << d.max_workgroup_invocations << " invocations, size " << d.max_workgroup_size[0]
            << "x" << d.max_workgroup_size[1] << "x" << d.max_workgroup_size[2] << ", count "
            << d.max_workgroup_count[0] << "x" << d.max_workgroup_count[1] << "x"
            << d.max_workgroup_count[2] << "\n";
  std::cout << "    maxStorageBufferRange " << mib(d.max_storage_buffer_range) << ", maxBufferSize "
            << mib(d.max_buffer_size) << ", maxMemoryAllocationSize "
            << mib(d.max_memory_allocation_size) << "\n    memory:";
  for (const runtime::MemoryHeapInfo& h : d.memory_heaps)
    std::cout << " " << mib(h.size) << (h.device_local ? " device-local" : " host") << ";";
  std::cout << (d.unified_memory ? " unified (host-visible device memory)" : " not unified")
            << "\n    types:";
  const std::pair<bool, const char*> types[] = {
      {d.float64, "float64"}, {d.int64, "int64"},       {d.int16, "int16"},        {d.int8, "int8"},
      {d.float16, "float16"}, {d.storage8, "storage8"}, {d.storage16, "storage16"}};
  for (const auto& [has, name] : types)
    if (has) std::cout << " " << name;
  std::cout << "\n";
}

}  // namespace

Action add_devices_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "devices", "List the CPU and the Vulkan devices kiln can run on (* = the one it picks)");
  return [cmd]() -> int {
    if (!cmd->parsed()) return -1;
    std::cout << "cpu: " << codegen::CpuCompiler::instance().target_description() << "\n";
    std::vector<runtime::DeviceCapabilities> devices;
    try {
      devices = runtime::list_vulkan_devices();
    } catch (const Error& e) {
      // A KILN_VULKAN_DEVICE that matches nothing: still list what there is.
      std::cout << e.what() << "\n";
      return 0;
    }
    if (devices.empty())
      std::cout << "vulkan: no Vulkan device found; install Mesa's lavapipe (apt install "
                   "mesa-vulkan-drivers) or a GPU driver\n";
    for (const runtime::DeviceCapabilities& d : devices)
      print_device(d);
    return 0;
  };
}

}  // namespace kiln::tools
