#pragma once
// The device side of an Executable (runtime/executable.h): what differs between running a plan
// on the host's threads and on a Vulkan device. Argument checks, result allocation and donation
// are Executable's own, written once for every device. Inside the runtime only.

#include <cstdint>
#include <span>

namespace kiln::runtime {

class ExecutableBackend {
 public:
  virtual ~ExecutableBackend() = default;
  // Runs the plan's steps. params[i] holds parameter i (a donated parameter the plan writes is
  // updated there); results[k] receives result k when its slot is its own (Slot{Result, k}),
  // and is left alone otherwise. Each pointer is 64-byte aligned and its tensor's size.
  virtual void execute(std::span<const void* const> params,
                       std::span<void* const> results) const = 0;
  // Host memory one run takes besides its results (the CPU arena), for the memory check.
  virtual uint64_t host_scratch_bytes() const = 0;
  // GPU milliseconds of the latest run, when the device timed it; negative otherwise.
  virtual double last_gpu_ms() const { return -1; }
};

}  // namespace kiln::runtime
