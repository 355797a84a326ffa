#include "runtime/bundle/bundle.h"

#include <algorithm>
#include <cstring>
#include <map>

#include "ir/error.h"
#include "ir/file_io.h"
#include "ir/scratch.h"
#include "runtime/kernel_abi.h"
#include "runtime/kernel_imports.h"
#include "runtime/kernel_loader.h"
#include "runtime/plan.h"
#include "runtime/shared_object.h"
#include "runtime/thread_pool.h"
#include "runtime/vulkan/vulkan_abi.h"
#include "runtime/vulkan/vulkan_context.h"

namespace kiln::runtime::bundle {

namespace {

using Kind = BundleError::Kind;

// Bundles past this size are refused before a byte is read: weights beyond it belong in a
// file of their own, which this format does not have yet.
constexpr uint64_t kMaxBundleBytes = uint64_t{64} << 30;

// Whether this machine runs code for an x86-64 level, as the C library's CPU detection (which
// also checks that the OS saves the wider registers) says.
std::optional<bool> cpu_supports_level(std::string_view level) {
  __builtin_cpu_init();
  if (level == "x86-64-v2") return __builtin_cpu_supports("x86-64-v2") != 0;
  if (level == "x86-64-v3") return __builtin_cpu_supports("x86-64-v3") != 0;
  if (level == "x86-64-v4") return __builtin_cpu_supports("x86-64-v4") != 0;
  return std::nullopt;
}

int target_rank(std::string_view name) {
  if (name == "host") return 4;  // this machine's exact code, where it matches
  if (name == "x86-64-v4") return 3;
  if (name == "x86-64-v3") return 2;
  if (name == "x86-64-v2") return 1;
  return 0;
}

// The bundle's sections by table index, and the manifest, checked against each other.
struct Parsed {
  Container container;
  Manifest manifest;
  std::map<uint32_t, const Section*> by_index;
  std::string where;

