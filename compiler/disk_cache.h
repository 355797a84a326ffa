#pragma once
// The kernel cache's folder on disk: which folders it trusts, how entries are read and written,
// and its size limit. The cache holds executable code that kiln maps and runs, so:
//
// - The folder must belong to the current user and be writable by no one else (no group or
//   other write bit); kiln creates it with mode 0700. Any other folder is refused: the cache
//   runs memory-only and says so once on stderr. Checksums in an entry detect damage, not
//   malice, so this check is what keeps other users from running code in kiln processes.
// - An entry is opened only as a regular file: never through a symbolic link (O_NOFOLLOW),
//   never blocking on a FIFO (O_NONBLOCK, then fstat), and read only up to its size, at most
//   kMaxEntryBytes. Anything else is a miss; the compiled kernel then replaces the entry
//   atomically where it can (a directory in the way stays, and the run goes on).
// - Entries are `<16 hex digits>.o`; nothing else in the folder is read, counted or removed.
//   A hit sets the entry's modification time, and a store that takes the folder over its limit
//   removes the least recently used entries until it fits.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kiln::compiler {

// Object code for one kernel is kilobytes; an entry past this is not one kiln wrote.
inline constexpr uint64_t kMaxEntryBytes = uint64_t{64} << 20;
inline constexpr uint64_t kDefaultDiskCacheMaxBytes = uint64_t{1} << 30;

// Prepares `dir` for use as the cache folder: creates it (mode 0700) if absent and checks that
// only the current user can write it. Returns "" when the folder may be used, or why not
// ("[cache] FOLDER: ..."); a folder that cannot be created at all gives "[cache] ..." too.
std::string prepare_cache_folder(const std::filesystem::path& dir);

// The bytes of the entry at `path`: nullopt if absent. `rejected` is set when something is
// there but is not a readable regular file of at most kMaxEntryBytes. A read entry's
// modification time is set to now (the least recently used entries are evicted first).
std::optional<std::vector<char>> read_cache_entry_file(const std::filesystem::path& path,
                                                       bool& rejected);

// Writes an entry atomically (temporary file, then rename); failure is silent, since the cache
// is an optimization. Then evicts the least recently used entries while the folder holds more
// than `max_bytes`.
void store_cache_entry_file(const std::filesystem::path& path, std::span<const char> bytes,
                            uint64_t max_bytes);

struct DiskCacheUsage {
  int64_t entries = 0;
  uint64_t bytes = 0;
};
DiskCacheUsage disk_cache_usage(const std::filesystem::path& dir);
// Removes every entry (and leftover temporary files of entries); returns what was removed.
DiskCacheUsage clear_disk_cache(const std::filesystem::path& dir);
// Removes the least recently used entries until the folder holds at most `max_bytes`.
void evict_disk_cache(const std::filesystem::path& dir, uint64_t max_bytes);

}  // namespace kiln::compiler
