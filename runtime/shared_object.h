#pragma once
// Loads the code of an ahead-of-time bundle: one x86-64 shared object (ET_DYN) per CPU target,
// as compiler/shared_object_linker.h links it, without dlopen and without running a byte of it
// before the whole file has been checked (the approach of IREE's embedded-ELF loader). dlopen
// would run initializers, search for DT_NEEDED libraries and resolve imports against the whole
// process; this loader runs nothing, needs nothing, and resolves only against the runtime's
// allow-list of imports (runtime/kernel_imports.h).
//
// A bundle is untrusted input: every offset, size and index is checked before use, and
// anything the loader does not fully understand is refused with a kiln::Error whose message
// starts "[loader] <where>: " and names the rule broken. The rules, beyond a well-formed ELF64
// little-endian x86-64 ET_DYN:
//   - PT_LOAD segments lie inside the file, ascend without sharing a page, span at most 1 GiB,
//     and none is both writable and executable. No PT_INTERP or PT_TLS; PT_GNU_STACK is not
//     executable; PT_GNU_RELRO lies in one writable segment and is made read-only.
//   - The dynamic section (inside a PT_LOAD) has no DT_NEEDED, no initializer or finalizer
//     (code that would run on load), no DT_TEXTREL, and only RELA relocations. Symbols come
//     from DT_SYMTAB, counted by the SysV hash table DT_HASH (the linker writes no other).
//   - Relocations are R_X86_64_NONE, RELATIVE, GLOB_DAT, JUMP_SLOT or 64, each inside a
//     writable segment. No IFUNC, TLS or undefined weak symbol; every undefined symbol is one
//     of the imports, used or not; a defined function lies inside an executable segment.
// The file is copied first, so that nothing can change between the checks and the mapping.
// The mapping is read+write while segments are copied and relocated, then each segment gets
// exactly its own protection (code read+execute, RELRO read-only): never writable and
// executable at once.
//
// Profiling: with KILN_PERF_MAP=1 in the environment, each load appends a line
// "<hex start> <hex size> <name>" per exported function to /tmp/perf-<pid>.map, perf's map of
// JIT code, so that `perf report` names bundle kernels. There is no GDB JIT interface: to
// debug a kernel, `kiln bundle extract-ir` gives its IR back, which runs through the JIT path.

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>

#include "runtime/object_loader.h"

namespace kiln::runtime {

class LoadedSharedObject {
 public:
  // Validates (as validate_shared_object does), then maps. `where` names the input in messages
  // ("model.kbundle, x86-64-v3").
  static LoadedSharedObject load(std::span<const std::byte> elf,
                                 std::span<const ImportedSymbol> imports, std::string_view where);

  // The address of a defined function symbol of .dynsym, or nullptr.
  void* find(std::string_view name) const;

  // The whole reservation, from the first segment's page to the last one's end.
  std::span<const std::byte> image() const { return {image_.data(), image_.size()}; }

  LoadedSharedObject(LoadedSharedObject&&) = default;
  LoadedSharedObject& operator=(LoadedSharedObject&&) = default;

 private:
  LoadedSharedObject() = default;

  PageMapping image_;
  std::map<std::string, void*, std::less<>> exports_;
};

// The checks of load() without mapping anything (`kiln bundle verify`): throws exactly what
// load() would for the same input, short of the system refusing memory.
void validate_shared_object(std::span<const std::byte> elf, std::span<const ImportedSymbol> imports,
                            std::string_view where);

}  // namespace kiln::runtime
