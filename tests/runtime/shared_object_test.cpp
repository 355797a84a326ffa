// The loader of bundles' shared objects (runtime/shared_object.h) on what the linker really
// makes: compiled kernels linked by compiler::link_shared_object run as a plan and match the
// interpreter, a hand-written object covers each dynamic relocation type, and damaged files
// (truncated, every byte flipped, or patched to break one rule at a time) are refused with a
// message naming the rule, never crash, and never run.

#include "runtime/shared_object.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "compiler/pipeline.h"
#include "compiler/shared_object_linker.h"
#include "ir/error.h"
#include "ir/interpreter.h"
#include "runtime/context.h"
#include "runtime/executable.h"
#include "runtime/kernel_imports.h"
#include "tests/runtime/elf_test_util.h"
#include "tests/runtime/runtime_test_util.h"

namespace kiln::runtime {
namespace {

using namespace elf_testing;

// File offsets of every relocation, DT_RELA's then DT_JMPREL's.
std::vector<size_t> relocations(const Bytes& so) {
  std::vector<size_t> out;
  for (auto [table, size] : {std::pair{DT_RELA, DT_RELASZ}, std::pair{DT_JMPREL, DT_PLTRELSZ}}) {
    const uint64_t address = dynamic_value(so, table), bytes = dynamic_value(so, size);
    if (address == 0) continue;
    for (uint64_t k = 0; k < bytes / sizeof(Elf64_Rela); ++k)
      out.push_back(file_offset(so, address) + k * sizeof(Elf64_Rela));
  }
  return out;
}

uint32_t relocation_type(const Bytes& so, size_t at) {
  return static_cast<uint32_t>(ELF64_R_TYPE(get<Elf64_Rela>(so, at).r_info));
}

// The end of the last PT_LOAD's file bytes: every shorter prefix must be refused.
size_t loaded_end(const Bytes& so) {
  size_t end = 0;
  for (size_t at : program_headers(so)) {
    const auto p = get<Elf64_Phdr>(so, at);
    if (p.p_type == PT_LOAD) end = std::max<size_t>(end, p.p_offset + p.p_filesz);
  }
  return end;
}

const void* import_address(std::string_view name) {
  for (const ImportedSymbol& s : kernel_imports())
    if (s.name == name) return s.address;
  ADD_FAILURE() << name << " is not an import";
  return nullptr;
}

std::string load_error(const Bytes& so,
                       std::span<const ImportedSymbol> imports = kernel_imports()) {
  try {
    LoadedSharedObject::load(so, imports, "test");
  } catch (const Error& e) {
    return e.what();
  }
  return "loaded";
}

// Both the message's start and the rule it names.
void expect_refused(const Bytes& so, const std::string& rule,
                    std::span<const ImportedSymbol> imports = kernel_imports()) {
  const std::string message = load_error(so, imports);
  EXPECT_EQ(message.rfind("[loader] test: ", 0), 0u) << message;
  EXPECT_NE(message.find(rule), std::string::npos) << "expected '" << rule << "' in: " << message;
}

// `so` with `value` written at `offset`, refused for `rule`.
template <class T>
void expect_patch_refused(const Bytes& so, size_t offset, T value, const std::string& rule) {
  Bytes bad = so;
  put(bad, offset, value);
  expect_refused(bad, rule);
}

// ---- A hand-written object with every dynamic relocation type ---------------------------------

// An x86-64 ET_REL of three functions that each return a pointer: get_import returns a word of
// .data.rel.ro that holds `data_import`'s address (a dynamic R_X86_64_64 once linked),
// get_self returns one that holds get_import's address (RELATIVE), get_got returns the GOT
// entry of `got_import` (GLOB_DAT).
Bytes pointer_object(const std::string& data_import, const std::string& got_import) {
  Bytes out(sizeof(Elf64_Ehdr));
  auto append = [&](const void* data, size_t size, size_t align) {
    out.resize((out.size() + align - 1) / align * align);
    const size_t at = out.size();
    const auto* bytes = static_cast<const std::byte*>(data);
    out.insert(out.end(), bytes, bytes + size);
    return at;
  };
  // mov rax, [rip + disp32]; ret, three times.
  unsigned char text[24];
  for (int f = 0; f < 3; ++f) {
    const unsigned char mov_ret[8] = {0x48, 0x8b, 0x05, 0, 0, 0, 0, 0xc3};
    std::memcpy(text + 8 * f, mov_ret, 8);
  }
  const unsigned char data[16] = {};
  enum : uint32_t { kText = 1, kData = 2, kRelaText = 3, kRelaData = 4, kSymtab = 5 };
  enum : uint32_t { kTextSym = 1, kDataSym = 2, kFirstGlobal = 3, kDataImport = 6, kGotImport };
  const Elf64_Rela rela_text[] = {
      {3, ELF64_R_INFO(kDataSym, R_X86_64_PC32), -4},
      {11, ELF64_R_INFO(kDataSym, R_X86_64_PC32), 8 - 4},
      {19, ELF64_R_INFO(kGotImport, R_X86_64_GOTPCREL), -4},
  };
  const Elf64_Rela rela_data[] = {
      {0, ELF64_R_INFO(kDataImport, R_X86_64_64), 0},
      {8, ELF64_R_INFO(kTextSym, R_X86_64_64), 0},
  };
  std::string strtab(1, '\0');
  auto name = [&](const std::string& s) {
    const auto at = static_cast<uint32_t>(strtab.size());
    strtab += s + '\0';
    return at;
  };
  auto global = [](uint32_t name, uint8_t type, uint16_t shndx, uint64_t value, uint64_t size) {
    return Elf64_Sym{name, ELF64_ST_INFO(STB_GLOBAL, type), STV_DEFAULT, shndx, value, size};
  };
  const Elf64_Sym symbols[] = {
      {},
      {0, ELF64_ST_INFO(STB_LOCAL, STT_SECTION), STV_DEFAULT, kText, 0, 0},
      {0, ELF64_ST_INFO(STB_LOCAL, STT_SECTION), STV_DEFAULT, kData, 0, 0},
      global(name("get_import"), STT_FUNC, kText, 0, 8),
      global(name("get_self"), STT_FUNC, kText, 8, 8),
      global(name("get_got"), STT_FUNC, kText, 16, 8),
      global(name(data_import), STT_NOTYPE, SHN_UNDEF, 0, 0),
      global(name(got_import), STT_NOTYPE, SHN_UNDEF, 0, 0),
  };
  std::string shstrtab(1, '\0');
  auto section_name = [&](const char* s) {
    const auto at = static_cast<uint32_t>(shstrtab.size());
    shstrtab += std::string(s) + '\0';
    return at;
  };
  std::vector<Elf64_Shdr> sections(1);
  auto section = [&](const char* name, uint32_t type, uint64_t flags, size_t offset, size_t size,
                     uint32_t link, uint32_t info, uint64_t align, uint64_t entsize) {
    sections.push_back(
        {section_name(name), type, flags, 0, offset, size, link, info, align, entsize});
  };
  section(".text", SHT_PROGBITS, SHF_ALLOC | SHF_EXECINSTR, append(text, sizeof text, 16),
          sizeof text, 0, 0, 16, 0);
  section(".data.rel.ro", SHT_PROGBITS, SHF_ALLOC | SHF_WRITE, append(data, sizeof data, 8),
          sizeof data, 0, 0, 8, 0);
  section(".rela.text", SHT_RELA, SHF_INFO_LINK, append(rela_text, sizeof rela_text, 8),
          sizeof rela_text, kSymtab, kText, 8, sizeof(Elf64_Rela));
  section(".rela.data.rel.ro", SHT_RELA, SHF_INFO_LINK, append(rela_data, sizeof rela_data, 8),
          sizeof rela_data, kSymtab, kData, 8, sizeof(Elf64_Rela));
  section(".symtab", SHT_SYMTAB, 0, append(symbols, sizeof symbols, 8), sizeof symbols, kSymtab + 1,
          kFirstGlobal, 8, sizeof(Elf64_Sym));
  section(".strtab", SHT_STRTAB, 0, append(strtab.data(), strtab.size(), 1), strtab.size(), 0, 0, 1,
          0);
  const uint32_t shstrtab_name = section_name(".shstrtab");
  sections.push_back({shstrtab_name, SHT_STRTAB, 0, 0, 0, 0, 0, 0, 1, 0});
  sections.back().sh_offset = append(shstrtab.data(), shstrtab.size(), 1);
  sections.back().sh_size = shstrtab.size();
  const size_t shoff = append(sections.data(), sections.size() * sizeof(Elf64_Shdr), 8);

  Elf64_Ehdr h{};
  std::memcpy(h.e_ident, ELFMAG, SELFMAG);
  h.e_ident[EI_CLASS] = ELFCLASS64;
  h.e_ident[EI_DATA] = ELFDATA2LSB;
  h.e_ident[EI_VERSION] = EV_CURRENT;
  h.e_type = ET_REL;
  h.e_machine = EM_X86_64;
  h.e_version = EV_CURRENT;
  h.e_shoff = shoff;
  h.e_ehsize = sizeof(Elf64_Ehdr);
  h.e_shentsize = sizeof(Elf64_Shdr);
  h.e_shnum = static_cast<uint16_t>(sections.size());
  h.e_shstrndx = static_cast<uint16_t>(sections.size() - 1);
  std::memcpy(out.data(), &h, sizeof h);
  return out;
}

Bytes link(std::span<const Bytes> objects) {
  std::vector<compiler::LinkInput> inputs;
  for (const Bytes& o : objects)
    inputs.push_back({"object " + std::to_string(inputs.size()), o});
  return compiler::link_shared_object(inputs);
}

Bytes pointer_library(const std::string& got_import = "log") {
  return link(std::vector<Bytes>{pointer_object("exp", got_import)});
}

// ---- Compiled kernels -------------------------------------------------------------------------

// A kernel loader that finds a plan's kernels in one loaded shared object, as a bundle's will.
class SharedObjectKernels final : public KernelLoader {
 public:
  explicit SharedObjectKernels(LoadedSharedObject code) : code_(std::move(code)) {}
  void check_target(std::string_view plan_name, std::string_view target) const override {
    host_kernel_loader().check_target(plan_name, target);
  }
  LoadedKernel load(const PlanKernel& kernel) override {
    void* entry = code_.find(kernel.symbol);
    if (entry == nullptr) throw Error("no " + kernel.symbol + " in the shared object");
    return {nullptr, reinterpret_cast<KernelEntry>(entry)};
  }

