// Host detection, the optimization pipeline and code generation.

#include "codegen/cpu/target.h"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>

#include <llvm/Analysis/ValueTracking.h>
#include <llvm/IR/Instructions.h>
#include <llvm/IR/IntrinsicsX86.h>
#include <llvm/IR/LegacyPassManager.h>
#include <llvm/MC/TargetRegistry.h>
#include <llvm/Passes/PassBuilder.h>
#include <llvm/Support/TargetSelect.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/TargetParser/Host.h>
#include <llvm/TargetParser/X86TargetParser.h>
#include <llvm/Transforms/Utils/Local.h>

#include "codegen/cpu/math_approx.h"
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

// The size of the largest cache level, as the kernel reports it in sysfs (on VMs glibc's
// CPUID-based sysconf can report the host's whole L3: 320 MiB against the guest's 32 MiB).
// 0 when unknown.
int64_t last_level_cache_bytes() {
  int64_t best_level = 0, bytes = 0;
  for (int index = 0; index < 8; ++index) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(index);
    std::ifstream level_file(dir + "/level"), size_file(dir + "/size");
    int64_t level = 0, size = 0;
    std::string unit;
    if (!(level_file >> level) || !(size_file >> size)) continue;
    size_file >> unit;
    if (unit == "K") size <<= 10;
    if (unit == "M") size <<= 20;
    if (level > best_level) best_level = level, bytes = size;
  }
  if (bytes > 0) return bytes;
  return std::max<int64_t>({sysconf(_SC_LEVEL3_CACHE_SIZE), sysconf(_SC_LEVEL2_CACHE_SIZE), 0});
}

CpuTarget detect_host() {
  initialize_llvm();
  CpuTarget info;
  info.name = "host";
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
  // "Much larger than the last-level cache": twice its size. Unknown (0): no streaming stores.
  const int64_t llc = last_level_cache_bytes();
  info.attrs.streaming_store_bytes = 2 * llc;
  info.description += " llc=" + std::to_string(llc);
  return info;
}

// The last-level cache a level target assumes when it decides on streaming stores: code for a
// level runs on machines kiln has never seen, so it cannot ask. 32 MiB is a current desktop or
// server slice; a wrong guess costs speed on very large outputs, never results.
constexpr int64_t kLevelTargetCacheBytes = int64_t{32} << 20;

CpuTarget level_target(std::string_view level) {
  initialize_llvm();
  CpuTarget info;
  info.name = std::string(level);
  info.triple = llvm::sys::getProcessTriple();
  info.cpu = std::string(level);
  llvm::SmallVector<llvm::StringRef, 64> implied;
  llvm::X86::getFeaturesForCPU(level, implied);
  std::vector<std::string> enabled;
  for (llvm::StringRef f : implied)
    enabled.push_back("+" + f.str());
  std::sort(enabled.begin(), enabled.end());
  for (const std::string& f : enabled)
    info.features += (info.features.empty() ? "" : ",") + f;
  info.description = info.triple + " " + info.cpu + " " + info.features;
  info.attrs.cpu = info.cpu;
  info.attrs.features = info.features;
  info.attrs.prefer_vector_width = level == "x86-64-v4" ? 512 : 256;
  info.attrs.streaming_store_bytes = 2 * kLevelTargetCacheBytes;
  info.description += " llc=" + std::to_string(kLevelTargetCacheBytes);
  return info;
}

constexpr const char* kKernelPipeline =
    "always-inline,function(sroa,early-cse,instcombine,simplifycfg,loop-mssa(licm),"
    "loop(loop-rotate,indvars),loop-vectorize,early-cse,instcombine,simplifycfg)";

// After the kernel pipeline: the vector helpers (math_approx.h) inlined where the vectorizer
// called them, and the result tidied.
constexpr const char* kHelperPipeline = "always-inline,function(instcombine,simplifycfg)";

std::string message(llvm::Error error) {
  return llvm::toString(std::move(error));
}

}  // namespace

const CpuTarget& host_info() {
  static const CpuTarget info = detect_host();
  return info;
}

const CpuTarget& cpu_target(std::string_view name) {
  if (name == "host") return host_info();
  static const std::vector<CpuTarget> levels = [] {
    std::vector<CpuTarget> out;
    for (const char* level : kCpuLevels)
      out.push_back(level_target(level));
    return out;
  }();
  for (const CpuTarget& level : levels)
    if (level.name == name) return level;
  std::string known = "host";
  for (const char* level : kCpuLevels)
    known += std::string(", ") + level;
  throw Error("[compile] unknown CPU target '" + std::string(name) + "' (known: " + known + ")");
}

