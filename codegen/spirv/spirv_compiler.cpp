#include "codegen/spirv/spirv_compiler.h"

#include <cstdlib>
#include <string_view>

#include <spirv-tools/libspirv.hpp>
#include <spirv-tools/optimizer.hpp>

#include "codegen/spirv/emitter.h"
#include "ir/error.h"

namespace kiln::codegen::spirv {

namespace {

constexpr spv_target_env kEnvironment = SPV_ENV_VULKAN_1_3;

bool optimizer_enabled() {
  const char* value = std::getenv("KILN_SPIRV_OPT");
  return value && std::string_view(value) == "1";
}

}  // namespace

std::string validate(std::span<const uint32_t> words) {
  spvtools::SpirvTools tools(kEnvironment);
  std::string messages;
  tools.SetMessageConsumer(
      [&](spv_message_level_t, const char*, const spv_position_t& position, const char* message) {
        if (!messages.empty()) messages += "; ";
        messages += "word " + std::to_string(position.index) + ": " + message;
      });
  spvtools::ValidatorOptions options;
  options.SetScalarBlockLayout(true);
  if (tools.Validate(words.data(), words.size(), options)) return "";
  return messages.empty() ? "invalid module" : messages;
}

std::string disassemble(std::span<const uint32_t> words) {
  spvtools::SpirvTools tools(kEnvironment);
  std::string text;
  if (!tools.Disassemble(
          words.data(), words.size(), &text,
          SPV_BINARY_TO_TEXT_OPTION_FRIENDLY_NAMES | SPV_BINARY_TO_TEXT_OPTION_INDENT))
    return "; (the module does not disassemble)\n";
  return text;
}

SpirvKernel compile_kernel(const Kernel& kernel, const SpirvTarget& target,
                           const std::string& entry) {
  SpirvKernel out;
  out.entry = entry;
  out.dispatch = plan_dispatch(kernel, target);
  out.words = emit_module(kernel, target, out.dispatch, entry);
  if (std::string problem = validate(out.words); !problem.empty())
    throw Error("[vulkan] internal error: the SPIR-V for kernel " + kernel.name +
                " is invalid: " + problem);
  if (optimizer_enabled()) {
    spvtools::Optimizer optimizer(kEnvironment);
    optimizer.RegisterPerformancePasses();
    std::vector<uint32_t> optimized;
    spvtools::ValidatorOptions options;
    options.SetScalarBlockLayout(true);
    spvtools::OptimizerOptions optimizer_options;
    optimizer_options.set_validator_options(options);
    if (optimizer.Run(out.words.data(), out.words.size(), &optimized, optimizer_options) &&
        validate(optimized).empty())
      out.words = std::move(optimized);
  }
  return out;
}

}  // namespace kiln::codegen::spirv