 private:
  LoadedSharedObject code_;
};

struct Compiled {
  Plan plan;
  Bytes library;  // the plan's kernels, linked
};

Compiled compile_and_link(const ir::Function& f) {
  Compiled c{compiler::compile_plan(f, {.cpu_target = "x86-64-v3"}), {}};
  std::vector<Bytes> objects;
  std::vector<std::string> symbols;
  for (const PlanKernel& k : c.plan.kernels)
    if (std::find(symbols.begin(), symbols.end(), k.symbol) == symbols.end()) {
      symbols.push_back(k.symbol);
      objects.push_back(k.object);
    }
  c.library = link(objects);
  return c;
}

const char* kMatmul = R"(func @xw(%x: f32[8,64], %w: f32[64,16]) -> f32[8,16] {
  %y = dot_general %x, %w {lhs_contract=[1], rhs_contract=[0]} : f32[8,16]
  %z = add %y, %y : f32[8,16]
  return %z
})";

const char* kExp = R"(func @e(%x: f64[100]) -> f64[100] {
  %y = exp %x : f64[100]
  %z = mul %y, %x : f64[100]
  return %z
})";

bool host_runs_x86_64_v3(const Plan& plan) {
  return missing_cpu_features(plan.target).empty();
}

TEST(SharedObject, LinkedKernelsMatchTheInterpreter) {
  for (const char* text : {kMatmul, kExp}) {
    const ir::Function f = testing::parse_function(text);
    Compiled c = compile_and_link(f);
    if (!host_runs_x86_64_v3(c.plan)) GTEST_SKIP() << "this machine cannot run x86-64-v3 code";
    validate_shared_object(c.library, kernel_imports(), "test");
    SharedObjectKernels loader(LoadedSharedObject::load(c.library, kernel_imports(), "test"));
    Context context(2, loader);
    const Executable exe = Executable::load(std::move(c.plan), context);
    const std::vector<ir::HostArray> args = testing::uniform_args(f, 7);
    const std::vector<ir::HostArray> got = exe.run(args), want = ir::interpret(f, args);
    ASSERT_EQ(got.size(), want.size());
    for (int64_t i = 0; i < want[0].num_elements(); ++i)
      EXPECT_NEAR(got[0].get_f64(i), want[0].get_f64(i), 1e-5) << f.name() << " at " << i;
  }
}

