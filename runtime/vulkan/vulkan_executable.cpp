#include "runtime/vulkan/vulkan_executable.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cassert>
#include <cstring>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ir/error.h"
#include "runtime/vulkan/vulkan_abi.h"
#include "runtime/vulkan/vulkan_context.h"
#include "runtime/vulkan/vulkan_internal.h"

namespace kiln::runtime {

namespace {

using Impl = VulkanContext::Impl;

constexpr uint32_t kSpirvMagic = 0x07230203;

uint64_t align_up(uint64_t n, uint64_t a) {
  return (n + a - 1) / a * a;
}

// A command buffer from the context's pool; the pool's mutex guards allocation, recording
// and freeing (Vulkan requires the pool to be externally synchronized for all three).
class CommandBuffer {
 public:
  explicit CommandBuffer(Impl& c) : c_(&c) {
    std::lock_guard lock(c.pool_mutex);
    VkCommandBufferAllocateInfo info =
        vk::make<VkCommandBufferAllocateInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO);
    info.commandPool = c.command_pool.get();
    info.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    info.commandBufferCount = 1;
    KILN_VK_CHECK(vkAllocateCommandBuffers(c.device.handle, &info, &handle_));
  }
  CommandBuffer(const CommandBuffer&) = delete;
  CommandBuffer& operator=(const CommandBuffer&) = delete;
  ~CommandBuffer() {
    if (vk::process_exiting()) return;
    std::lock_guard lock(c_->pool_mutex);
    vkFreeCommandBuffers(c_->device.handle, c_->command_pool.get(), 1, &handle_);
  }
  VkCommandBuffer get() const { return handle_; }

 private:
  Impl* c_;
  VkCommandBuffer handle_ = VK_NULL_HANDLE;
};

// Where a buffer lives: an allocation (block) and an offset in it. Zero-byte buffers have no
// place and address 0.
struct Place {
  uint32_t block = 0;
  uint64_t offset = 0;
  uint64_t bytes = 0;
};

// One large allocation with one VkBuffer over all of it, bound to its device address.
struct Block {
  vk::Buffer buffer;
  vk::Memory memory;
  VkDeviceAddress address = 0;
  std::byte* mapped = nullptr;  // persistently mapped host view, where host-visible
};

// Packs buffers, each aligned to kVulkanBufferAlignment, into as few blocks as the device's
// largest allocation allows.
class Packer {
 public:
  explicit Packer(uint64_t max_block) : max_(max_block) {}
  std::optional<Place> place(uint64_t bytes) {
    if (bytes == 0) return std::nullopt;
    assert(bytes <= max_);
    if (sizes_.empty() || align_up(sizes_.back(), kVulkanBufferAlignment) + bytes > max_)
      sizes_.push_back(0);
    Place p{static_cast<uint32_t>(sizes_.size() - 1),
            align_up(sizes_.back(), kVulkanBufferAlignment), bytes};
    sizes_.back() = p.offset + bytes;
    return p;
  }
  const std::vector<uint64_t>& sizes() const { return sizes_; }

 private:
  uint64_t max_;
  std::vector<uint64_t> sizes_;
};

// A memory type with all `required` flags, preferring one with `preferred` too.
uint32_t memory_type(const Impl& c, uint32_t allowed, VkMemoryPropertyFlags required,
                     VkMemoryPropertyFlags preferred) {
  uint32_t found = UINT32_MAX;
  for (uint32_t t = 0; t < c.memory.memoryTypeCount; ++t) {
    const VkMemoryPropertyFlags flags = c.memory.memoryTypes[t].propertyFlags;
    if (!(allowed & (1u << t)) || (flags & required) != required) continue;
    if ((flags & preferred) == preferred) return t;
    if (found == UINT32_MAX) found = t;
  }
  if (found == UINT32_MAX) throw Error("[vulkan] the device has no memory type for kiln's buffers");
  return found;
}

struct MemoryKind {
  VkMemoryPropertyFlags required;
  VkMemoryPropertyFlags preferred;
  VkBufferUsageFlags usage;
};

class VulkanExecutable final : public ExecutableBackend {
 public:
  explicit VulkanExecutable(const Plan& plan);
  VulkanExecutable(const VulkanExecutable&) = delete;
  VulkanExecutable& operator=(const VulkanExecutable&) = delete;
  ~VulkanExecutable() override;
  void execute(std::span<const void* const> params, std::span<void* const> results) const override;
  uint64_t host_scratch_bytes() const override { return 0; }
  double last_gpu_ms() const override { return last_gpu_ms_.load(); }