  [[noreturn]] void corrupt(const std::string& rule) const {
    throw BundleError(Kind::Corrupt, "[bundle] " + where + ": " + rule);
  }
  const Section& section(uint32_t index, SectionKind kind, const std::string& who) const {
    auto it = by_index.find(index);
    if (it == by_index.end() || it->second->kind != static_cast<uint32_t>(kind))
      corrupt(who + " names section " + std::to_string(index) + ", which is not a " +
              std::string(section_kind_name(static_cast<uint32_t>(kind))) + " section");
    return *it->second;
  }
};

void check_signature(const Parsed& p, const std::vector<PublicKey>& trusted, bool required);

// The container, then (once the signature policy holds, so that no untrusted JSON is parsed
// where a signature is required) the manifest and its references.
Parsed parse(std::span<const std::byte> bytes, std::string_view where,
             const std::vector<PublicKey>& trusted, bool required) {
  Parsed p;
  p.where = std::string(where);
  p.container = read_container(bytes, where);
  check_signature(p, trusted, required);
  for (const Section& s : p.container.sections)
    p.by_index[s.index] = &s;
  const Section* manifest = nullptr;
  for (const Section& s : p.container.sections)
    if (s.kind == static_cast<uint32_t>(SectionKind::Manifest)) {
      if (manifest) p.corrupt("more than one manifest section");
      manifest = &s;
    }
  if (!manifest) p.corrupt("no manifest section");
  p.manifest = read_manifest(manifest->bytes, where);
  const Manifest& m = p.manifest;
  if (m.kernel_imports_version != kKernelImportsVersion)
    throw BundleError(Kind::Version, "[bundle] " + p.where + ": compiled by kiln " +
                                         m.kiln_version + " against kernel imports version " +
                                         std::to_string(m.kernel_imports_version) +
                                         ", this runtime provides version " +
                                         std::to_string(kKernelImportsVersion) + kRebuildAdvice);
  p.section(m.source_ir_section, SectionKind::Ir, "the manifest's source_ir_section");
  if (m.weights_section) {
    const Section& w = p.section(*m.weights_section, SectionKind::Weights, "weights_section");
    // Kernels assume 64-byte-aligned buffers; the file's bytes are, so the section must be.
    if (w.alignment < 64) p.corrupt("the weights section is aligned to less than 64 bytes");
    for (size_t i = 0; i < m.weights.size(); ++i) {
      const uint64_t size = m.weights[i].type.size_bytes();
      if (m.weights[i].offset > w.bytes.size() || size > w.bytes.size() - m.weights[i].offset)
        p.corrupt("weight '" + m.weights[i].name + "' lies outside the weights section");
    }
  } else if (!m.weights.empty()) {
    p.corrupt("the manifest lists weights but no weights section");
  }
  for (const CpuTargetInfo& t : m.cpu_targets)
    if (t.code_section) p.section(*t.code_section, SectionKind::Code, "CPU target " + t.name);
  for (const FunctionInfo& f : m.functions) {
    p.section(f.ir_section, SectionKind::Ir, "@" + f.name);
    for (const Variant& v : f.variants) {
      p.section(v.plan_section, SectionKind::Plan, "@" + f.name + " for " + v.target);
      const bool known = v.target == "vulkan" ||
                         std::any_of(m.cpu_targets.begin(), m.cpu_targets.end(),
                                     [&](const CpuTargetInfo& t) { return t.name == v.target; });
      if (!known)
        p.corrupt("@" + f.name + " has code for target '" + v.target +
                  "', which the manifest does not list");
    }
    // Every function has code for every target the bundle lists, once.
    std::vector<std::string> targets;
    for (const CpuTargetInfo& t : m.cpu_targets)
      targets.push_back(t.name);
    if (!m.vulkan_profile.empty()) targets.push_back("vulkan");
    for (const std::string& t : targets) {
      const auto n = std::count_if(f.variants.begin(), f.variants.end(),
                                   [&](const Variant& v) { return v.target == t; });
      if (n != 1)
        p.corrupt("@" + f.name + " has " + std::to_string(n) + " variants for target " + t +
                  " (one expected)");
    }
    if (f.variants.size() != targets.size())
      p.corrupt("@" + f.name + " has variants for targets the manifest does not list");
  }
  return p;
}

void check_signature(const Parsed& p, const std::vector<PublicKey>& trusted, bool required) {
  const SignatureInfo& s = p.container.signature;
  auto fail = [&](const std::string& rule) {
    throw BundleError(Kind::Signature, "[bundle] " + p.where + ": " + rule);
  };
  if (s.present && !s.valid)
    fail("its signature does not verify (the bundle was changed after it was signed)");
  if (trusted.empty() && !required) return;
  if (!s.present) fail("it is not signed, and this runtime requires a signature");
  // Without pinned keys, a required signature only has to verify (it proves integrity, not
  // who signed); with them, it must be by one of them.
  if (!trusted.empty() && std::find(trusted.begin(), trusted.end(), s.key) == trusted.end())
    fail("it is signed by key " + hex(s.key) + ", which is not among the trusted keys");
}

// The variant's plan, checked against the manifest's signature for the function.
Plan read_variant_plan(const Parsed& p, const FunctionInfo& f, const Variant& v) {
  const std::string who = "@" + f.name + " for " + v.target;
  const std::span<const std::byte> bytes = p.section(v.plan_section, SectionKind::Plan, who).bytes;
  // Another plan format is a version refusal, not damage (the plan format's version is the
  // u32 after its 8-byte magic).
  if (bytes.size() >= 12 && std::memcmp(bytes.data(), "KILNPLAN", 8) == 0) {
    uint32_t version = 0;
    std::memcpy(&version, bytes.data() + 8, sizeof version);
    if (version != kPlanFormatVersion)
      throw BundleError(Kind::Version, "[bundle] " + p.where + ": " + who + ": plan format " +
                                           std::to_string(version) +
                                           ", this runtime reads format " +
                                           std::to_string(kPlanFormatVersion) + kRebuildAdvice);
  }
  Plan plan;
  try {
    plan = load_plan(bytes, p.where);
  } catch (const BundleError&) {
    throw;
  } catch (const Error& e) {
    p.corrupt(who + ": " + e.what());
  }
  if (plan.imports_version != p.manifest.kernel_imports_version)
    p.corrupt(who + ": the plan's kernel imports version differs from the manifest's");
  // Bundle plans never update their arguments in place: callers' inputs are read only, and
  // bound weights are shared by every call.
  if (!plan.written_params.empty()) p.corrupt(who + ": the plan writes its parameters");
  if (plan.params.size() != f.params.size() + f.bound.size())
    p.corrupt(who + ": the plan's parameters do not match the manifest's");
  size_t next_public = 0, next_bound = 0;
  for (size_t i = 0; i < plan.params.size(); ++i) {
    const bool bound = next_bound < f.bound.size() && f.bound[next_bound].param == i;
    const ir::TensorType& expected = bound ? p.manifest.weights[f.bound[next_bound++].weight].type
                                           : f.params[next_public++].type;
    if (plan.params[i].type != expected)
      p.corrupt(who + ": plan parameter " + std::to_string(i) + " is " + plan.params[i].type.str() +
                ", the manifest says " + expected.str());
  }
  if (next_bound != f.bound.size()) p.corrupt(who + ": a bound weight names a missing parameter");
  if (plan.result_types.size() != f.results.size())
    p.corrupt(who + ": the plan's results do not match the manifest's");
  for (size_t i = 0; i < f.results.size(); ++i)
    if (plan.result_types[i] != f.results[i].type)
      p.corrupt(who + ": result " + std::to_string(i) + " is " + plan.result_types[i].str() +
                ", the manifest says " + f.results[i].type.str());
  if (v.target == "vulkan") {
    if (plan.target != vulkan_plan_target(kVulkanPortableProfile))
      p.corrupt(who + ": a Vulkan plan for '" + plan.target + "', not kiln's portable profile");
    for (const PlanKernel& k : plan.kernels) {
      uint32_t magic = 0;
      if (k.object.size() >= 4) std::memcpy(&magic, k.object.data(), sizeof magic);
      if (k.object.size() % 4 != 0 || magic != 0x07230203u)
        p.corrupt(who + ": kernel " + k.name + " is not a SPIR-V module");
    }
    return plan;
  }
  for (const CpuTargetInfo& t : p.manifest.cpu_targets)
    if (t.name == v.target && t.description != plan.target)
      p.corrupt(who + ": the plan was compiled for '" + plan.target + "', the target says '" +
                t.description + "'");
  for (const PlanKernel& k : plan.kernels)
    if (!k.object.empty()) p.corrupt(who + ": a CPU plan carries code of its own");
  return plan;
}

// A bundle's CPU kernels: symbols of its one shared object.
class SharedObjectKernels final : public KernelLoader {
 public:
  explicit SharedObjectKernels(std::shared_ptr<const LoadedSharedObject> code)
      : code_(std::move(code)) {}
  void check_target(std::string_view plan_name, std::string_view target) const override {
    host_kernel_loader().check_target(plan_name, target);
  }
  LoadedKernel load(const PlanKernel& kernel) override {
    void* entry = code_ ? code_->find(kernel.symbol) : nullptr;
    if (!entry)
      throw Error("[loader] kernel " + kernel.name + ": the bundle's code does not define " +
                  kernel.symbol);
    return {code_, reinterpret_cast<KernelEntry>(entry)};
  }