TEST(SharedObject, KernelsImportOnlyFromTheAllowList) {
  // The kernels' imports are what the loader checks: without them, each is refused by name.
  const Bytes matmul = compile_and_link(testing::parse_function(kMatmul)).library;
  const Bytes exp = compile_and_link(testing::parse_function(kExp)).library;
  expect_refused(matmul, "imports 'kiln_matmul_rows', which the runtime does not provide", {});
  expect_refused(exp, "imports 'exp', which the runtime does not provide", {});
  bool jump_slot = false;
  for (size_t at : relocations(exp))
    jump_slot |= relocation_type(exp, at) == R_X86_64_JUMP_SLOT;
  EXPECT_TRUE(jump_slot) << "calls to imports bind through the PLT";
}

TEST(SharedObject, EveryRelocationTypeResolves) {
  const Bytes so = pointer_library();
  std::vector<uint32_t> types;
  for (size_t at : relocations(so))
    types.push_back(relocation_type(so, at));
  for (uint32_t type : {R_X86_64_64, R_X86_64_RELATIVE, R_X86_64_GLOB_DAT})
    EXPECT_NE(std::find(types.begin(), types.end(), type), types.end()) << "no type " << type;

  LoadedSharedObject loaded = LoadedSharedObject::load(so, kernel_imports(), "test");
  using Getter = const void* (*)();
  auto call = [&](const char* name) {
    void* f = loaded.find(name);
    EXPECT_NE(f, nullptr) << name;
    return f ? reinterpret_cast<Getter>(f)() : nullptr;
  };
  EXPECT_EQ(call("get_import"), import_address("exp"));    // R_X86_64_64
  EXPECT_EQ(call("get_self"), loaded.find("get_import"));  // RELATIVE
  EXPECT_EQ(call("get_got"), import_address("log"));       // GLOB_DAT
  EXPECT_EQ(loaded.find("exp"), nullptr) << "imports are not exports";
  EXPECT_EQ(loaded.find("nothing"), nullptr);

  const LoadedSharedObject moved = std::move(loaded);
  EXPECT_EQ(reinterpret_cast<Getter>(moved.find("get_self"))(), moved.find("get_import"));
}

