#include "compiler/kernel_cache.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <unordered_map>

#include "codegen/cpu/cpu_compiler.h"
#include "compiler/cache_file.h"
#include "ir/error.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

namespace kiln::compiler {

namespace fs = std::filesystem;

namespace {

class CpuBackend final : public KernelBackend {
 public:
  std::string cache_description() const override {
    return codegen::CpuCompiler::instance().cache_description();
  }
  std::vector<std::byte> compile_to_object(const codegen::Kernel& kernel,
                                           const std::string& symbol) override {
    return codegen::CpuCompiler::instance().compile_to_object(kernel, symbol);
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

std::span<const char> as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
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
  using Entry = std::shared_ptr<const runtime::PlanKernel>;

  Impl(KernelBackend& b, KernelCacheConfig c) : backend(b), config(std::move(c)) {}
  KernelBackend& backend;
  KernelCacheConfig config;
  std::string description;  // backend.cache_description(), asked once
  mutable std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;  // by encode_kernel
  Stats stats;

  CacheEntryHeader header_for(const std::string& encoded) const {
    CacheEntryHeader h;
    h.kiln_version = KILN_VERSION;
    h.target = description;
    h.kernel = encoded;
    h.key = cache_key(encoded, h.kiln_version, h.target);
    return h;
  }

  void count(int64_t Stats::*field) {
    std::lock_guard lock(mutex);
    ++(stats.*field);
  }

  // The symbol names the key, so that a kernel's code reads the same in every process.
  static std::string symbol_for(uint64_t key) {
    return "kiln_kernel_" + cache_file_name(key).substr(0, 16);
  }

  std::optional<Entry> load_from_disk(const fs::path& path, const CacheEntryHeader& h) {
    std::optional<std::vector<char>> file = read_file(path);
    if (!file) return std::nullopt;
    std::string symbol;
    std::optional<std::vector<char>> object = read_cache_entry(*file, h, symbol);
    if (!object) {
      count(&Stats::rejected_files);
      return std::nullopt;
    }
    auto* bytes = reinterpret_cast<const std::byte*>(object->data());
    return std::make_shared<const runtime::PlanKernel>(
        runtime::PlanKernel{"", symbol, {bytes, bytes + object->size()}});
  }

  Entry produce(const codegen::Kernel& kernel, const std::string& encoded) {
    CacheEntryHeader h = header_for(encoded);
    std::optional<fs::path> path;
    if (config.disk_dir) {
      path = *config.disk_dir / cache_file_name(h.key);
      if (std::optional<Entry> entry = load_from_disk(*path, h)) {
        count(&Stats::disk_hits);
        return *entry;
      }
    }
    count(&Stats::compiles);
    h.symbol = symbol_for(h.key);
    auto entry = std::make_shared<const runtime::PlanKernel>(
        runtime::PlanKernel{"", h.symbol, backend.compile_to_object(kernel, h.symbol)});
    if (path) write_file_atomically(*path, write_cache_entry(h, as_chars(entry->object)));
    return entry;
  }
};

KernelCache::KernelCache(KernelBackend& backend, KernelCacheConfig config)
    : impl_(std::make_unique<Impl>(backend, std::move(config))) {
  impl_->description = backend.cache_description();
}

KernelCache::~KernelCache() = default;

KernelCache& KernelCache::instance() {
  static KernelCache cache(cpu_backend(), cache_config_from_env());
  return cache;
}

std::shared_ptr<const runtime::PlanKernel> KernelCache::get(const codegen::Kernel& kernel) {
  std::string encoded = encode_kernel(kernel);
  {
    std::lock_guard lock(impl_->mutex);
    if (auto it = impl_->entries.find(encoded); it != impl_->entries.end()) {
      ++impl_->stats.memory_hits;
      return it->second;
    }
  }
  // Compiled outside the lock so that distinct kernels compile concurrently; two threads
  // asking for the same new kernel at once may both compile it, which is only wasted work
  // (and both get the same bytes).
  Impl::Entry entry = impl_->produce(kernel, encoded);
  std::lock_guard lock(impl_->mutex);
  return impl_->entries.emplace(std::move(encoded), std::move(entry)).first->second;
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

}  // namespace kiln::compiler
