#include "runtime/shared_object.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

#include "runtime/elf_reader.h"

namespace kiln::runtime {

namespace {

using elf::align_down;
using elf::align_up;
using elf::hex;
using elf::printable;

// Caps the reservation, zero-filled memory included, so a corrupt size cannot reserve
// unbounded memory.
constexpr uint64_t kMaxImageSize = uint64_t{1} << 30;
// Addresses above this are refused before any sum, so that vaddr + size never overflows.
constexpr uint64_t kMaxAddress = uint64_t{1} << 62;

struct Segment {
  uint64_t vaddr, memsz, offset, filesz;
  uint32_t flags;

  uint64_t end() const { return vaddr + memsz; }
  // Whether [address, address + size) lies inside the segment's memory.
  bool holds(uint64_t address, uint64_t size) const {
    return address >= vaddr && address - vaddr <= memsz && size <= memsz - (address - vaddr);
  }
};

struct Relocation {
  uint64_t offset;
  uint32_t type;
  uint32_t symbol;
  int64_t addend;
};

struct Export {
  std::string_view name;
  uint64_t vaddr, size;
};

// Everything load() needs, after every check has passed.
struct Checked {
  uint64_t low = 0, high = 0;  // the page-aligned range of addresses the segments cover
  std::vector<Segment> loads;
  uint64_t relro_begin = 0, relro_end = 0;  // page-aligned; empty when there is no RELRO
  std::vector<Relocation> relocations;
  // Per symbol: the import's address for an undefined one, else its address in the file.
  std::vector<uint64_t> symbol_values;
  std::vector<bool> imported;
  std::vector<Export> exports;
};

// The dynamic tags that make a file unloadable here, and why.
struct Forbidden {
  int64_t tag;
  const char* name;
  const char* why;
};
constexpr const char* kRunsOnLoad =
    "an initializer or finalizer is code that would run on load, and the loader runs none";
constexpr const char* kOnlyRela = "only RELA relocations are supported";
constexpr Forbidden kForbiddenTags[] = {
    {DT_INIT, "DT_INIT", kRunsOnLoad},
    {DT_FINI, "DT_FINI", kRunsOnLoad},
    {DT_INIT_ARRAY, "DT_INIT_ARRAY", kRunsOnLoad},
    {DT_FINI_ARRAY, "DT_FINI_ARRAY", kRunsOnLoad},
    {DT_PREINIT_ARRAY, "DT_PREINIT_ARRAY", kRunsOnLoad},
    {DT_INIT_ARRAYSZ, "DT_INIT_ARRAYSZ", kRunsOnLoad},
    {DT_FINI_ARRAYSZ, "DT_FINI_ARRAYSZ", kRunsOnLoad},
    {DT_PREINIT_ARRAYSZ, "DT_PREINIT_ARRAYSZ", kRunsOnLoad},
    {DT_TEXTREL, "DT_TEXTREL", "relocations in code would make it writable"},
    {DT_REL, "DT_REL", kOnlyRela},
    {DT_RELSZ, "DT_RELSZ", kOnlyRela},
    {DT_RELENT, "DT_RELENT", kOnlyRela},
};

// The dynamic entries the loader reads; 0 where absent (no file of the linker's has a 0 address
// for any of them: the ELF header is there).
struct Dynamic {
  uint64_t symtab = 0, syment = 0, strtab = 0, strsz = 0, hash = 0;
  uint64_t rela = 0, relasz = 0, relaent = 0, jmprel = 0, pltrelsz = 0, pltrel = 0;
  std::vector<uint64_t> needed;  // name offsets, for the message
};

struct ReadTag {
  int64_t tag;
  const char* name;
  uint64_t Dynamic::*field;
};
constexpr ReadTag kReadTags[] = {
    {DT_SYMTAB, "DT_SYMTAB", &Dynamic::symtab}, {DT_SYMENT, "DT_SYMENT", &Dynamic::syment},
    {DT_STRTAB, "DT_STRTAB", &Dynamic::strtab}, {DT_STRSZ, "DT_STRSZ", &Dynamic::strsz},
    {DT_HASH, "DT_HASH", &Dynamic::hash},       {DT_RELA, "DT_RELA", &Dynamic::rela},
    {DT_RELASZ, "DT_RELASZ", &Dynamic::relasz}, {DT_RELAENT, "DT_RELAENT", &Dynamic::relaent},
    {DT_JMPREL, "DT_JMPREL", &Dynamic::jmprel}, {DT_PLTRELSZ, "DT_PLTRELSZ", &Dynamic::pltrelsz},
    {DT_PLTREL, "DT_PLTREL", &Dynamic::pltrel},
};

class Checker {
 public:
  Checker(std::span<const std::byte> file, std::span<const ImportedSymbol> imports,
          std::string_view where)
      : file_(file, "[loader] " + std::string(where) + ": "),
        imports_(imports),
        page_(elf::page_size()) {}

