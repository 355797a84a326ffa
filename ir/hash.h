#pragma once
// FNV-1a, 64-bit: the checksum of kiln's files (plans, kernel-cache entries) and the key of
// content-addressed maps. The same bytes give the same value in every process and build,
// unlike std::hash.

#include <cstddef>
#include <cstdint>
#include <span>

namespace kiln::ir {

inline constexpr uint64_t kFnv1aSeed = 0xcbf29ce484222325ull;

inline uint64_t fnv1a64(std::span<const std::byte> bytes, uint64_t seed = kFnv1aSeed) {
  uint64_t h = seed;
  for (std::byte b : bytes) {
    h ^= static_cast<uint8_t>(b);
    h *= 0x100000001b3ull;
  }
  return h;
}

inline uint64_t fnv1a64(std::span<const char> chars, uint64_t seed = kFnv1aSeed) {
  return fnv1a64(std::as_bytes(chars), seed);
}

}  // namespace kiln::ir
