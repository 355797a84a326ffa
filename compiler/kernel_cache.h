#pragma once
// The kernel cache: compiled kernels' object code in memory by structure (least recently used
// entries dropped past a byte limit), and on disk under $KILN_CACHE_DIR (default
// ~/.cache/kiln), so a second process skips code generation. Disk entries are keyed by the
// kernel, the kiln version and the backend's description of what its code depends on (LLVM
// version, code generation options, kernel imports version, target CPU), and validated before
// use (see compiler/cache_file.h): a corrupt or foreign entry is compiled again and rewritten,
// never handed to the runtime. The folder is trusted only if no other user can write it, and
// held under $KILN_CACHE_MAX_BYTES by evicting the least recently used entries (see
// compiler/disk_cache.h). KILN_NO_DISK_CACHE=1 turns the disk off; a folder that cannot be
// created or is refused leaves the cache memory-only.
//
// The cache reaches the code generator through KernelBackend, so that its tests can count
// compiles with a stand-in backend.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "codegen/kernel.h"
#include "compiler/disk_cache.h"
#include "runtime/plan.h"

namespace kiln::compiler {

class KernelBackend {
 public:
  virtual ~KernelBackend() = default;
  // Everything besides the kernel that the object code depends on: different descriptions
  // never share a disk entry.
  virtual std::string cache_description() const = 0;
  virtual std::vector<std::byte> compile_to_object(const codegen::Kernel& kernel,
                                                   const std::string& symbol) = 0;
  // Whether code read back from disk, whose header and checksums already held, is fit to hand
  // to the runtime (the Vulkan backend validates SPIR-V again, as it does before storing it).
  virtual bool accepts(std::span<const std::byte> /*object*/) const { return true; }
};

// The CPU code generator (codegen/cpu) behind the interface.
KernelBackend& cpu_backend();

struct KernelCacheConfig {
  std::optional<std::filesystem::path> disk_dir;  // nullopt: memory only
  uint64_t disk_max_bytes = kDefaultDiskCacheMaxBytes;
  // Object code kept in memory. Kernels in use stay alive in their plans whatever this says;
  // it bounds what a long process accumulates from kernels it no longer runs.
  size_t memory_max_bytes = size_t{256} << 20;
};

// $KILN_CACHE_DIR, else $HOME/.cache/kiln; none when KILN_NO_DISK_CACHE=1 (or no HOME).
// $KILN_CACHE_MAX_BYTES (digits, optionally K, M or G) sets the disk limit, default 1 GiB;
// a malformed value is a kiln::Error "[cache] ...".
KernelCacheConfig cache_config_from_env();

class KernelCache {
 public:
  struct Stats {
    int64_t memory_hits = 0;
    int64_t disk_hits = 0;
    int64_t compiles = 0;
    int64_t rejected_files = 0;  // disk entries found but invalid (corrupt, foreign, stale)
  };

  // The process's cache: the CPU backend, configured from the environment at first use.
  static KernelCache& instance();
  // The process's cache of code for another CPU target ("x86-64-v3", codegen/cpu/target.h;
  // "host" is instance()), with the same disk folder: entries for different targets never
  // share a key. Throws kiln::Error "[compile] ..." for an unknown target.
  static KernelCache& for_cpu_target(std::string_view target);

  KernelCache(KernelBackend& backend, KernelCacheConfig config);
  ~KernelCache();
  KernelCache(const KernelCache&) = delete;
  KernelCache& operator=(const KernelCache&) = delete;

  // `kernel`'s object code and entry symbol, compiling it (or reading it from disk) if not yet
  // known. Thread-safe; distinct kernels may be requested concurrently.
  std::shared_ptr<const runtime::PlanKernel> get(const codegen::Kernel& kernel);

  Stats stats() const;
  // Forgets the in-memory entries: makes the next get() go to disk as a new process would.
  void clear_memory();
  size_t memory_entries() const;
  // The configuration in use: disk_dir is reset if the folder was refused.
  const KernelCacheConfig& config() const;
  // Why the configured folder is not used ("[cache] FOLDER: ..."), or "" (see
  // prepare_cache_folder). instance() writes it once to stderr.
  const std::string& disk_refusal() const;
  // Where `kernel`'s disk entry lives, if the disk cache is on.
  std::optional<std::filesystem::path> disk_path(const codegen::Kernel& kernel) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::compiler