 private:
  struct Kernel {
    vk::ShaderModule module;
    vk::DescriptorSetLayout set_layout;  // the buffers bound by descriptor
    vk::PipelineLayout layout;
    vk::Pipeline pipeline;
    std::vector<uint32_t> bindings;  // which buffers are bound by descriptor
    uint32_t x = 0, y = 0;           // the dispatch grid
  };
  // A buffer the host reads or writes: its device place and, with staging, its staging place.
  struct HostRegion {
    std::optional<Place> device;
    std::optional<Place> staging;
  };

  [[noreturn]] void fail(const std::string& message) const {
    throw Error("[vulkan] @" + plan_.name + ": " + message);
  }
  void check_target() const;
  void create_kernels();
  void place_buffers();
  std::vector<Block> allocate(const std::vector<uint64_t>& sizes, const MemoryKind& kind);
  Block allocate_block(uint64_t bytes, const MemoryKind& kind);
  void write_tables_and_constants();
  void write_descriptor_sets();
  void record();
  std::optional<Place> locate(const Slot& slot) const;
  uint64_t address(const Slot& slot) const {
    const std::optional<Place> p = locate(slot);
    return p ? device_address(*p) : 0;
  }
  std::byte* host(const HostRegion& r) const;
  VkDeviceAddress device_address(const Place& p) const {
    return blocks_[p.block].address + p.offset;
  }

  const Plan& plan_;
  // Held, so that the device outlives this executable; declared first, destroyed last.
  std::shared_ptr<VulkanContext> context_;
  Impl& c_;
  VkDevice device_;
  std::vector<Kernel> kernels_;  // by Plan::kernels index
  vk::DescriptorPool descriptor_pool_;
  std::vector<VkDescriptorSet> descriptor_sets_;  // by step; freed with the pool

  uint64_t max_block_ = 0;
  std::vector<HostRegion> params_, results_, constants_, tables_;  // tables_: by step
  std::optional<Place> arena_;
  std::vector<Block> blocks_;   // device memory
  std::vector<Block> staging_;  // host-visible mirrors of host regions; empty when mapped

  std::optional<CommandBuffer> commands_;
  vk::Semaphore timeline_;
  vk::QueryPool timestamps_;

  mutable std::mutex run_mutex_;  // one set of buffers: runs take turns
  mutable uint64_t timeline_value_ = 0;
  mutable std::atomic<double> last_gpu_ms_{-1};
};

VulkanExecutable::VulkanExecutable(const Plan& plan)
    : plan_(plan),
      context_(VulkanContext::shared()),
      c_(context_->impl()),
      device_(c_.device.handle) {
  const DeviceCapabilities& caps = c_.caps;
  max_block_ = caps.max_memory_allocation_size;
  if (caps.max_buffer_size) max_block_ = std::min(max_block_, caps.max_buffer_size);
  check_target();
  create_kernels();
  place_buffers();
  write_tables_and_constants();
  write_descriptor_sets();
  VkSemaphoreTypeCreateInfo type =
      vk::make<VkSemaphoreTypeCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO);
  type.semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE;
  VkSemaphoreCreateInfo info =
      vk::make<VkSemaphoreCreateInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO);
  info.pNext = &type;
  VkSemaphore semaphore = VK_NULL_HANDLE;
  KILN_VK_CHECK(vkCreateSemaphore(device_, &info, nullptr, &semaphore));
  timeline_ = vk::Semaphore(device_, semaphore);
  if (c_.timestamps) {
    VkQueryPoolCreateInfo query =
        vk::make<VkQueryPoolCreateInfo>(VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO);
    query.queryType = VK_QUERY_TYPE_TIMESTAMP;
    query.queryCount = 2;
    VkQueryPool pool = VK_NULL_HANDLE;
    KILN_VK_CHECK(vkCreateQueryPool(device_, &query, nullptr, &pool));
    timestamps_ = vk::QueryPool(device_, pool);
  }
  record();
}

