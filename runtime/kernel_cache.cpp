#include "runtime/kernel_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <random>
#include <unordered_map>

#include "ir/error.h"
#include "runtime/cache_file.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

namespace kiln::runtime {

namespace fs = std::filesystem;

namespace {

class CpuBackend final : public KernelBackend {
 public:
  std::string target() const override {
    auto& c = codegen::CpuCompiler::instance();
    return "llvm " + codegen::CpuCompiler::llvm_version() + "; " + c.host_description();
  }
  KernelEntry compile(const codegen::Kernel& kernel) override {
    return codegen::CpuCompiler::instance().compile(kernel);
  }
  std::vector<char> compile_to_object(const codegen::Kernel& kernel,
                                      const std::string& symbol) override {
    return codegen::CpuCompiler::instance().compile_to_object(kernel, symbol);
  }
  KernelEntry load_object(std::span<const char> object, const std::string& symbol) override {
    return codegen::CpuCompiler::instance().load_object(object, symbol);
  }
};

std::optional<std::vector<char>> read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return std::nullopt;
  return bytes;
}

// Writes next to the final name and renames into place, so a reader never sees half a file
// and two processes writing the same entry each leave a whole one. Failure is silent: the
// cache is an optimization.
void write_file_atomically(const fs::path& path, std::span<const char> bytes) {
  static std::atomic<uint64_t> counter{0};
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  fs::path temp = path;
  temp += ".tmp-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) return;
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.close();
    if (!out) {
      fs::remove(temp, ec);
      return;
    }
  }
  fs::rename(temp, path, ec);
  if (ec) fs::remove(temp, ec);
}

// A symbol no other entry this process may load has: an entry written by another process (or
// rewritten in this one) must not clash with code already in the JIT.
std::string fresh_symbol(uint64_t key) {
  static std::mutex mutex;
  static std::mt19937_64 random(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  std::lock_guard lock(mutex);
  return "kiln_kernel_" + cache_file_name(key).substr(0, 16) + "_" + std::to_string(random());
}

}  // namespace

KernelBackend& cpu_backend() {
  static CpuBackend backend;
  return backend;
}

KernelCacheConfig cache_config_from_env() {
  KernelCacheConfig config;
  const char* off = std::getenv("KILN_NO_DISK_CACHE");
  if (off && std::string(off) == "1") return config;
  if (const char* dir = std::getenv("KILN_CACHE_DIR"); dir && *dir)
    config.disk_dir = fs::path(dir);
  else if (const char* home = std::getenv("HOME"); home && *home)
    config.disk_dir = fs::path(home) / ".cache" / "kiln";
  return config;
}

struct KernelCache::Impl {
  Impl(KernelBackend& b, KernelCacheConfig c) : backend(b), config(std::move(c)) {}
  KernelBackend& backend;
  KernelCacheConfig config;
  std::string target;  // backend.target(), asked once
  mutable std::mutex mutex;
  std::unordered_map<std::string, KernelEntry> entries;  // by encode_kernel
  Stats stats;

  CacheEntryHeader header_for(const std::string& encoded) const {
    CacheEntryHeader h;
    h.kiln_version = KILN_VERSION;
    h.target = target;
    h.kernel = encoded;
    h.key = cache_key(encoded, h.kiln_version, h.target);
    return h;
  }

  void count(int64_t Stats::*field) {
    std::lock_guard lock(mutex);
    ++(stats.*field);
  }

  std::optional<KernelEntry> load_from_disk(const fs::path& path, const CacheEntryHeader& h) {
    std::optional<std::vector<char>> file = read_file(path);
    if (!file) return std::nullopt;
    std::string symbol;
    std::optional<std::vector<char>> object = read_cache_entry(*file, h, symbol);
    if (!object) {
      count(&Stats::rejected_files);
      return std::nullopt;
    }
    try {
      return backend.load_object(*object, symbol);
    } catch (const Error&) {
      count(&Stats::rejected_files);
      return std::nullopt;
    }
  }

  KernelEntry compile_to_disk(const codegen::Kernel& kernel, const fs::path& path,
                              CacheEntryHeader h) {
    h.symbol = fresh_symbol(h.key);
    std::vector<char> object = backend.compile_to_object(kernel, h.symbol);
    KernelEntry entry = backend.load_object(object, h.symbol);
    write_file_atomically(path, write_cache_entry(h, object));
    return entry;
  }

  KernelEntry produce(const codegen::Kernel& kernel, const std::string& encoded) {
    if (!config.disk_dir) {
      count(&Stats::compiles);
      return backend.compile(kernel);
    }
    CacheEntryHeader h = header_for(encoded);
    fs::path path = *config.disk_dir / cache_file_name(h.key);
    if (std::optional<KernelEntry> entry = load_from_disk(path, h)) {
      count(&Stats::disk_hits);
      return *entry;
    }
    count(&Stats::compiles);
    return compile_to_disk(kernel, path, std::move(h));
  }
};

KernelCache::KernelCache(KernelBackend& backend, KernelCacheConfig config)
    : impl_(std::make_unique<Impl>(backend, std::move(config))) {
  impl_->target = backend.target();
}

KernelCache::~KernelCache() = default;

KernelCache& KernelCache::instance() {
  static KernelCache cache(cpu_backend(), cache_config_from_env());
  return cache;
}

KernelEntry KernelCache::get(const codegen::Kernel& kernel) {
  std::string encoded = encode_kernel(kernel);
  {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->entries.find(encoded); it != impl_->entries.end()) {
      ++impl_->stats.memory_hits;
      return it->second;
    }
  }
  // Compiled outside the lock so that distinct kernels compile concurrently; two threads
  // asking for the same new kernel at once may both compile it, which is only wasted work.
  KernelEntry entry = impl_->produce(kernel, encoded);
  std::lock_guard lock(impl_->mutex);
  return impl_->entries.emplace(std::move(encoded), entry).first->second;
}

KernelCache::Stats KernelCache::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

void KernelCache::clear_memory() {
  std::lock_guard lock(impl_->mutex);
  impl_->entries.clear();
}

const KernelCacheConfig& KernelCache::config() const {
  return impl_->config;
}

std::optional<fs::path> KernelCache::disk_path(const codegen::Kernel& kernel) const {
  if (!impl_->config.disk_dir) return std::nullopt;
  return *impl_->config.disk_dir / cache_file_name(impl_->header_for(encode_kernel(kernel)).key);
}

}  // namespace kiln::runtime
