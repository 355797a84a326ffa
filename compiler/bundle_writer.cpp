#include "compiler/bundle_writer.h"

#include <algorithm>
#include <map>
#include <set>

#include "codegen/cpu/cpu_compiler.h"
#include "compiler/pipeline.h"
#include "compiler/shared_object_linker.h"
#include "ir/error.h"
#include "ir/printer.h"
#include "runtime/bundle/manifest.h"
#include "runtime/kernel_abi.h"
#include "runtime/plan.h"
#include "runtime/vulkan/vulkan_abi.h"

namespace kiln::compiler {

namespace {

namespace rb = runtime::bundle;

[[noreturn]] void fail(const std::string& message) {
  throw Error("[compile] " + message);
}

std::vector<std::byte> text_bytes(const std::string& text) {
  const auto* data = reinterpret_cast<const std::byte*>(text.data());
  return {data, data + text.size()};
}

// The sections in file order, numbered as they are added, so that the manifest (section 0,
// written last) can name them.
class Sections {
 public:
  Sections() { sections_.push_back({rb::SectionKind::Manifest, rb::kSectionRequired, 64, {}}); }
  uint32_t add(rb::SectionKind kind, std::vector<std::byte> bytes, uint32_t alignment = 64,
               uint32_t flags = rb::kSectionRequired) {
    sections_.push_back({kind, flags, alignment, std::move(bytes)});
    return static_cast<uint32_t>(sections_.size() - 1);
  }
  void set_manifest(const std::string& json) { sections_[0].bytes = text_bytes(json); }
  const std::vector<rb::SectionData>& all() const { return sections_; }

 private:
  std::vector<rb::SectionData> sections_;
};

struct CheckedTargets {
  std::vector<std::string> cpu;
  bool vulkan = false;
};

CheckedTargets check_targets(const std::vector<std::string>& targets) {
  CheckedTargets out;
  if (targets.empty()) fail("--target is empty: give at least one target");
  for (const std::string& t : targets) {
    if (t == "vulkan") {
      out.vulkan = true;
      continue;
    }
    codegen::CpuCompiler::instance().target_description(t);  // refuses unknown targets
    if (std::find(out.cpu.begin(), out.cpu.end(), t) != out.cpu.end())
      fail("--target names " + t + " twice");
    out.cpu.push_back(t);
  }
  return out;
}

// Which parameters of `f` are bound, by plan parameter index, to which weight.
std::vector<rb::BoundWeight> bind_weights(const ir::Function& f, const BundleSpec& spec,
                                          std::vector<bool>& used) {
  std::vector<rb::BoundWeight> bound;
  for (size_t i = 0; i < f.params().size(); ++i) {
    const std::string& name = f.node(f.params()[i]).param_name;
    for (size_t w = 0; w < spec.weights.size(); ++w) {
      if (spec.weights[w].param != name) continue;
      const ir::TensorType& type = f.type(f.params()[i]);
      if (spec.weights[w].value.type() != type)
        fail("--bind " + name + "=" + spec.weights[w].source + ": @" + f.name() + "'s parameter %" +
             name + " is " + type.str() + " but the file holds " +
             spec.weights[w].value.type().str());
      bound.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(w)});
      used[w] = true;
    }
  }
  return bound;
}

// What a plan keeps in a bundle: no compile time (the bytes must not depend on how long a
// compile took) and, for the CPU, no code (it lives in the target's shared object).
std::vector<std::byte> plan_bytes(runtime::Plan plan, bool keep_code) {
  plan.compile_ms = 0;
  if (!keep_code)
    for (runtime::PlanKernel& k : plan.kernels)
      k.object.clear();
  return runtime::save_plan(plan);
}

}  // namespace