VulkanExecutable::~VulkanExecutable() {
  // Runs wait for their work, so nothing is in flight unless a wait failed; make sure anyway
  // before the buffers go.
  if (timeline_ && !vk::process_exiting()) {
    VkSemaphoreWaitInfo wait = vk::make<VkSemaphoreWaitInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO);
    VkSemaphore semaphore = timeline_.get();
    wait.semaphoreCount = 1;
    wait.pSemaphores = &semaphore;
    wait.pValues = &timeline_value_;
    vkWaitSemaphores(device_, &wait, UINT64_MAX);
  }
}

void VulkanExecutable::check_target() const {
  const std::string here = c_.caps.description();
  if (plan_.target == vulkan_plan_target(kVulkanPortableProfile)) {
    const std::vector<std::string> gaps = portable_profile_gaps(c_.caps);
    if (gaps.empty()) return;
    std::string list;
    for (const std::string& g : gaps)
      list += (list.empty() ? "" : ", ") + g;
    throw Error("[runtime] @" + plan_.name +
                ": compiled for kiln's portable Vulkan profile, which '" + c_.caps.name +
                "' does not meet: it lacks " + list);
  }
  if (plan_.target != vulkan_plan_target(here)) {
    const std::string prefix = vulkan_plan_target("");
    const std::string compiled =
        plan_.target.rfind(prefix, 0) == 0 ? plan_.target.substr(prefix.size()) : plan_.target;
    throw Error("[runtime] @" + plan_.name + ": compiled for Vulkan device '" + compiled +
                "', this device is '" + here + "'");
  }
}

void VulkanExecutable::create_kernels() {
  const std::array<uint32_t, 3>& count = c_.caps.max_workgroup_count;
  const DescriptorLimits limits = c_.caps.descriptor_limits();
  for (size_t k = 0; k < plan_.kernels.size(); ++k) {
    const PlanKernel& pk = plan_.kernels[k];
    const std::string which = "kernel " + std::to_string(k) + " (" + pk.name + ")";
    uint32_t magic = 0;
    if (pk.object.size() < 20 || pk.object.size() % 4 != 0 ||
        (std::memcpy(&magic, pk.object.data(), 4), magic != kSpirvMagic))
      fail(which + " is not a SPIR-V module (" + std::to_string(pk.object.size()) +
           " bytes, no 0x07230203 magic)");
    Kernel& kernel = kernels_.emplace_back();
    // The pipeline layout: the buffers the ABI binds by descriptor, and the table's address.
    std::vector<VkDescriptorSetLayoutBinding> bindings;
    for (size_t i = 0; i < pk.buffer_bytes.size(); ++i)
      if (bound_by_descriptor(i, pk.buffer_bytes[i], limits)) {
        kernel.bindings.push_back(static_cast<uint32_t>(i));
        bindings.push_back({static_cast<uint32_t>(i), VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, 1,
                            VK_SHADER_STAGE_COMPUTE_BIT, nullptr});
      }
    VkDescriptorSetLayoutCreateInfo set_info = vk::make<VkDescriptorSetLayoutCreateInfo>(
        VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO);
    set_info.bindingCount = static_cast<uint32_t>(bindings.size());
    set_info.pBindings = bindings.data();
    VkDescriptorSetLayout set_layout = VK_NULL_HANDLE;
    KILN_VK_CHECK(vkCreateDescriptorSetLayout(device_, &set_info, nullptr, &set_layout));
    kernel.set_layout = vk::DescriptorSetLayout(device_, set_layout);
    VkPushConstantRange push{VK_SHADER_STAGE_COMPUTE_BIT, 0, kVulkanPushConstantBytes};
    VkPipelineLayoutCreateInfo layout =
        vk::make<VkPipelineLayoutCreateInfo>(VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO);
    layout.setLayoutCount = 1;
    layout.pSetLayouts = &set_layout;
    layout.pushConstantRangeCount = 1;
    layout.pPushConstantRanges = &push;
    VkPipelineLayout layout_handle = VK_NULL_HANDLE;
    KILN_VK_CHECK(vkCreatePipelineLayout(device_, &layout, nullptr, &layout_handle));
    kernel.layout = vk::PipelineLayout(device_, layout_handle);
    if (pk.workgroups > 0) {
      const uint64_t x = std::min<uint64_t>(pk.workgroups, count[0]);
      const uint64_t y = (pk.workgroups + x - 1) / x;
      if (y > count[1])
        fail(which + " needs " + std::to_string(pk.workgroups) +
             " workgroups, more than this device dispatches (" + std::to_string(count[0]) + " x " +
             std::to_string(count[1]) + ")");
      kernel.x = static_cast<uint32_t>(x);
      kernel.y = static_cast<uint32_t>(y);
    }
    // SPIR-V words are copied out so the code is 4-byte aligned whatever the plan's bytes are.
    std::vector<uint32_t> words(pk.object.size() / 4);
    std::memcpy(words.data(), pk.object.data(), pk.object.size());
    VkShaderModuleCreateInfo module =
        vk::make<VkShaderModuleCreateInfo>(VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO);
    module.codeSize = pk.object.size();
    module.pCode = words.data();
    VkShaderModule module_handle = VK_NULL_HANDLE;
    KILN_VK_CHECK(vkCreateShaderModule(device_, &module, nullptr, &module_handle));
    kernel.module = vk::ShaderModule(device_, module_handle);
    VkComputePipelineCreateInfo pipeline =
        vk::make<VkComputePipelineCreateInfo>(VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO);
    pipeline.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    pipeline.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    pipeline.stage.module = module_handle;
    pipeline.stage.pName = pk.symbol.c_str();
    pipeline.layout = kernel.layout.get();
    VkPipeline pipeline_handle = VK_NULL_HANDLE;
    KILN_VK_CHECK(vkCreateComputePipelines(device_, c_.pipeline_cache.get(), 1, &pipeline, nullptr,
                                           &pipeline_handle));
    kernel.pipeline = vk::Pipeline(device_, pipeline_handle);
  }
}

