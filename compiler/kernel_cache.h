#pragma once
// The kernel cache: compiled kernels' object code in memory by structure, and on disk under
// $KILN_CACHE_DIR (default ~/.cache/kiln), so a second process skips code generation. Disk
// entries are keyed by the kernel, the kiln version and the backend's description of what its
// code depends on (LLVM version, code generation options, kernel imports version, target CPU),
// and validated before use (see compiler/cache_file.h): a corrupt or foreign entry is compiled
// again and rewritten, never handed to the runtime. KILN_NO_DISK_CACHE=1 turns the disk off; a
// folder that cannot be written leaves the cache memory-only.
//
// The cache reaches the code generator through KernelBackend, so that its tests can count
// compiles with a stand-in backend.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codegen/kernel.h"
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
};

// The CPU code generator (codegen/cpu) behind the interface.
KernelBackend& cpu_backend();

struct KernelCacheConfig {
  std::optional<std::filesystem::path> disk_dir;  // nullopt: memory only
};

// $KILN_CACHE_DIR, else $HOME/.cache/kiln; none when KILN_NO_DISK_CACHE=1 (or no HOME).
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
  const KernelCacheConfig& config() const;
  // Where `kernel`'s disk entry lives, if the disk cache is on.
  std::optional<std::filesystem::path> disk_path(const codegen::Kernel& kernel) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::compiler
