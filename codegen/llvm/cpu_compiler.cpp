// CpuCompiler: kernel -> module (emitter.cpp) -> O3 -> object (jit.cpp) -> linked entry.
//
// compile_to_object appends a trailer to the ELF bytes: a hash of the object, a hash of the
// host description and a magic tag. load_object checks all three before the linker sees the
// bytes, so a truncated, altered or foreign cache entry is refused with an error instead of
// being executed.

#include "codegen/llvm/cpu_compiler.h"

#include <atomic>
#include <cstring>

#include <llvm/Config/llvm-config.h>
#include <llvm/Support/raw_ostream.h>
#include <llvm/Support/xxhash.h>

#include "codegen/llvm/emitter.h"
#include "codegen/llvm/jit.h"
#include "ir/error.h"

namespace kiln::codegen {

namespace {

constexpr char kMagic[8] = {'K', 'I', 'L', 'N', 'O', 'B', 'J', '1'};
constexpr size_t kTrailer = 8 + 8 + sizeof(kMagic);

uint64_t hash_bytes(std::span<const char> bytes) {
  return llvm::xxHash64(llvm::StringRef(bytes.data(), bytes.size()));
}

void append_u64(std::vector<char>& out, uint64_t v) {
  char bytes[8];
  std::memcpy(bytes, &v, 8);
  out.insert(out.end(), bytes, bytes + 8);
}

uint64_t read_u64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// Builds and optimizes the kernel's module in a context of its own.
struct OptimizedModule {
  std::unique_ptr<llvm::LLVMContext> context = std::make_unique<llvm::LLVMContext>();
  std::unique_ptr<llvm::Module> module;
  llvm::TargetMachine* tm = nullptr;
};

OptimizedModule build(const Kernel& kernel, const std::string& symbol) {
  OptimizedModule out;
  out.tm = &cpu::thread_target_machine();
  out.module = cpu::emit_kernel(kernel, symbol, cpu::host_info().attrs, *out.context);
  cpu::optimize_module(*out.module, *out.tm);
  return out;
}

}  // namespace

struct CpuCompiler::Impl {
  cpu::Jit jit;
  std::atomic<uint64_t> next_symbol{0};

  std::string fresh_symbol() { return "kiln_kernel_" + std::to_string(next_symbol++); }
};

CpuCompiler::CpuCompiler() : impl_(std::make_unique<Impl>()) {}
CpuCompiler::~CpuCompiler() = default;

CpuCompiler& CpuCompiler::instance() {
  static CpuCompiler compiler;
  return compiler;
}

const std::string& CpuCompiler::host_description() const {
  return cpu::host_info().description;
}

std::string CpuCompiler::llvm_version() {
  return LLVM_VERSION_STRING;
}

KernelEntry CpuCompiler::compile(const Kernel& kernel) {
  const std::string symbol = impl_->fresh_symbol();
  OptimizedModule m = build(kernel, symbol);
  const std::vector<char> object = cpu::emit_file(*m.module, *m.tm, cpu::FileKind::Object);
  return reinterpret_cast<KernelEntry>(impl_->jit.add_object(object, symbol));
}

std::vector<char> CpuCompiler::compile_to_object(const Kernel& kernel, const std::string& symbol) {
  OptimizedModule m = build(kernel, symbol);
  std::vector<char> object = cpu::emit_file(*m.module, *m.tm, cpu::FileKind::Object);
  const uint64_t object_hash = hash_bytes(object);
  append_u64(object, object_hash);
  append_u64(object, hash_bytes(host_description()));
  object.insert(object.end(), kMagic, kMagic + sizeof(kMagic));
  return object;
}

KernelEntry CpuCompiler::load_object(std::span<const char> object, const std::string& symbol) {
  if (object.size() < kTrailer ||
      std::memcmp(object.data() + object.size() - sizeof(kMagic), kMagic, sizeof(kMagic)) != 0)
    throw Error("[jit] not a kiln object (missing trailer)");
  const char* trailer = object.data() + object.size() - kTrailer;
  const std::span<const char> elf = object.first(object.size() - kTrailer);
  if (read_u64(trailer) != hash_bytes(elf)) throw Error("[jit] object is corrupt (hash mismatch)");
  if (read_u64(trailer + 8) != hash_bytes(host_description()))
    throw Error("[jit] object was compiled for another CPU");
  return reinterpret_cast<KernelEntry>(impl_->jit.add_object(elf, symbol));
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
