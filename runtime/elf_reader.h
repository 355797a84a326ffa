#pragma once
// What the runtime's two ELF loaders (runtime/object_loader.h for relocatable objects,
// runtime/shared_object.h for bundles' shared objects) share: checked reads of an untrusted
// file, the header checks common to both, and the text of their messages. Every read is bounds
// checked before it happens and copies, since the file need not be aligned for the struct read.

#include <elf.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace kiln::runtime::elf {

// The bytes of one file and the prefix of every message about it ("[loader] " or
// "[loader] <where>: "): each failure is a kiln::Error naming the rule broken.
class Reader {
 public:
  Reader(std::span<const std::byte> file, std::string prefix)
      : file_(file), prefix_(std::move(prefix)) {}

  std::span<const std::byte> file() const { return file_; }
  [[noreturn]] void fail(const std::string& message) const;

  // [offset, offset + size) of the file, or a failure naming `what`.
  std::span<const std::byte> range(uint64_t offset, uint64_t size, const std::string& what) const;

  template <class T>
  T read(uint64_t offset, const std::string& what) const {
    T value;
    std::memcpy(&value, range(offset, sizeof value, what).data(), sizeof value);
    return value;
  }
  // `count` entries of T; the byte size is checked for overflow before the range is.
  template <class T>
  std::vector<T> read_array(uint64_t offset, uint64_t count, const std::string& what) const {
    if (count > file_.size() / sizeof(T))
      fail(what + " lies outside the file (" + std::to_string(count) + " entries of " +
           std::to_string(sizeof(T)) + " bytes)");
    std::vector<T> out(count);
    if (count != 0)
      std::memcpy(out.data(), range(offset, count * sizeof(T), what).data(), count * sizeof(T));
    return out;
  }

  // The NUL-terminated string at `offset` of a string table, or a failure naming its owner
  // ("symbol 3").
  std::string_view string(std::span<const std::byte> table, uint64_t offset, const char* owner,
                          uint64_t index) const;

  // The ELF header after the checks both loaders make: magic, ELF64, little-endian, EV_CURRENT,
  // x86-64, and e_type `type` (`type_name` says what that is, for the message).
  Elf64_Ehdr x86_64_header(uint16_t type, const char* type_name) const;

 private:
  std::span<const std::byte> file_;
  std::string prefix_;
};

std::string hex(uint64_t value);
// A name from the file as it may appear in a message: a corrupt one could be long or binary.
std::string printable(std::string_view name);
inline uint64_t align_up(uint64_t value, uint64_t align) {
  return (value + align - 1) & ~(align - 1);
}
inline uint64_t align_down(uint64_t value, uint64_t align) {
  return value & ~(align - 1);
}
uint64_t page_size();

}  // namespace kiln::runtime::elf
