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

// Boost's hash_combine: folds `value` into `seed`, for in-memory hash tables (structural
// hashes of functions, kernels, attributes, compile signatures); not stable across builds
// where its inputs come from std::hash.
inline size_t hash_combine(size_t seed, size_t value) {
  return seed ^ (value + 0x9e3779b97f4a7c15ull + (seed << 6) + (seed >> 2));
}

}  // namespace kiln::ir
