#include "runtime/object_loader.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ir/error.h"
#include "runtime/elf_reader.h"

namespace kiln::runtime {

namespace {

// Caps everything the loader maps, including zero-filled sections whose size is not backed by
// file bytes, so a corrupt size field cannot reserve unbounded memory.
constexpr uint64_t kMaxImageSize = uint64_t{1} << 30;
// `jmp *0(%rip)` followed by the 8-byte target, padded with int3: reaches any address, unlike
// a rel32 call, because imports may lie more than 2 GiB from the mapping.
constexpr uint64_t kStubSize = 16;
constexpr uint64_t kNone = ~uint64_t{0};

using elf::align_up;
using elf::hex;
using elf::printable;

[[noreturn]] void fail(const std::string& message) {
  throw Error("[loader] " + message);
}

// ---- Checked views of the file ----------------------------------------------------------------

// An SHT_STRTAB section whose every lookup is checked to start inside it and end in a NUL.
class StringTable {
 public:
  StringTable(const elf::Reader& file, const Elf64_Shdr& header, const std::string& what)
      : file_(file) {
    if (header.sh_type != SHT_STRTAB) fail(what + " is not of type SHT_STRTAB");
    bytes_ = file.range(header.sh_offset, header.sh_size, what);
  }
  std::string_view get(uint64_t offset, const char* owner, size_t index) const {
    return file_.string(bytes_, offset, owner, index);
  }

 private:
  const elf::Reader& file_;
  std::span<const std::byte> bytes_;
};

struct Object {
  std::vector<Elf64_Shdr> sections;
  std::vector<std::string_view> section_names;
  uint32_t symtab = 0;  // index of the SHT_SYMTAB section; 0 when there is none
  std::vector<Elf64_Sym> symbols;
  std::vector<std::string_view> symbol_names;

