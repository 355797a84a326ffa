#include "compiler/kernel_cache.h"

#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "codegen/cpu/cpu_compiler.h"
#include "compiler/cache_file.h"
#include "compiler/disk_cache.h"
#include "ir/error.h"

#ifndef KILN_VERSION
#define KILN_VERSION "0.1.0"
#endif

namespace kiln::compiler {

namespace fs = std::filesystem;

namespace {

class CpuBackend final : public KernelBackend {
 public:
  explicit CpuBackend(std::string target) : target_(std::move(target)) {}
  std::string cache_description() const override {
    return codegen::CpuCompiler::instance().cache_description(target_);
  }
  std::vector<std::byte> compile_to_object(const codegen::Kernel& kernel,
                                           const std::string& symbol) override {
    return codegen::CpuCompiler::instance().compile_to_object(kernel, symbol, target_);
  }

 private:
  std::string target_;
};

std::span<const char> as_chars(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A byte count from the environment: digits, optionally followed by K, M or G (binary).
uint64_t parse_byte_count(const char* name, const std::string& text) {
  uint64_t value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  uint64_t scale = 1;
  if (ec == std::errc() && ptr + 1 == end) {
    const char unit = *ptr;
    scale = unit == 'K'   ? uint64_t{1} << 10
            : unit == 'M' ? uint64_t{1} << 20
            : unit == 'G' ? uint64_t{1} << 30
                          : 0;
    ptr += scale ? 1 : 0;
  }
  if (ec != std::errc() || ptr != end || text.empty() || scale == 0 || value > UINT64_MAX / scale)
    throw Error(std::string("[cache] ") + name + "=" + text +
                " is not a byte count (digits, optionally followed by K, M or G)");
  return value * scale;
}

}  // namespace

KernelBackend& cpu_backend() {
  static CpuBackend backend("host");
  return backend;
}

KernelCacheConfig cache_config_from_env() {
  KernelCacheConfig config;
  if (const char* max = std::getenv("KILN_CACHE_MAX_BYTES"); max && *max)
    config.disk_max_bytes = parse_byte_count("KILN_CACHE_MAX_BYTES", max);
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
  std::string description;   // backend.cache_description(), asked once
  std::string disk_refusal;  // why config.disk_dir is not used, if it is not
  mutable std::mutex mutex;
  // Least recently used last; `by_kernel` indexes it by encode_kernel.
  std::list<std::pair<std::string, Entry>> lru;
  std::unordered_map<std::string_view, decltype(lru)::iterator> by_kernel;
  size_t memory_bytes = 0;
  Stats stats;

  static size_t bytes_of(const std::string& encoded, const Entry& entry) {
    return encoded.size() + entry->object.size() + entry->symbol.size();
  }

  // Under the lock: the entry, now the most recently used, or null.
  Entry find(const std::string& encoded) {
    auto it = by_kernel.find(encoded);
    if (it == by_kernel.end()) return nullptr;
    lru.splice(lru.begin(), lru, it->second);
    return it->second->second;
  }

  // Under the lock: keeps `entry` (or the one another thread stored first), evicting the least
  // recently used entries past the memory limit; the newest always stays.
  Entry insert(std::string encoded, Entry entry) {
    if (Entry existing = find(encoded)) return existing;
    memory_bytes += bytes_of(encoded, entry);
    lru.emplace_front(std::move(encoded), std::move(entry));
    by_kernel.emplace(lru.front().first, lru.begin());
    while (memory_bytes > config.memory_max_bytes && lru.size() > 1) {
      auto& [key, old] = lru.back();
      memory_bytes -= bytes_of(key, old);
      by_kernel.erase(key);
      lru.pop_back();
    }
    return lru.front().second;
  }

  CacheEntryHeader header_for(const std::string& encoded) const {
    CacheEntryHeader h;
    h.kiln_version = KILN_VERSION;
    h.target = description;
    h.kernel = encoded;
    h.key = cache_key(encoded, h.kiln_version, h.target);
    h.symbol = cache_symbol(h.key);
    return h;
  }

  void count(int64_t Stats::*field) {
    std::lock_guard lock(mutex);
    ++(stats.*field);
  }

  std::optional<Entry> load_from_disk(const fs::path& path, const CacheEntryHeader& h) {
    bool rejected = false;
    std::optional<std::vector<char>> file = read_cache_entry_file(path, rejected);
    std::optional<std::vector<char>> object;
    if (file) object = read_cache_entry(*file, h);
    if (object && !backend.accepts(std::as_bytes(std::span(*object)))) object.reset();
    if (!object) {
      if (file || rejected) count(&Stats::rejected_files);
      return std::nullopt;
    }
    auto* bytes = reinterpret_cast<const std::byte*>(object->data());
    return std::make_shared<const runtime::PlanKernel>(
        runtime::PlanKernel{"", h.symbol, {bytes, bytes + object->size()}});
  }

  Entry produce(const codegen::Kernel& kernel, const std::string& encoded) {
    const CacheEntryHeader h = header_for(encoded);
    std::optional<fs::path> path;
    if (config.disk_dir) {
      path = *config.disk_dir / cache_file_name(h.key);
      if (std::optional<Entry> entry = load_from_disk(*path, h)) {
        count(&Stats::disk_hits);
        return *entry;
      }
    }
    count(&Stats::compiles);
    auto entry = std::make_shared<const runtime::PlanKernel>(
        runtime::PlanKernel{"", h.symbol, backend.compile_to_object(kernel, h.symbol)});
    if (path)
      store_cache_entry_file(*path, write_cache_entry(h, as_chars(entry->object)),
                             config.disk_max_bytes);
    return entry;
  }
};

KernelCache::KernelCache(KernelBackend& backend, KernelCacheConfig config)
    : impl_(std::make_unique<Impl>(backend, std::move(config))) {
  impl_->description = backend.cache_description();
  if (impl_->config.disk_dir) {
    impl_->disk_refusal = prepare_cache_folder(*impl_->config.disk_dir);
    if (!impl_->disk_refusal.empty()) impl_->config.disk_dir.reset();
  }
}

KernelCache::~KernelCache() = default;

KernelCache& KernelCache::instance() {
  static KernelCache cache(cpu_backend(), cache_config_from_env());
  // A folder that cannot be trusted is worth one line; one that cannot be created (a read-only
  // home) is not: the disk cache is an optimization and the run goes on without it.
  static const bool warned = [] {
    const std::string& refusal = cache.disk_refusal();
    if (!refusal.empty() && refusal.find("cannot create") == std::string::npos)
      std::cerr << refusal << "; the disk cache is off\n";
    return true;
  }();
  (void)warned;
  return cache;
}

KernelCache& KernelCache::for_cpu_target(std::string_view target) {
  if (target == "host") return instance();
  codegen::CpuCompiler::instance().target_description(target);  // refuses unknown targets
  static std::mutex mutex;
  static std::map<std::string, std::unique_ptr<CpuBackend>, std::less<>> backends;
  static std::map<std::string, std::unique_ptr<KernelCache>, std::less<>> caches;
  std::lock_guard lock(mutex);
  auto it = caches.find(target);
  if (it != caches.end()) return *it->second;
  auto& backend = backends[std::string(target)];
  backend = std::make_unique<CpuBackend>(std::string(target));
  auto& cache = caches[std::string(target)];
  cache = std::make_unique<KernelCache>(*backend, cache_config_from_env());
  return *cache;
}

std::shared_ptr<const runtime::PlanKernel> KernelCache::get(const codegen::Kernel& kernel) {
  std::string encoded = encode_kernel(kernel);
  {
    std::lock_guard lock(impl_->mutex);
    if (Impl::Entry entry = impl_->find(encoded)) {
      ++impl_->stats.memory_hits;
      return entry;
    }
  }
  // Compiled outside the lock so that distinct kernels compile concurrently; two threads
  // asking for the same new kernel at once may both compile it, which is only wasted work
  // (and both get the same bytes).
  Impl::Entry entry = impl_->produce(kernel, encoded);
  std::lock_guard lock(impl_->mutex);
  return impl_->insert(std::move(encoded), std::move(entry));
}

KernelCache::Stats KernelCache::stats() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->stats;
}

void KernelCache::clear_memory() {
  std::lock_guard lock(impl_->mutex);
  impl_->by_kernel.clear();
  impl_->lru.clear();
  impl_->memory_bytes = 0;
}

size_t KernelCache::memory_entries() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->lru.size();
}

const std::string& KernelCache::disk_refusal() const {
  return impl_->disk_refusal;
}

const KernelCacheConfig& KernelCache::config() const {
  return impl_->config;
}

std::optional<fs::path> KernelCache::disk_path(const codegen::Kernel& kernel) const {
  if (!impl_->config.disk_dir) return std::nullopt;
  return *impl_->config.disk_dir / cache_file_name(impl_->header_for(encode_kernel(kernel)).key);
}

}  // namespace kiln::compiler