// /proc/self/maps' permissions ("r-xp") of the mapping holding `address`.
std::string permissions(const void* address) {
  std::ifstream maps("/proc/self/maps");
  const auto a = reinterpret_cast<uintptr_t>(address);
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    uintptr_t begin = 0, end = 0;
    char dash = 0;
    std::string perms;
    in >> std::hex >> begin >> dash >> end >> perms;
    if (a >= begin && a < end) return perms;
  }
  return "unmapped";
}

TEST(SharedObject, CodeIsExecutableAndNothingIsWritableAndExecutable) {
  const Bytes so = pointer_library();
  const LoadedSharedObject loaded = LoadedSharedObject::load(so, kernel_imports(), "test");
  EXPECT_EQ(permissions(loaded.find("get_import")), "r-xp");
  // RELRO (.data.rel.ro and the GOT) is read-only once relocated.
  const auto relro = get<Elf64_Phdr>(so, program_header(so, PT_GNU_RELRO));
  EXPECT_EQ(permissions(loaded.image().data() + relro.p_vaddr), "r--p");
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  for (size_t at = 0; at < loaded.image().size(); at += page) {
    const std::string p = permissions(loaded.image().data() + at);
    EXPECT_FALSE(p[1] == 'w' && p[2] == 'x') << "page " << at << ": " << p;
  }
}