void VulkanExecutable::place_buffers() {
  const bool staged = !c_.map_device_memory;
  const MemoryKind device_kind = staged ? MemoryKind{VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0, 0}
                                        : MemoryKind{VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT |
                                                         VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                                         VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
                                                     VK_MEMORY_PROPERTY_HOST_CACHED_BIT, 0};
  const MemoryKind staging_kind{
      VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT,
      VK_MEMORY_PROPERTY_HOST_CACHED_BIT,
      VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT};
  // Sizes are checked against the heap first: a buffer larger than the memory is the error a
  // user can act on, whatever the largest single allocation is.
  const uint32_t device_type = memory_type(c_, ~0u, device_kind.required, device_kind.preferred);
  const uint32_t heap = c_.memory.memoryTypes[device_type].heapIndex;
  const uint64_t heap_size = c_.memory.memoryHeaps[heap].size;
  Packer device(max_block_), staging(max_block_);
  auto check_size = [&](uint64_t bytes) {
    if (bytes > heap_size)
      fail("out of device memory allocating " + std::to_string(bytes) + " bytes from heap " +
           std::to_string(heap) + " (" + std::to_string(heap_size) + " bytes)");
    if (bytes > max_block_)
      fail("a buffer of " + std::to_string(bytes) +
           " bytes is larger than the device's largest allocation (" + std::to_string(max_block_) +
           " bytes)");
  };
  auto host_region = [&](uint64_t bytes) {
    check_size(bytes);
    HostRegion r{device.place(bytes), std::nullopt};
    if (staged) r.staging = staging.place(bytes);
    return r;
  };
  for (const PlanStep& step : plan_.steps)
    tables_.push_back(host_region(
        plan_.kernels[step.kernel].workgroups ? step.slots.size() * sizeof(uint64_t) : 0));
  for (const ir::HostArray& constant : plan_.constants)
    constants_.push_back(host_region(constant.size_bytes()));
  for (const PlanParam& param : plan_.params)
    params_.push_back(host_region(param.type.size_bytes()));
  for (size_t r = 0; r < plan_.result_types.size(); ++r) {
    const bool own = plan_.result_slots[r] == Slot{Slot::Kind::Result, r, 0};
    results_.push_back(host_region(own ? plan_.result_types[r].size_bytes() : 0));
  }
  check_size(plan_.arena_bytes);
  arena_ = device.place(plan_.arena_bytes);
  blocks_ = allocate(device.sizes(), device_kind);
  staging_ = allocate(staging.sizes(), staging_kind);
}

