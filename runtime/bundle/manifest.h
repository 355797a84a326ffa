#pragma once
// A bundle's manifest: the JSON section that says what every other section means
// (runtime/bundle/FORMAT.md). Written by `kiln compile`, read and checked by the runtime before
// anything it names is used.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ir/type.h"

namespace kiln::runtime::bundle {

// Bumped whenever the manifest's meaning changes in a way an older runtime would misread.
inline constexpr uint32_t kManifestVersion = 1;

struct TensorDesc {
  std::string name;
  ir::TensorType type;
};

// A parameter of the compiled function that the bundle supplies from its weights.
struct BoundWeight {
  uint32_t param = 0;   // position among the plan's parameters
  uint32_t weight = 0;  // into Manifest::weights
};

struct Variant {
  std::string target;  // a CPU target's name ("x86-64-v3", "host") or "vulkan"
  uint32_t plan_section = 0;
};

struct FunctionInfo {
  std::string name;
  // How it was made: "f" (compiled as written) or the `--entry` form ("grad:f:wrt=0").
  std::string origin;
  std::vector<TensorDesc> params;  // what callers pass, in order (bound weights left out)
  std::vector<TensorDesc> results;
  std::vector<BoundWeight> bound;
  uint32_t ir_section = 0;  // the function as compiled (.kir), after its transform
  std::vector<Variant> variants;
};

struct CpuTargetInfo {
  std::string name;                      // "x86-64-v3", "host"
  std::string description;               // "triple cpu +f1,+f2,...": what the code needs
  std::optional<uint32_t> code_section;  // none when no function has a kernel
};

struct WeightInfo {
  std::string name;
  ir::TensorType type;
  uint64_t offset = 0;  // into the weights section, 64-byte aligned
};

struct Manifest {
  uint32_t manifest_version = kManifestVersion;
  std::string kiln_version;
  uint32_t kernel_imports_version = 0;
  uint32_t vulkan_abi_version = 0;
  std::string vulkan_profile;        // empty: no Vulkan code
  std::vector<std::string> options;  // the compile options that shaped the code, for provenance
  uint32_t source_ir_section = 0;
  std::optional<uint32_t> weights_section;
  std::vector<CpuTargetInfo> cpu_targets;
  std::vector<FunctionInfo> functions;
  std::vector<WeightInfo> weights;
};

std::string write_manifest(const Manifest& manifest);  // JSON, keys sorted, no whitespace noise
// Throws BundleError (Corrupt) "[bundle] <where>: manifest: ..." naming the field that breaks
// the schema; section numbers are checked against the container by the caller.
Manifest read_manifest(std::span<const std::byte> json, std::string_view where);

}  // namespace kiln::runtime::bundle