TEST(SharedObject, PerfMapNamesTheExports) {
  const std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  const bool existed = std::filesystem::exists(path);
  ::setenv("KILN_PERF_MAP", "1", 1);
  const LoadedSharedObject loaded =
      LoadedSharedObject::load(pointer_library(), kernel_imports(), "test");
  ::unsetenv("KILN_PERF_MAP");
  std::ostringstream line;
  line << std::hex << reinterpret_cast<uintptr_t>(loaded.find("get_self")) << " 8 get_self";
  std::ifstream map(path);
  const std::string text((std::istreambuf_iterator<char>(map)), std::istreambuf_iterator<char>());
  EXPECT_NE(text.find(line.str() + "\n"), std::string::npos) << text;
  if (!existed) std::filesystem::remove(path);
}

// ---- Refusals ---------------------------------------------------------------------------------

TEST(SharedObject, RefusesOtherFiles) {
  const Bytes so = pointer_library();
  expect_patch_refused(so, 0, '\0', "not an ELF file");
  expect_patch_refused(so, EI_CLASS, char{ELFCLASS32}, "not an ELF64 object");
  expect_patch_refused(so, offsetof(Elf64_Ehdr, e_machine), uint16_t{EM_AARCH64},
                       "not an x86-64 object");
  expect_patch_refused(so, offsetof(Elf64_Ehdr, e_type), uint16_t{ET_REL}, "not a shared object");
  expect_refused(pointer_object("exp", "log"), "not a shared object (e_type 1)");
  expect_refused({}, "the ELF header lies outside the file");
}

TEST(SharedObject, RefusesEveryTruncation) {
  const Bytes so = pointer_library();
  const size_t end = loaded_end(so);
  for (size_t size = 0; size < so.size(); size += size < 256 ? 1 : 13) {
    const std::string message = load_error(Bytes(so.begin(), so.begin() + size));
    if (size < end) {
      EXPECT_EQ(message.rfind("[loader] test: ", 0), 0u) << size << ": " << message;
    }
  }
}

// Every byte, flipped: the file loads (the byte was code, say) or is refused, and the checks
// without mapping agree exactly. Never a crash: nothing of the file runs. About 2,000 loads of
// a small library: a tenth of a second.
TEST(SharedObject, SurvivesEveryFlippedByte) {
  const Bytes so = compile_and_link(testing::parse_function(kExp)).library;
  size_t refused = 0;
  for (size_t at = 0; at < so.size(); ++at) {
    Bytes bad = so;
    bad[at] ^= std::byte{0xff};
    const std::string message = load_error(bad);
    std::string verified = "loaded";
    try {
      validate_shared_object(bad, kernel_imports(), "test");
    } catch (const Error& e) {
      verified = e.what();
    }
    ASSERT_EQ(message, verified) << "byte " << at;
    if (message != "loaded") {
      ++refused;
      ASSERT_EQ(message.rfind("[loader] test: ", 0), 0u) << message;
    }
  }
  EXPECT_GT(refused, 0u);
}

