#pragma once
// The disk cache's file format: one file per compiled kernel, `<key as 16 hex digits>.o`,
// holding a header that says exactly what the object code was compiled from and for, then the
// object code. A file is used only if every field matches what the reader would compile now
// and both checksums hold; anything else (truncated, altered, another LLVM or CPU, a hash
// collision) reads as "absent", so the kernel is compiled again and the file rewritten.
//
//   magic "KILNKOBJ" | u32 format version | strings (u32 length + bytes): kiln version,
//   target (LLVM version and host CPU), symbol, kernel encoding | u64 key | u64 payload size |
//   u64 payload FNV-1a | u64 header FNV-1a (everything before it) | payload

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/kernel.h"
#include "ir/hash.h"

namespace kiln::compiler {

inline constexpr uint32_t kCacheFormatVersion = 1;

using ir::fnv1a64;

// Every field of a kernel but its name, as bytes: equal encodings are equal kernels, and the
// encoding is the same in every process (unlike a hash of pointers or of std::hash).
std::string encode_kernel(const codegen::Kernel& kernel);

struct CacheEntryHeader {
  std::string kiln_version;
  std::string target;  // CpuCompiler::llvm_version() + " " + host_description()
  std::string symbol;
  std::string kernel;  // encode_kernel
  uint64_t key = 0;
};

// The key of a kernel for a kiln version and target: names the file.
uint64_t cache_key(const std::string& encoded_kernel, const std::string& kiln_version,
                   const std::string& target);
std::string cache_file_name(uint64_t key);  // "0123456789abcdef.o"
// The entry symbol of the kernel with `key`: derived from the key, so that equal kernels give
// equal bytes in every process, and an entry can hold no other symbol.
std::string cache_symbol(uint64_t key);

std::vector<char> write_cache_entry(const CacheEntryHeader& header, std::span<const char> payload);

// The payload, if `file` is a complete entry whose header equals `expected` in every field,
// compared byte for byte (the full kernel encoding and target description, not only the key
// hashed from them); nullopt otherwise. Checksums catch damage, not malice: anyone who can
// write the cache folder can write a valid entry, which is why the cache refuses folders that
// others can write (compiler/disk_cache.h).
std::optional<std::vector<char>> read_cache_entry(std::span<const char> file,
                                                  const CacheEntryHeader& expected);

}  // namespace kiln::compiler