  std::string section(size_t i) const {
    return "section " + std::to_string(i) + " (" + printable(section_names[i]) + ")";
  }
  std::string symbol(size_t i) const {
    return "symbol " + std::to_string(i) + " ('" + printable(symbol_names[i]) + "')";
  }
};

Object parse(const elf::Reader& file) {
  const Elf64_Ehdr h = file.x86_64_header(ET_REL, "a relocatable object");
  if (h.e_shentsize != sizeof(Elf64_Shdr)) fail("e_shentsize is not sizeof(Elf64_Shdr)");
  // e_shnum 0 with a non-zero e_shoff means extended numbering, which kernels never need.
  if (h.e_shnum == 0 || h.e_shnum >= SHN_LORESERVE)
    fail("no section headers, or extended section numbering (unsupported)");
  if (h.e_shstrndx == SHN_UNDEF || h.e_shstrndx >= h.e_shnum)
    fail("e_shstrndx " + std::to_string(h.e_shstrndx) + " is not a section index");

  Object obj;
  obj.sections = file.read_array<Elf64_Shdr>(h.e_shoff, h.e_shnum, "the section header table");
  const StringTable shstrtab(file, obj.sections[h.e_shstrndx], "the section name table");
  for (size_t i = 0; i < obj.sections.size(); ++i)
    obj.section_names.push_back(shstrtab.get(obj.sections[i].sh_name, "section", i));

  for (size_t i = 0; i < obj.sections.size(); ++i) {
    const Elf64_Shdr& s = obj.sections[i];
    if (s.sh_type != SHT_SYMTAB) continue;
    if (obj.symtab != 0) fail(obj.section(i) + ": a second symbol table");
    obj.symtab = static_cast<uint32_t>(i);
    if (s.sh_entsize != sizeof(Elf64_Sym) || s.sh_size % sizeof(Elf64_Sym) != 0)
      fail(obj.section(i) + ": symbol table entry size is not sizeof(Elf64_Sym)");
    if (s.sh_link == 0 || s.sh_link >= obj.sections.size())
      fail(obj.section(i) + ": sh_link is not a section index");
    obj.symbols =
        file.read_array<Elf64_Sym>(s.sh_offset, s.sh_size / sizeof(Elf64_Sym), obj.section(i));
    const StringTable strtab(file, obj.sections[s.sh_link], obj.section(s.sh_link));
    for (size_t k = 0; k < obj.symbols.size(); ++k)
      obj.symbol_names.push_back(strtab.get(obj.symbols[k].st_name, "symbol", k));
  }
  return obj;
}

// ---- Layout -----------------------------------------------------------------------------------

// Each group starts on a page so that it can be protected on its own.
enum Group : uint8_t { kText, kReadOnly, kWritable, kNotLoaded };

uint64_t checked_alignment(uint64_t align, uint64_t page, const std::string& what) {
  if (align == 0) return 1;
  // The mapping is only page-aligned, so a larger alignment could not be honoured.
  if ((align & (align - 1)) != 0 || align > page)
    fail(what + ": alignment " + hex(align) + " is not a power of two up to the page size");
  return align;
}

std::vector<Group> classify(const elf::Reader& file, const Object& obj) {
  std::vector<Group> groups(obj.sections.size(), kNotLoaded);
  for (size_t i = 1; i < obj.sections.size(); ++i) {
    const Elf64_Shdr& s = obj.sections[i];
    // Non-alloc sections (symbols, relocations, .comment, .llvm_addrsig, debug info) are not
    // needed at run time. Unwind tables are only useful once registered, which this loader does
    // not do, and notes are metadata.
    if ((s.sh_flags & SHF_ALLOC) == 0 || s.sh_type == SHT_NOTE || s.sh_type == SHT_X86_64_UNWIND ||
        obj.section_names[i] == ".eh_frame")
      continue;
    if ((s.sh_flags & SHF_TLS) != 0) fail(obj.section(i) + ": thread-local data is unsupported");
    // Other allocated types (init arrays above all) would need work this loader does not do.
    if (s.sh_type != SHT_PROGBITS && s.sh_type != SHT_NOBITS)
      fail(obj.section(i) + ": allocated section of unsupported type " + hex(s.sh_type));
    if ((s.sh_flags & SHF_EXECINSTR) != 0 && (s.sh_flags & SHF_WRITE) != 0)
      fail(obj.section(i) + ": both writable and executable");
    if (s.sh_type == SHT_PROGBITS) file.range(s.sh_offset, s.sh_size, obj.section(i));
    // .data.rel.ro is writable only so that a dynamic linker can relocate it; this loader
    // relocates before protecting, so it can be read-only, as RELRO makes it after ld.so.
    const bool relro = obj.section_names[i].starts_with(".data.rel.ro");
    groups[i] = (s.sh_flags & SHF_EXECINSTR)         ? kText
                : (s.sh_flags & SHF_WRITE) && !relro ? kWritable
                                                     : kReadOnly;
  }
  return groups;
}

struct Relocation {
  uint32_t table;  // the SHT_RELA section, for messages
  uint64_t index;  // within it
  uint32_t target;
  uint64_t offset;
  uint32_t type;
  uint32_t symbol;
  int64_t addend;
};

bool uses_got(uint32_t type) {
  return type == R_X86_64_GOTPCREL || type == R_X86_64_GOTPCRELX || type == R_X86_64_REX_GOTPCRELX;
}

std::vector<Relocation> collect_relocations(const elf::Reader& file, const Object& obj,
                                            const std::vector<Group>& groups) {
  std::vector<Relocation> out;
  for (uint32_t i = 1; i < obj.sections.size(); ++i) {
    const Elf64_Shdr& s = obj.sections[i];
    if (s.sh_type == SHT_REL) fail(obj.section(i) + ": SHT_REL is unsupported (use SHT_RELA)");
    if (s.sh_type != SHT_RELA) continue;
    if (s.sh_info == 0 || s.sh_info >= obj.sections.size())
      fail(obj.section(i) + ": sh_info is not a section index");
    if (groups[s.sh_info] == kNotLoaded) continue;  // e.g. .rela.eh_frame, .rela.debug_*
    if (obj.symtab == 0 || s.sh_link != obj.symtab)
      fail(obj.section(i) + ": sh_link is not the symbol table");
    if (s.sh_entsize != sizeof(Elf64_Rela) || s.sh_size % sizeof(Elf64_Rela) != 0)
      fail(obj.section(i) + ": entry size is not sizeof(Elf64_Rela)");
    const Elf64_Shdr& target = obj.sections[s.sh_info];
    if (target.sh_type == SHT_NOBITS) fail(obj.section(i) + ": relocates a NOBITS section");
    const auto relas =
        file.read_array<Elf64_Rela>(s.sh_offset, s.sh_size / sizeof(Elf64_Rela), obj.section(i));
    for (uint64_t k = 0; k < relas.size(); ++k) {
      const Relocation r{i,
                         k,
                         s.sh_info,
                         relas[k].r_offset,
                         static_cast<uint32_t>(ELF64_R_TYPE(relas[k].r_info)),
                         static_cast<uint32_t>(ELF64_R_SYM(relas[k].r_info)),
                         relas[k].r_addend};
      auto where = [&] {
        return "relocation " + std::to_string(k) + " of " + obj.section(i) + ": ";
      };
      uint64_t width = 4;
      switch (r.type) {
        case R_X86_64_NONE:
          width = 0;
          break;
        case R_X86_64_64:
        case R_X86_64_PC64:
          width = 8;
          break;
        case R_X86_64_PC32:
        case R_X86_64_PLT32:
        case R_X86_64_32:
        case R_X86_64_32S:
        case R_X86_64_GOTPCREL:
        case R_X86_64_GOTPCRELX:
        case R_X86_64_REX_GOTPCRELX:
          break;
        default:
          fail(where() + "unsupported relocation type " + std::to_string(r.type));
      }
      if (r.symbol >= obj.symbols.size())
        fail(where() + "symbol index " + std::to_string(r.symbol) + " is out of range");
      if (r.offset > target.sh_size || width > target.sh_size - r.offset)
        fail(where() + "offset " + hex(r.offset) + " is outside " + obj.section(s.sh_info));
      if (r.type != R_X86_64_NONE) out.push_back(r);
    }
  }
  return out;
}

struct Layout {
  std::vector<uint64_t> section_offset;  // per section, kNone when not loaded
  std::vector<uint64_t> stub_offset;     // per symbol: call stub for an import, or kNone
  std::vector<uint64_t> got_offset;      // per symbol: GOT entry, or kNone
  std::vector<uint64_t> common_offset;   // per symbol: storage of a COMMON symbol, or kNone
  uint64_t group_begin[3] = {};
  uint64_t group_end[3] = {};
  uint64_t size = 0;
};

Layout lay_out(const Object& obj, const std::vector<Group>& groups,
               const std::vector<Relocation>& relocations, uint64_t page) {
  Layout l;
  l.section_offset.assign(obj.sections.size(), kNone);
  l.stub_offset.assign(obj.symbols.size(), kNone);
  l.got_offset.assign(obj.symbols.size(), kNone);
  l.common_offset.assign(obj.symbols.size(), kNone);
  std::vector<bool> wants_stub(obj.symbols.size()), wants_got(obj.symbols.size());
  for (const Relocation& r : relocations) {
    if (uses_got(r.type)) wants_got[r.symbol] = true;
    if (r.type == R_X86_64_PLT32 && r.symbol != 0 && obj.symbols[r.symbol].st_shndx == SHN_UNDEF)
      wants_stub[r.symbol] = true;
  }
  uint64_t cursor = 0;
  // Sizes are checked one at a time against the cap, so the sum cannot overflow.
  auto place = [&](uint64_t size, uint64_t align, const std::string& what) {
    cursor = align_up(cursor, align);
    if (size > kMaxImageSize || kMaxImageSize - cursor < size)
      fail(what + ": the image would exceed " + hex(kMaxImageSize) + " bytes");
    const uint64_t at = cursor;
    cursor += size;
    return at;
  };
  for (uint8_t g = kText; g < kNotLoaded; ++g) {
    cursor = l.group_begin[g] = align_up(cursor, page);
    for (size_t i = 0; i < obj.sections.size(); ++i) {
      if (groups[i] != g) continue;
      const uint64_t align = checked_alignment(obj.sections[i].sh_addralign, page, obj.section(i));
      l.section_offset[i] = place(obj.sections[i].sh_size, align, obj.section(i));
    }
    for (size_t k = 0; k < obj.symbols.size(); ++k) {
      const Elf64_Sym& sym = obj.symbols[k];
      if (g == kText && wants_stub[k]) l.stub_offset[k] = place(kStubSize, 16, "call stubs");
      if (g == kReadOnly && wants_got[k]) l.got_offset[k] = place(8, 8, "the GOT");
      // COMMON symbols get zero-filled storage, as a linker would give them in .bss.
      if (g == kWritable && sym.st_shndx == SHN_COMMON && k != 0)
        l.common_offset[k] =
            place(sym.st_size, checked_alignment(sym.st_value, page, obj.symbol(k)), obj.symbol(k));
    }
    l.group_end[g] = cursor;
  }
  l.size = align_up(cursor, page);
  return l;
}

// Where a symbol's address comes from before the mapping exists.
struct Place {
  enum Kind : uint8_t { kMissing, kAbsolute, kImage } kind;
  uint64_t value;  // the address itself, or its offset in the image
};

std::vector<Place> resolve(const Object& obj, const Layout& l,
                           std::span<const ImportedSymbol> imports) {
  std::vector<Place> places(obj.symbols.size(), Place{Place::kAbsolute, 0});
  for (size_t i = 1; i < obj.symbols.size(); ++i) {
    const Elf64_Sym& sym = obj.symbols[i];
    const uint16_t shndx = sym.st_shndx;
    if (shndx == SHN_UNDEF) {
      // Few imports and few undefined symbols: a linear search is the simplest correct thing.
      auto it = std::find_if(imports.begin(), imports.end(), [&](const ImportedSymbol& s) {
        return s.name == obj.symbol_names[i];
      });
      if (it != imports.end())
        places[i].value = reinterpret_cast<uintptr_t>(it->address);
      else if (ELF64_ST_BIND(sym.st_info) != STB_WEAK)  // an undefined weak symbol is null
        fail("undefined " + obj.symbol(i) + " is not among the imports");
    } else if (shndx == SHN_ABS) {
      places[i].value = sym.st_value;
    } else if (shndx == SHN_COMMON) {
      places[i] = {Place::kImage, l.common_offset[i]};
    } else if (shndx >= SHN_LORESERVE || shndx >= obj.sections.size()) {
      fail(obj.symbol(i) + ": unsupported section index " + hex(shndx));
    } else if (l.section_offset[shndx] == kNone) {
      places[i].kind = Place::kMissing;  // an error only if a loaded section refers to it
    } else if (sym.st_value > obj.sections[shndx].sh_size) {
      fail(obj.symbol(i) + ": value lies past the end of " + obj.section(shndx));
    } else {
      places[i] = {Place::kImage, l.section_offset[shndx] + sym.st_value};
    }
  }
  return places;
}

// ---- Relocation -------------------------------------------------------------------------------

template <class T>
void store(std::byte* at, T value) {
  std::memcpy(at, &value, sizeof value);
}

void apply(const Object& obj, const Relocation& r, const Layout& l,
           const std::vector<Place>& places, std::byte* image) {
  const auto base = reinterpret_cast<uintptr_t>(image);
  const Place& place = places[r.symbol];
  auto where = [&] {
    return "relocation " + std::to_string(r.index) + " of " + obj.section(r.table) + " (type " +
           std::to_string(r.type) + " against " + obj.symbol(r.symbol) + "): ";
  };
  if (place.kind == Place::kMissing) fail(where() + "the symbol's section is not loaded");
  // Unsigned arithmetic wraps, which is exactly the two's-complement result wanted.
  const uint64_t s = place.kind == Place::kImage ? base + place.value : place.value;
  const uint64_t a = static_cast<uint64_t>(r.addend);
  std::byte* const at = image + l.section_offset[r.target] + r.offset;
  const uint64_t p = reinterpret_cast<uintptr_t>(at);
  auto store_s32 = [&](uint64_t value) {
    const auto v = static_cast<int64_t>(value);
    if (v != static_cast<int32_t>(v))
      fail(where() + "value " + hex(value) + " does not fit in a signed 32-bit field");
    store(at, static_cast<int32_t>(v));
  };
  switch (r.type) {
    case R_X86_64_64:
      store(at, s + a);
      break;
    case R_X86_64_PC64:
      store(at, s + a - p);
      break;
    case R_X86_64_PC32:
      store_s32(s + a - p);
      break;
    case R_X86_64_PLT32: {
      const uint64_t stub = l.stub_offset[r.symbol];
      store_s32((stub == kNone ? s : base + stub) + a - p);
      break;
    }
    case R_X86_64_32:
      if (s + a > UINT32_MAX)
        fail(where() + "value " + hex(s + a) + " does not fit in an unsigned 32-bit field");
      store(at, static_cast<uint32_t>(s + a));
      break;
    case R_X86_64_32S:
      store_s32(s + a);
      break;
    default:  // GOTPCREL, GOTPCRELX, REX_GOTPCRELX: the entry is used as is, never relaxed
      store_s32(base + l.got_offset[r.symbol] + a - p);
      break;
  }
}

}  // namespace

PageMapping::PageMapping(size_t size) {
  if (size == 0) return;
  // MAP_NORESERVE: large zero-filled sections cost nothing until touched.
  void* pages = mmap(nullptr, size, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (pages == MAP_FAILED)
    fail("cannot map " + std::to_string(size) + " bytes: " + std::strerror(errno));
  pages_ = std::unique_ptr<std::byte, Unmap>(static_cast<std::byte*>(pages), Unmap{size});
}

void PageMapping::Unmap::operator()(std::byte* pages) const noexcept {
  munmap(pages, size);
}

void PageMapping::protect(size_t offset, size_t size, int prot) const {
  if (size != 0 && mprotect(data() + offset, size, prot) != 0)
    fail("mprotect failed: " + std::string(std::strerror(errno)));
}

LoadedObject LoadedObject::load(std::span<const std::byte> bytes,
                                std::span<const ImportedSymbol> imports) {
  const uint64_t page = elf::page_size();
  const elf::Reader file(bytes, "[loader] ");
  const Object obj = parse(file);
  const std::vector<Group> groups = classify(file, obj);
  const std::vector<Relocation> relocations = collect_relocations(file, obj, groups);
  const Layout layout = lay_out(obj, groups, relocations, page);
  const std::vector<Place> places = resolve(obj, layout, imports);

  LoadedObject loaded;
  loaded.image_ = PageMapping(layout.size);
  std::byte* const image = loaded.image_.data();
  const auto base = reinterpret_cast<uintptr_t>(image);
  auto address = [&](size_t symbol) {
    const Place& p = places[symbol];
    return p.kind == Place::kImage ? base + p.value : p.value;
  };
  for (size_t i = 0; i < obj.sections.size(); ++i) {
    const Elf64_Shdr& s = obj.sections[i];
    // NOBITS sections stay as mmap zero-filled them; PROGBITS ranges were checked by classify.
    if (groups[i] != kNotLoaded && s.sh_type == SHT_PROGBITS && s.sh_size != 0)
      std::memcpy(image + layout.section_offset[i], bytes.data() + s.sh_offset, s.sh_size);
  }
  for (size_t k = 0; k < obj.symbols.size(); ++k) {
    if (layout.stub_offset[k] == kNone && layout.got_offset[k] == kNone) continue;
    if (places[k].kind == Place::kMissing)
      fail(obj.symbol(k) + ": referenced through the GOT, but its section is not loaded");
    if (layout.got_offset[k] != kNone) store(image + layout.got_offset[k], address(k));
    if (layout.stub_offset[k] != kNone) {
      std::byte* stub = image + layout.stub_offset[k];
      constexpr unsigned char kJmp[6] = {0xff, 0x25, 0, 0, 0, 0};  // jmp *0(%rip)
      std::memcpy(stub, kJmp, sizeof kJmp);
      store(stub + 6, address(k));
      std::memset(stub + 14, 0xcc, kStubSize - 14);  // int3
    }
  }
  for (const Relocation& r : relocations)
    apply(obj, r, layout, places, image);

  // Relocation is done: take write access away from code and constants (and the GOT).
  const int prot[3] = {PROT_READ | PROT_EXEC, PROT_READ, PROT_READ | PROT_WRITE};
  for (int g = kText; g < kNotLoaded; ++g) {
    const uint64_t end = align_up(layout.group_end[g], page);
    loaded.image_.protect(layout.group_begin[g], end - layout.group_begin[g], prot[g]);
  }
  // x86-64 keeps instruction fetch coherent with stores, so no cache flush is needed.

  // Globals first, so that a weak definition never hides a global one of the same name.
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t k = 1; k < obj.symbols.size(); ++k) {
      const Elf64_Sym& sym = obj.symbols[k];
      const int bind = ELF64_ST_BIND(sym.st_info), type = ELF64_ST_TYPE(sym.st_info);
      if (bind != (pass == 0 ? STB_GLOBAL : STB_WEAK) || sym.st_shndx == SHN_UNDEF ||
          type == STT_SECTION || type == STT_FILE || places[k].kind == Place::kMissing ||
          obj.symbol_names[k].empty())
        continue;
      const bool inserted =
          loaded.exports_
              .try_emplace(std::string(obj.symbol_names[k]), reinterpret_cast<void*>(address(k)))
              .second;
      if (!inserted && pass == 0) fail(obj.symbol(k) + ": defined twice");
    }
  }
  return loaded;
}

void* LoadedObject::find(std::string_view name) const {
  auto it = exports_.find(name);
  return it == exports_.end() ? nullptr : it->second;
}

}  // namespace kiln::runtime