llvm::TargetMachine& thread_target_machine(const CpuTarget& cpu) {
  // One machine per target this thread compiles for; the targets are few and live forever.
  thread_local std::map<std::string, std::unique_ptr<llvm::TargetMachine>> machines;
  std::unique_ptr<llvm::TargetMachine>& tm = machines[cpu.name];
  if (!tm) {
    std::string error;
    const llvm::Target* target = llvm::TargetRegistry::lookupTarget(cpu.triple, error);
    if (!target) throw Error("[codegen] no LLVM target for " + cpu.triple + ": " + error);
    llvm::TargetOptions options;
    tm.reset(target->createTargetMachine(cpu.triple, cpu.cpu, cpu.features, options,
                                         llvm::Reloc::PIC_, llvm::CodeModel::Small,
                                         llvm::CodeGenOpt::Aggressive));
  }
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
  if (prepare_vector_helpers_for_inlining(module)) {
    llvm::ModulePassManager inline_helpers;
    if (auto error = pb.parsePassPipeline(inline_helpers, kHelperPipeline))
      throw Error("[codegen] bad pass pipeline: " + message(std::move(error)));
    inline_helpers.run(module, mam);
  }
  for (llvm::Function& f : module)
    if (f.getMetadata(kStreamingBuffersMetadata)) mark_streaming_stores(f);
}

namespace {

// The kernel buffer a pointer points into: its underlying object is the entry's load of
// buffers[index].
std::optional<int64_t> buffer_index(const llvm::Value* pointer, const llvm::Argument* buffers) {
  const auto* load = llvm::dyn_cast<llvm::LoadInst>(llvm::getUnderlyingObject(pointer));
  if (!load) return std::nullopt;
  const llvm::Value* slot = load->getPointerOperand();
  if (slot == buffers) return 0;
  const auto* gep = llvm::dyn_cast<llvm::GetElementPtrInst>(slot);
  if (!gep || gep->getPointerOperand() != buffers || gep->getNumIndices() != 1) return std::nullopt;
  const auto* index = llvm::dyn_cast<llvm::ConstantInt>(gep->getOperand(1));
  if (!index) return std::nullopt;
  return index->getSExtValue();
}

}  // namespace

int mark_streaming_stores(llvm::Function& entry) {
  llvm::MDNode* list = entry.getMetadata(kStreamingBuffersMetadata);
  if (!list || entry.arg_empty()) return 0;
  std::vector<int64_t> streaming;
  for (const llvm::MDOperand& op : list->operands())
    streaming.push_back(llvm::mdconst::extract<llvm::ConstantInt>(op.get())->getSExtValue());
  const llvm::DataLayout& layout = entry.getParent()->getDataLayout();
  llvm::LLVMContext& context = entry.getContext();
  llvm::MDNode* nontemporal = llvm::MDNode::get(
      context,
      llvm::ConstantAsMetadata::get(llvm::ConstantInt::get(llvm::Type::getInt32Ty(context), 1)));
  int marked = 0;
  for (llvm::BasicBlock& block : entry)
    for (llvm::Instruction& inst : block) {
      auto* store = llvm::dyn_cast<llvm::StoreInst>(&inst);
      if (!store || !store->getValueOperand()->getType()->isVectorTy()) continue;
      const std::optional<int64_t> buffer =
          buffer_index(store->getPointerOperand(), entry.getArg(0));
      if (!buffer || std::find(streaming.begin(), streaming.end(), *buffer) == streaming.end())
        continue;
      const uint64_t size = layout.getTypeStoreSize(store->getValueOperand()->getType());
      const llvm::Align known = llvm::getKnownAlignment(store->getPointerOperand(), layout);
      if (known.value() < size) continue;
      store->setAlignment(known);
      store->setMetadata(llvm::LLVMContext::MD_nontemporal, nontemporal);
      ++marked;
    }
  if (marked > 0 && llvm::Triple(entry.getParent()->getTargetTriple()).isX86())
    for (llvm::BasicBlock& block : entry)
      if (auto* ret = llvm::dyn_cast<llvm::ReturnInst>(block.getTerminator()))
        llvm::IRBuilder<>(ret).CreateIntrinsic(llvm::Intrinsic::x86_sse_sfence, {}, {});
  return marked;
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
