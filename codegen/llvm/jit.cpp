// Host detection, the optimization pipeline, code generation and the LLJIT.

#include "codegen/llvm/jit.h"

#include <algorithm>
#include <cstdlib>
#include <mutex>

#include <llvm/ExecutionEngine/Orc/ExecutionUtils.h>
#include <llvm/ExecutionEngine/Orc/LLJIT.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Object/ObjectFile.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/CommandLine.h>
#include <llvm/Support/MemoryBuffer.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>

#include "codegen/llvm/matmul_support.h"
#include "codegen/llvm/scalar_ops.h"
#include "ir/error.h"

namespace kiln::codegen::cpu {

namespace {

void initialize_llvm() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
    // A vectorized epilogue loop would be a third copy of every loop body (vector, narrower
    // vector, scalar); kernels' remainders are short, and the copy costs compile time.
    std::vector<const char*> args = {"kiln", "-enable-epilogue-vectorization=false"};
    llvm::cl::ParseCommandLineOptions(static_cast<int>(args.size()), args.data());
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
  info.description = info.cpu + " " + join(enabled);
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
    if (!target) throw Error("[jit] no LLVM target for " + host.triple + ": " + error);
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
  // about a fifth of the time. KILN_JIT_PIPELINE=O3 (or any pipeline text) overrides it.
  const char* custom = std::getenv("KILN_JIT_PIPELINE");
  const std::string text = custom && *custom ? custom : kKernelPipeline;
  llvm::ModulePassManager mpm;
  if (text == "O3") {
    mpm = pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
  } else if (auto error = pb.parsePassPipeline(mpm, text)) {
    throw Error("[jit] bad pass pipeline: " + message(std::move(error)));
  }
  mpm.run(module, mam);
}

std::vector<char> emit_file(llvm::Module& module, llvm::TargetMachine& tm, FileKind kind) {
  llvm::SmallVector<char, 0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  const auto type = kind == FileKind::Object ? llvm::CGFT_ObjectFile : llvm::CGFT_AssemblyFile;
  if (tm.addPassesToEmitFile(pm, os, nullptr, type))
    throw Error("[jit] the target cannot emit this file type");
  pm.run(module);
  return std::vector<char>(buffer.begin(), buffer.end());
}

Jit::Jit() {
  initialize_llvm();
  const HostInfo& host = host_info();
  auto jtmb = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!jtmb) throw Error("[jit] " + message(jtmb.takeError()));
  jtmb->setCPU(host.cpu);
  jtmb->setCodeGenOptLevel(llvm::CodeGenOpt::Aggressive);
  auto jit = llvm::orc::LLJITBuilder().setJITTargetMachineBuilder(std::move(*jtmb)).create();
  if (!jit) throw Error("[jit] " + message(jit.takeError()));
  jit_ = std::move(*jit);
  llvm::orc::JITDylib& main = jit_->getMainJITDylib();
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      jit_->getDataLayout().getGlobalPrefix());
  if (!process) throw Error("[jit] " + message(process.takeError()));
  main.addGenerator(std::move(*process));
  auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  llvm::orc::SymbolMap helpers;
  helpers[jit_->mangleAndIntern(kMatmulSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&kiln_matmul_rows, flags);
  helpers[jit_->mangleAndIntern(kIntPowSymbol)] =
      llvm::JITEvaluatedSymbol::fromPointer(&kiln_ipow_i64, flags);
  if (auto error = main.define(llvm::orc::absoluteSymbols(std::move(helpers))))
    throw Error("[jit] " + message(std::move(error)));
}

Jit::~Jit() = default;

namespace {

// Refuses anything but an object for this machine that defines `symbol`, before the linker
// sees it.
void validate_object(llvm::MemoryBufferRef buffer, const std::string& symbol) {
  auto object = llvm::object::ObjectFile::createObjectFile(buffer);
  if (!object) throw Error("[jit] not an object file: " + message(object.takeError()));
  const llvm::Triple host(host_info().triple);
  if ((*object)->getArch() != host.getArch() || !(*object)->isELF())
    throw Error("[jit] object file is for another machine");
  for (const llvm::object::SymbolRef& s : (*object)->symbols()) {
    auto name = s.getName();
    auto flags = s.getFlags();
    if (!name || !flags) {
      if (!name) llvm::consumeError(name.takeError());
      if (!flags) llvm::consumeError(flags.takeError());
      throw Error("[jit] object file has a corrupt symbol table");
    }
    if (*name == symbol && !(*flags & llvm::object::SymbolRef::SF_Undefined)) return;
  }
  throw Error("[jit] object file does not define " + symbol);
}

}  // namespace

void* Jit::add_object(std::span<const char> object, const std::string& symbol) {
  auto buffer =
      llvm::MemoryBuffer::getMemBufferCopy(llvm::StringRef(object.data(), object.size()), symbol);
  validate_object(buffer->getMemBufferRef(), symbol);
  // A library per object: equal symbols from two objects never clash, and a failed link
  // leaves nothing behind that later lookups could trip over.
  static std::mutex mutex;
  llvm::orc::JITDylib* library = nullptr;
  {
    std::lock_guard lock(mutex);
    auto created = jit_->createJITDylib("kiln" + std::to_string(libraries_++));
    if (!created) throw Error("[jit] " + message(created.takeError()));
    library = &*created;
  }
  library->addToLinkOrder(jit_->getMainJITDylib());
  if (auto error = jit_->addObjectFile(*library, std::move(buffer)))
    throw Error("[jit] " + message(std::move(error)));
  auto address = jit_->lookup(*library, symbol);
  if (!address) throw Error("[jit] " + message(address.takeError()));
  return address->toPtr<void*>();
}

}  // namespace kiln::codegen::cpu
