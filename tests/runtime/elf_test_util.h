#pragma once
// Reading and patching the bytes of linked x86-64 shared objects in tests: the loader's tests
// break one rule at a time, and the bundle tests plant such breaks inside a bundle's code.

#include <elf.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::runtime::elf_testing {

using Bytes = std::vector<std::byte>;

template <class T>
T get(const Bytes& bytes, size_t offset) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

template <class T>
void put(Bytes& bytes, size_t offset, T value) {
  std::memcpy(bytes.data() + offset, &value, sizeof value);
}

// File offsets of the program headers.
inline std::vector<size_t> program_headers(const Bytes& so) {
  const auto h = get<Elf64_Ehdr>(so, 0);
  std::vector<size_t> out;
  for (size_t i = 0; i < h.e_phnum; ++i)
    out.push_back(h.e_phoff + i * sizeof(Elf64_Phdr));
  return out;
}

// The first of `entries` (file offsets of T's) whose `field` is `value`.
template <class T, class Field>
std::optional<size_t> find_entry(const Bytes& so, const std::vector<size_t>& entries,
                                 Field T::*field, Field value) {
  for (size_t at : entries)
    if (get<T>(so, at).*field == value) return at;
  return std::nullopt;
}

inline size_t program_header(const Bytes& so, Elf64_Word type) {
  return find_entry(so, program_headers(so), &Elf64_Phdr::p_type, type).value();
}

inline size_t file_offset(const Bytes& so, uint64_t address) {
  for (size_t at : program_headers(so)) {
    const auto p = get<Elf64_Phdr>(so, at);
    if (p.p_type == PT_LOAD && address >= p.p_vaddr && address < p.p_vaddr + p.p_filesz)
      return p.p_offset + (address - p.p_vaddr);
  }
  ADD_FAILURE() << "address " << address << " is not in the file";
  return 0;
}

// File offsets of the dynamic entries, DT_NULL excluded.
inline std::vector<size_t> dynamic_entries(const Bytes& so) {
  std::vector<size_t> out;
  for (size_t at = get<Elf64_Phdr>(so, program_header(so, PT_DYNAMIC)).p_offset;
       get<Elf64_Dyn>(so, at).d_tag != DT_NULL; at += sizeof(Elf64_Dyn))
    out.push_back(at);
  return out;
}

inline size_t dynamic_entry(const Bytes& so, Elf64_Sxword tag) {
  return find_entry(so, dynamic_entries(so), &Elf64_Dyn::d_tag, tag).value();
}

inline uint64_t dynamic_value(const Bytes& so, Elf64_Sxword tag) {
  const std::optional<size_t> at = find_entry(so, dynamic_entries(so), &Elf64_Dyn::d_tag, tag);
  return at ? get<Elf64_Dyn>(so, *at).d_un.d_val : 0;
}

// Renames `from` to `to` (as long) in the dynamic string table: an import the loader must
// refuse by name, in an object that is otherwise whole.
inline void rename_dynamic_string(Bytes& so, std::string_view from, std::string_view to) {
  ASSERT_EQ(from.size(), to.size());
  const size_t strtab = file_offset(so, dynamic_value(so, DT_STRTAB));
  const std::string names(reinterpret_cast<const char*>(so.data() + strtab),
                          dynamic_value(so, DT_STRSZ));
  const size_t at = names.find('\0' + std::string(from) + '\0');
  ASSERT_NE(at, std::string::npos) << from << " is not in .dynstr";
  std::memcpy(so.data() + strtab + at + 1, to.data(), to.size());
}

}  // namespace kiln::runtime::elf_testing