 private:
  std::shared_ptr<const LoadedSharedObject> code_;
};

std::string missing_list(const std::vector<std::string>& missing) {
  std::string out;
  for (const std::string& m : missing)
    out += (out.empty() ? "" : ", ") + m;
  return out;
}

}  // namespace

std::vector<TargetChoice> rank_cpu_targets(const Manifest& manifest) {
  std::vector<TargetChoice> out;
  for (const CpuTargetInfo& t : manifest.cpu_targets) {
    TargetChoice c{t.name, {}};
    if (!t.description.starts_with("x86_64")) {
      c.missing.push_back("an " + t.description.substr(0, t.description.find(' ')) + " CPU");
    } else {
      c.missing = missing_cpu_features(t.description);
      if (std::optional<bool> level = cpu_supports_level(t.name);
          level && !*level && c.missing.empty())
        c.missing.push_back("the " + t.name + " level (its OS support)");
      if (target_rank(t.name) == 0) c.missing.push_back("a target this runtime does not know");
    }
    out.push_back(std::move(c));
  }
  std::stable_sort(out.begin(), out.end(), [](const TargetChoice& a, const TargetChoice& b) {
    if (a.missing.empty() != b.missing.empty()) return a.missing.empty();
    return target_rank(a.name) > target_rank(b.name);
  });
  return out;
}

struct Bundle::State {
  ir::Storage file;  // the bundle's bytes, 64-byte aligned; weights point into it
  std::span<const std::byte> bytes;
  Parsed parsed;
  std::string target;
  std::unique_ptr<SharedObjectKernels> loader;
  std::unique_ptr<Context> context;
  std::vector<BundleFunction> functions;
};

Bundle Bundle::open_file(const std::filesystem::path& path, const BundleOptions& options) {
  ir::Storage file;
  size_t size = 0;
  try {
    ir::InputFile input(path, "[bundle] " + path.string());
    if (!input.size()) input.fail("a bundle must be a regular file");
    if (*input.size() > kMaxBundleBytes) input.fail("larger than 64 GiB");
    size = static_cast<size_t>(*input.size());
    file = ir::allocate_storage(std::max<size_t>(size, 1));
    if (input.read(file->data(), size) != size) input.fail("the file shrank while it was read");
  } catch (const BundleError&) {
    throw;
  } catch (const Error& e) {
    throw BundleError(Kind::Io, e.what());
  }
  return open_bytes(std::move(file), size, options, path.string());
}

Bundle Bundle::open_memory(std::span<const std::byte> bytes, const BundleOptions& options,
                           std::string_view where) {
  ir::Storage file = ir::allocate_storage(std::max<size_t>(bytes.size(), 1));
  if (!bytes.empty()) std::memcpy(file->data(), bytes.data(), bytes.size());
  return open_bytes(std::move(file), bytes.size(), options, where);
}

Bundle Bundle::open_bytes(ir::Storage file, size_t size, const BundleOptions& options,
                          std::string_view where) {
  auto state = std::make_shared<Bundle::State>();
  state->file = std::move(file);
  state->bytes = {state->file->bytes(), size};
  state->parsed = parse(state->bytes, where, options.trusted_keys, options.require_signature);
  Parsed& p = state->parsed;
  const Manifest& m = p.manifest;

  std::vector<const void*> weight_data;
  if (m.weights_section) {
    const Section& w = p.section(*m.weights_section, SectionKind::Weights, "weights_section");
    for (const WeightInfo& info : m.weights)
      weight_data.push_back(w.bytes.data() + info.offset);
  }

  const bool vulkan = options.device == BundleOptions::Device::Vulkan;
  std::shared_ptr<const LoadedSharedObject> code;
  if (vulkan) {
    if (m.vulkan_profile.empty())
      throw BundleError(Kind::UnsupportedTarget, "[bundle] " + p.where +
                                                     ": it has no Vulkan code (compile it with "
                                                     "--target ...,vulkan)");
    if (m.vulkan_abi_version != kVulkanAbiVersion)
      throw BundleError(Kind::Version, "[bundle] " + p.where + ": Vulkan ABI version " +
                                           std::to_string(m.vulkan_abi_version) +
                                           ", this runtime provides " +
                                           std::to_string(kVulkanAbiVersion) + kRebuildAdvice);
    state->target = "vulkan";
    // The device: there is one, and it meets the profile the plans were compiled for.
    try {
      const std::vector<std::string> gaps =
          portable_profile_gaps(VulkanContext::instance().capabilities());
      if (!gaps.empty()) {
        std::string list;
        for (const std::string& g : gaps)
          list += (list.empty() ? "" : ", ") + g;
        throw BundleError(Kind::UnsupportedTarget,
                          "[bundle] " + p.where + ": the Vulkan device '" +
                              VulkanContext::instance().capabilities().name +
                              "' does not meet kiln's portable profile: it lacks " + list);
      }
    } catch (const BundleError&) {
      throw;
    } catch (const Error& e) {
      throw BundleError(Kind::UnsupportedTarget, "[bundle] " + p.where + ": " + e.what());
    }
  } else {
    const std::vector<TargetChoice> ranked = rank_cpu_targets(m);
    if (ranked.empty() || !ranked.front().missing.empty()) {
      std::string why;
      for (const TargetChoice& c : ranked)
        why += "; " + c.name + " needs " + missing_list(c.missing);
      throw BundleError(Kind::UnsupportedTarget,
                        "[bundle] " + p.where + ": no CPU code this machine can run" +
                            (ranked.empty() ? std::string(" (it has none)") : why));
    }
    state->target = ranked.front().name;
    for (const CpuTargetInfo& t : m.cpu_targets)
      if (t.name == state->target && t.code_section) {
        const std::string who = p.where + " (code for " + t.name + ")";
        try {
          code = std::make_shared<const LoadedSharedObject>(LoadedSharedObject::load(
              p.section(*t.code_section, SectionKind::Code, t.name).bytes, kernel_imports(), who));
        } catch (const BundleError&) {
          throw;
        } catch (const Error& e) {
          throw BundleError(Kind::Corrupt, e.what());
        }
      }
    state->loader = std::make_unique<SharedObjectKernels>(code);
    state->context = std::make_unique<Context>(
        options.threads ? *options.threads : ThreadPool::instance(), *state->loader);
  }

  for (const FunctionInfo& f : m.functions) {
    auto v = std::find_if(f.variants.begin(), f.variants.end(),
                          [&](const Variant& v) { return v.target == state->target; });
    if (v == f.variants.end())
      throw BundleError(Kind::UnsupportedTarget, "[bundle] " + p.where + ": @" + f.name +
                                                     " has no code for " + state->target);
    Plan plan = read_variant_plan(p, f, *v);
    std::vector<const void*> weights(plan.params.size(), nullptr);
    for (const BoundWeight& b : f.bound)
      weights[b.param] = weight_data[b.weight];
    try {
      Executable exe = vulkan ? Executable::load(std::move(plan))
                              : Executable::load(std::move(plan), *state->context);
      state->functions.push_back(
          BundleFunction(&f, std::move(exe), std::move(weights), state->file));
    } catch (const BundleError&) {
      throw;
    } catch (const Error& e) {
      // The device and the target were checked above: what is left is the plan's own fault,
      // or a device that cannot hold it.
      const std::string message = e.what();
      throw BundleError(message.find("out of device memory") != std::string::npos
                            ? Kind::OutOfMemory
                            : Kind::Corrupt,
                        "[bundle] " + p.where + ": @" + f.name + ": " + message);
    }
  }
  return Bundle(std::move(state));
}

const Manifest& Bundle::manifest() const {
  return state_->parsed.manifest;
}
const Container& Bundle::container() const {
  return state_->parsed.container;
}
const std::string& Bundle::target() const {
  return state_->target;
}
const std::vector<BundleFunction>& Bundle::functions() const {
  return state_->functions;
}

const BundleFunction* Bundle::find(std::string_view name) const {
  for (const BundleFunction& f : state_->functions)
    if (f.name() == name) return &f;
  return nullptr;
}

std::string Bundle::ir_text(uint32_t section) const {
  const Section& s = state_->parsed.section(section, SectionKind::Ir, "an IR request");
  return {reinterpret_cast<const char*>(s.bytes.data()), s.bytes.size()};
}

std::vector<ir::HostArray> BundleFunction::run(std::span<const ir::HostArray> args) const {
  const std::vector<TensorDesc>& params = info_->params;
  if (args.size() != params.size())
    throw BundleError(Kind::Argument, "[runtime] @" + name() + ": expected " +
                                          std::to_string(params.size()) + " argument" +
                                          (params.size() == 1 ? "" : "s") + ", got " +
                                          std::to_string(args.size()));
  for (size_t i = 0; i < args.size(); ++i)
    if (args[i].type() != params[i].type)
      throw BundleError(Kind::Argument, "[runtime] @" + name() + ": argument " + std::to_string(i) +
                                            " (%" + params[i].name + ") has type " +
                                            args[i].type().str() + " but the parameter is " +
                                            params[i].type.str());
  std::vector<ir::HostArray> weights;  // views of the bundle's bytes
  std::vector<const ir::HostArray*> all;
  weights.reserve(weights_.size());
  size_t next = 0;
  const std::vector<PlanParam>& plan_params = executable_.plan().params;
  for (size_t i = 0; i < weights_.size(); ++i) {
    if (!weights_[i]) {
      all.push_back(&args[next++]);
      continue;
    }
    void* data = const_cast<void*>(weights_[i]);
    auto storage = std::make_shared<ir::Buffer>(
        ir::Buffer::external(data, plan_params[i].type.size_bytes(), [file = file_] {}));
    weights.emplace_back(plan_params[i].type, std::move(storage));
    all.push_back(&weights.back());
  }
  return executable_.run(all);
}

void BundleFunction::call_raw(std::span<const void* const> inputs,
                              std::span<void* const> outputs) const {
  ir::Scratch<const void*, 16> params(weights_.size());
  size_t next = 0;
  for (size_t i = 0; i < weights_.size(); ++i)
    params[i] = weights_[i] ? weights_[i] : inputs[next++];
  executable_.run_raw({params.data(), weights_.size()}, outputs);
}

void verify_bundle(std::span<const std::byte> bytes, std::string_view where,
                   const std::vector<PublicKey>& trusted_keys, bool require_signature) {
  // A private aligned copy, as open_memory makes: code is validated on the bytes it would run.
  ir::Storage copy = ir::allocate_storage(std::max<size_t>(bytes.size(), 1));
  if (!bytes.empty()) std::memcpy(copy->data(), bytes.data(), bytes.size());
  const std::span<const std::byte> view(copy->bytes(), bytes.size());
  const Parsed p = parse(view, where, trusted_keys, require_signature);
  const Manifest& m = p.manifest;
  if (!m.vulkan_profile.empty() && m.vulkan_abi_version != kVulkanAbiVersion)
    throw BundleError(Kind::Version, "[bundle] " + p.where + ": Vulkan ABI version " +
                                         std::to_string(m.vulkan_abi_version) +
                                         ", this runtime provides " +
                                         std::to_string(kVulkanAbiVersion) + kRebuildAdvice);
  // Each target's code is checked and mapped (mapping runs none of it), so that every symbol
  // a plan names can be looked up, as opening does.
  std::map<std::string, std::shared_ptr<const LoadedSharedObject>> code;
  for (const CpuTargetInfo& t : m.cpu_targets) {
    if (!t.code_section) continue;
    try {
      code[t.name] = std::make_shared<const LoadedSharedObject>(LoadedSharedObject::load(
          p.section(*t.code_section, SectionKind::Code, t.name).bytes, kernel_imports(),
          std::string(where) + " (code for " + t.name + ")"));
    } catch (const BundleError&) {
      throw;
    } catch (const Error& e) {
      throw BundleError(Kind::Corrupt, e.what());
    }
  }
  for (const FunctionInfo& f : m.functions)
    for (const Variant& v : f.variants) {
      const Plan plan = read_variant_plan(p, f, v);
      if (v.target == "vulkan") continue;
      auto it = code.find(v.target);
      for (const PlanKernel& k : plan.kernels)
        if (it == code.end() || !it->second->find(k.symbol))
          p.corrupt("@" + f.name + " for " + v.target + ": kernel " + k.name + " names " +
                    k.symbol + ", which the target's code does not define");
    }
}

}  // namespace kiln::runtime::bundle
