#pragma once
// Runs kernels from the x86-64 ELF relocatable objects (.o) that the CPU backend emits
// (relocation model PIC, small code model) without linking LLVM: the object's allocated
// sections are mapped into one region, relocated against the object's own symbols and a list of
// imports, and protected (code read+execute, constants read-only, data read+write).
//
// The input is untrusted in the sense that a cache file may be truncated or corrupt: every
// offset, size, index and string is checked before use, and anything the loader does not fully
// understand is refused with a kiln::Error rather than loaded half-right.

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace kiln::runtime {

struct ImportedSymbol {
  std::string_view name;
  const void* address;
};

// Pages from an anonymous mmap, unmapped when the owner goes away. Move-only.
class PageMapping {
 public:
  PageMapping() = default;
  explicit PageMapping(size_t size);  // zero-filled, read+write; size 0 maps nothing
  std::byte* data() const { return pages_.get(); }
  size_t size() const { return pages_ ? pages_.get_deleter().size : 0; }
  // Sets the protection of [offset, offset + size), both page-aligned.
  void protect(size_t offset, size_t size, int prot) const;

 private:
  struct Unmap {
    size_t size;  // no initializer, which would keep unique_ptr from default-constructing it
    void operator()(std::byte* pages) const noexcept;
  };
  std::unique_ptr<std::byte, Unmap> pages_;
};

// Code and data of one relocatable object, mapped and relocated; read-only/executable once
// loaded. Move-only; unmaps on destruction.
class LoadedObject {
 public:
  // Throws kiln::Error with a message starting "[loader] " that names the rule broken (and the
  // section/symbol/relocation index where relevant) for any object that is not a well-formed
  // x86-64 ELF64 little-endian ET_REL, has an unsupported relocation, or refers to an undefined
  // symbol that `imports` does not provide (undefined weak symbols resolve to null).
  static LoadedObject load(std::span<const std::byte> object,
                           std::span<const ImportedSymbol> imports);

  // The address of a defined global (or weak) symbol, or nullptr.
  void* find(std::string_view name) const;

  // The whole mapping (sections, call stubs, GOT, COMMON symbols), for diagnostics.
  std::span<const std::byte> image() const { return {image_.data(), image_.size()}; }

  LoadedObject(LoadedObject&&) = default;
  LoadedObject& operator=(LoadedObject&&) = default;

 private:
  LoadedObject() = default;

  PageMapping image_;
  std::map<std::string, void*, std::less<>> exports_;
};

}  // namespace kiln::runtime
