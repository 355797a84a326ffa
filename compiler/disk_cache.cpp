#include "compiler/disk_cache.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "ir/error.h"
#include "ir/file_io.h"

namespace kiln::compiler {

namespace fs = std::filesystem;

namespace {

std::string octal_mode(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

bool is_hex_name(std::string_view s) {
  return s.size() == 16 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// `<16 hex>.o`, an entry; `<16 hex>.o.tmp-...`, one being written (or left by a crash).
bool is_entry_name(const std::string& name) {
  return name.size() == 18 && name.ends_with(".o") && is_hex_name(name.substr(0, 16));
}
bool is_temporary_name(const std::string& name) {
  return name.size() > 18 && is_entry_name(name.substr(0, 18)) &&
         name.substr(18).starts_with(".tmp-");
}

struct FileInfo {
  fs::path path;
  uint64_t bytes;
  int64_t mtime_ns;
};

// The folder's entries that are regular files (lstat: a link is not followed, not counted).
std::vector<FileInfo> list_files(const fs::path& dir, bool (*matches)(const std::string&)) {
  std::vector<FileInfo> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!matches(it->path().filename().string())) continue;
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    files.push_back({it->path(), static_cast<uint64_t>(st.st_size),
                     int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec});
  }
  return files;
}

}  // namespace

std::string prepare_cache_folder(const fs::path& dir) {
  const std::string name = "[cache] " + dir.string();
  std::error_code ec;
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
  // 0700: the folder holds code that kiln runs, so it is created private.
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    return name + ": cannot create the cache folder: " + std::strerror(errno);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0)
    return name + ": cannot use the cache folder: " + std::strerror(errno);
  if (!S_ISDIR(st.st_mode)) return name + ": is " + ir::file_kind(st.st_mode) + ", not a folder";
  if (st.st_uid != ::geteuid())
    return name + ": the cache folder belongs to user " + std::to_string(st.st_uid) +
           ", not to this user (" + std::to_string(::geteuid()) +
           "); it holds code kiln runs, so kiln uses only a folder of its own";
  if (st.st_mode & (S_IWGRP | S_IWOTH))
    return name + ": the cache folder is writable by other users (mode " + octal_mode(st.st_mode) +
           "); it holds code kiln runs, so kiln does not use it (chmod go-w to allow)";
  return "";
}

std::optional<std::vector<char>> read_cache_entry_file(const fs::path& path, bool& rejected) {
  rejected = false;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return std::nullopt;  // absent: a plain miss
  try {
    ir::InputFile file(path, "[cache] " + path.string(), /*follow_links=*/false);
    if (*file.size() > kMaxEntryBytes) file.fail("larger than any cache entry");
    std::vector<char> bytes(static_cast<size_t>(*file.size()));
    if (file.read(bytes.data(), bytes.size()) != bytes.size() || !file.at_end())
      file.fail("changed while being read");
    // The entry was used: it is now the most recently used (eviction goes by this time).
    ::futimens(file.fd(), nullptr);
    return bytes;
  } catch (const Error&) {
    rejected = true;
    return std::nullopt;
  }
}

void store_cache_entry_file(const fs::path& path, std::span<const char> bytes, uint64_t max_bytes) {
  try {
    // 0600: the code is only this user's to run.
    ir::write_file_atomically(path, std::as_bytes(bytes), "[cache] " + path.string(), 0600);
  } catch (const Error&) {
    return;  // a directory in the entry's place, a full disk: the kernel is still compiled
  }
  evict_disk_cache(path.parent_path(), max_bytes);
}

DiskCacheUsage disk_cache_usage(const fs::path& dir) {
  DiskCacheUsage usage;
  for (const FileInfo& f : list_files(dir, is_entry_name)) {
    ++usage.entries;
    usage.bytes += f.bytes;
  }
  return usage;
}

DiskCacheUsage clear_disk_cache(const fs::path& dir) {
  DiskCacheUsage removed;
  for (auto matches : {is_entry_name, is_temporary_name})
    for (const FileInfo& f : list_files(dir, matches))
      if (::unlink(f.path.c_str()) == 0 && matches == is_entry_name) {
        ++removed.entries;
        removed.bytes += f.bytes;
      }
  return removed;
}

void evict_disk_cache(const fs::path& dir, uint64_t max_bytes) {
  std::vector<FileInfo> files = list_files(dir, is_entry_name);
  uint64_t total = 0;
  for (const FileInfo& f : files)
    total += f.bytes;
  if (total <= max_bytes) return;
  // Oldest first; ties by name, so that every process evicts in the same order.
  std::sort(files.begin(), files.end(), [](const FileInfo& a, const FileInfo& b) {
    return a.mtime_ns != b.mtime_ns ? a.mtime_ns < b.mtime_ns : a.path < b.path;
  });
  for (const FileInfo& f : files) {
    if (total <= max_bytes) break;
    // Another process may have evicted it already; either way it no longer counts.
    ::unlink(f.path.c_str());
    total -= f.bytes;
  }
}

}  // namespace kiln::compiler
