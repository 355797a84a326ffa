// Host detection, the optimization pipeline and code generation.

#include "codegen/cpu/target.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include "codegen/cpu/scalar_ops.h"
#include "ir/error.h"

namespace kiln::codegen::cpu {

namespace {

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
}

HostInfo detect_host() {
  initialize_llvm();
  HostInfo info;
  info.triple = llvm::sys::getProcessTriple();
  info.cpu = llvm::sys::getHostCPUName().str();
  llvm::StringMap<bool> features;
  llvm::sys::getHostCPUFeatures(features);
  std::vector<std::string> all, enabled;
  for (const auto& f : features) {
    all.push_back((f.second ? "+" : "-") + f.first().str());
    if (f.second) enabled.push_back("+" + f.first().str());
  }
  std::sort(all.begin(), all.end());
  std::sort(enabled.begin(), enabled.end());
  auto join = [](const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts)
      out += (out.empty() ? "" : ",") + p;
    return out;
  };
  info.features = join(all);
  info.description = info.triple + " " + info.cpu + " " + join(enabled);
  info.attrs.cpu = info.cpu;
  info.attrs.features = info.features;
  // LLVM keeps to 256-bit vectors by default even where AVX-512 exists; kernels are long
  // streaming loops, where the wider registers pay.
  auto avx512 = features.find("avx512f");
  info.attrs.prefer_vector_width = avx512 != features.end() && avx512->second ? 512 : 256;
  return info;
}

constexpr const char* kKernelPipeline =
    "always-inline,function(sroa,early-cse,instcombine,simplifycfg,loop-mssa(licm),"
    "loop(loop-rotate,indvars),loop-vectorize,early-cse,instcombine,simplifycfg)";

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

}  // namespace

const HostInfo& host_info() {
  static const HostInfo info = detect_host();
  return info;
}

llvm::TargetMachine& thread_target_machine() {
  thread_local std::unique_ptr<llvm::TargetMachine> tm = [] {
    const HostInfo& host = host_info();
    std::string error;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(host.triple, error);
    if (!target) throw Error("[codegen] no LLVM target for " + host.triple + ": " + error);
    llvm::TargetOptions options;
    return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
        host.triple, host.cpu, host.features, options, llvm::Reloc::PIC_, llvm::CodeModel::Small,
        llvm::CodeGenOpt::Aggressive));
  }();
  return *tm;
}

void optimize_module(llvm::Module& module, llvm::TargetMachine& tm) {
  module.setTargetTriple(tm.getTargetTriple().str());
  module.setDataLayout(tm.createDataLayout());
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  llvm::PipelineTuningOptions tuning;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning);
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  // Kernels are a few loop nests without calls, so most of O3 (inlining heuristics, IPO,
  // unswitching, unrolling) finds nothing; this short pipeline gives the same vector loops in
  // about a fifth of the time. It is fixed (no environment knob), so the same kernel always
  // compiles to the same code, which the kernel cache relies on.
  llvm::ModulePassManager mpm;
  if (auto error = pb.parsePassPipeline(mpm, kKernelPipeline))
    throw Error("[codegen] bad pass pipeline: " + message(std::move(error)));
  mpm.run(module, mam);
}

std::vector<char> emit_file(llvm::Module& module, llvm::TargetMachine& tm, FileKind kind) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  const auto type = kind == FileKind::Object ? llvm::CGFT_ObjectFile : llvm::CGFT_AssemblyFile;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    throw Error("[codegen] the target cannot emit this file type");
  pm.run(module);
  return std::vector<char>(buffer.begin(), buffer.end());
}

}  // namespace kiln::codegen::cpu
