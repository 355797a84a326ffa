#pragma once
// Opening and running an ahead-of-time bundle (`.kbundle`, runtime/bundle/FORMAT.md) with the
// runtime alone: no LLVM, no passes. Opening validates everything before any of the bundle's
// code is mapped: the container (sizes, offsets, digests, signature), the manifest, the
// versions, the target, every plan, and the code object (runtime/shared_object.h); then it
// maps the code of the best CPU target this machine supports (or the Vulkan plans) and makes
// one Executable per function.
//
// Opening a bundle is running code: its checksums catch damage, not tampering. Only a
// signature checked against keys the application pins (BundleOptions::trusted_keys) says who
// made it.

#include <cstddef>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/array.h"
#include "runtime/bundle/container.h"
#include "runtime/bundle/manifest.h"
#include "runtime/context.h"
#include "runtime/executable.h"

namespace kiln::runtime::bundle {

struct BundleOptions {
  enum class Device { Cpu, Vulkan };
  Device device = Device::Cpu;
  // The thread pool CPU code runs on; none: the process's pool (ThreadPool::instance()).
  ThreadPool* threads = nullptr;
  // Signing keys the application trusts. With any, or with require_signature, a bundle must
  // carry a valid signature by one of them.
  std::vector<PublicKey> trusted_keys = {};
  bool require_signature = false;
};

// A function of an open bundle. It, its info and its executable() belong to the Bundle: they
// are valid while the Bundle (or a copy of it) lives, and not after.
class BundleFunction {
 public:
  const std::string& name() const { return info_->name; }
  const FunctionInfo& info() const { return *info_; }
  const std::vector<TensorDesc>& params() const { return info_->params; }
  const std::vector<TensorDesc>& results() const { return info_->results; }
  const Executable& executable() const { return executable_; }

  // Checks the arguments' number and types ("[runtime] @f: argument 1 (%w) ..."), then runs.
  std::vector<ir::HostArray> run(std::span<const ir::HostArray> args) const;
  // No checks: inputs[i] and outputs[k] are 64-byte aligned and exactly their type's size,
  // and outputs overlap no input (the C API checks all of this). Thread-safe.
  void call_raw(std::span<const void* const> inputs, std::span<void* const> outputs) const;

 private:
  friend class Bundle;
  BundleFunction(const FunctionInfo* info, Executable executable, std::vector<const void*> weights,
                 ir::Storage file)
      : info_(info),
        executable_(std::move(executable)),
        weights_(std::move(weights)),
        file_(std::move(file)) {}
  const FunctionInfo* info_;
  Executable executable_;
  std::vector<const void*> weights_;  // per plan parameter: the bound weight, or null
  // The bundle's bytes, which the weights point into: kept alive by any result that shares a
  // weight's storage (a function returning a bound parameter as it is), after the bundle closes.
  ir::Storage file_;
};

class Bundle {
 public:
  // Throws BundleError naming `path` and the rule broken.
  static Bundle open_file(const std::filesystem::path& path, const BundleOptions& options = {});
  // Copies `bytes` first (so nothing can change them after they are checked).
  static Bundle open_memory(std::span<const std::byte> bytes, const BundleOptions& options = {},
                            std::string_view where = "<memory>");

  const Manifest& manifest() const;
  const Container& container() const;
  // The CPU target whose code runs ("x86-64-v4", "host"), or "vulkan".
  const std::string& target() const;
  const std::vector<BundleFunction>& functions() const;
  const BundleFunction* find(std::string_view name) const;  // null if absent
  // A section's bytes by its table index (an IR section, for `kiln bundle extract-ir`).
  std::string ir_text(uint32_t section) const;

 private:
  struct State;
  explicit Bundle(std::shared_ptr<const State> state) : state_(std::move(state)) {}
  static Bundle open_bytes(ir::Storage file, size_t size, const BundleOptions& options,
                           std::string_view where);
  std::shared_ptr<const State> state_;
};

// Why each of the bundle's CPU targets can or cannot run here, best first: used to pick one
// and to explain a refusal ("x86-64-v4: lacks avx512f, avx512bw").
struct TargetChoice {
  std::string name;
  std::vector<std::string> missing;  // empty: runs here
};
std::vector<TargetChoice> rank_cpu_targets(const Manifest& manifest);

// Every check open_file makes, for every target and variant, without running anything (`kiln
// bundle verify`). Throws BundleError.
void verify_bundle(std::span<const std::byte> bytes, std::string_view where,
                   const std::vector<PublicKey>& trusted_keys, bool require_signature);

}  // namespace kiln::runtime::bundle
