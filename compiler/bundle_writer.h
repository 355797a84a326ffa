#pragma once
// Writes ahead-of-time bundles (`.kbundle`, runtime/bundle/FORMAT.md): every function compiled
// for every target through the one compile pipeline (compiler/pipeline.h), the CPU kernels of
// each target linked into one shared object (compiler/shared_object_linker.h), Vulkan plans for
// kiln's portable profile, the IR, the bound weights, a manifest, and optionally a signature.
//
// The output depends only on the spec: compiling the same input twice gives the same bytes
// (deterministic symbols, no timestamps or compile times, sorted JSON, a deterministic link
// and deterministic Ed25519 signatures).

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ir/array.h"
#include "ir/function.h"
#include "runtime/bundle/container.h"

namespace kiln::compiler {

struct BundleFunctionSpec {
  ir::Function function;  // flat (no calls); its name is the name callers find it by
  std::string origin;     // "f", or the --entry form it was made from ("grad:f:wrt=0")
};

struct BundleWeight {
  std::string param;  // every function's parameter of this name takes it
  ir::HostArray value;
  std::string source;  // for messages: the file it came from
};

struct BundleSpec {
  std::string source_kir;  // the module the functions came from, as .kir
  std::vector<BundleFunctionSpec> functions;
  // CPU targets ("host", "x86-64-v3", ...: codegen/cpu/target.h) and "vulkan".
  std::vector<std::string> targets = {"x86-64-v3", "x86-64-v4"};
  std::vector<BundleWeight> weights;
  bool fuse = true;
  std::optional<runtime::bundle::SecretKey> signing_key;
  std::vector<std::string> options_text;  // recorded in the manifest, for provenance
};

// Throws kiln::Error "[compile] ..." for a spec that cannot be compiled (unknown target, a
// weight no function takes or of the wrong type, ...), and the pipeline's own errors.
std::vector<std::byte> write_bundle(const BundleSpec& spec);

}  // namespace kiln::compiler