std::vector<Block> VulkanExecutable::allocate(const std::vector<uint64_t>& sizes,
                                              const MemoryKind& kind) {
  std::vector<Block> blocks;
  for (uint64_t size : sizes)
    blocks.push_back(allocate_block(size, kind));
  return blocks;
}

Block VulkanExecutable::allocate_block(uint64_t bytes, const MemoryKind& kind) {
  Block block;
  VkBufferCreateInfo info = vk::make<VkBufferCreateInfo>(VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO);
  info.size = bytes;
  info.usage = kind.usage ? kind.usage
                          : VK_BUFFER_USAGE_SHADER_DEVICE_ADDRESS_BIT |
                                VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  KILN_VK_CHECK(vkCreateBuffer(device_, &info, nullptr, &buffer));
  block.buffer = vk::Buffer(device_, buffer);
  VkMemoryRequirements needs;
  vkGetBufferMemoryRequirements(device_, buffer, &needs);
  const uint32_t type = memory_type(c_, needs.memoryTypeBits, kind.required, kind.preferred);
  const uint32_t heap = c_.memory.memoryTypes[type].heapIndex;
  VkMemoryAllocateFlagsInfo flags =
      vk::make<VkMemoryAllocateFlagsInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_FLAGS_INFO);
  flags.flags = VK_MEMORY_ALLOCATE_DEVICE_ADDRESS_BIT;
  VkMemoryAllocateInfo allocate =
      vk::make<VkMemoryAllocateInfo>(VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO);
  allocate.pNext = kind.usage ? nullptr : &flags;
  allocate.allocationSize = needs.size;
  allocate.memoryTypeIndex = type;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  const VkResult result = vkAllocateMemory(device_, &allocate, nullptr, &memory);
  if (result == VK_ERROR_OUT_OF_DEVICE_MEMORY || result == VK_ERROR_OUT_OF_HOST_MEMORY)
    fail("out of device memory allocating " + std::to_string(needs.size) + " bytes from heap " +
         std::to_string(heap) + " (" + std::to_string(c_.memory.memoryHeaps[heap].size) +
         " bytes)");
  KILN_VK_CHECK(result);
  block.memory = vk::Memory(device_, memory);
  KILN_VK_CHECK(vkBindBufferMemory(device_, buffer, memory, 0));
  if (c_.memory.memoryTypes[type].propertyFlags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) {
    void* mapped = nullptr;
    KILN_VK_CHECK(vkMapMemory(device_, memory, 0, VK_WHOLE_SIZE, 0, &mapped));
    block.mapped = static_cast<std::byte*>(mapped);
  }
  if (!kind.usage) {
    VkBufferDeviceAddressInfo address =
        vk::make<VkBufferDeviceAddressInfo>(VK_STRUCTURE_TYPE_BUFFER_DEVICE_ADDRESS_INFO);
    address.buffer = buffer;
    block.address = vkGetBufferDeviceAddress(device_, &address);
  }
  return block;
}

std::byte* VulkanExecutable::host(const HostRegion& r) const {
  if (r.staging) return staging_[r.staging->block].mapped + r.staging->offset;
  assert(r.device && blocks_[r.device->block].mapped);
  return blocks_[r.device->block].mapped + r.device->offset;
}

// Where a slot's bytes are (nullopt for none).
std::optional<Place> VulkanExecutable::locate(const Slot& slot) const {
  if (slot.bytes == 0) return std::nullopt;
  switch (slot.kind) {
    case Slot::Kind::Param:
      return params_[slot.index].device;
    case Slot::Kind::Result:
      return results_[slot.index].device;
    case Slot::Kind::Constant:
      return constants_[slot.index].device;
    case Slot::Kind::Arena:
      return Place{arena_->block, arena_->offset + slot.index, slot.bytes};
  }
  return std::nullopt;
}