std::vector<std::byte> write_bundle(const BundleSpec& spec) {
  const CheckedTargets targets = check_targets(spec.targets);
  if (spec.functions.empty()) fail("nothing to compile");
  Sections sections;
  rb::Manifest m;
  m.kiln_version = KILN_VERSION;
  m.kernel_imports_version = runtime::kKernelImportsVersion;
  m.vulkan_abi_version = runtime::kVulkanAbiVersion;
  if (targets.vulkan) m.vulkan_profile = runtime::kVulkanPortableProfile;
  m.options = spec.options_text;
  m.source_ir_section = sections.add(rb::SectionKind::Ir, text_bytes(spec.source_kir), 1);

  std::set<std::string> names;
  std::vector<bool> weight_used(spec.weights.size(), false);
  for (const BundleFunctionSpec& fs : spec.functions) {
    const ir::Function& f = fs.function;
    if (!names.insert(f.name()).second) fail("two functions are named @" + f.name());
    rb::FunctionInfo info;
    info.name = f.name();
    info.origin = fs.origin;
    info.bound = bind_weights(f, spec, weight_used);
    for (size_t i = 0, b = 0; i < f.params().size(); ++i) {
      if (b < info.bound.size() && info.bound[b].param == i) {
        ++b;
        continue;
      }
      info.params.push_back({f.node(f.params()[i]).param_name, f.type(f.params()[i])});
    }
    for (size_t k = 0; k < f.results().size(); ++k)
      info.results.push_back({"result" + std::to_string(k), f.type(f.results()[k])});
    info.ir_section = sections.add(rb::SectionKind::Ir, text_bytes(ir::print(f)), 1);
    m.functions.push_back(std::move(info));
  }
  for (size_t w = 0; w < spec.weights.size(); ++w)
    if (!weight_used[w])
      fail("--bind " + spec.weights[w].param + "=" + spec.weights[w].source +
           ": no compiled function has a parameter %" + spec.weights[w].param);

  if (!spec.weights.empty()) {
    std::vector<std::byte> weights;
    for (const BundleWeight& w : spec.weights) {
      weights.resize((weights.size() + 63) / 64 * 64);
      m.weights.push_back({w.param, w.value.type(), weights.size()});
      weights.insert(weights.end(), w.value.bytes().begin(), w.value.bytes().end());
    }
    m.weights_section = sections.add(rb::SectionKind::Weights, std::move(weights), 4096);
  }

  for (const std::string& target : targets.cpu) {
    std::map<std::string, std::vector<std::byte>> objects;  // by symbol: sorted, once each
    std::vector<runtime::Plan> plans;
    for (const BundleFunctionSpec& fs : spec.functions) {
      plans.push_back(compile_plan(fs.function, {.fuse = spec.fuse, .cpu_target = target}));
      for (const runtime::PlanKernel& k : plans.back().kernels) {
        auto [it, fresh] = objects.emplace(k.symbol, k.object);
        // Symbols are hashes of the kernels: two different kernels under one name would run
        // the wrong code, so a collision stops the compile rather than pass unnoticed.
        if (!fresh && it->second != k.object)
          fail("two different kernels hash to the symbol " + k.symbol +
               "; change the program slightly and compile again");
      }
    }
    std::vector<LinkInput> inputs;
    for (const auto& [symbol, object] : objects)
      inputs.push_back({symbol, object});
    std::optional<uint32_t> code;  // none when every function only moves its arguments
    if (!inputs.empty())
      code = sections.add(rb::SectionKind::Code, link_shared_object(inputs), 4096);
    m.cpu_targets.push_back(
        {target, codegen::CpuCompiler::instance().target_description(target), code});
    for (size_t i = 0; i < plans.size(); ++i)
      m.functions[i].variants.push_back(
          {target, sections.add(rb::SectionKind::Plan, plan_bytes(std::move(plans[i]), false))});
  }
  if (targets.vulkan)
    for (size_t i = 0; i < spec.functions.size(); ++i) {
      runtime::Plan plan =
          compile_plan(spec.functions[i].function,
                       {.device = Device::Vulkan, .portable = true, .fuse = spec.fuse});
      m.functions[i].variants.push_back(
          {"vulkan", sections.add(rb::SectionKind::Plan, plan_bytes(std::move(plan), true))});
    }

  sections.set_manifest(rb::write_manifest(m));
  std::optional<rb::Signer> signer;
  if (spec.signing_key) signer = rb::Signer{*spec.signing_key};
  return rb::write_container(sections.all(), signer ? &*signer : nullptr);
}

}  // namespace kiln::compiler