  Checked run() {
    const Elf64_Ehdr h = file_.x86_64_header(ET_DYN, "a shared object");
    if (h.e_ident[EI_OSABI] != ELFOSABI_NONE && h.e_ident[EI_OSABI] != ELFOSABI_GNU)
      fail("OS ABI " + std::to_string(h.e_ident[EI_OSABI]) + " is neither System V nor GNU");
    if (h.e_ehsize != sizeof(Elf64_Ehdr)) fail("e_ehsize is not sizeof(Elf64_Ehdr)");
    if (h.e_phentsize != sizeof(Elf64_Phdr)) fail("e_phentsize is not sizeof(Elf64_Phdr)");
    if (h.e_shentsize != sizeof(Elf64_Shdr)) fail("e_shentsize is not sizeof(Elf64_Shdr)");
    // PN_XNUM would move the count into a section header, which nothing here needs.
    if (h.e_phnum == 0 || h.e_phnum == PN_XNUM)
      fail("no program headers, or extended program header numbering (unsupported)");
    program_headers(file_.read_array<Elf64_Phdr>(h.e_phoff, h.e_phnum, "the program headers"));
    const Dynamic d = dynamic();
    const std::span<const std::byte> strtab = in_file(d.strtab, d.strsz, "DT_STRTAB");
    for (uint64_t offset : d.needed)
      fail("needs library '" + printable(file_.string(strtab, offset, "DT_NEEDED", 0)) +
           "' (DT_NEEDED), and the loader loads no other library");
    symbols(d, strtab);
    relocations(d.rela, d.relasz, "DT_RELA");
    relocations(d.jmprel, d.pltrelsz, "DT_JMPREL");
    return std::move(out_);
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { file_.fail(message); }

  // ---- Program headers ------------------------------------------------------------------------

  void program_headers(const std::vector<Elf64_Phdr>& headers) {
    std::optional<Elf64_Phdr> dynamic, relro;
    for (size_t i = 0; i < headers.size(); ++i) {
      const Elf64_Phdr& p = headers[i];
      const std::string what = "program header " + std::to_string(i);
      switch (p.p_type) {
        case PT_LOAD:
          load_segment(p, what + " (PT_LOAD)");
          break;
        case PT_DYNAMIC:
          if (dynamic) fail(what + ": a second PT_DYNAMIC");
          dynamic = p;
          break;
        case PT_GNU_RELRO:
          if (relro) fail(what + ": a second PT_GNU_RELRO");
          relro = p;
          break;
        case PT_GNU_STACK:
          if ((p.p_flags & PF_X) != 0) fail(what + ": PT_GNU_STACK asks for an executable stack");
          break;
        case PT_INTERP:
          fail(what + ": PT_INTERP asks for a program interpreter");
        case PT_TLS:
          fail(what + ": PT_TLS (thread-local storage) is unsupported");
        // Metadata that loading does not need.
        case PT_NULL:
        case PT_NOTE:
        case PT_PHDR:
        case PT_GNU_EH_FRAME:
        case PT_GNU_PROPERTY:
          break;
        default:
          fail(what + ": unsupported program header type " + hex(p.p_type));
      }
    }
    if (out_.loads.empty()) fail("no PT_LOAD segment");
    out_.low = align_down(out_.loads.front().vaddr, page_);
    out_.high = align_up(out_.loads.back().end(), page_);
    if (out_.high - out_.low > kMaxImageSize)
      fail("the PT_LOAD segments span " + hex(out_.high - out_.low) + " bytes, more than " +
           hex(kMaxImageSize));
    if (!dynamic) fail("no PT_DYNAMIC");
    const uint64_t offset = in_file_offset(dynamic->p_vaddr, dynamic->p_filesz, "PT_DYNAMIC");
    if (offset != dynamic->p_offset)
      fail("PT_DYNAMIC's p_offset " + hex(dynamic->p_offset) + " is not where its PT_LOAD puts " +
           "p_vaddr " + hex(dynamic->p_vaddr));
    dynamic_ = *dynamic;
    if (relro) relro_region(*relro);
  }

  void load_segment(const Elf64_Phdr& p, const std::string& what) {
    if (p.p_filesz > p.p_memsz) fail(what + ": p_filesz exceeds p_memsz");
    file_.range(p.p_offset, p.p_filesz, what);
    if ((p.p_align & (p.p_align - 1)) != 0)
      fail(what + ": alignment " + hex(p.p_align) + " is not a power of two");
    if (p.p_vaddr % page_ != p.p_offset % page_)
      fail(what + ": p_vaddr " + hex(p.p_vaddr) + " and p_offset " + hex(p.p_offset) +
           " differ modulo the page size");
    if (p.p_vaddr > kMaxAddress || p.p_memsz > kMaxImageSize)
      fail(what + ": p_vaddr " + hex(p.p_vaddr) + " or p_memsz " + hex(p.p_memsz) +
           " is out of range");
    if ((p.p_flags & ~uint32_t{PF_R | PF_W | PF_X}) != 0)
      fail(what + ": unknown flags " + hex(p.p_flags));
    if ((p.p_flags & PF_W) != 0 && (p.p_flags & PF_X) != 0)
      fail(what + ": both writable and executable (W+X)");
    // Each segment is protected on its own, so no two may share a page.
    if (!out_.loads.empty() &&
        align_down(p.p_vaddr, page_) < align_up(out_.loads.back().end(), page_))
      fail(what +
           ": not above the previous PT_LOAD's last page (segments must ascend without "
           "sharing a page)");
    out_.loads.push_back({p.p_vaddr, p.p_memsz, p.p_offset, p.p_filesz, p.p_flags});
  }

  // The part of a writable segment that is read-only once relocated: from its first page (the
  // region starts the segment or a page) up to the last page it fills, as ld.so does.
  void relro_region(const Elf64_Phdr& p) {
    const Segment* s = segment_at(p.p_vaddr, 0);
    if (s == nullptr || (s->flags & PF_W) == 0)
      fail("PT_GNU_RELRO at " + hex(p.p_vaddr) + " is not inside a writable PT_LOAD");
    if (p.p_vaddr != s->vaddr && p.p_vaddr % page_ != 0)
      fail("PT_GNU_RELRO starts inside a page of writable data");
    if (p.p_memsz > align_up(s->end(), page_) - p.p_vaddr)
      fail("PT_GNU_RELRO extends past the pages of its PT_LOAD");
    out_.relro_begin = align_down(p.p_vaddr, page_);
    out_.relro_end = std::max(out_.relro_begin, align_down(p.p_vaddr + p.p_memsz, page_));
  }

  const Segment* segment_at(uint64_t address, uint64_t size) const {
    for (const Segment& s : out_.loads)
      if (s.holds(address, size)) return &s;
    return nullptr;
  }

  // Where [address, address + size) of memory comes from in the file: it must lie in the file
  // bytes of one PT_LOAD (tables in zero-filled memory would be empty).
  uint64_t in_file_offset(uint64_t address, uint64_t size, const std::string& what) const {
    for (const Segment& s : out_.loads)
      if (address >= s.vaddr && address - s.vaddr <= s.filesz &&
          size <= s.filesz - (address - s.vaddr))
        return s.offset + (address - s.vaddr);
    fail(what + " (address " + hex(address) + ", size " + hex(size) +
         ") is not inside the file bytes of a PT_LOAD segment");
  }
  std::span<const std::byte> in_file(uint64_t address, uint64_t size,
                                     const std::string& what) const {
    return file_.range(in_file_offset(address, size, what), size, what);
  }

  // ---- The dynamic section --------------------------------------------------------------------

  Dynamic dynamic() const {
    const auto entries = file_.read_array<Elf64_Dyn>(
        dynamic_.p_offset, dynamic_.p_filesz / sizeof(Elf64_Dyn), "the dynamic section");
    Dynamic d;
    std::vector<int64_t> seen;
    size_t i = 0;
    for (; i < entries.size() && entries[i].d_tag != DT_NULL; ++i) {
      const Elf64_Dyn& e = entries[i];
      for (const Forbidden& f : kForbiddenTags)
        if (e.d_tag == f.tag)
          fail("dynamic entry " + std::to_string(i) + " is " + f.name + ": " + f.why);
      auto read = std::find_if(std::begin(kReadTags), std::end(kReadTags),
                               [&](const ReadTag& r) { return r.tag == e.d_tag; });
      if (read != std::end(kReadTags)) {
        if (std::find(seen.begin(), seen.end(), e.d_tag) != seen.end())
          fail("dynamic entry " + std::to_string(i) + ": a second " + read->name);
        seen.push_back(e.d_tag);
        d.*read->field = e.d_un.d_val;
        continue;
      }
      switch (e.d_tag) {
        case DT_NEEDED:
          d.needed.push_back(e.d_un.d_val);
          break;
        case DT_FLAGS:
          if ((e.d_un.d_val & DF_TEXTREL) != 0)
            fail("DT_FLAGS has DF_TEXTREL: relocations in code would make it writable");
          if ((e.d_un.d_val & DF_STATIC_TLS) != 0)
            fail("DT_FLAGS has DF_STATIC_TLS: thread-local storage is unsupported");
          break;
        // Facts for ld.so that change nothing here: the GOT's address (lazy binding, which the
        // loader never does), the count of RELATIVE relocations, binding flags, a name, a GNU
        // hash table (the loader reads DT_HASH), and the debugger's slot.
        case DT_PLTGOT:
        case DT_RELACOUNT:
        case DT_FLAGS_1:
        case DT_SONAME:
        case DT_GNU_HASH:
        case DT_DEBUG:
          break;
        default:
          fail("dynamic entry " + std::to_string(i) + ": unsupported tag " +
               hex(static_cast<uint64_t>(e.d_tag)));
      }
    }
    if (i == entries.size()) fail("the dynamic section does not end with DT_NULL");
    if (d.symtab == 0 || d.strtab == 0 || d.strsz == 0)
      fail("DT_SYMTAB, DT_STRTAB or DT_STRSZ is missing");
    if (d.hash == 0) fail("no DT_HASH (the SysV hash table gives the loader the symbol count)");
    if (d.syment != 0 && d.syment != sizeof(Elf64_Sym)) fail("DT_SYMENT is not sizeof(Elf64_Sym)");
    if ((d.rela != 0) != (d.relasz != 0)) fail("DT_RELA and DT_RELASZ must come together");
    if (d.rela != 0 && d.relaent != sizeof(Elf64_Rela))
      fail("DT_RELAENT is not sizeof(Elf64_Rela)");
    if ((d.jmprel != 0) != (d.pltrelsz != 0)) fail("DT_JMPREL and DT_PLTRELSZ must come together");
    if (d.jmprel != 0 && d.pltrel != DT_RELA) fail("DT_PLTREL is not DT_RELA");
    if (d.relasz % sizeof(Elf64_Rela) != 0 || d.pltrelsz % sizeof(Elf64_Rela) != 0)
      fail("DT_RELASZ or DT_PLTRELSZ is not a multiple of sizeof(Elf64_Rela)");
    return d;
  }

  // ---- Symbols --------------------------------------------------------------------------------

  void symbols(const Dynamic& d, std::span<const std::byte> strtab) {
    const auto hash =
        file_.read_array<uint32_t>(in_file_offset(d.hash, 8, "DT_HASH"), 2, "DT_HASH");
    const uint64_t nbucket = hash[0], count = hash[1];
    in_file(d.hash, 4 * (2 + nbucket + count), "DT_HASH's buckets and chains");
    if (count == 0) fail("DT_HASH counts no symbols");
    const auto symbols = file_.read_array<Elf64_Sym>(
        in_file_offset(d.symtab, count * sizeof(Elf64_Sym), "DT_SYMTAB"), count, "DT_SYMTAB");
    out_.symbol_values.assign(count, 0);
    out_.imported.assign(count, false);
    for (size_t i = 1; i < symbols.size(); ++i) {
      const Elf64_Sym& sym = symbols[i];
      const std::string_view name = file_.string(strtab, sym.st_name, "symbol", i);
      const std::string what = "symbol " + std::to_string(i) + " ('" + printable(name) + "')";
      const int bind = ELF64_ST_BIND(sym.st_info), type = ELF64_ST_TYPE(sym.st_info);
      if (sym.st_shndx == SHN_UNDEF) {
        // A weak one would resolve to null: simpler to refuse, and the linker makes none.
        if (bind != STB_GLOBAL) fail(what + ": undefined, and not a global symbol");
        out_.symbol_values[i] = reinterpret_cast<uintptr_t>(import(name));
        out_.imported[i] = true;
        continue;
      }
      if (type == STT_GNU_IFUNC) fail(what + ": an IFUNC, whose resolver would run on load");
      if (type == STT_TLS) fail(what + ": thread-local storage is unsupported");
      if (type != STT_NOTYPE && type != STT_OBJECT && type != STT_FUNC)
        fail(what + ": unsupported symbol type " + std::to_string(type));
      if (bind != STB_LOCAL && bind != STB_GLOBAL && bind != STB_WEAK)
        fail(what + ": unsupported binding " + std::to_string(bind));
      if (sym.st_shndx >= SHN_LORESERVE)
        fail(what + ": unsupported section index " + hex(sym.st_shndx));
      const Segment* s = segment_at(sym.st_value, sym.st_size);
      if (s == nullptr) fail(what + ": lies outside every PT_LOAD segment");
      if (type == STT_FUNC && (s->flags & PF_X) == 0)
        fail(what + ": a function outside the executable segments");
      out_.symbol_values[i] = sym.st_value;
      if (type != STT_FUNC || bind == STB_LOCAL) continue;
      for (const Export& e : out_.exports)
        if (e.name == name) fail(what + ": defined twice");
      out_.exports.push_back({name, sym.st_value, sym.st_size});
    }
  }

  const void* import(std::string_view name) const {
    // Few imports and few undefined symbols: a linear search is the simplest correct thing.
    for (const ImportedSymbol& s : imports_)
      if (s.name == name) return s.address;
    fail("imports '" + printable(name) + "', which the runtime does not provide");
  }

  // ---- Relocations ----------------------------------------------------------------------------

  void relocations(uint64_t address, uint64_t size, const char* table) {
    if (address == 0) return;
    const uint64_t count = size / sizeof(Elf64_Rela);
    const auto relas =
        file_.read_array<Elf64_Rela>(in_file_offset(address, size, table), count, table);
    for (uint64_t k = 0; k < relas.size(); ++k) {
      const Relocation r{relas[k].r_offset, static_cast<uint32_t>(ELF64_R_TYPE(relas[k].r_info)),
                         static_cast<uint32_t>(ELF64_R_SYM(relas[k].r_info)), relas[k].r_addend};
      const std::string what = "relocation " + std::to_string(k) + " of " + table + " (type " +
                               std::to_string(r.type) + ")";
      switch (r.type) {
        case R_X86_64_NONE:
          continue;
        case R_X86_64_RELATIVE:
          if (r.symbol != 0) fail(what + ": R_X86_64_RELATIVE names a symbol");
          break;
        case R_X86_64_64:
        case R_X86_64_GLOB_DAT:
        case R_X86_64_JUMP_SLOT:
          if (r.symbol == 0 || r.symbol >= out_.symbol_values.size())
            fail(what + ": symbol index " + std::to_string(r.symbol) + " is not a symbol");
          break;
        default:
          fail(what + ": unsupported relocation type " + std::to_string(r.type));
      }
      const Segment* s = segment_at(r.offset, sizeof(uint64_t));
      if (s == nullptr || (s->flags & PF_W) == 0)
        fail(what + ": offset " + hex(r.offset) + " is not inside a writable segment");
      out_.relocations.push_back(r);
    }
  }

  elf::Reader file_;
  std::span<const ImportedSymbol> imports_;
  uint64_t page_;
  Elf64_Phdr dynamic_{};
  Checked out_;
};

int protection(uint32_t flags) {
  return ((flags & PF_R) ? PROT_READ : 0) | ((flags & PF_W) ? PROT_WRITE : 0) |
         ((flags & PF_X) ? PROT_EXEC : 0);
}

// perf's map of JIT code (tools/perf/Documentation/jit-interface.txt). A debugging aid: when it
// cannot be written, the load goes on. One write, so concurrent loads do not interleave lines.
void append_perf_map(const std::vector<Export>& exports, uint64_t bias) {
  const char* enabled = std::getenv("KILN_PERF_MAP");
  if (enabled == nullptr || std::string_view(enabled) != "1") return;
  std::string lines;
  for (const Export& e : exports)
    lines += hex(bias + e.vaddr).substr(2) + " " + hex(e.size).substr(2) + " " +
             std::string(e.name) + "\n";
  const std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  // O_NOFOLLOW: /tmp is shared, and the file's name is predictable.
  const int fd = open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0) return;
  [[maybe_unused]] const ssize_t written = write(fd, lines.data(), lines.size());
  close(fd);
}

}  // namespace

void validate_shared_object(std::span<const std::byte> elf, std::span<const ImportedSymbol> imports,
                            std::string_view where) {
  Checker(elf, imports, where).run();
}

LoadedSharedObject LoadedSharedObject::load(std::span<const std::byte> elf,
                                            std::span<const ImportedSymbol> imports,
                                            std::string_view where) {
  // A private copy: the caller's bytes (a mapped file, say) could change after the checks.
  const std::vector<std::byte> file(elf.begin(), elf.end());
  const Checked c = Checker(file, imports, where).run();

  LoadedSharedObject loaded;
  loaded.image_ = PageMapping(c.high - c.low);
  std::byte* const image = loaded.image_.data();
  // Unsigned arithmetic wraps, which is exactly the two's-complement result wanted.
  const uint64_t bias = reinterpret_cast<uintptr_t>(image) - c.low;
  // The mapping is zero-filled, so each segment's tail past its file bytes (.bss) already is.
  for (const Segment& s : c.loads)
    if (s.filesz != 0) std::memcpy(image + (s.vaddr - c.low), file.data() + s.offset, s.filesz);
  for (const Relocation& r : c.relocations) {
    const uint64_t symbol = c.symbol_values[r.symbol] + (c.imported[r.symbol] ? 0 : bias);
    const uint64_t value =
        (r.type == R_X86_64_RELATIVE ? bias : symbol) + static_cast<uint64_t>(r.addend);
    std::memcpy(image + (r.offset - c.low), &value, sizeof value);
  }

  // Relocation is done: each segment's pages get its own protection, the pages between
  // segments none, and RELRO becomes read-only. Code pages go from read+write to
  // read+execute, never both writable and executable.
  const uint64_t page = elf::page_size();
  uint64_t cursor = c.low;
  for (const Segment& s : c.loads) {
    const uint64_t begin = align_down(s.vaddr, page), end = align_up(s.end(), page);
    loaded.image_.protect(cursor - c.low, begin - cursor, PROT_NONE);
    loaded.image_.protect(begin - c.low, end - begin, protection(s.flags));
    cursor = end;
  }
  if (c.relro_end > c.relro_begin)
    loaded.image_.protect(c.relro_begin - c.low, c.relro_end - c.relro_begin, PROT_READ);
  // x86-64 keeps instruction fetch coherent with stores, so no cache flush is needed.

  for (const Export& e : c.exports)
    loaded.exports_.emplace(std::string(e.name), reinterpret_cast<void*>(bias + e.vaddr));
  append_perf_map(c.exports, bias);
  return loaded;
}

void* LoadedSharedObject::find(std::string_view name) const {
  auto it = exports_.find(name);
  return it == exports_.end() ? nullptr : it->second;
}

}  // namespace kiln::runtime