// Every address is fixed at load, so the tables are written once; constants too. With staging
// both go through the staging mirror in one submission now.
void VulkanExecutable::write_tables_and_constants() {
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    if (!tables_[s].device) continue;
    std::byte* table = host(tables_[s]);
    for (const Slot& slot : plan_.steps[s].slots) {
      const uint64_t a = address(slot);
      std::memcpy(table, &a, sizeof a);
      table += sizeof a;
    }
  }
  for (size_t i = 0; i < constants_.size(); ++i)
    if (constants_[i].device)
      std::memcpy(host(constants_[i]), plan_.constants[i].data(), plan_.constants[i].size_bytes());
  if (staging_.empty()) return;
  CommandBuffer upload(c_);
  {
    std::lock_guard lock(c_.pool_mutex);
    VkCommandBufferBeginInfo begin =
        vk::make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    KILN_VK_CHECK(vkBeginCommandBuffer(upload.get(), &begin));
    for (const std::vector<HostRegion>* regions : {&tables_, &constants_})
      for (const HostRegion& r : *regions)
        if (r.device) {
          VkBufferCopy copy{r.staging->offset, r.device->offset, r.device->bytes};
          vkCmdCopyBuffer(upload.get(), staging_[r.staging->block].buffer.get(),
                          blocks_[r.device->block].buffer.get(), 1, &copy);
        }
    KILN_VK_CHECK(vkEndCommandBuffer(upload.get()));
  }
  VkCommandBuffer handle = upload.get();
  VkSubmitInfo submit = vk::make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &handle;
  std::lock_guard lock(c_.queue_mutex);
  KILN_VK_CHECK(vkQueueSubmit(c_.queue, 1, &submit, VK_NULL_HANDLE));
  // Load time only: waiting for the whole queue is simpler than a semaphore, and each run's
  // submission comes after this one in queue order anyway.
  KILN_VK_CHECK(vkQueueWaitIdle(c_.queue));
}

// One descriptor set per step, written once: every buffer's place is fixed at load.
void VulkanExecutable::write_descriptor_sets() {
  uint32_t descriptors = 0;
  for (const PlanStep& step : plan_.steps)
    descriptors += static_cast<uint32_t>(kernels_[step.kernel].bindings.size());
  if (descriptors == 0) return;
  VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, descriptors};
  VkDescriptorPoolCreateInfo pool_info =
      vk::make<VkDescriptorPoolCreateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO);
  pool_info.maxSets = static_cast<uint32_t>(plan_.steps.size());
  pool_info.poolSizeCount = 1;
  pool_info.pPoolSizes = &size;
  VkDescriptorPool pool = VK_NULL_HANDLE;
  KILN_VK_CHECK(vkCreateDescriptorPool(device_, &pool_info, nullptr, &pool));
  descriptor_pool_ = vk::DescriptorPool(device_, pool);
  descriptor_sets_.assign(plan_.steps.size(), VK_NULL_HANDLE);
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const PlanStep& step = plan_.steps[s];
    const Kernel& kernel = kernels_[step.kernel];
    if (kernel.bindings.empty()) continue;
    VkDescriptorSetLayout layout = kernel.set_layout.get();
    VkDescriptorSetAllocateInfo allocate =
        vk::make<VkDescriptorSetAllocateInfo>(VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO);
    allocate.descriptorPool = pool;
    allocate.descriptorSetCount = 1;
    allocate.pSetLayouts = &layout;
    KILN_VK_CHECK(vkAllocateDescriptorSets(device_, &allocate, &descriptor_sets_[s]));
    std::vector<VkDescriptorBufferInfo> infos;
    infos.reserve(kernel.bindings.size());
    std::vector<VkWriteDescriptorSet> writes;
    for (uint32_t binding : kernel.bindings) {
      const std::optional<Place> p = locate(step.slots[binding]);
      assert(p && "a descriptor-bound buffer without memory");
      infos.push_back({blocks_[p->block].buffer.get(), p->offset, p->bytes});
      VkWriteDescriptorSet write =
          vk::make<VkWriteDescriptorSet>(VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET);
      write.dstSet = descriptor_sets_[s];
      write.dstBinding = binding;
      write.descriptorCount = 1;
      write.descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
      write.pBufferInfo = &infos.back();
      writes.push_back(write);
    }
    vkUpdateDescriptorSets(device_, static_cast<uint32_t>(writes.size()), writes.data(), 0,
                           nullptr);
  }
}

