// CpuCompiler: kernel -> module (emitter.h) -> kernel pipeline -> object (target.cpp).

#include "codegen/cpu/cpu_compiler.h"

#include <llvm/Config/llvm-config.h>
#include <llvm/Support/raw_ostream.h>

#include "codegen/cpu/emitter.h"
#include "codegen/cpu/target.h"
#include "runtime/kernel_abi.h"

namespace kiln::codegen {

namespace {

// Builds and optimizes the kernel's module in a context of its own.
struct OptimizedModule {
  std::unique_ptr<llvm::LLVMContext> context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
  llvm::TargetMachine* tm = nullptr;
};

OptimizedModule build(const Kernel& kernel, const std::string& symbol,
                      const cpu::CpuTarget& target = cpu::host_info(),
                      const std::string& extra_features = "") {
  OptimizedModule out;
  out.tm = &cpu::thread_target_machine(target);
  cpu::TargetAttrs attrs = target.attrs;
  if (!extra_features.empty()) attrs.features += "," + extra_features;
  out.module = cpu::emit_kernel(kernel, symbol, attrs, *out.context);
  cpu::optimize_module(*out.module, *out.tm);
  return out;
}

}  // namespace

CpuCompiler& CpuCompiler::instance() {
  static CpuCompiler compiler;
  return compiler;
}

const std::string& CpuCompiler::target_description(std::string_view target) const {
  return cpu::cpu_target(target).description;
}

std::string CpuCompiler::cache_description(std::string_view target) const {
  return "llvm " + llvm_version() + "; codegen " + std::to_string(kCpuCodegenVersion) +
         "; kernel imports " + std::to_string(runtime::kKernelImportsVersion) + "; " +
         target_description(target);
}

std::string CpuCompiler::llvm_version() {
  return LLVM_VERSION_STRING;
}

std::vector<std::byte> CpuCompiler::compile_to_object(const Kernel& kernel,
                                                      const std::string& symbol,
                                                      std::string_view target) {
  OptimizedModule m = build(kernel, symbol, cpu::cpu_target(target));
  const std::vector<char> object = cpu::emit_file(*m.module, *m.tm, cpu::FileKind::Object);
  const auto* bytes = reinterpret_cast<const std::byte*>(object.data());
  return {bytes, bytes + object.size()};
}

std::vector<std::byte> CpuCompiler::compile_to_object_for_testing(const Kernel& kernel,
                                                                  const std::string& symbol,
                                                                  const std::string& features) {
  OptimizedModule m = build(kernel, symbol, cpu::host_info(), features);
  const std::vector<char> object = cpu::emit_file(*m.module, *m.tm, cpu::FileKind::Object);
  const auto* bytes = reinterpret_cast<const std::byte*>(object.data());
  return {bytes, bytes + object.size()};
}

std::string CpuCompiler::emit_llvm_ir(const Kernel& kernel) {
  OptimizedModule m = build(kernel, kernel.name.empty() ? "kernel" : kernel.name);
  std::string text;
  llvm::raw_string_ostream os(text);
  m.module->print(os, nullptr);
  return text;
}

std::string CpuCompiler::emit_asm(const Kernel& kernel) {
  OptimizedModule m = build(kernel, kernel.name.empty() ? "kernel" : kernel.name);
  const std::vector<char> text = cpu::emit_file(*m.module, *m.tm, cpu::FileKind::Assembly);
  return std::string(text.begin(), text.end());
}

}  // namespace kiln::codegen
