#pragma once
// The kernel cache: compiled kernels in memory by structure, and on disk as object code under
// $KILN_CACHE_DIR (default ~/.cache/kiln), so a second process skips the JIT. Disk entries are
// keyed by the kernel, the kiln version, the LLVM version and the host CPU, and validated
// before use (see cache_file.h): a corrupt or foreign entry is compiled again and rewritten,
// never executed. KILN_NO_DISK_CACHE=1 turns the disk off; a folder that cannot be written
// leaves the cache memory-only.
//
// The cache reaches the compiler through KernelBackend, an interface the runtime owns, so its
// tests can count compiles with a stand-in backend.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "codegen/kernel.h"
#include "codegen/llvm/cpu_compiler.h"

namespace kiln::runtime {

using codegen::KernelEntry;

class KernelBackend {
 public:
  virtual ~KernelBackend() = default;
  // Says what object code is compiled for: different targets never share a disk entry.
  virtual std::string target() const = 0;
  virtual KernelEntry compile(const codegen::Kernel& kernel) = 0;
  virtual std::vector<char> compile_to_object(const codegen::Kernel& kernel,
                                              const std::string& symbol) = 0;
  // Throws kiln::Error for object code that does not load.
  virtual KernelEntry load_object(std::span<const char> object, const std::string& symbol) = 0;
};

// CpuCompiler::instance() behind the interface.
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

  // The entry for `kernel`, compiling it (or loading it from disk) if not yet known.
  // Thread-safe; distinct kernels may be requested concurrently.
  KernelEntry get(const codegen::Kernel& kernel);

  Stats stats() const;
  // Forgets the in-memory entries (the JIT keeps their code): makes the next get() go to
  // disk as a new process would. For tests.
  void clear_memory();
  const KernelCacheConfig& config() const;
  // Where `kernel`'s disk entry lives, if the disk cache is on.
  std::optional<std::filesystem::path> disk_path(const codegen::Kernel& kernel) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace kiln::runtime