TEST(SharedObject, RefusesSegmentRuleBreaks) {
  const Bytes so = pointer_library();
  constexpr size_t kFlags = offsetof(Elf64_Phdr, p_flags);
  constexpr uint32_t kRwx = PF_R | PF_W | PF_X;
  for (size_t at : program_headers(so)) {
    const auto p = get<Elf64_Phdr>(so, at);
    if (p.p_type == PT_LOAD && (p.p_flags & PF_X) != 0)
      expect_patch_refused(so, at + kFlags, kRwx, "both writable and executable (W+X)");
  }
  const size_t stack = program_header(so, PT_GNU_STACK);
  expect_patch_refused(so, stack + kFlags, kRwx, "executable stack");
  expect_patch_refused(so, stack, uint32_t{PT_INTERP}, "PT_INTERP");
  expect_patch_refused(so, stack, uint32_t{PT_TLS}, "PT_TLS");
  expect_patch_refused(so, program_header(so, PT_DYNAMIC), uint32_t{PT_NULL}, "no PT_DYNAMIC");
  expect_patch_refused(so, program_header(so, PT_LOAD) + offsetof(Elf64_Phdr, p_memsz),
                       uint64_t{1} << 40, "out of range");
}

TEST(SharedObject, RefusesDynamicRuleBreaks) {
  const Bytes so = pointer_library();
  // lld's -z now writes DT_FLAGS and DT_FLAGS_1, which stand in for the forbidden entries.
  const size_t flags = dynamic_entry(so, DT_FLAGS), flags_1 = dynamic_entry(so, DT_FLAGS_1);
  Bytes needed = so;
  put(needed, flags_1, Elf64_Dyn{DT_NEEDED, {1}});  // the name: a symbol's
  expect_refused(needed, "needs library '");
  expect_refused(needed, "' (DT_NEEDED), and the loader loads no other library");
  for (Elf64_Sxword tag : {DT_INIT_ARRAY, DT_INIT, DT_FINI_ARRAY, DT_PREINIT_ARRAY})
    expect_patch_refused(so, flags, tag, "code that would run on load");
  expect_patch_refused(so, flags, Elf64_Sxword{DT_TEXTREL}, "DT_TEXTREL");
  expect_patch_refused(so, flags, Elf64_Sxword{DT_SYMTAB}, "a second DT_SYMTAB");
  expect_patch_refused(so, dynamic_entry(so, DT_HASH), Elf64_Sxword{DT_DEBUG}, "no DT_HASH");
  expect_patch_refused(so, flags, Elf64_Sxword{0x7000'0042}, "unsupported tag 0x70000042");
}

TEST(SharedObject, RefusesImportsOutsideTheAllowList) {
  expect_refused(pointer_library("system"), "imports 'system', which the runtime does not provide");
  // The same through the names' string table: "exp" becomes "sys".
  Bytes so = pointer_library();
  rename_dynamic_string(so, "exp", "sys");
  expect_refused(so, "imports 'sys', which the runtime does not provide");
}

TEST(SharedObject, RefusesRelocationRuleBreaks) {
  const Bytes so = pointer_library();
  const std::vector<size_t> relas = relocations(so);
  ASSERT_FALSE(relas.empty());
  const auto first = get<Elf64_Rela>(so, relas[0]), last = get<Elf64_Rela>(so, relas.back());
  expect_patch_refused(so, relas[0],
                       Elf64_Rela{first.r_offset, ELF64_R_INFO(0, R_X86_64_PC32), first.r_addend},
                       "relocation 0 of DT_RELA (type 2): unsupported relocation type 2");
  // Offset 0 is the ELF header, read-only.
  expect_patch_refused(so, relas[0], Elf64_Rela{0, first.r_info, first.r_addend},
                       "is not inside a writable segment");
  expect_patch_refused(
      so, relas.back(),
      Elf64_Rela{last.r_offset, ELF64_R_INFO(1000, ELF64_R_TYPE(last.r_info)), last.r_addend},
      "symbol index 1000 is not a symbol");
}

}  // namespace
}  // namespace kiln::runtime