void barrier(VkCommandBuffer cb, VkPipelineStageFlags from, VkAccessFlags written,
             VkPipelineStageFlags to, VkAccessFlags accessed) {
  VkMemoryBarrier b = vk::make<VkMemoryBarrier>(VK_STRUCTURE_TYPE_MEMORY_BARRIER);
  b.srcAccessMask = written;
  b.dstAccessMask = accessed;
  vkCmdPipelineBarrier(cb, from, to, 0, 1, &b, 0, nullptr, 0, nullptr);
}

// A byte range one step reads or writes.
struct Access {
  uint32_t block;
  uint64_t begin, end;
  bool write;
  bool conflicts(const Access& o) const {
    return (write || o.write) && block == o.block && begin < o.end && o.begin < end;
  }
};

void VulkanExecutable::record() {
  commands_.emplace(c_);
  VkCommandBuffer cb = commands_->get();
  std::lock_guard lock(c_.pool_mutex);
  VkCommandBufferBeginInfo begin =
      vk::make<VkCommandBufferBeginInfo>(VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO);
  KILN_VK_CHECK(vkBeginCommandBuffer(cb, &begin));
  if (timestamps_) {
    vkCmdResetQueryPool(cb, timestamps_.get(), 0, 2);
    vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, timestamps_.get(), 0);
  }
  auto copy = [&](const HostRegion& r, bool in) {
    if (!r.device || !r.staging) return;
    VkBuffer staging = staging_[r.staging->block].buffer.get();
    VkBuffer device = blocks_[r.device->block].buffer.get();
    VkBufferCopy region{in ? r.staging->offset : r.device->offset,
                        in ? r.device->offset : r.staging->offset, r.device->bytes};
    vkCmdCopyBuffer(cb, in ? staging : device, in ? device : staging, 1, &region);
  };
  const bool staged = !staging_.empty();
  if (staged) {
    for (const HostRegion& r : params_)
      copy(r, true);
    barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
            VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
  }
  // A barrier only where a step touches bytes that a step since the last barrier touched, one
  // of the two writing (read after write, write after read, write after write).
  std::vector<Access> pending;
  VkPipeline bound = VK_NULL_HANDLE;
  for (size_t s = 0; s < plan_.steps.size(); ++s) {
    const PlanStep& step = plan_.steps[s];
    const PlanKernel& pk = plan_.kernels[step.kernel];
    if (pk.workgroups == 0) continue;
    std::vector<Access> accesses;
    for (size_t i = 0; i < step.slots.size(); ++i) {
      const Slot& slot = step.slots[i];
      if (const std::optional<Place> p = locate(slot))
        accesses.push_back({p->block, p->offset, p->offset + p->bytes, pk.buffer_written[i] != 0});
    }
    const bool conflict = std::any_of(accesses.begin(), accesses.end(), [&](const Access& a) {
      return std::any_of(pending.begin(), pending.end(),
                         [&](const Access& p) { return a.conflicts(p); });
    });
    if (conflict) {
      barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
              VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
              VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT);
      pending.clear();
    }
    pending.insert(pending.end(), accesses.begin(), accesses.end());
    const Kernel& kernel = kernels_[step.kernel];
    if (kernel.pipeline.get() != bound) {
      bound = kernel.pipeline.get();
      vkCmdBindPipeline(cb, VK_PIPELINE_BIND_POINT_COMPUTE, bound);
    }
    const uint64_t table = device_address(*tables_[s].device);
    vkCmdPushConstants(cb, kernel.layout.get(), VK_SHADER_STAGE_COMPUTE_BIT, 0, sizeof table,
                       &table);
    if (descriptor_sets_.size() > s && descriptor_sets_[s] != VK_NULL_HANDLE)
      vkCmdBindDescriptorSets(cb, VK_PIPELINE_BIND_POINT_COMPUTE, kernel.layout.get(), 0, 1,
                              &descriptor_sets_[s], 0, nullptr);
    vkCmdDispatch(cb, kernel.x, kernel.y, 1);
  }
  if (staged) {
    barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
            VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_READ_BIT);
    for (const HostRegion& r : results_)
      copy(r, false);
    for (uint32_t p : plan_.written_params)
      copy(params_[p], false);
    barrier(cb, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_ACCESS_TRANSFER_WRITE_BIT,
            VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  } else {
    // Kernel writes reach the host's view of the memory only through a dependency to the host.
    barrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_ACCESS_SHADER_WRITE_BIT,
            VK_PIPELINE_STAGE_HOST_BIT, VK_ACCESS_HOST_READ_BIT);
  }
  if (timestamps_)
    vkCmdWriteTimestamp(cb, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, timestamps_.get(), 1);
  KILN_VK_CHECK(vkEndCommandBuffer(cb));
}

