#include "runtime/kernel_loader.h"

#include <map>
#include <mutex>

#include "ir/error.h"
#include "ir/hash.h"
#include "runtime/kernel_imports.h"
#include "runtime/object_loader.h"

namespace kiln::runtime {

namespace {

// The x86 features a target may enable that change which instructions its code uses, as LLVM
// names them, with this machine's answer.
struct Feature {
  const char* name;
  bool present;
};

const std::vector<Feature>& host_features() {
  static const std::vector<Feature> features = [] {
    __builtin_cpu_init();
    return std::vector<Feature>{
        {"sse4.1", __builtin_cpu_supports("sse4.1") != 0},
        {"sse4.2", __builtin_cpu_supports("sse4.2") != 0},
        {"popcnt", __builtin_cpu_supports("popcnt") != 0},
        {"avx", __builtin_cpu_supports("avx") != 0},
        {"avx2", __builtin_cpu_supports("avx2") != 0},
        {"fma", __builtin_cpu_supports("fma") != 0},
        {"bmi", __builtin_cpu_supports("bmi") != 0},
        {"bmi2", __builtin_cpu_supports("bmi2") != 0},
        {"avx512f", __builtin_cpu_supports("avx512f") != 0},
        {"avx512bw", __builtin_cpu_supports("avx512bw") != 0},
        {"avx512cd", __builtin_cpu_supports("avx512cd") != 0},
        {"avx512dq", __builtin_cpu_supports("avx512dq") != 0},
        {"avx512vl", __builtin_cpu_supports("avx512vl") != 0},
        {"avx512vnni", __builtin_cpu_supports("avx512vnni") != 0},
        {"avx512ifma", __builtin_cpu_supports("avx512ifma") != 0},
        {"avx512vbmi", __builtin_cpu_supports("avx512vbmi") != 0},
        {"avx512vbmi2", __builtin_cpu_supports("avx512vbmi2") != 0},
        {"avx512bitalg", __builtin_cpu_supports("avx512bitalg") != 0},
        {"avx512vpopcntdq", __builtin_cpu_supports("avx512vpopcntdq") != 0},
        {"avx512bf16", __builtin_cpu_supports("avx512bf16") != 0},
        {"avx512fp16", __builtin_cpu_supports("avx512fp16") != 0},
        {"f16c", __builtin_cpu_supports("f16c") != 0},
        {"vpclmulqdq", __builtin_cpu_supports("vpclmulqdq") != 0},
        {"gfni", __builtin_cpu_supports("gfni") != 0},
        {"vaes", __builtin_cpu_supports("vaes") != 0},
    };
  }();
  return features;
}

class HostLoader final : public KernelLoader {
 public:
  void check_target(std::string_view plan_name, std::string_view target) const override {
    if (!target.starts_with("x86_64"))
      throw Error("[runtime] @" + std::string(plan_name) + ": compiled for '" +
                  std::string(target.substr(0, target.find(' '))) +
                  "', but this machine runs x86_64 code");
    std::vector<std::string> missing = missing_cpu_features(target);
    if (missing.empty()) return;
    std::string list;
    for (const std::string& f : missing)
      list += (list.empty() ? "" : ", ") + f;
    throw Error("[runtime] @" + std::string(plan_name) + ": compiled for CPU features this " +
                "machine lacks: " + list);
  }

  LoadedKernel load(const PlanKernel& kernel) override {
    std::shared_ptr<const LoadedObject> object = mapping_for(kernel.object);
    void* entry = object->find(kernel.symbol);
    if (!entry)
      throw Error("[loader] kernel " + kernel.name + ": the object does not define " +
                  kernel.symbol);
    return {std::move(object), reinterpret_cast<KernelEntry>(entry)};
  }

 private:
  std::shared_ptr<const LoadedObject> mapping_for(const std::vector<std::byte>& object) {
    const uint64_t key = ir::fnv1a64(object);
    std::lock_guard lock(mutex_);
    auto [first, last] = mapped_.equal_range(key);
    for (auto it = first; it != last; ++it)
      if (auto live = it->second.object.lock(); live && it->second.bytes == object) return live;
    auto loaded =
        std::make_shared<const LoadedObject>(LoadedObject::load(object, kernel_imports()));
    // Entries whose objects are gone are dropped as new ones arrive, so the map stays small.
    std::erase_if(mapped_, [](const auto& entry) { return entry.second.object.expired(); });
    mapped_.emplace(key, Mapped{object, loaded});
    return loaded;
  }

  struct Mapped {
    std::vector<std::byte> bytes;
    std::weak_ptr<const LoadedObject> object;
  };
  std::mutex mutex_;
  std::multimap<uint64_t, Mapped> mapped_;
};

}  // namespace

std::vector<std::string> missing_cpu_features(std::string_view target) {
  std::vector<std::string> missing;
  for (const Feature& f : host_features()) {
    const std::string enabled = "+" + std::string(f.name);
    size_t at = target.find(enabled);
    while (at != std::string_view::npos) {
      const size_t end = at + enabled.size();
      if (end == target.size() || target[end] == ',' || target[end] == ' ') break;
      at = target.find(enabled, end);
    }
    if (at != std::string_view::npos && !f.present) missing.push_back(f.name);
  }
  return missing;
}

KernelLoader& host_kernel_loader() {
  static HostLoader loader;
  return loader;
}

}  // namespace kiln::runtime
