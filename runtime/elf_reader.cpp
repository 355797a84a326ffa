#include "runtime/elf_reader.h"

#include <unistd.h>

#include <cstdio>

#include "ir/error.h"

namespace kiln::runtime::elf {

void Reader::fail(const std::string& message) const {
  throw Error(prefix_ + message);
}

std::span<const std::byte> Reader::range(uint64_t offset, uint64_t size,
                                         const std::string& what) const {
  if (offset > file_.size() || size > file_.size() - offset)
    fail(what + " lies outside the file (offset " + hex(offset) + ", size " + hex(size) +
         ", file size " + hex(file_.size()) + ")");
  return file_.subspan(offset, size);
}

std::string_view Reader::string(std::span<const std::byte> table, uint64_t offset,
                                const char* owner, uint64_t index) const {
  const char* begin = nullptr;
  const void* end = nullptr;
  if (offset < table.size()) {
    begin = reinterpret_cast<const char*>(table.data()) + offset;
    end = std::memchr(begin, 0, table.size() - offset);
  }
  if (end == nullptr)
    fail(std::string(owner) + " " + std::to_string(index) + ": name offset " + hex(offset) +
         " does not point at a NUL-terminated string in its string table");
  return {begin, static_cast<size_t>(static_cast<const char*>(end) - begin)};
}

Elf64_Ehdr Reader::x86_64_header(uint16_t type, const char* type_name) const {
  const auto h = read<Elf64_Ehdr>(0, "the ELF header");
  if (std::memcmp(h.e_ident, ELFMAG, SELFMAG) != 0) fail("not an ELF file (bad magic)");
  if (h.e_ident[EI_CLASS] != ELFCLASS64) fail("not an ELF64 object (EI_CLASS is not ELFCLASS64)");
  if (h.e_ident[EI_DATA] != ELFDATA2LSB) fail("not a little-endian object (EI_DATA)");
  if (h.e_ident[EI_VERSION] != EV_CURRENT || h.e_version != EV_CURRENT) fail("unknown ELF version");
  if (h.e_type != type)
    fail("not " + std::string(type_name) + " (e_type " + std::to_string(h.e_type) + ")");
  if (h.e_machine != EM_X86_64)
    fail("not an x86-64 object (e_machine " + std::to_string(h.e_machine) + ")");
  return h;
}

std::string hex(uint64_t value) {
  char text[24];
  std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(value));
  return text;
}

std::string printable(std::string_view name) {
  std::string out(name.substr(0, 80));
  for (char& c : out)
    if (c < 0x20 || c > 0x7e) c = '?';
  return name.size() > out.size() ? out + "..." : out;
}

uint64_t page_size() {
  const long size = sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<uint64_t>(size) : 4096;
}

}  // namespace kiln::runtime::elf