void VulkanExecutable::execute(std::span<const void* const> params,
                               std::span<void* const> results) const {
  std::lock_guard run(run_mutex_);
  for (size_t p = 0; p < params_.size(); ++p)
    if (params_[p].device) std::memcpy(host(params_[p]), params[p], params_[p].device->bytes);
  const uint64_t value = timeline_value_ + 1;
  VkTimelineSemaphoreSubmitInfo timeline =
      vk::make<VkTimelineSemaphoreSubmitInfo>(VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO);
  timeline.signalSemaphoreValueCount = 1;
  timeline.pSignalSemaphoreValues = &value;
  VkSemaphore semaphore = timeline_.get();
  VkCommandBuffer cb = commands_->get();
  VkSubmitInfo submit = vk::make<VkSubmitInfo>(VK_STRUCTURE_TYPE_SUBMIT_INFO);
  submit.pNext = &timeline;
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cb;
  submit.signalSemaphoreCount = 1;
  submit.pSignalSemaphores = &semaphore;
  {
    std::lock_guard queue(c_.queue_mutex);
    KILN_VK_CHECK(vkQueueSubmit(c_.queue, 1, &submit, VK_NULL_HANDLE));
  }
  timeline_value_ = value;
  VkSemaphoreWaitInfo wait = vk::make<VkSemaphoreWaitInfo>(VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO);
  wait.semaphoreCount = 1;
  wait.pSemaphores = &semaphore;
  wait.pValues = &value;
  KILN_VK_CHECK(vkWaitSemaphores(device_, &wait, UINT64_MAX));
  for (size_t r = 0; r < results_.size(); ++r)
    if (results_[r].device) std::memcpy(results[r], host(results_[r]), results_[r].device->bytes);
  // Donated parameters the kernels updated go back into the caller's storage, as on the CPU.
  for (uint32_t p : plan_.written_params)
    if (params_[p].device)
      std::memcpy(const_cast<void*>(params[p]), host(params_[p]), params_[p].device->bytes);
  if (timestamps_) {
    uint64_t ticks[2] = {0, 0};
    KILN_VK_CHECK(vkGetQueryPoolResults(device_, timestamps_.get(), 0, 2, sizeof ticks, ticks,
                                        sizeof ticks[0],
                                        VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
    last_gpu_ms_.store(static_cast<double>(ticks[1] - ticks[0]) * c_.caps.timestamp_period_ns *
                       1e-6);
  }
}

}  // namespace

bool is_vulkan_target(std::string_view target) {
  const std::string_view prefix = kVulkanTargetPrefix;
  return target.substr(0, prefix.size()) == prefix &&
         (target.size() == prefix.size() || target[prefix.size()] == ' ');
}

std::unique_ptr<ExecutableBackend> load_vulkan_executable(const Plan& plan) {
  return std::make_unique<VulkanExecutable>(plan);
}

}  // namespace kiln::runtime
